//! Precomputed answer fragments: wire-format records with their compression
//! pointers left open, to be closed by arithmetic at query time.
//!
//! Every name the TLD's answers carry ends in a suffix of the query name
//! (the origin, or the delegation the query falls under), or repeats a name
//! written earlier in the same answer. So a fragment is built once per zone
//! version with each pointer recorded as a [`Target`]; at query time the only
//! unknown is the length of the query name, and each pointer is one addition
//! (NSD's and Knot's "name compression by table lookup" is not needed).
//! Owns no zone data; does no allocation when assembling.

use crate::name::Name;
use std::sync::Arc;

/// Where a compression pointer points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The suffix of the query name that is `n` octets long in wire form
    /// (the origin, or the delegation name the query is at or below).
    QnameSuffix(u16),
    /// An offset from the start of the answer section (only fragments placed
    /// first in the answer body, or pointing into the one placed first).
    Body(u16),
}

const BODY_FLAG: u16 = 0x8000;

/// A run of resource records in wire form. The first `plain_len` octets
/// (`plain_rrs` records) are what a query without DO gets; the rest are its
/// DNSSEC records (RRSIGs), sent only with DO set.
///
/// One shared allocation, so writing a fragment costs one pointer: an
/// 8-octet header (plain length, plain records, records, patches; `u16`
/// each, native order), the patches (position, encoded target; `u16` each)
/// and the octets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Frag(Arc<[u8]>);

const HEAD: usize = 8;

impl Default for Frag {
    fn default() -> Frag {
        Frag(Arc::from(&[0u8; HEAD][..]))
    }
}

impl Frag {
    /// Where the fragment lies (for prefetching).
    #[inline]
    pub fn as_ptr(&self) -> *const u8 {
        self.0.as_ptr()
    }

    #[inline]
    fn field(&self, i: usize) -> u16 {
        u16::from_ne_bytes([self.0[2 * i], self.0[2 * i + 1]])
    }

    #[inline]
    fn bytes(&self) -> &[u8] {
        &self.0[HEAD + 4 * self.field(3) as usize..]
    }

    /// No records at all, with or without DNSSEC (an empty RRset, or an
    /// unsigned zone's DNSSEC part).
    pub fn is_empty(&self) -> bool {
        self.field(2) == 0
    }

    /// Records sent with or without DNSSEC.
    #[inline]
    pub fn rrs(&self, dnssec: bool) -> u16 {
        self.field(if dnssec { 2 } else { 1 })
    }

    /// Octets written with or without DNSSEC, before any pointer is closed.
    #[inline]
    pub fn len(&self, dnssec: bool) -> usize {
        if dnssec {
            self.bytes().len()
        } else {
            self.field(0) as usize
        }
    }

    /// Copy into `out` at `pos`, closing pointers. `qname_len` is the wire
    /// length of the question name, `body` the offset of the answer section.
    /// Returns the new position, or `None` if it does not fit before `limit`.
    #[inline]
    pub fn put(
        &self,
        out: &mut [u8],
        pos: usize,
        limit: usize,
        dnssec: bool,
        qname_len: usize,
        body: usize,
    ) -> Option<usize> {
        let n = self.len(dnssec);
        let end = pos + n;
        if end > limit || end > out.len() {
            return None;
        }
        let patches = self.field(3) as usize;
        out[pos..end].copy_from_slice(&self.0[HEAD + 4 * patches..HEAD + 4 * patches + n]);
        for p in self.0[HEAD..HEAD + 4 * patches].chunks_exact(4) {
            let at = u16::from_ne_bytes([p[0], p[1]]) as usize;
            let t = u16::from_ne_bytes([p[2], p[3]]);
            if at >= n {
                break;
            }
            let v = if t & BODY_FLAG != 0 {
                body + (t & !BODY_FLAG) as usize
            } else {
                12 + qname_len - t as usize
            };
            let p = 0xC000 | (v as u16 & 0x3FFF);
            out[pos + at..pos + at + 2].copy_from_slice(&p.to_be_bytes());
        }
        Some(end)
    }
}

/// Builds a [`Frag`].
pub struct FragBuilder {
    buf: Vec<u8>,
    patches: Vec<(u16, u16)>,
    /// Names whose wire form ends at a known target: (lower-case wire suffix, target).
    known: Vec<(Vec<u8>, Target)>,
    /// Offset of this fragment from the start of the answer body, if known
    /// (then names written here become targets for later names).
    base: Option<usize>,
    rrs: u16,
    plain: Option<(u16, u16)>,
}

impl FragBuilder {
    /// `suffixes`: query-name suffixes every query using this fragment has
    /// (e.g. the origin and the delegation). `base`: this fragment's offset in
    /// the answer body when fixed (first fragment), else `None`.
    pub fn new(suffixes: &[&Name], base: Option<usize>) -> FragBuilder {
        let known = suffixes
            .iter()
            .map(|n| (n.wire().to_vec(), Target::QnameSuffix(n.wire_len() as u16)))
            .collect();
        FragBuilder {
            buf: Vec::new(),
            patches: Vec::new(),
            known,
            base,
            rrs: 0,
            plain: None,
        }
    }

    /// Make names written by another fragment (placed first in the body)
    /// known here, e.g. NS targets for the glue that follows them.
    pub fn learn(&mut self, other: &FragBuilder) {
        for (n, t) in &other.known {
            if matches!(t, Target::Body(_)) {
                self.known.push((n.clone(), *t));
            }
        }
    }

    /// Write `name`, compressed against known suffixes. (Names that must
    /// not be compressed, such as an RRSIG's signer, RFC 3597 §4, are in
    /// RDATA written as it is.)
    pub fn name(&mut self, name: &Name) {
        let w = name.wire();
        let mut i = 0;
        let start = self.buf.len();
        let mut written = Vec::new();
        loop {
            let suffix = &w[i..];
            if suffix.len() == 1 {
                self.buf.push(0);
                break;
            }
            // Longest known suffix first: we walk from the left, so the first hit is longest.
            if let Some((_, t)) = self.known.iter().find(|(k, _)| k.as_slice() == suffix) {
                let enc = match *t {
                    Target::QnameSuffix(n) => n,
                    Target::Body(o) => o | BODY_FLAG,
                };
                self.patches.push((self.buf.len() as u16, enc));
                self.buf.extend_from_slice(&[0xC0, 0]);
                break;
            }
            written.push((suffix.to_vec(), self.buf.len() - start));
            let l = w[i] as usize;
            self.buf.extend_from_slice(&w[i..i + 1 + l]);
            i += 1 + l;
        }
        if let Some(base) = self.base {
            for (suffix, off) in written {
                let at = base + start + off;
                if at < 0x3FFF {
                    self.known.push((suffix, Target::Body(at as u16)));
                }
            }
        }
    }

    /// Write one record; RDATA from `rdata` (which may write names).
    pub fn rr(&mut self, owner: &Name, rtype: u16, ttl: u32, rdata: impl FnOnce(&mut FragBuilder)) {
        self.name(owner);
        self.buf.extend_from_slice(&rtype.to_be_bytes());
        self.buf.extend_from_slice(&1u16.to_be_bytes());
        self.buf.extend_from_slice(&ttl.to_be_bytes());
        let len_at = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        rdata(self);
        let rdlen = (self.buf.len() - len_at - 2) as u16;
        self.buf[len_at..len_at + 2].copy_from_slice(&rdlen.to_be_bytes());
        self.rrs += 1;
    }

    /// Append raw RDATA octets.
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// A record whose RDATA has no names to compress.
    pub fn rr_raw(&mut self, owner: &Name, rtype: u16, ttl: u32, rdata: &[u8]) {
        self.rr(owner, rtype, ttl, |b| b.bytes(rdata));
    }

    /// An RRSIG: the signer name inside must stay uncompressed.
    pub fn rrsig(&mut self, owner: &Name, ttl: u32, rdata: &[u8]) {
        self.rr_raw(owner, crate::rr::rtype::RRSIG, ttl, rdata);
    }

    /// Everything written so far is the plain part; what follows is DNSSEC.
    pub fn end_plain(&mut self) {
        self.plain = Some((self.buf.len() as u16, self.rrs));
    }

    /// The fragment: header, patches, octets. Without [`Self::end_plain`] every
    /// record is plain.
    pub fn finish(self) -> Frag {
        let (plain_len, plain_rrs) = self.plain.unwrap_or((self.buf.len() as u16, self.rrs));
        let mut v = Vec::with_capacity(HEAD + 4 * self.patches.len() + self.buf.len());
        for f in [plain_len, plain_rrs, self.rrs, self.patches.len() as u16] {
            v.extend_from_slice(&f.to_ne_bytes());
        }
        for (at, t) in &self.patches {
            v.extend_from_slice(&at.to_ne_bytes());
            v.extend_from_slice(&t.to_ne_bytes());
        }
        v.extend_from_slice(&self.buf);
        Frag(v.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rr::rtype;

    #[test]
    fn pointers_follow_the_query_name() {
        let origin = Name::parse("mobile.").unwrap();
        let d = Name::parse("example.mobile.").unwrap();
        let mut b = FragBuilder::new(&[&origin, &d], Some(0));
        let ns = Name::parse("ns1.example.mobile.").unwrap();
        b.rr(&d, rtype::NS, 60, |b| b.name(&ns));
        let f = b.finish();
        // Query "www.example.mobile": qname wire length 20, example.mobile. is 16.
        let mut out = [0u8; 100];
        let end = f.put(&mut out, 40, 100, false, 20, 40).unwrap();
        // Owner: pointer to 12 + 20 - 16 = 16.
        assert_eq!(&out[40..42], &[0xC0, 16]);
        // RDATA: "ns1" then the same pointer.
        assert_eq!(&out[52..58], &[3, b'n', b's', b'1', 0xC0, 16]);
        assert_eq!(end, 58);
    }
}
