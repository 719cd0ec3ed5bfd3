//! A writer for the `newc` cpio format the kernel unpacks as an initramfs
//! (Documentation/driver-api/early-userspace/buffer-format.rst).

const MAGIC: &str = "070701";
const TRAILER: &str = "TRAILER!!!";
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

/// An archive being written in memory. Entries are owned by root, with mtime 0, so the same
/// inputs always give the same bytes.
#[derive(Debug, Default)]
pub(crate) struct Cpio {
    buf: Vec<u8>,
    next_ino: u32,
}

impl Cpio {
    /// An empty archive.
    pub(crate) fn new() -> Cpio {
        Cpio { buf: Vec::new(), next_ino: 1 }
    }

    /// A directory.
    pub(crate) fn dir(&mut self, path: &str, perm: u32) {
        self.entry(path, S_IFDIR | perm, 2, (0, 0), &[]);
    }

    /// A regular file.
    pub(crate) fn file(&mut self, path: &str, perm: u32, data: &[u8]) {
        self.entry(path, S_IFREG | perm, 1, (0, 0), data);
    }

    /// A symbolic link to `target`.
    pub(crate) fn symlink(&mut self, path: &str, target: &str) {
        self.entry(path, S_IFLNK | 0o777, 1, (0, 0), target.as_bytes());
    }

    /// A character device node.
    pub(crate) fn char_dev(&mut self, path: &str, perm: u32, major: u32, minor: u32) {
        self.entry(path, S_IFCHR | perm, 1, (major, minor), &[]);
    }

    /// Appends the trailer and returns the archive.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.header(TRAILER, 0, 0, 1, (0, 0), 0);
        self.buf
    }

    fn entry(&mut self, path: &str, mode: u32, nlink: u32, rdev: (u32, u32), data: &[u8]) {
        let ino = self.next_ino;
        self.next_ino += 1;
        // The kernel reads sizes as 8 hex digits; an initramfs member never comes near 4 GiB.
        let size = u32::try_from(data.len()).unwrap_or(u32::MAX);
        self.header(path, ino, mode, nlink, rdev, size);
        self.buf.extend_from_slice(data);
        self.pad();
    }

    fn header(&mut self, name: &str, ino: u32, mode: u32, nlink: u32, rdev: (u32, u32), size: u32) {
        let namesize = u32::try_from(name.len() + 1).unwrap_or(u32::MAX);
        let fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev.0, rdev.1, namesize, 0];
        self.buf.extend_from_slice(MAGIC.as_bytes());
        for f in fields {
            self.buf.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(0);
        self.pad();
    }

    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_entry_layout() {
        let mut c = Cpio::new();
        c.file("init", 0o755, b"#!x\n");
        let bytes = c.finish();
        let expect_header = concat!(
            "070701", "00000001", "000081ed", "00000000", "00000000", "00000001", "00000000", "00000004",
            "00000000", "00000000", "00000000", "00000000", "00000005", "00000000"
        );
        assert_eq!(&bytes[..110], expect_header.as_bytes());
        // 110-byte header + "init\0" = 115, padded to 116; then 4 data bytes.
        assert_eq!(&bytes[110..116], b"init\0\0");
        assert_eq!(&bytes[116..120], b"#!x\n");
        assert_eq!(&bytes[120..126], b"070701");
        assert!(bytes.ends_with(b"TRAILER!!!\0\0\0\0"));
        assert_eq!(bytes.len() % 4, 0);
    }

    #[test]
    fn device_and_symlink_entries() {
        let mut c = Cpio::new();
        c.char_dev("dev/console", 0o600, 5, 1);
        c.symlink("bin/sh", "busybox");
        let b = c.finish();
        let field = |entry_start: usize, i: usize| &b[entry_start + 6 + 8 * i..entry_start + 14 + 8 * i];
        assert_eq!(field(0, 1), b"00002180"); // S_IFCHR | 0600
        assert_eq!(field(0, 9), b"00000005"); // rdevmajor
        assert_eq!(field(0, 10), b"00000001"); // rdevminor
        let second = 124; // 110-byte header + "dev/console\0" (12 bytes) = 122, padded to 124
        assert_eq!(&b[second..second + 6], b"070701");
        assert_eq!(field(second, 1), b"0000a1ff"); // S_IFLNK | 0777
        assert_eq!(field(second, 6), b"00000007"); // "busybox"
    }
}
