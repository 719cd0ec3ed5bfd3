//! `struct xt_log_info` (linux/netfilter/xt_LOG.h): target `LOG` rev 0, 32 bytes.

use super::{DecodeError, Rd, Unrepresentable, Wr, cstr_buf, cstr_text, exact};
use crate::targets::{LogFlags, LogTarget};

/// Extension name.
pub const NAME: &str = "LOG";
/// Revision.
pub const REV: u32 = 0;
/// `sizeof(struct xt_log_info)` (already aligned).
pub const SIZE: usize = 32;

/// `struct xt_log_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XtLogInfo {
    /// Syslog level.
    pub level: u8,
    /// `XT_LOG_*`.
    pub logflags: u8,
    /// NUL-terminated prefix, whole buffer.
    pub prefix: [u8; 30],
}

impl XtLogInfo {
    /// The prefix text.
    pub fn prefix_text(&self) -> String {
        cstr_text(&self.prefix)
    }

    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE).u8(0, self.level).u8(1, self.logflags).bytes(2, &self.prefix).finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtLogInfo { level: r.u8(0), logflags: r.u8(1), prefix: r.arr(2) })
    }
}

impl From<&LogTarget> for XtLogInfo {
    fn from(t: &LogTarget) -> Self {
        XtLogInfo { level: t.level, logflags: t.flags.0, prefix: cstr_buf(t.prefix.as_deref().unwrap_or("")) }
    }
}

impl TryFrom<&XtLogInfo> for LogTarget {
    type Error = Unrepresentable;

    /// The options `LOG_save` prints; refused unless they encode back to the struct.
    fn try_from(x: &XtLogInfo) -> Result<Self, Unrepresentable> {
        let prefix = Some(x.prefix_text()).filter(|p| !p.is_empty());
        let t = LogTarget { level: x.level, prefix, flags: LogFlags(x.logflags) };
        exact(x, t, NAME, REV, XtLogInfo::encode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Target;
    use crate::xt::testutil::{hex, rule};

    #[test]
    fn captures() {
        // Reference Appendix B f09, x14; the last from `iptables-nft -vvv` (1.8.9, Linux 6.18).
        for (cmd, blob) in [
            ("-A INPUT -i eth0 -j LOG", "0400000000000000000000000000000000000000000000000000000000000000"),
            (
                "-A INPUT -j LOG --log-prefix \"fw: \" --log-level 4 --log-tcp-sequence --log-uid",
                "040966773a200000000000000000000000000000000000000000000000000000",
            ),
            (
                "-A INPUT -j LOG --log-level alert --log-prefix x --log-ip-options --log-macdecode --log-tcp-options",
                "0126780000000000000000000000000000000000000000000000000000000000",
            ),
        ] {
            let r = rule(cmd);
            let Some(Target::Log(t)) = &r.target else { panic!("{cmd}") };
            assert_eq!(XtLogInfo::from(t).encode(), hex(blob), "{cmd}");
            assert_eq!(XtLogInfo::decode(&hex(blob)).unwrap(), XtLogInfo::from(t));
        }
    }
}
