//! Memory: the peak resident set of the cockpit's process, as the kernel
//! counts it.

use color_eyre::eyre::{self, eyre};

use super::report::kib_field;

/// `VmHWM` of the process: its peak RSS so far, in KiB.
pub fn peak_rss_kib(pid: u32) -> eyre::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    kib_field(&status, "VmHWM:").ok_or_else(|| eyre!("no VmHWM in /proc/{pid}/status"))
}
