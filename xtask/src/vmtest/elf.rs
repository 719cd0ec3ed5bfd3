//! Just enough ELF64 (little-endian) to read a kernel module's `.modinfo` section and to tell a
//! statically linked program: bounds-checked reads, no panics on odd files.

use anyhow::{Context as _, Result, bail};

const ELFMAG: &[u8] = b"\x7fELF";
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const EI_CLASS: usize = 4;
const EI_DATA: usize = 5;
// Elf64_Ehdr field offsets.
const E_PHOFF: usize = 0x20;
const E_SHOFF: usize = 0x28;
const E_PHENTSIZE: usize = 0x36;
const E_PHNUM: usize = 0x38;
const E_SHENTSIZE: usize = 0x3a;
const E_SHNUM: usize = 0x3c;
const E_SHSTRNDX: usize = 0x3e;
// Elf64_Shdr field offsets.
const SH_NAME: usize = 0x00;
const SH_OFFSET: usize = 0x18;
const SH_SIZE: usize = 0x20;

/// A view of an ELF64 little-endian file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Elf64<'a> {
    bytes: &'a [u8],
}

impl<'a> Elf64<'a> {
    /// Checks the identification bytes.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Elf64<'a>> {
        if !bytes.starts_with(ELFMAG) {
            bail!("not an ELF file");
        }
        if bytes.get(EI_CLASS) != Some(&ELFCLASS64) || bytes.get(EI_DATA) != Some(&ELFDATA2LSB) {
            bail!("not a little-endian ELF64 file");
        }
        Ok(Elf64 { bytes })
    }

    /// The `p_type` of every program header.
    pub(crate) fn program_header_types(&self) -> Vec<u32> {
        let (Ok(off), Ok(size), Ok(num)) = (self.u64(E_PHOFF), self.u16(E_PHENTSIZE), self.u16(E_PHNUM))
        else {
            return Vec::new();
        };
        (0..usize::from(num))
            .filter_map(|i| usize::try_from(off).ok()?.checked_add(i.checked_mul(usize::from(size))?))
            .filter_map(|at| self.u32(at).ok())
            .collect()
    }

    /// The contents of the section called `name`, if there is one.
    pub(crate) fn section(&self, name: &str) -> Result<Option<&'a [u8]>> {
        let shoff = to_usize(self.u64(E_SHOFF)?)?;
        let entsize = usize::from(self.u16(E_SHENTSIZE)?);
        let num = usize::from(self.u16(E_SHNUM)?);
        let header = |i: usize| -> Result<usize> {
            i.checked_mul(entsize)
                .and_then(|o| o.checked_add(shoff))
                .context("section header offset overflows")
        };
        let strtab_hdr = header(usize::from(self.u16(E_SHSTRNDX)?))?;
        let strtab = self.range(
            self.u64(strtab_hdr.saturating_add(SH_OFFSET))?,
            self.u64(strtab_hdr.saturating_add(SH_SIZE))?,
        )?;
        for i in 0..num {
            let h = header(i)?;
            let name_off = to_usize(u64::from(self.u32(h.saturating_add(SH_NAME))?))?;
            let Some(rest) = strtab.get(name_off..) else { continue };
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            if rest.get(..end) == Some(name.as_bytes()) {
                return Ok(Some(
                    self.range(self.u64(h.saturating_add(SH_OFFSET))?, self.u64(h.saturating_add(SH_SIZE))?)?,
                ));
            }
        }
        Ok(None)
    }

    fn range(&self, off: u64, size: u64) -> Result<&'a [u8]> {
        let (off, size) = (to_usize(off)?, to_usize(size)?);
        off.checked_add(size)
            .and_then(|end| self.bytes.get(off..end))
            .context("section lies outside the file")
    }

    fn field<const N: usize>(&self, at: usize) -> Result<[u8; N]> {
        at.checked_add(N)
            .and_then(|end| self.bytes.get(at..end))
            .and_then(|s| <[u8; N]>::try_from(s).ok())
            .with_context(|| format!("ELF field at {at:#x} lies outside the file"))
    }

    fn u16(&self, at: usize) -> Result<u16> {
        self.field(at).map(u16::from_le_bytes)
    }

    fn u32(&self, at: usize) -> Result<u32> {
        self.field(at).map(u32::from_le_bytes)
    }

    fn u64(&self, at: usize) -> Result<u64> {
        self.field(at).map(u64::from_le_bytes)
    }
}

fn to_usize(v: u64) -> Result<usize> {
    usize::try_from(v).context("ELF offset does not fit in memory")
}

/// The `key=value` strings of a kernel module's `.modinfo` section, in order.
pub(crate) fn modinfo(module: &[u8]) -> Result<Vec<(String, String)>> {
    let elf = Elf64::parse(module)?;
    let section = elf.section(".modinfo")?.context("no .modinfo section: not a kernel module")?;
    Ok(section
        .split(|&b| b == 0)
        .filter_map(|s| {
            let s = std::str::from_utf8(s).ok()?;
            let (k, v) = s.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 with sections: null, `.shstrtab`, `.modinfo`; optionally a `PT_INTERP` header.
    fn tiny_elf(modinfo: &[u8], interp: bool) -> Vec<u8> {
        let shstrtab = b"\0.shstrtab\0.modinfo\0";
        let mut f = vec![0u8; 64];
        f[..4].copy_from_slice(ELFMAG);
        f[EI_CLASS] = ELFCLASS64;
        f[EI_DATA] = ELFDATA2LSB;
        let phoff = f.len();
        f.extend_from_slice(&[0u8; 56]);
        f[phoff..phoff + 4].copy_from_slice(&(if interp { 3u32 } else { 1u32 }).to_le_bytes());
        let str_off = f.len();
        f.extend_from_slice(shstrtab);
        let mi_off = f.len();
        f.extend_from_slice(modinfo);
        let shoff = f.len();
        let mut sh = |name: u32, off: usize, size: usize| {
            let mut h = [0u8; 64];
            h[SH_NAME..SH_NAME + 4].copy_from_slice(&name.to_le_bytes());
            h[SH_OFFSET..SH_OFFSET + 8].copy_from_slice(&(off as u64).to_le_bytes());
            h[SH_SIZE..SH_SIZE + 8].copy_from_slice(&(size as u64).to_le_bytes());
            f.extend_from_slice(&h);
        };
        sh(0, 0, 0);
        sh(1, str_off, shstrtab.len());
        sh(11, mi_off, modinfo.len());
        f[E_PHOFF..E_PHOFF + 8].copy_from_slice(&(phoff as u64).to_le_bytes());
        f[E_SHOFF..E_SHOFF + 8].copy_from_slice(&(shoff as u64).to_le_bytes());
        f[E_PHENTSIZE..E_PHENTSIZE + 2].copy_from_slice(&56u16.to_le_bytes());
        f[E_PHNUM..E_PHNUM + 2].copy_from_slice(&1u16.to_le_bytes());
        f[E_SHENTSIZE..E_SHENTSIZE + 2].copy_from_slice(&64u16.to_le_bytes());
        f[E_SHNUM..E_SHNUM + 2].copy_from_slice(&3u16.to_le_bytes());
        f[E_SHSTRNDX..E_SHSTRNDX + 2].copy_from_slice(&1u16.to_le_bytes());
        f
    }

    #[test]
    fn reads_modinfo_strings() {
        let elf = tiny_elf(b"license=GPL\0depends=virtio_ring,virtio\0\0name=virtio_net\0", false);
        let info = modinfo(&elf).unwrap();
        assert_eq!(
            info,
            vec![
                ("license".into(), "GPL".into()),
                ("depends".into(), "virtio_ring,virtio".into()),
                ("name".into(), "virtio_net".into())
            ]
        );
    }

    #[test]
    fn tells_interpreter_headers() {
        assert_eq!(Elf64::parse(&tiny_elf(b"", true)).unwrap().program_header_types(), vec![3]);
        assert_eq!(Elf64::parse(&tiny_elf(b"", false)).unwrap().program_header_types(), vec![1]);
    }

    #[test]
    fn truncated_files_are_errors_not_panics() {
        let elf = tiny_elf(b"depends=\0", false);
        for len in [0, 3, 16, 63, 64, 100, elf.len() - 1] {
            let cut = &elf[..len];
            if let Ok(e) = Elf64::parse(cut) {
                let _ = e.section(".modinfo");
                let _ = e.program_header_types();
            }
        }
        assert!(modinfo(b"MZ\0\0").is_err());
    }
}
