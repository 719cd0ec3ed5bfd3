//! Netlink attributes (TLVs): a writer that builds them in place, a reader over
//! `netlink-packet-core`'s [`NlasIterator`], and [`RawAttr`] for attributes kept verbatim.
//!
//! Every nf_tables integer attribute is big-endian; strings are NUL-terminated; nested attributes carry
//! `NLA_F_NESTED`, as libnftnl (and so `nft` and `iptables-nft`) sends them.

use netlink_packet_core::{NLA_F_NESTED, NLA_TYPE_MASK, NlasIterator};

use crate::error::DecodeError;

const NLA_HDRLEN: usize = 4;

/// Appends netlink attributes to a byte buffer; nested attributes are closed by [`Writer::nest`].
#[derive(Debug, Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// Wraps `buf`, appending after what it already holds.
    pub(crate) fn new(buf: Vec<u8>) -> Writer {
        Writer { buf }
    }

    /// The bytes written so far.
    pub(crate) fn into_inner(self) -> Vec<u8> {
        self.buf
    }

    /// Raw access for message headers (the socket layer patches lengths there).
    pub(crate) fn buf_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// One attribute with an arbitrary value, zero-padded to 4 bytes.
    pub(crate) fn bytes(&mut self, kind: u16, value: &[u8]) {
        let len = NLA_HDRLEN + value.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.pad();
    }

    /// A NUL-terminated string.
    pub(crate) fn str(&mut self, kind: u16, value: &str) {
        let len = NLA_HDRLEN + value.len() + 1;
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value.as_bytes());
        self.buf.push(0);
        self.pad();
    }

    /// A big-endian u32.
    pub(crate) fn be32(&mut self, kind: u16, value: u32) {
        self.bytes(kind, &value.to_be_bytes());
    }

    /// A big-endian u64.
    pub(crate) fn be64(&mut self, kind: u16, value: u64) {
        self.bytes(kind, &value.to_be_bytes());
    }

    /// A big-endian u16.
    pub(crate) fn be16(&mut self, kind: u16, value: u16) {
        self.bytes(kind, &value.to_be_bytes());
    }

    /// A single byte.
    pub(crate) fn u8(&mut self, kind: u16, value: u8) {
        self.bytes(kind, &[value]);
    }

    /// A nested attribute (`NLA_F_NESTED` set) whose content `f` writes.
    pub(crate) fn nest(&mut self, kind: u16, f: impl FnOnce(&mut Writer)) {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        self.buf.extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        f(self);
        let len = (self.buf.len() - start) as u16;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    }

    /// Re-emits an attribute kept verbatim (kind with its flag bits, value unchanged).
    pub(crate) fn raw(&mut self, attr: &RawAttr) {
        self.bytes(attr.kind, &attr.value);
    }

    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }
}

/// An attribute kept as it came: its kind including the `NLA_F_*` flag bits, and its value bytes.
/// Written back byte for byte when the object is sent again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawAttr {
    /// Attribute type, flag bits included.
    pub kind: u16,
    /// Value bytes, without padding.
    pub value: Vec<u8>,
}

/// One attribute as read: its type (flags masked off), whether it was flagged nested, and its value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attr<'a> {
    kind: u16,
    raw_kind: u16,
    value: &'a [u8],
}

impl<'a> Attr<'a> {
    /// The attribute type without the `NLA_F_NESTED`/`NLA_F_NET_BYTEORDER` bits.
    pub(crate) fn kind(&self) -> u16 {
        self.kind
    }

    /// The value bytes.
    pub(crate) fn value(&self) -> &'a [u8] {
        self.value
    }

    /// Keeps this attribute verbatim.
    pub(crate) fn to_raw(self) -> RawAttr {
        RawAttr { kind: self.raw_kind, value: self.value.to_vec() }
    }

    /// A big-endian u32 value.
    pub(crate) fn be32(&self, at: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.fixed::<4>(at)?))
    }

    /// A big-endian u64 value.
    pub(crate) fn be64(&self, at: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.fixed::<8>(at)?))
    }

    /// A big-endian u16 value.
    pub(crate) fn be16(&self, at: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.fixed::<2>(at)?))
    }

    /// A one-byte value.
    pub(crate) fn u8(&self, at: &'static str) -> Result<u8, DecodeError> {
        Ok(self.fixed::<1>(at)?[0])
    }

    /// A NUL-terminated (or unterminated) UTF-8 string.
    pub(crate) fn str(&self, at: &'static str) -> Result<String, DecodeError> {
        let bytes = match self.value.iter().position(|&b| b == 0) {
            Some(nul) => &self.value[..nul],
            None => self.value,
        };
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::bad_value(at))
    }

    /// The attributes nested inside this one.
    pub(crate) fn nested(&self) -> Attrs<'a> {
        Attrs::new(self.value)
    }

    fn fixed<const N: usize>(&self, at: &'static str) -> Result<[u8; N], DecodeError> {
        self.value.try_into().map_err(|_| DecodeError::bad_length(at, self.value.len()))
    }
}

/// Iterates the attributes in a buffer; a malformed attribute yields an error (then the iteration ends).
#[derive(Debug)]
pub(crate) struct Attrs<'a> {
    inner: NlasIterator<&'a [u8]>,
    failed: bool,
}

impl<'a> Attrs<'a> {
    /// Attributes packed in `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Attrs<'a> {
        Attrs { inner: NlasIterator::new(buf), failed: false }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.inner.next()? {
            Ok(nla) => {
                // `new_checked` guaranteed 4 <= length <= whole.len().
                let whole: &'a [u8] = nla.into_inner();
                let len = u16::from_ne_bytes([whole[0], whole[1]]) as usize;
                let raw_kind = u16::from_ne_bytes([whole[2], whole[3]]);
                Some(Ok(Attr { kind: raw_kind & NLA_TYPE_MASK, raw_kind, value: &whole[NLA_HDRLEN..len] }))
            }
            Err(_) => {
                self.failed = true;
                Some(Err(DecodeError::truncated("attribute")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_pads_and_nests_like_libmnl() {
        let mut w = Writer::default();
        w.nest(4, |w| {
            w.str(1, "ab");
            w.u8(2, 6);
        });
        assert_eq!(
            w.into_inner(),
            [
                20, 0, 0x04, 0x80, // nested 4, len 20
                7, 0, 1, 0, b'a', b'b', 0, 0, // "ab\0" + pad
                5, 0, 2, 0, 6, 0, 0, 0, // u8 6 + pad
            ]
        );
    }

    #[test]
    fn reader_sees_kinds_values_and_flags() {
        let bytes = [20u8, 0, 0x04, 0x80, 7, 0, 1, 0, b'a', b'b', 0, 0, 5, 0, 2, 0, 6, 0, 0, 0];
        let outer: Vec<_> = Attrs::new(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(outer.len(), 1);
        assert_eq!(outer[0].kind(), 4);
        assert_eq!(outer[0].to_raw().kind, 0x8004);
        let inner: Vec<_> = outer[0].nested().collect::<Result<_, _>>().unwrap();
        assert_eq!(inner[0].str("t").unwrap(), "ab");
        assert_eq!(inner[1].u8("t").unwrap(), 6);
    }

    #[test]
    fn truncated_attribute_is_an_error() {
        let bytes = [20u8, 0, 1, 0, 1, 2];
        let r: Result<Vec<_>, _> = Attrs::new(&bytes).collect();
        assert!(r.is_err());
    }
}
