//! xt info structs: the `NFTA_MATCH_INFO`/`NFTA_TARGET_INFO` payloads of nf_tables `match` and
//! `target` expressions, one module per struct revision, byte for byte as iptables-nft 1.8.9
//! sends them.
//!
//! A blob is the C struct in host byte order (fields the kernel declares `__be16`/`__be32` in
//! network order), zero-padded to `XT_ALIGN(sizeof(struct))` (8 bytes on 64-bit hosts). Each
//! struct has `encode` (exactly that many bytes) and `decode` (which requires exactly that
//! many). Decoding is lossless: every field is kept with its raw value, string buffers are kept
//! whole, and alignment padding is kept in a `pad` field so that a foreign blob re-encodes
//! byte for byte. [`XtMatch::decode`]/[`XtTarget::decode`] is the registry keyed by
//! (name, revision), with an `Unknown` fallback that keeps the bytes.
//!
//! Revisions are those iptables 1.8.9 selects on Linux 6.x (reference §6.1; addrtype, connmark,
//! CONNMARK, iprange, pkttype and ttl checked with `iptables-nft -vvv`). `-m limit`, `-m mark`,
//! tcp/udp ports and `-j NFLOG` are written natively by iptables-nft (`limit`, `meta mark`,
//! `payload`/`cmp`/`range`, `log` expressions) and belong to the nf_tables layer.

use crate::matches::Match;
use crate::targets::Target;

pub mod addrtype_v1;
pub mod checksum;
pub mod comment;
pub mod connmark_mt_v1;
pub mod connmark_tg_v2;
pub mod conntrack_v3;
pub mod ct_v2;
pub mod icmp;
pub mod iprange_v1;
pub mod length;
pub mod log;
pub mod mark_mt_v1;
pub mod mark_tg_v2;
pub mod multiport_v1;
pub mod nat_ipv4_multi_range_compat;
pub mod nat_range2;
pub mod physdev;
pub mod pkttype;
pub mod reject;
pub mod state;
pub mod tcp;
pub mod ttl;
pub mod udp;

/// `XT_ALIGN` boundary on 64-bit hosts (`__alignof__(struct _xt_align)`).
pub const XT_ALIGN: usize = 8;

/// `XT_ALIGN(len)`.
pub const fn xt_align(len: usize) -> usize {
    len.div_ceil(XT_ALIGN) * XT_ALIGN
}

/// A blob that does not fit its struct.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The info is not `XT_ALIGN(sizeof(struct))` bytes long.
    #[error("xt {name} rev {rev}: info is {actual} bytes, expected {expected}")]
    Length {
        /// Extension name.
        name: &'static str,
        /// Revision.
        rev: u32,
        /// Expected length.
        expected: usize,
        /// Actual length.
        actual: usize,
    },
}

/// A blob whose content no typed option describes exactly: iptables 1.8.9 never writes it, so
/// natkeeper cannot say it back as a rule that would encode to the same bytes (converting it
/// anyway could print a broader or different rule).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("xt {name} rev {rev}: info {info} is not what iptables 1.8.9 writes for any option")]
pub struct Unrepresentable {
    /// Extension name.
    pub name: String,
    /// Revision.
    pub rev: u32,
    /// The info bytes, in hex.
    pub info: String,
}

impl Unrepresentable {
    /// The error for a blob of extension `name` revision `rev`.
    pub(crate) fn new(name: &str, rev: u32, info: &[u8]) -> Self {
        let info = info.iter().map(|b| format!("{b:02x}")).collect();
        Unrepresentable { name: name.to_owned(), rev, info }
    }
}

/// `Ok(m)` when the struct of `m` is exactly `x` (so `m` says all `x` says), else the error.
pub(crate) fn exact<X, M>(
    x: &X,
    m: M,
    name: &str,
    rev: u32,
    encode: fn(&X) -> Vec<u8>,
) -> Result<M, Unrepresentable>
where
    X: PartialEq + for<'a> From<&'a M>,
{
    if X::from(&m) == *x { Ok(m) } else { Err(Unrepresentable::new(name, rev, &encode(x))) }
}

/// Reads fields of a blob whose length was checked.
pub(crate) struct Rd<'a>(&'a [u8]);

impl<'a> Rd<'a> {
    /// Checks the length and wraps the blob.
    pub(crate) fn new(name: &'static str, rev: u32, b: &'a [u8], size: usize) -> Result<Self, DecodeError> {
        if b.len() != size {
            return Err(DecodeError::Length { name, rev, expected: size, actual: b.len() });
        }
        Ok(Rd(b))
    }

    /// `N` bytes at `off` (zeros outside the blob, which a checked length rules out).
    pub(crate) fn arr<const N: usize>(&self, off: usize) -> [u8; N] {
        self.0.get(off..off + N).and_then(|s| s.try_into().ok()).unwrap_or([0; N])
    }

    pub(crate) fn u8(&self, off: usize) -> u8 {
        self.arr::<1>(off)[0]
    }

    /// Host-order `u16`.
    pub(crate) fn u16(&self, off: usize) -> u16 {
        u16::from_ne_bytes(self.arr(off))
    }

    /// Host-order `u32`.
    pub(crate) fn u32(&self, off: usize) -> u32 {
        u32::from_ne_bytes(self.arr(off))
    }

    /// Network-order `u16`.
    pub(crate) fn be16(&self, off: usize) -> u16 {
        u16::from_be_bytes(self.arr(off))
    }

    /// `N` host-order `u16`s.
    pub(crate) fn u16s<const N: usize>(&self, off: usize) -> [u16; N] {
        std::array::from_fn(|i| self.u16(off + 2 * i))
    }
}

/// Builds a blob of a fixed size.
pub(crate) struct Wr(Vec<u8>);

impl Wr {
    pub(crate) fn new(size: usize) -> Self {
        Wr(vec![0; size])
    }

    pub(crate) fn bytes(&mut self, off: usize, b: &[u8]) -> &mut Self {
        if let Some(dst) = self.0.get_mut(off..off + b.len()) {
            dst.copy_from_slice(b);
        }
        self
    }

    pub(crate) fn u8(&mut self, off: usize, v: u8) -> &mut Self {
        self.bytes(off, &[v])
    }

    pub(crate) fn u16(&mut self, off: usize, v: u16) -> &mut Self {
        self.bytes(off, &v.to_ne_bytes())
    }

    pub(crate) fn u32(&mut self, off: usize, v: u32) -> &mut Self {
        self.bytes(off, &v.to_ne_bytes())
    }

    pub(crate) fn be16(&mut self, off: usize, v: u16) -> &mut Self {
        self.bytes(off, &v.to_be_bytes())
    }

    pub(crate) fn u16s(&mut self, off: usize, v: &[u16]) -> &mut Self {
        for (i, x) in v.iter().enumerate() {
            self.u16(off + 2 * i, *x);
        }
        self
    }

    pub(crate) fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

/// A NUL-terminated string buffer of `N` bytes holding `s` (cut to `N - 1` bytes).
pub(crate) fn cstr_buf<const N: usize>(s: &str) -> [u8; N] {
    let mut b = [0u8; N];
    let n = s.len().min(N.saturating_sub(1));
    b[..n].copy_from_slice(&s.as_bytes()[..n]);
    b
}

/// The text of a NUL-terminated buffer, up to the first NUL (lossy for invalid UTF-8).
pub(crate) fn cstr_text(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// An xt match blob, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum XtMatch {
    /// `addrtype` rev 1.
    Addrtype(addrtype_v1::XtAddrtypeInfoV1),
    /// `comment` rev 0.
    Comment(comment::XtCommentInfo),
    /// `connmark` rev 1.
    Connmark(connmark_mt_v1::XtConnmarkMtinfo1),
    /// `conntrack` rev 3 (also `-m state`).
    Conntrack(conntrack_v3::XtConntrackMtinfo3),
    /// `icmp` rev 0.
    Icmp(icmp::IptIcmp),
    /// `iprange` rev 1.
    Iprange(iprange_v1::XtIprangeMtinfo),
    /// `length` rev 0.
    Length(length::XtLengthInfo),
    /// `mark` rev 1.
    Mark(mark_mt_v1::XtMarkMtinfo1),
    /// `multiport` rev 1.
    Multiport(multiport_v1::XtMultiportV1),
    /// `physdev` rev 0.
    Physdev(physdev::XtPhysdevInfo),
    /// `pkttype` rev 0.
    Pkttype(pkttype::XtPkttypeInfo),
    /// `state` rev 0 (never written by iptables 1.8.9, which uses conntrack).
    State(state::XtStateInfo),
    /// `tcp` rev 0.
    Tcp(tcp::XtTcp),
    /// `ttl` rev 0.
    Ttl(ttl::IptTtlInfo),
    /// `udp` rev 0.
    Udp(udp::XtUdp),
    /// Any other (name, revision): the bytes as received.
    Unknown {
        /// Extension name.
        name: String,
        /// Revision.
        rev: u32,
        /// `NFTA_MATCH_INFO`.
        info: Vec<u8>,
    },
}

impl XtMatch {
    /// Decodes `NFTA_MATCH_INFO` of match `name` revision `rev`. Unknown (name, revision) pairs
    /// give [`XtMatch::Unknown`]; a known one of the wrong size is an error.
    pub fn decode(name: &str, rev: u32, info: &[u8]) -> Result<XtMatch, DecodeError> {
        Ok(match (name, rev) {
            ("addrtype", 1) => XtMatch::Addrtype(addrtype_v1::XtAddrtypeInfoV1::decode(info)?),
            ("comment", 0) => XtMatch::Comment(comment::XtCommentInfo::decode(info)?),
            ("connmark", 1) => XtMatch::Connmark(connmark_mt_v1::XtConnmarkMtinfo1::decode(info)?),
            ("conntrack", 3) => XtMatch::Conntrack(conntrack_v3::XtConntrackMtinfo3::decode(info)?),
            ("icmp", 0) => XtMatch::Icmp(icmp::IptIcmp::decode(info)?),
            ("iprange", 1) => XtMatch::Iprange(iprange_v1::XtIprangeMtinfo::decode(info)?),
            ("length", 0) => XtMatch::Length(length::XtLengthInfo::decode(info)?),
            ("mark", 1) => XtMatch::Mark(mark_mt_v1::XtMarkMtinfo1::decode(info)?),
            ("multiport", 1) => XtMatch::Multiport(multiport_v1::XtMultiportV1::decode(info)?),
            ("physdev", 0) => XtMatch::Physdev(physdev::XtPhysdevInfo::decode(info)?),
            ("pkttype", 0) => XtMatch::Pkttype(pkttype::XtPkttypeInfo::decode(info)?),
            ("state", 0) => XtMatch::State(state::XtStateInfo::decode(info)?),
            ("tcp", 0) => XtMatch::Tcp(tcp::XtTcp::decode(info)?),
            ("ttl", 0) => XtMatch::Ttl(ttl::IptTtlInfo::decode(info)?),
            ("udp", 0) => XtMatch::Udp(udp::XtUdp::decode(info)?),
            _ => XtMatch::Unknown { name: name.to_owned(), rev, info: info.to_vec() },
        })
    }

    /// The blob iptables-nft 1.8.9 sends when it writes `m` as an xt match; `None` for
    /// `-m limit`, which it always writes natively (`-m mark`, tcp and udp ports are native too,
    /// but have a struct).
    pub fn from_match(m: &Match) -> Option<XtMatch> {
        Some(match m {
            Match::Tcp(m) => XtMatch::Tcp(m.into()),
            Match::Udp(m) => XtMatch::Udp(m.into()),
            Match::Icmp(m) => XtMatch::Icmp(m.into()),
            Match::Multiport(m) => XtMatch::Multiport(m.into()),
            Match::Conntrack(m) => XtMatch::Conntrack(m.into()),
            Match::State(m) => XtMatch::Conntrack(m.into()),
            Match::Length(m) => XtMatch::Length(m.into()),
            Match::Comment(m) => XtMatch::Comment(m.into()),
            Match::Mark(m) => XtMatch::Mark(m.into()),
            Match::Connmark(m) => XtMatch::Connmark(m.into()),
            Match::Physdev(m) => XtMatch::Physdev(m.into()),
            Match::Addrtype(m) => XtMatch::Addrtype(m.into()),
            Match::Pkttype(m) => XtMatch::Pkttype(m.into()),
            Match::Ttl(m) => XtMatch::Ttl(m.into()),
            Match::Iprange(m) => XtMatch::Iprange(m.into()),
            Match::Limit(_) => return None,
        })
    }

    /// The match iptables-save 1.8.9 prints for the blob. Refused when no typed match encodes
    /// back to exactly these bytes (and for extensions natkeeper does not model).
    pub fn to_match(&self) -> Result<Match, Unrepresentable> {
        use conntrack_v3::XT_CONNTRACK_STATE_ALIAS;
        Ok(match self {
            XtMatch::Addrtype(x) => Match::Addrtype(x.try_into()?),
            XtMatch::Comment(x) => Match::Comment(x.try_into()?),
            XtMatch::Connmark(x) => Match::Connmark(x.try_into()?),
            XtMatch::Conntrack(x) if x.match_flags & XT_CONNTRACK_STATE_ALIAS != 0 => {
                Match::State(x.try_into()?)
            }
            XtMatch::Conntrack(x) => Match::Conntrack(x.try_into()?),
            XtMatch::Icmp(x) => Match::Icmp(x.try_into()?),
            XtMatch::Iprange(x) => Match::Iprange(x.try_into()?),
            XtMatch::Length(x) => Match::Length(x.try_into()?),
            XtMatch::Mark(x) => Match::Mark(x.try_into()?),
            XtMatch::Multiport(x) => Match::Multiport(x.try_into()?),
            XtMatch::Physdev(x) => Match::Physdev(x.try_into()?),
            XtMatch::Pkttype(x) => Match::Pkttype(x.try_into()?),
            XtMatch::State(x) => Match::State(x.try_into()?),
            XtMatch::Tcp(x) => Match::Tcp(x.try_into()?),
            XtMatch::Ttl(x) => Match::Ttl(x.try_into()?),
            XtMatch::Udp(x) => Match::Udp(x.try_into()?),
            XtMatch::Unknown { name, rev, info } => return Err(Unrepresentable::new(name, *rev, info)),
        })
    }

    /// The extension name (`NFTA_MATCH_NAME`).
    pub fn name(&self) -> &str {
        match self {
            XtMatch::Addrtype(_) => addrtype_v1::NAME,
            XtMatch::Comment(_) => comment::NAME,
            XtMatch::Connmark(_) => connmark_mt_v1::NAME,
            XtMatch::Conntrack(_) => conntrack_v3::NAME,
            XtMatch::Icmp(_) => icmp::NAME,
            XtMatch::Iprange(_) => iprange_v1::NAME,
            XtMatch::Length(_) => length::NAME,
            XtMatch::Mark(_) => mark_mt_v1::NAME,
            XtMatch::Multiport(_) => multiport_v1::NAME,
            XtMatch::Physdev(_) => physdev::NAME,
            XtMatch::Pkttype(_) => pkttype::NAME,
            XtMatch::State(_) => state::NAME,
            XtMatch::Tcp(_) => tcp::NAME,
            XtMatch::Ttl(_) => ttl::NAME,
            XtMatch::Udp(_) => udp::NAME,
            XtMatch::Unknown { name, .. } => name,
        }
    }

    /// The revision (`NFTA_MATCH_REV`).
    pub fn rev(&self) -> u32 {
        match self {
            XtMatch::Addrtype(_) => addrtype_v1::REV,
            XtMatch::Comment(_) => comment::REV,
            XtMatch::Connmark(_) => connmark_mt_v1::REV,
            XtMatch::Conntrack(_) => conntrack_v3::REV,
            XtMatch::Icmp(_) => icmp::REV,
            XtMatch::Iprange(_) => iprange_v1::REV,
            XtMatch::Length(_) => length::REV,
            XtMatch::Mark(_) => mark_mt_v1::REV,
            XtMatch::Multiport(_) => multiport_v1::REV,
            XtMatch::Physdev(_) => physdev::REV,
            XtMatch::Pkttype(_) => pkttype::REV,
            XtMatch::State(_) => state::REV,
            XtMatch::Tcp(_) => tcp::REV,
            XtMatch::Ttl(_) => ttl::REV,
            XtMatch::Udp(_) => udp::REV,
            XtMatch::Unknown { rev, .. } => *rev,
        }
    }

    /// `NFTA_MATCH_INFO`.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            XtMatch::Addrtype(m) => m.encode(),
            XtMatch::Comment(m) => m.encode(),
            XtMatch::Connmark(m) => m.encode(),
            XtMatch::Conntrack(m) => m.encode(),
            XtMatch::Icmp(m) => m.encode(),
            XtMatch::Iprange(m) => m.encode(),
            XtMatch::Length(m) => m.encode(),
            XtMatch::Mark(m) => m.encode(),
            XtMatch::Multiport(m) => m.encode(),
            XtMatch::Physdev(m) => m.encode(),
            XtMatch::Pkttype(m) => m.encode(),
            XtMatch::State(m) => m.encode(),
            XtMatch::Tcp(m) => m.encode(),
            XtMatch::Ttl(m) => m.encode(),
            XtMatch::Udp(m) => m.encode(),
            XtMatch::Unknown { info, .. } => info.clone(),
        }
    }
}

/// An xt target blob, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum XtTarget {
    /// `CHECKSUM` rev 0.
    Checksum(checksum::XtChecksumInfo),
    /// `CONNMARK` rev 2.
    Connmark(connmark_tg_v2::XtConnmarkTginfo2),
    /// `CT` rev 2 (also `-j NOTRACK`).
    Ct(ct_v2::XtCtTargetInfoV1),
    /// `LOG` rev 0.
    Log(log::XtLogInfo),
    /// `MARK` rev 2.
    Mark(mark_tg_v2::XtMarkTginfo2),
    /// `SNAT`, `MASQUERADE`, `REDIRECT` (and `DNAT`) rev 0.
    NatCompat {
        /// Which target.
        name: nat_ipv4_multi_range_compat::CompatTarget,
        /// The range.
        info: nat_ipv4_multi_range_compat::NfNatIpv4MultiRangeCompat,
    },
    /// `DNAT` rev 2.
    Dnat(nat_range2::NfNatRange2),
    /// `REJECT` rev 0.
    Reject(reject::IptRejectInfo),
    /// Any other (name, revision): the bytes as received.
    Unknown {
        /// Extension name.
        name: String,
        /// Revision.
        rev: u32,
        /// `NFTA_TARGET_INFO`.
        info: Vec<u8>,
    },
}

impl XtTarget {
    /// Decodes `NFTA_TARGET_INFO` of target `name` revision `rev`.
    pub fn decode(name: &str, rev: u32, info: &[u8]) -> Result<XtTarget, DecodeError> {
        use nat_ipv4_multi_range_compat::{CompatTarget, NfNatIpv4MultiRangeCompat};
        let compat = |t: CompatTarget| -> Result<XtTarget, DecodeError> {
            Ok(XtTarget::NatCompat { name: t, info: NfNatIpv4MultiRangeCompat::decode(t.name(), info)? })
        };
        Ok(match (name, rev) {
            ("CHECKSUM", 0) => XtTarget::Checksum(checksum::XtChecksumInfo::decode(info)?),
            ("CONNMARK", 2) => XtTarget::Connmark(connmark_tg_v2::XtConnmarkTginfo2::decode(info)?),
            ("CT", 2) => XtTarget::Ct(ct_v2::XtCtTargetInfoV1::decode(info)?),
            ("LOG", 0) => XtTarget::Log(log::XtLogInfo::decode(info)?),
            ("MARK", 2) => XtTarget::Mark(mark_tg_v2::XtMarkTginfo2::decode(info)?),
            ("SNAT", 0) => compat(CompatTarget::Snat)?,
            ("MASQUERADE", 0) => compat(CompatTarget::Masquerade)?,
            ("REDIRECT", 0) => compat(CompatTarget::Redirect)?,
            ("DNAT", 0) => compat(CompatTarget::Dnat)?,
            ("DNAT", 2) => XtTarget::Dnat(nat_range2::NfNatRange2::decode(info)?),
            ("REJECT", 0) => XtTarget::Reject(reject::IptRejectInfo::decode(info)?),
            _ => XtTarget::Unknown { name: name.to_owned(), rev, info: info.to_vec() },
        })
    }

    /// The blob iptables-nft 1.8.9 sends for `t`; `None` for what it writes natively:
    /// verdicts, chain jumps and `-j NFLOG`.
    pub fn from_target(t: &Target) -> Option<XtTarget> {
        use nat_ipv4_multi_range_compat::CompatTarget;
        Some(match t {
            Target::Dnat(t) => XtTarget::Dnat(t.into()),
            Target::Snat(t) => XtTarget::NatCompat { name: CompatTarget::Snat, info: t.into() },
            Target::Masquerade(t) => XtTarget::NatCompat { name: CompatTarget::Masquerade, info: t.into() },
            Target::Redirect(t) => XtTarget::NatCompat { name: CompatTarget::Redirect, info: t.into() },
            Target::Reject(t) => XtTarget::Reject(t.into()),
            Target::Log(t) => XtTarget::Log(t.into()),
            Target::Mark(t) => XtTarget::Mark(t.into()),
            Target::Connmark(t) => XtTarget::Connmark(t.into()),
            Target::ChecksumFill => XtTarget::Checksum(checksum::XtChecksumInfo::FILL),
            Target::Ct(t) => XtTarget::Ct(t.into()),
            Target::Notrack => XtTarget::Ct(ct_v2::XtCtTargetInfoV1::NOTRACK),
            Target::Accept
            | Target::Drop
            | Target::Return
            | Target::Jump(_)
            | Target::Goto(_)
            | Target::Nflog(_) => return None,
        })
    }

    /// The target iptables-save 1.8.9 prints for the blob. Refused when no typed target encodes
    /// back to exactly these bytes (and for DNAT revision 0, which iptables 1.8.9 prints with the
    /// revision 2 layout, as garbage).
    pub fn to_target(&self) -> Result<Target, Unrepresentable> {
        use nat_ipv4_multi_range_compat::CompatTarget;
        let refused = || Unrepresentable::new(self.name(), self.rev(), &self.encode());
        Ok(match self {
            XtTarget::Checksum(x) if *x == checksum::XtChecksumInfo::FILL => Target::ChecksumFill,
            XtTarget::Checksum(_) => return Err(refused()),
            XtTarget::Connmark(x) => Target::Connmark(x.try_into()?),
            XtTarget::Ct(x) if *x == ct_v2::XtCtTargetInfoV1::NOTRACK => Target::Notrack,
            XtTarget::Ct(x) => Target::Ct(x.try_into()?),
            XtTarget::Log(x) => Target::Log(x.try_into()?),
            XtTarget::Mark(x) => Target::Mark(x.try_into()?),
            XtTarget::NatCompat { name: CompatTarget::Snat, info } => Target::Snat(info.try_into()?),
            XtTarget::NatCompat { name: CompatTarget::Masquerade, info } => {
                Target::Masquerade(info.try_into()?)
            }
            XtTarget::NatCompat { name: CompatTarget::Redirect, info } => Target::Redirect(info.try_into()?),
            XtTarget::NatCompat { name: CompatTarget::Dnat, .. } => return Err(refused()),
            XtTarget::Dnat(x) => Target::Dnat(x.try_into()?),
            XtTarget::Reject(x) => Target::Reject(x.try_into()?),
            XtTarget::Unknown { .. } => return Err(refused()),
        })
    }

    /// The extension name (`NFTA_TARGET_NAME`).
    pub fn name(&self) -> &str {
        match self {
            XtTarget::Checksum(_) => checksum::NAME,
            XtTarget::Connmark(_) => connmark_tg_v2::NAME,
            XtTarget::Ct(_) => ct_v2::NAME,
            XtTarget::Log(_) => log::NAME,
            XtTarget::Mark(_) => mark_tg_v2::NAME,
            XtTarget::NatCompat { name, .. } => name.name(),
            XtTarget::Dnat(_) => nat_range2::NAME,
            XtTarget::Reject(_) => reject::NAME,
            XtTarget::Unknown { name, .. } => name,
        }
    }

    /// The revision (`NFTA_TARGET_REV`).
    pub fn rev(&self) -> u32 {
        match self {
            XtTarget::Checksum(_) => checksum::REV,
            XtTarget::Connmark(_) => connmark_tg_v2::REV,
            XtTarget::Ct(_) => ct_v2::REV,
            XtTarget::Log(_) => log::REV,
            XtTarget::Mark(_) => mark_tg_v2::REV,
            XtTarget::NatCompat { .. } => nat_ipv4_multi_range_compat::REV,
            XtTarget::Dnat(_) => nat_range2::REV,
            XtTarget::Reject(_) => reject::REV,
            XtTarget::Unknown { rev, .. } => *rev,
        }
    }

    /// `NFTA_TARGET_INFO`.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            XtTarget::Checksum(t) => t.encode(),
            XtTarget::Connmark(t) => t.encode(),
            XtTarget::Ct(t) => t.encode(),
            XtTarget::Log(t) => t.encode(),
            XtTarget::Mark(t) => t.encode(),
            XtTarget::NatCompat { info, .. } => info.encode(),
            XtTarget::Dnat(t) => t.encode(),
            XtTarget::Reject(t) => t.encode(),
            XtTarget::Unknown { info, .. } => info.clone(),
        }
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Golden-test helpers.

    /// Bytes from a hex string (as in the reference's captures).
    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0xee)).collect()
    }

    /// `len` zero bytes with `patches` (offset, hex) applied: the reference's
    /// "all-zero except @146:0120000006" notation.
    pub(crate) fn zero_except(len: usize, patches: &[(usize, &str)]) -> Vec<u8> {
        let mut v = vec![0; len];
        for (off, h) in patches {
            let b = hex(h);
            v[*off..*off + b.len()].copy_from_slice(&b);
        }
        v
    }

    /// The typed rule of an iptables command line.
    pub(crate) fn rule(line: &str) -> crate::Rule {
        let cmd: crate::Command = line.parse().unwrap_or_else(|e| panic!("{line}: {e}"));
        cmd.rule().cloned().unwrap_or_else(|| panic!("{line}: not a rule"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use testutil::hex;

    #[test]
    fn registry_dispatch_and_unknown() {
        let m = XtMatch::decode("length", 0, &hex("5500ffff00000000")).unwrap();
        assert!(matches!(m, XtMatch::Length(_)));
        assert_eq!((m.name(), m.rev()), ("length", 0));
        assert_eq!(m.encode(), hex("5500ffff00000000"));
        let u = XtMatch::decode("length", 7, &[1, 2, 3]).unwrap();
        assert_eq!(u.encode(), vec![1, 2, 3]);
        assert_eq!((u.name(), u.rev()), ("length", 7));
        assert!(XtMatch::decode("length", 0, &[0; 6]).is_err());
        let t = XtTarget::decode("MASQUERADE", 0, &hex("010000000000000000000000000000000000000000000000"))
            .unwrap();
        assert_eq!((t.name(), t.rev()), ("MASQUERADE", 0));
        let u = XtTarget::decode("TCPMSS", 0, &[9; 8]).unwrap();
        assert!(matches!(u, XtTarget::Unknown { .. }));
        assert_eq!(u.encode(), vec![9; 8]);
    }
}
