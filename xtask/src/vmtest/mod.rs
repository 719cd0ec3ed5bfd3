//! `cargo xtask vmtest`: real QEMU guests on a real libvirt `virbr0` (in progress).

/// Runs the VM tests with the given arguments.
pub(crate) fn run(_args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("vmtest is not built yet")
}
