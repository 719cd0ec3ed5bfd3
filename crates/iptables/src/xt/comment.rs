//! `struct xt_comment_info` (linux/netfilter/xt_comment.h): match `comment` rev 0, 256 bytes.

use super::{DecodeError, Rd, Unrepresentable, Wr, cstr_buf, cstr_text, exact};
use crate::matches::CommentMatch;

/// Extension name.
pub const NAME: &str = "comment";
/// Revision.
pub const REV: u32 = 0;
/// `XT_MAX_COMMENT_LEN` (already aligned).
pub const SIZE: usize = 256;

/// `struct xt_comment_info`: the whole buffer, bytes after the NUL included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct XtCommentInfo {
    /// NUL-terminated comment.
    pub comment: [u8; SIZE],
}

impl XtCommentInfo {
    /// The comment text (up to the first NUL).
    pub fn text(&self) -> String {
        cstr_text(&self.comment)
    }

    /// The blob.
    pub fn encode(&self) -> Vec<u8> {
        Wr::new(SIZE).bytes(0, &self.comment).finish()
    }

    /// Reads a blob.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let r = Rd::new(NAME, REV, b, SIZE)?;
        Ok(XtCommentInfo { comment: r.arr(0) })
    }
}

impl From<&CommentMatch> for XtCommentInfo {
    fn from(m: &CommentMatch) -> Self {
        XtCommentInfo { comment: cstr_buf(&m.comment) }
    }
}

impl TryFrom<&XtCommentInfo> for CommentMatch {
    type Error = Unrepresentable;

    /// The text up to the first NUL; refused unless the buffer is exactly that text, NUL-padded.
    fn try_from(x: &XtCommentInfo) -> Result<Self, Unrepresentable> {
        exact(x, CommentMatch { comment: x.text() }, NAME, REV, XtCommentInfo::encode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Match;
    use crate::xt::testutil::{hex, rule, zero_except};

    #[test]
    fn captures() {
        // Reference Appendix A f11 and x21.
        for (cmd, text) in [
            ("-A MYCHAIN -m comment --comment managed -j RETURN", "managed"),
            (
                "-A INPUT -s 1.1.1.1 -m comment --comment 'libvirt: rule with spaces' -j ACCEPT",
                "libvirt: rule with spaces",
            ),
        ] {
            let cmd = cmd.replace('\'', "\"");
            let r = rule(&cmd);
            let Some(Match::Comment(m)) = r.matches.first() else { panic!("{cmd}") };
            let blob = zero_except(256, &[(0, &hex_of(text))]);
            assert_eq!(XtCommentInfo::from(m).encode(), blob);
            let d = XtCommentInfo::decode(&blob).unwrap();
            assert_eq!(d.text(), text);
            assert_eq!(d, XtCommentInfo::from(m));
        }
        assert!(XtCommentInfo::decode(&hex("00")).is_err());
    }

    fn hex_of(s: &str) -> String {
        s.bytes().map(|b| format!("{b:02x}")).collect()
    }
}
