//! The `natkeeper` binary (in progress).

fn main() {}
