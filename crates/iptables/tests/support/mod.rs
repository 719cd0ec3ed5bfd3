//! Test support: the shared conformance data and `.t` reader (from the `natkeeper-tests` package,
//! which the namespace tests use too), and this crate's fixtures.

#![allow(dead_code, unreachable_pub, unused_imports)]

use std::path::{Path, PathBuf};

pub use natkeeper_tests::conformance::{
    Expect, TestCase, command_lines, read_t_file, shared_dir, shared_subdir, shell_words, t_files,
};

/// This crate's fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}
