//! `cargo xtask dist`: the `natkeeper` binary as one static, stripped file in `target/dist/`.
//!
//! * With the musl target installed (`rustup target add x86_64-unknown-linux-musl`) it builds for
//!   musl; otherwise for glibc with `-C target-feature=+crt-static`. Either way with
//!   `-C relocation-model=static`, so the result is a plain static executable (`ET_EXEC`): no
//!   `PT_INTERP` and no `PT_DYNAMIC` (a static-PIE keeps a dynamic section to relocate itself).
//! * The release profile (workspace `Cargo.toml`) already strips, uses LTO and `panic = "abort"`.
//! * Then it checks what it built: the ELF program headers (no interpreter, no dynamic section),
//!   no symbol table left, `natkeeper --version` runs, and the size against [`SIZE_TARGET`].

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::deps;

/// The binary's size target.
const SIZE_TARGET: u64 = 3 * 1024 * 1024;
const MUSL: &str = "x86_64-unknown-linux-musl";
const GNU: &str = "x86_64-unknown-linux-gnu";

// ELF64 (include/uapi/linux/elf.h): header fields and program header types.
const ELFMAG: &[u8] = b"\x7fELF";
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const E_TYPE: usize = 0x10;
const E_PHOFF: usize = 0x20;
const E_SHOFF: usize = 0x28;
const E_PHENTSIZE: usize = 0x36;
const E_PHNUM: usize = 0x38;
const E_SHENTSIZE: usize = 0x3a;
const E_SHNUM: usize = 0x3c;
const SH_TYPE: usize = 0x04;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const SHT_SYMTAB: u32 = 2;
const ET_EXEC: u16 = 2;

/// Builds, checks and reports `target/dist/natkeeper`.
pub(crate) fn run(args: &[String]) -> Result<()> {
    if let Some(a) = args.first() {
        bail!("cargo xtask dist takes no arguments (got `{a}`)");
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("xtask has no parent")?;
    let target_dir =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace.join("target"));
    let target_dir = if target_dir.is_absolute() { target_dir } else { workspace.join(target_dir) };

    let (triple, how) = if target_installed(MUSL)? {
        (MUSL, "musl (static by default)")
    } else {
        (GNU, "glibc with -C target-feature=+crt-static (the musl target is not installed)")
    };
    println!("dist: building natkeeper for {triple}: {how}");
    // An explicit --target keeps these flags off build scripts and proc macros, which must stay
    // dynamic host programs.
    let mut rustflags = std::env::var("RUSTFLAGS").unwrap_or_default();
    rustflags.push_str(" -C target-feature=+crt-static -C relocation-model=static");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    deps::run(
        Command::new(&cargo)
            .args(["build", "--release", "-p", "natkeeper-cli", "--target", triple])
            .current_dir(workspace)
            .env("CARGO_TARGET_DIR", &target_dir)
            .env("RUSTFLAGS", rustflags.trim()),
    )?;

    let built = target_dir.join(triple).join("release").join("natkeeper");
    let dist = target_dir.join("dist");
    std::fs::create_dir_all(&dist).with_context(|| format!("create {}", dist.display()))?;
    let out = dist.join("natkeeper");
    std::fs::copy(&built, &out).with_context(|| format!("copy {} to {}", built.display(), out.display()))?;

    let bytes = std::fs::read(&out).with_context(|| format!("read {}", out.display()))?;
    let elf =
        check_static(&bytes).with_context(|| format!("{} is not a static executable", out.display()))?;
    let version =
        Command::new(&out).arg("--version").output().with_context(|| format!("run {}", out.display()))?;
    if !version.status.success() {
        bail!("`{} --version` failed ({})", out.display(), version.status);
    }
    let size = bytes.len() as u64;
    println!("dist: {}", out.display());
    println!("dist: {}", String::from_utf8_lossy(&version.stdout).trim());
    println!(
        "dist: static executable ({triple}): no PT_INTERP, no PT_DYNAMIC, {}",
        if elf.stripped { "stripped" } else { "NOT stripped" }
    );
    println!("dist: {size} bytes ({:.2} MiB; target {} MiB)", size as f64 / 1048576.0, SIZE_TARGET >> 20);
    if !elf.stripped {
        bail!("{} still has a symbol table", out.display());
    }
    if size > SIZE_TARGET {
        bail!("{} is {size} bytes, over the {SIZE_TARGET}-byte target", out.display());
    }
    Ok(())
}

/// True when the standard library for `triple` is in the active toolchain's sysroot.
fn target_installed(triple: &str) -> Result<bool> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out =
        Command::new(&rustc).args(["--print", "sysroot"]).output().context("run rustc --print sysroot")?;
    if !out.status.success() {
        bail!("rustc --print sysroot failed ({})", out.status);
    }
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    Ok(sysroot.join("lib/rustlib").join(triple).join("lib").is_dir())
}

/// What [`check_static`] found.
#[derive(Debug)]
struct ElfFacts {
    /// No `SHT_SYMTAB` section is left.
    stripped: bool,
}

/// Checks that `bytes` is an ELF64 little-endian executable (`ET_EXEC`) without `PT_INTERP` and
/// `PT_DYNAMIC`. Bounds-checked: never panics on an odd file.
fn check_static(bytes: &[u8]) -> Result<ElfFacts> {
    if !bytes.starts_with(ELFMAG) || bytes.get(4) != Some(&ELFCLASS64) || bytes.get(5) != Some(&ELFDATA2LSB) {
        bail!("not a little-endian ELF64 file");
    }
    let e_type = u16::from_le_bytes(read(bytes, E_TYPE)?);
    if e_type != ET_EXEC {
        bail!("ELF type {e_type} is not ET_EXEC (a PIE or shared object needs a loader or relocates itself)");
    }
    let table = |off: usize, entsize: usize, num: usize| -> Result<Vec<usize>> {
        (0..num)
            .map(|i| {
                i.checked_mul(entsize).and_then(|o| o.checked_add(off)).context("header offset overflows")
            })
            .collect()
    };
    let phoff = usize::try_from(u64::from_le_bytes(read(bytes, E_PHOFF)?))?;
    let phentsize = usize::from(u16::from_le_bytes(read(bytes, E_PHENTSIZE)?));
    let phnum = usize::from(u16::from_le_bytes(read(bytes, E_PHNUM)?));
    for at in table(phoff, phentsize, phnum)? {
        match u32::from_le_bytes(read(bytes, at)?) {
            PT_INTERP => bail!("it has a PT_INTERP program header (a dynamic loader)"),
            PT_DYNAMIC => bail!("it has a PT_DYNAMIC program header (a dynamic section)"),
            _ => {}
        }
    }
    let shoff = usize::try_from(u64::from_le_bytes(read(bytes, E_SHOFF)?))?;
    let shentsize = usize::from(u16::from_le_bytes(read(bytes, E_SHENTSIZE)?));
    let shnum = usize::from(u16::from_le_bytes(read(bytes, E_SHNUM)?));
    let mut stripped = true;
    for at in table(shoff, shentsize, shnum)? {
        let sh_type = u32::from_le_bytes(read(bytes, at.checked_add(SH_TYPE).context("offset overflows")?)?);
        stripped &= sh_type != SHT_SYMTAB;
    }
    Ok(ElfFacts { stripped })
}

/// `N` bytes at `at`, or an error when the file is too short.
fn read<const N: usize>(bytes: &[u8], at: usize) -> Result<[u8; N]> {
    at.checked_add(N)
        .and_then(|end| bytes.get(at..end))
        .and_then(|s| s.try_into().ok())
        .with_context(|| format!("the file ends before byte {at}+{N}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 header with one program header of type `pt`.
    fn elf(e_type: u16, pt: u32) -> Vec<u8> {
        let mut b = vec![0u8; 64 + 56];
        b[..4].copy_from_slice(ELFMAG);
        b[4] = ELFCLASS64;
        b[5] = ELFDATA2LSB;
        b[E_TYPE..E_TYPE + 2].copy_from_slice(&e_type.to_le_bytes());
        b[E_PHOFF..E_PHOFF + 8].copy_from_slice(&64u64.to_le_bytes());
        b[E_PHENTSIZE..E_PHENTSIZE + 2].copy_from_slice(&56u16.to_le_bytes());
        b[E_PHNUM..E_PHNUM + 2].copy_from_slice(&1u16.to_le_bytes());
        b[64..68].copy_from_slice(&pt.to_le_bytes());
        b
    }

    #[test]
    fn tells_static_from_dynamic() {
        const PT_LOAD: u32 = 1;
        assert!(check_static(&elf(ET_EXEC, PT_LOAD)).unwrap().stripped);
        let interp = check_static(&elf(ET_EXEC, PT_INTERP)).unwrap_err();
        assert!(interp.to_string().contains("PT_INTERP"), "{interp}");
        let dynamic = check_static(&elf(ET_EXEC, PT_DYNAMIC)).unwrap_err();
        assert!(dynamic.to_string().contains("PT_DYNAMIC"), "{dynamic}");
        const ET_DYN: u16 = 3;
        assert!(check_static(&elf(ET_DYN, PT_LOAD)).is_err());
    }

    #[test]
    fn odd_files_are_errors_not_panics() {
        let good = elf(ET_EXEC, 1);
        for cut in 0..good.len() {
            let _ = check_static(&good[..cut]);
        }
        let mut huge = good.clone();
        huge[E_PHNUM..E_PHNUM + 2].copy_from_slice(&u16::MAX.to_le_bytes());
        huge[E_PHOFF..E_PHOFF + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(check_static(&huge).is_err());
        assert!(check_static(b"#!/bin/sh\n").is_err());
    }

    #[test]
    fn this_test_binary_is_not_static() {
        // The test harness itself is a normal dynamically linked PIE: the check must say so.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(check_static(&me).is_err());
    }
}
