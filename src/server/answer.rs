//! `answer()`: one query in, one response out, as a pure function.
//!
//! No sockets, no allocation, no locks, no logging: the UDP workers, the TCP
//! server and the tests all call it the same way. Malformed input becomes
//! FORMERR or a drop, never a panic (a property test feeds it random bytes).
//!
//! Shapes of answer, for a TLD where every name below the apex is a
//! second-level delegation or lies below one:
//! - apex: the RRset with AA (RFC 1034 §4.3.2), NODATA with the SOA and the
//!   apex NSEC3 (RFC 5155 §7.2.3) for types the apex does not have;
//! - at or below a delegation: a referral, AA clear, NS in authority, glue
//!   in additional, and with DO the DS RRset and its RRSIG or the NSEC3 proof
//!   that there is no DS (RFC 4035 §3.1.4, RFC 5155 §7.2.7); a DS query at
//!   the delegation is answered from this side of the cut (RFC 4035 §3.1.4.1);
//! - anything else below the apex: NXDOMAIN with the SOA (RFC 2308) and with
//!   DO the closest-encloser proof (RFC 5155 §7.2.2);
//! - outside the zone: REFUSED.

use crate::index::{Index, Nsec3Entry, Nsec3Index, Proof, nsec3_hash_wire};
use crate::rr::{class, rtype};

/// Transport the query came on; it sets the size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP: the response fits the client's EDNS payload size (512 without
    /// EDNS, RFC 1035 §4.2.1) and the configured maximum, or is truncated.
    Udp,
    /// TCP: up to 65535 octets (RFC 1035 §4.2.2).
    Tcp,
}

/// RCODEs (RFC 1035 §4.1.1, RFC 6891 §9) in the widths the hot path
/// writes them, from the one table in [`tldns_base::iana::Rcode`]. The
/// header ones fit the header's four bits, so `as u8` keeps them whole.
pub mod rcode {
    use tldns_base::iana::Rcode;
    /// No error.
    pub const NOERROR: u8 = Rcode::NOERROR.to_int() as u8;
    /// Format error: the query could not be read.
    pub const FORMERR: u8 = Rcode::FORMERR.to_int() as u8;
    /// Server failure.
    pub const SERVFAIL: u8 = Rcode::SERVFAIL.to_int() as u8;
    /// The name does not exist (RFC 8020: nor anything below it).
    pub const NXDOMAIN: u8 = Rcode::NXDOMAIN.to_int() as u8;
    /// Not implemented: an opcode we do not serve.
    pub const NOTIMP: u8 = Rcode::NOTIMP.to_int() as u8;
    /// Refused: outside the zone, or not served to this client.
    pub const REFUSED: u8 = Rcode::REFUSED.to_int() as u8;
    /// Not authorized: a TSIG that does not verify (RFC 8945 §5.2).
    pub const NOTAUTH: u8 = Rcode::NOTAUTH.to_int() as u8;
    /// Extended: needs OPT (upper bits 1, lower 0).
    pub const BADVERS: u16 = Rcode::BADVERS.to_int();
}

/// What was answered, for the caller's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Response length in `out`.
    pub len: usize,
    /// RCODE including extended bits.
    pub rcode: u16,
    /// QTYPE of the query (0 when the question could not be read).
    pub qtype: u16,
    /// What kind of answer it was.
    pub kind: Kind,
    /// Where the question section ends in `out` (12 when the response has
    /// none): the header and question alone are `out[..qend]`.
    pub qend: usize,
}

/// Answer shapes, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An RRset at the apex (SOA, NS, DNSKEY, NSEC3PARAM).
    Apex,
    /// A referral to a delegation (RFC 1034 §4.3.2).
    Referral,
    /// A delegation's DS RRset, answered by the parent (RFC 4035 §3.1.4.1).
    Ds,
    /// The name does not exist.
    NxDomain,
    /// The name exists, the type does not.
    NoData,
    /// REFUSED: outside the zone, a class other than IN and CH, a CHAOS
    /// query we do not answer, or AXFR/IXFR reaching the query path.
    Refused,
    /// FORMERR (an unreadable query, AXFR/IXFR over UDP), NOTIMP or
    /// BADVERS: the query itself was wrong.
    Error,
    /// A CHAOS identity query (`id.server.`, `hostname.bind.`).
    Chaos,
    /// Did not fit: sent with TC set (RFC 2181 §9).
    Truncated,
}

/// Parsed EDNS(0) OPT of the query (RFC 6891 §6.1).
#[derive(Debug, Clone, Copy, Default)]
struct Edns {
    present: bool,
    payload: u16,
    version: u8,
    dnssec_ok: bool,
    nsid: bool,
}

const HEADER: usize = 12;

#[inline]
fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

/// Parse an uncompressed question name at `pos`, lower-casing it into
/// `lc`. Returns its wire length. Compression in a question is refused: no
/// real client sends it (RFC 1035 §4.1.4 allows it, but only to earlier names).
#[inline]
fn parse_qname(q: &[u8], pos: usize, lc: &mut [u8; 255]) -> Option<usize> {
    let mut i = 0;
    loop {
        let len = *q.get(pos + i)? as usize;
        if len > 63 {
            return None;
        }
        if i + 1 + len > 255 {
            return None;
        }
        lc[i] = len as u8;
        if len == 0 {
            return Some(i + 1);
        }
        let src = q.get(pos + i + 1..pos + i + 1 + len)?;
        for (d, s) in lc[i + 1..i + 1 + len].iter_mut().zip(src) {
            *d = s.to_ascii_lowercase();
        }
        i += 1 + len;
    }
}

/// Skip a name (possibly compressed) in a message; returns the position after it.
fn skip_name(q: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *q.get(pos)? as usize;
        if len & 0xC0 == 0xC0 {
            q.get(pos + 1)?;
            return Some(pos + 2);
        }
        if len > 63 {
            return None;
        }
        pos += 1 + len;
        if len == 0 {
            return Some(pos);
        }
    }
}

/// Parse the additional section for OPT. `Err` means FORMERR.
fn parse_additional(q: &[u8], mut pos: usize, count: u16) -> Result<Edns, ()> {
    let mut e = Edns::default();
    for _ in 0..count {
        let name_start = pos;
        pos = skip_name(q, pos).ok_or(())?;
        let t = u16_at(q, pos).ok_or(())?;
        let cls = u16_at(q, pos + 2).ok_or(())?;
        let ttl = q.get(pos + 4..pos + 8).ok_or(())?;
        let rdlen = u16_at(q, pos + 8).ok_or(())? as usize;
        let rdata = q.get(pos + 10..pos + 10 + rdlen).ok_or(())?;
        if t == rtype::OPT {
            // RFC 6891 §6.1.1: one OPT, owner is the root.
            if e.present || pos != name_start + 1 || q[name_start] != 0 {
                return Err(());
            }
            e.present = true;
            e.payload = cls.max(512);
            e.version = ttl[1];
            e.dnssec_ok = ttl[2] & 0x80 != 0;
            let mut o = 0;
            while o + 4 <= rdata.len() {
                let code = u16::from_be_bytes([rdata[o], rdata[o + 1]]);
                let olen = u16::from_be_bytes([rdata[o + 2], rdata[o + 3]]) as usize;
                if o + 4 + olen > rdata.len() {
                    return Err(());
                }
                if code == 3 {
                    e.nsid = true;
                }
                o += 4 + olen;
            }
            if o != rdata.len() {
                return Err(());
            }
        }
        pos += 10 + rdlen;
    }
    Ok(e)
}

/// Response under construction.
struct Resp<'a> {
    out: &'a mut [u8],
    pos: usize,
    limit: usize,
    qlen: usize,
    body: usize,
    counts: [u16; 3],
    dnssec: bool,
}

impl Resp<'_> {
    #[inline]
    fn put(&mut self, f: &crate::index::frag::Frag, section: usize) -> bool {
        self.put_as(f, section, self.dnssec)
    }

    #[inline]
    fn put_as(&mut self, f: &crate::index::frag::Frag, section: usize, dnssec: bool) -> bool {
        match f.put(self.out, self.pos, self.limit, dnssec, self.qlen, self.body) {
            Some(end) => {
                self.pos = end;
                self.counts[section] += f.rrs(dnssec);
                true
            }
            None => false,
        }
    }

    /// Write an NSEC3 record and its RRSIGs (authority section), straight
    /// from the zone's record: the owner is the base32hex hash and a
    /// pointer to the origin at the end of the question name, and each
    /// RRSIG's owner a pointer to that.
    #[inline]
    fn put_nsec3(&mut self, ix: &Nsec3Index, (hash, n3): &Nsec3Entry) -> bool {
        let nsigs = n3.sig_count();
        let sigs = 10 * nsigs + n3.sig_wire_len();
        let rdlen = 5 + ix.salt.len() + 21 + n3.types().len();
        let end = self.pos + 35 + 10 + rdlen + sigs;
        if end > self.limit || end > self.out.len() {
            return false;
        }
        let owner = self.pos;
        let o = &mut self.out[owner..end];
        o[0] = 32;
        data_encoding::BASE32HEX_NOPAD.encode_mut(hash, &mut o[1..33]);
        o[1..33].make_ascii_lowercase();
        let origin = 0xC000 | ((12 + self.qlen - ix.origin_len as usize) as u16 & 0x3FFF);
        o[33..35].copy_from_slice(&origin.to_be_bytes());
        let mut i = 35;
        let mut put = |o: &mut [u8], b: &[u8]| {
            o[i..i + b.len()].copy_from_slice(b);
            i += b.len();
        };
        put(o, &rtype::NSEC3.to_be_bytes());
        put(o, &[0, 1]);
        put(o, &ix.ttl.to_be_bytes());
        put(o, &(rdlen as u16).to_be_bytes());
        put(o, &[1, n3.flags()]);
        put(o, &ix.iterations.to_be_bytes());
        put(o, &[ix.salt.len() as u8]);
        put(o, &ix.salt);
        put(o, &[20]);
        put(o, n3.next());
        put(o, n3.types());
        // Answers stay far below 16 KiB, where every offset can be a pointer.
        let ptr = (0xC000 | (owner as u16 & 0x3FFF)).to_be_bytes();
        for sig in n3.sigs() {
            put(o, &ptr);
            put(o, &rtype::RRSIG.to_be_bytes());
            put(o, &[0, 1]);
            put(o, &ix.ttl.to_be_bytes());
            put(o, &(sig.len() as u16).to_be_bytes());
            put(o, sig);
        }
        self.pos = end;
        self.counts[1] += 1 + nsigs as u16;
        true
    }

    /// The proof that a delegation has no DS: the NSEC3 matching it, or
    /// under opt-out the closest provable encloser (the apex) and the
    /// opt-out NSEC3 covering it (RFC 5155 §7.2.4, §7.2.7).
    #[inline]
    fn put_no_ds(&mut self, ix: &Nsec3Index, h: &[u8; 20]) -> bool {
        match ix.find(h) {
            (e, true) => self.put_nsec3(ix, e),
            (e, false) => {
                self.put_nsec3(ix, &ix.apex) && (e.0 == ix.apex.0 || self.put_nsec3(ix, e))
            }
        }
    }
}

/// Answer one DNS message. `out` should be at least 65535 octets for TCP
/// and at least the configured EDNS payload for UDP. `None`: drop it.
pub fn answer(ix: &Index, q: &[u8], transport: Transport, out: &mut [u8]) -> Option<Outcome> {
    if q.len() < HEADER || out.len() < 512 {
        return None;
    }
    // Never answer a response (RFC 1035 §4.1.1 QR).
    if q[2] & 0x80 != 0 {
        return None;
    }
    let opcode = (q[2] >> 3) & 0x0F;
    let qdcount = u16_at(q, 4)?;
    let ancount = u16_at(q, 6)?;
    let nscount = u16_at(q, 8)?;
    let arcount = u16_at(q, 10)?;

    let mut lc = [0u8; 255];
    let parsed = if qdcount == 1 {
        parse_qname(q, HEADER, &mut lc).and_then(|ql| {
            let qtype = u16_at(q, HEADER + ql)?;
            let qclass = u16_at(q, HEADER + ql + 2)?;
            Some((ql, qtype, qclass))
        })
    } else {
        None
    };

    // Header: ID, QR, opcode, RD and CD copied (RFC 1035 §4.1.1, RFC 4035 §3.2.2).
    out[0] = q[0];
    out[1] = q[1];
    out[2] = 0x80 | (opcode << 3) | (q[2] & 0x01);
    out[3] = q[3] & 0x10;
    out[4..12].fill(0);

    let Some((qlen, qtype, qclass)) = parsed else {
        // RFC 8906 §3.1.4: an opcode we do not implement is NOTIMP whatever
        // else is wrong with the message (a header alone, say).
        let rc = if opcode != 0 {
            rcode::NOTIMP
        } else {
            rcode::FORMERR
        };
        return Some(bare(out, rc, 0, Kind::Error));
    };
    let qend = HEADER + qlen + 4;
    out[HEADER..qend].copy_from_slice(&q[HEADER..qend]);
    out[5] = 1;

    if opcode != 0 {
        return Some(bare(out, rcode::NOTIMP, qend, Kind::Error).with_qtype(qtype));
    }
    if ancount != 0 || nscount != 0 {
        return Some(bare(out, rcode::FORMERR, qend, Kind::Error).with_qtype(qtype));
    }
    let Ok(edns) = parse_additional(q, qend, arcount) else {
        return Some(bare(out, rcode::FORMERR, qend, Kind::Error).with_qtype(qtype));
    };

    let max = match transport {
        Transport::Tcp => out.len().min(65535),
        Transport::Udp if edns.present => {
            (edns.payload.min(ix.opts.edns_max_payload.max(512)) as usize).min(out.len())
        }
        Transport::Udp => 512,
    };
    // Room for our OPT: 11 octets, plus NSID.
    let nsid = if edns.nsid {
        ix.opts.nsid.as_deref()
    } else {
        None
    };
    let opt_len = if edns.present {
        11 + nsid.map_or(0, |n| 4 + n.len())
    } else {
        0
    };

    let mut r = Resp {
        out,
        pos: qend,
        limit: max.saturating_sub(opt_len),
        qlen,
        body: qend,
        counts: [0; 3],
        dnssec: edns.present && edns.dnssec_ok,
    };

    let (rc, kind) = if edns.present && edns.version > 0 {
        // RFC 6891 §6.1.3: BADVERS, no answer.
        (rcode::BADVERS, Kind::Error)
    } else if qclass == class::IN {
        zone_answer(ix, &lc[..qlen], qtype, transport, &mut r)
    } else if qclass == class::CH {
        chaos(ix, &lc[..qlen], qtype, &mut r)
    } else {
        (rcode::REFUSED as u16, Kind::Refused)
    };

    let (rc, kind) = if kind == Kind::Truncated {
        // RFC 2181 §9: set TC and send what fits; we send no records.
        r.pos = qend;
        r.counts = [0; 3];
        r.out[2] |= 0x02;
        (rc, kind)
    } else {
        (rc, kind)
    };
    r.out[3] |= (rc & 0x0F) as u8;
    let mut pos = r.pos;
    let mut arcount = r.counts[2];
    if edns.present {
        // OPT (RFC 6891 §6.1.2): our payload size, extended RCODE, DO copied (RFC 3225 §3).
        let o = &mut r.out[pos..pos + opt_len];
        o[0] = 0;
        o[1..3].copy_from_slice(&rtype::OPT.to_be_bytes());
        o[3..5].copy_from_slice(&ix.opts.edns_max_payload.to_be_bytes());
        o[5] = (rc >> 4) as u8;
        o[6] = 0;
        o[7] = if edns.dnssec_ok { 0x80 } else { 0 };
        o[8] = 0;
        let rdlen = opt_len - 11;
        o[9..11].copy_from_slice(&(rdlen as u16).to_be_bytes());
        if let Some(n) = nsid {
            o[11..13].copy_from_slice(&3u16.to_be_bytes());
            o[13..15].copy_from_slice(&(n.len() as u16).to_be_bytes());
            o[15..15 + n.len()].copy_from_slice(n);
        }
        pos += opt_len;
        arcount += 1;
    }
    r.out[6..8].copy_from_slice(&r.counts[0].to_be_bytes());
    r.out[8..10].copy_from_slice(&r.counts[1].to_be_bytes());
    r.out[10..12].copy_from_slice(&arcount.to_be_bytes());
    Some(Outcome {
        len: pos,
        rcode: rc,
        qtype,
        kind,
        qend,
    })
}

trait WithQtype {
    fn with_qtype(self, t: u16) -> Self;
}
impl WithQtype for Outcome {
    fn with_qtype(mut self, t: u16) -> Self {
        self.qtype = t;
        self
    }
}

/// A response with no records: header (and question, if `len` > 12).
fn bare(out: &mut [u8], rc: u8, len: usize, kind: Kind) -> Outcome {
    if len <= HEADER {
        out[4..6].fill(0);
    }
    out[3] |= rc;
    Outcome {
        len: len.max(HEADER),
        rcode: rc as u16,
        qtype: 0,
        kind,
        qend: len.max(HEADER),
    }
}

/// Where the second-level label (the one just above the origin, which
/// decides everything) starts in a lower-case query name: `Ok(None)` at the
/// apex, `Err` when the name is not in the zone or the origin suffix does
/// not start on a label boundary.
#[inline]
fn second_level(qname: &[u8], origin: &[u8]) -> Result<Option<usize>, ()> {
    let olen = origin.len();
    if qname.len() < olen || &qname[qname.len() - olen..] != origin {
        return Err(());
    }
    let mut i = 0;
    let mut sl = None;
    while i < qname.len() - olen {
        sl = Some(i);
        i += 1 + qname[i] as usize;
    }
    if i != qname.len() - olen {
        return Err(());
    }
    Ok(sl)
}

/// The delegation a query will be answered from, read as [`answer`] reads
/// it: the lower-case second-level label (written into `lc`) and whether
/// DO is set. `None` for anything `answer` does not look a delegation up
/// for (not a plain IN query in the zone below the apex, or malformed).
pub(super) fn delegation_key<'a>(
    ix: &Index,
    q: &[u8],
    lc: &'a mut [u8; 255],
) -> Option<(&'a [u8], bool)> {
    if q.len() < HEADER || q[2] & 0xF8 != 0 || q[4..10] != [0, 1, 0, 0, 0, 0] {
        return None;
    }
    let qlen = parse_qname(q, HEADER, lc)?;
    if u16_at(q, HEADER + qlen + 2)? != class::IN {
        return None;
    }
    let edns = parse_additional(q, HEADER + qlen + 4, u16_at(q, 10)?).ok()?;
    let sl = second_level(&lc[..qlen], ix.origin.wire()).ok()??;
    let len = lc[sl] as usize;
    Some((&lc[sl + 1..sl + 1 + len], edns.present && edns.dnssec_ok))
}

/// IN-class answers.
#[inline]
fn zone_answer(
    ix: &Index,
    qname: &[u8],
    qtype: u16,
    transport: Transport,
    r: &mut Resp<'_>,
) -> (u16, Kind) {
    let Ok(sl) = second_level(qname, ix.origin.wire()) else {
        return (rcode::REFUSED as u16, Kind::Refused);
    };
    if matches!(qtype, rtype::AXFR | rtype::IXFR) {
        // Transfers are handled before answer() on TCP; over UDP they are an error.
        return match transport {
            Transport::Udp => (rcode::FORMERR as u16, Kind::Error),
            Transport::Tcp => (rcode::REFUSED as u16, Kind::Refused),
        };
    }
    let aa = |r: &mut Resp<'_>| r.out[2] |= 0x04;
    let Some(sl) = sl else {
        aa(r);
        return apex(ix, qtype, r);
    };
    let label = &qname[sl + 1..sl + 1 + qname[sl] as usize];
    let Some(d) = ix.delegation(label) else {
        aa(r);
        return nxdomain(ix, &qname[sl..], r);
    };
    if sl == 0 && qtype == rtype::DS {
        // RFC 4035 §3.1.4.1: the parent side answers DS.
        aa(r);
        if let Proof::Ds(ds) = &d.proof {
            return fit(r.put(ds, 0), rcode::NOERROR, Kind::Ds);
        }
        if !r.put(&ix.apex.neg_soa, 1) {
            return trunc();
        }
        if r.dnssec {
            let ok = match (&d.proof, &ix.nsec3) {
                (Proof::Nsec3(h), Some(n3)) => r.put_no_ds(n3, h),
                _ => true,
            };
            if !ok {
                return trunc();
            }
        }
        return (rcode::NOERROR as u16, Kind::NoData);
    }
    // Referral: AA clear (RFC 1034 §4.3.2 step 3b).
    if !r.put(&d.ns, 1) {
        return trunc();
    }
    if r.dnssec {
        let ok = match (&d.proof, &ix.nsec3) {
            (Proof::Ds(ds), Some(_)) => r.put(ds, 1),
            (Proof::Nsec3(h), Some(n3)) => r.put_no_ds(n3, h),
            _ => true,
        };
        if !ok {
            return trunc();
        }
    }
    // RFC 9471: glue for in-domain name servers must fit, or TC.
    fit(r.put(&d.glue, 2), rcode::NOERROR, Kind::Referral)
}

#[inline]
fn trunc() -> (u16, Kind) {
    (rcode::NOERROR as u16, Kind::Truncated)
}

#[inline]
fn fit(ok: bool, rc: u8, kind: Kind) -> (u16, Kind) {
    if ok { (rc as u16, kind) } else { trunc() }
}

fn apex(ix: &Index, qtype: u16, r: &mut Resp<'_>) -> (u16, Kind) {
    let a = &ix.apex;
    let f = match qtype {
        rtype::SOA | rtype::ANY => &a.soa,
        rtype::NS => {
            if !r.put(&a.ns, 0) {
                return trunc();
            }
            // Glue for our own servers: what fits (it is not required here).
            r.put_as(&a.ns_glue, 2, false);
            return (rcode::NOERROR as u16, Kind::Apex);
        }
        rtype::DNSKEY if !a.dnskey.is_empty() => &a.dnskey,
        rtype::NSEC3PARAM if !a.nsec3param.is_empty() => &a.nsec3param,
        rtype::CDS if !a.cds.is_empty() => &a.cds,
        rtype::CDNSKEY if !a.cdnskey.is_empty() => &a.cdnskey,
        _ => return nodata_apex(ix, r),
    };
    // RFC 8482 §4.2: ANY gets one RRset, the SOA.
    fit(r.put(f, 0), rcode::NOERROR, Kind::Apex)
}

/// NODATA at the apex: SOA, and the apex NSEC3 with DO (RFC 5155 §7.2.3).
fn nodata_apex(ix: &Index, r: &mut Resp<'_>) -> (u16, Kind) {
    if !r.put(&ix.apex.neg_soa, 1) {
        return trunc();
    }
    if r.dnssec
        && let Some(n3) = &ix.nsec3
        && !r.put_nsec3(n3, &n3.apex)
    {
        return trunc();
    }
    (rcode::NOERROR as u16, Kind::NoData)
}

/// NXDOMAIN: SOA, and with DO the closest encloser (the apex), the cover of
/// the next closer name and the cover of the wildcard (RFC 5155 §7.2.2).
/// `next_closer` is the lower-case wire name of the second-level name.
fn nxdomain(ix: &Index, next_closer: &[u8], r: &mut Resp<'_>) -> (u16, Kind) {
    if !r.put(&ix.apex.neg_soa, 1) {
        return nx_trunc();
    }
    if r.dnssec
        && let Some(n3) = &ix.nsec3
    {
        let h = nsec3_hash_wire(next_closer, &n3.salt, n3.iterations);
        let (nc, _) = n3.find(&h);
        let (apex, wc) = (&n3.apex, &n3.wildcard_cover);
        let mut ok = r.put_nsec3(n3, apex);
        if nc.0 != apex.0 {
            ok = ok && r.put_nsec3(n3, nc);
        }
        if wc.0 != apex.0 && wc.0 != nc.0 {
            ok = ok && r.put_nsec3(n3, wc);
        }
        if !ok {
            return nx_trunc();
        }
    }
    (rcode::NXDOMAIN as u16, Kind::NxDomain)
}

/// An NXDOMAIN that does not fit: TC set, and the RCODE stays NXDOMAIN
/// (as NSD and Knot answer; RFC 2181 §9 truncates, it does not change the
/// answer's meaning).
fn nx_trunc() -> (u16, Kind) {
    (rcode::NXDOMAIN as u16, Kind::Truncated)
}

/// CHAOS TXT `id.server.` and `hostname.bind.` when an identity is
/// configured (RFC 4892); anything else in CHAOS is refused.
fn chaos(ix: &Index, qname: &[u8], qtype: u16, r: &mut Resp<'_>) -> (u16, Kind) {
    const ID_SERVER: &[u8] = b"\x02id\x06server\x00";
    const HOSTNAME_BIND: &[u8] = b"\x08hostname\x04bind\x00";
    let Some(id) = ix.opts.identity.as_deref() else {
        return (rcode::REFUSED as u16, Kind::Refused);
    };
    if !(qname == ID_SERVER || qname == HOSTNAME_BIND)
        || !(qtype == rtype::TXT || qtype == rtype::ANY)
    {
        return (rcode::REFUSED as u16, Kind::Refused);
    }
    let id = &id[..id.len().min(255)];
    let need = 2 + 10 + 1 + id.len();
    if r.pos + need > r.limit {
        return trunc();
    }
    let o = &mut r.out[r.pos..r.pos + need];
    o[0..2].copy_from_slice(&[0xC0, 12]);
    o[2..4].copy_from_slice(&rtype::TXT.to_be_bytes());
    o[4..6].copy_from_slice(&class::CH.to_be_bytes());
    o[6..10].fill(0);
    o[10..12].copy_from_slice(&((1 + id.len()) as u16).to_be_bytes());
    o[12] = id.len() as u8;
    o[13..].copy_from_slice(id);
    r.pos += need;
    r.counts[0] += 1;
    r.out[2] |= 0x04;
    (rcode::NOERROR as u16, Kind::Chaos)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::index::{Index, Options};
    use crate::name::Name;
    use crate::rr::{Ds, Soa};
    use crate::zone::{Content, Delegation, Glue, SignedZone, Ttls, Zone};
    use std::sync::Arc;

    pub(crate) fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    /// A small unsigned TLD: nic (with the apex servers' glue), example
    /// (in-bailiwick NS with glue), other (out-of-zone NS, DS).
    pub(crate) fn test_zone() -> SignedZone {
        let mut c = Content::default();
        let nic_ns: Arc<[Name]> = vec![n("a.nic.mobile."), n("b.nic.mobile.")].into();
        c.delegations.insert(
            n("nic.mobile."),
            Delegation {
                ns: nic_ns,
                ds: vec![],
            },
        );
        c.delegations.insert(
            n("example.mobile."),
            Delegation {
                ns: vec![n("ns1.example.mobile."), n("ns2.example.mobile.")].into(),
                ds: vec![],
            },
        );
        c.delegations.insert(
            n("other.mobile."),
            Delegation {
                ns: vec![n("ns1.host.net."), n("ns2.host.net.")].into(),
                ds: vec![Ds {
                    key_tag: 1,
                    algorithm: 13,
                    digest_type: 2,
                    digest: vec![7; 32],
                }],
            },
        );
        for (h, ip) in [
            ("a.nic.mobile.", "192.0.2.1"),
            ("b.nic.mobile.", "2001:db8::2"),
            ("ns1.example.mobile.", "192.0.2.10"),
            ("ns1.example.mobile.", "2001:db8::10"),
            ("ns2.example.mobile.", "192.0.2.11"),
        ] {
            c.glue
                .entry(n(h))
                .or_insert_with(Glue::default)
                .push(ip.parse().unwrap());
        }
        SignedZone {
            zone: Zone {
                origin: n("mobile."),
                soa: Soa {
                    mname: n("a.nic.mobile."),
                    rname: n("hostmaster.nic.mobile."),
                    serial: 7,
                    refresh: 7200,
                    retry: 3600,
                    expire: 1209600,
                    minimum: 900,
                },
                apex_ns: vec![n("a.nic.mobile."), n("b.nic.mobile.")],
                ttl: Ttls {
                    soa: 3600,
                    ns: 172800,
                    ds: 86400,
                    glue: 172800,
                    dnskey: 3600,
                    nsec3: 900,
                },
                content: c,
            },
            dnssec: None,
        }
    }

    pub(crate) fn query(name: &str, qtype: u16, edns: Option<(u16, bool)>) -> Vec<u8> {
        let mut q = vec![
            0x12,
            0x34,
            0x01,
            0x00,
            0,
            1,
            0,
            0,
            0,
            0,
            0,
            edns.is_some() as u8,
        ];
        for l in name
            .trim_end_matches('.')
            .split('.')
            .filter(|l| !l.is_empty())
        {
            q.push(l.len() as u8);
            q.extend_from_slice(l.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&1u16.to_be_bytes());
        if let Some((size, d_o)) = edns {
            q.extend_from_slice(&[0, 0, 41]);
            q.extend_from_slice(&size.to_be_bytes());
            q.extend_from_slice(&[0, 0, if d_o { 0x80 } else { 0 }, 0, 0, 0]);
        }
        q
    }

    /// A response as the tests read it.
    pub(crate) struct Parsed {
        /// The header's flags word (QR, AA, TC, ..., RCODE).
        pub flags: u16,
        /// QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT.
        pub counts: [u16; 4],
        /// (section, owner, type, rdata text)
        pub rrs: Vec<(usize, String, u16, String)>,
    }

    /// A name as sent, case preserved, in presentation form.
    fn name_as_sent(m: &[u8], at: usize) -> String {
        let (wire, _) = tldns_base::message::read_name_wire(m, at).expect("name");
        let mut out = String::new();
        let mut i = 0;
        while wire[i] != 0 {
            let l = wire[i] as usize;
            out.push_str(&String::from_utf8_lossy(&wire[i + 1..i + 1 + l]));
            out.push('.');
            i += 1 + l;
        }
        if out.is_empty() {
            out.push('.');
        }
        out
    }

    /// Read a response with the base layer's reader (which refuses
    /// trailing octets and malformed records), then take owner names and
    /// the first name of NS and SOA RDATA as sent, to see the case the
    /// query was written in.
    pub(crate) fn parse(m: &[u8]) -> Parsed {
        let counts = [0, 1, 2, 3].map(|i| u16::from_be_bytes([m[4 + 2 * i], m[5 + 2 * i]]));
        let (msg, at) = tldns_base::message::parse_with_offsets(m).expect("well-formed response");
        let mut rrs = Vec::new();
        let sections = [
            (&msg.answers, &at.answers),
            (&msg.authority, &at.authority),
            (&msg.additional, &at.additional),
        ];
        for (sec, (records, offsets)) in sections.into_iter().enumerate() {
            for (r, o) in records.iter().zip(offsets) {
                let text = match r.rtype {
                    rtype::NS | rtype::SOA => name_as_sent(m, o.rdata),
                    t => crate::rr::rdata_to_text(t, &r.rdata),
                };
                rrs.push((sec, name_as_sent(m, o.owner), r.rtype, text));
            }
        }
        Parsed {
            flags: msg.flags,
            counts,
            rrs,
        }
    }

    fn ask(ix: &Index, q: &[u8]) -> (Outcome, Parsed) {
        let mut out = vec![0u8; 65535];
        let o = answer(ix, q, Transport::Udp, &mut out).expect("answered");
        let p = parse(&out[..o.len]);
        (o, p)
    }

    fn index() -> Index {
        Index::build(
            &test_zone(),
            Options {
                edns_max_payload: 1232,
                ..Default::default()
            },
        )
    }

    #[test]
    fn apex_soa_is_authoritative() {
        let (o, p) = ask(&index(), &query("MOBILE.", rtype::SOA, None));
        assert_eq!(o.rcode, 0);
        assert_ne!(p.flags & 0x0400, 0, "AA");
        assert_eq!(p.counts, [1, 1, 0, 0]);
        assert_eq!(p.rrs[0].1, "MOBILE.", "query-name case preserved");
        assert_eq!(p.rrs[0].3, "a.nic.MOBILE.");
    }

    #[test]
    fn referral_has_glue_and_no_aa() {
        let (o, p) = ask(&index(), &query("www.Example.mobile", rtype::A, None));
        assert_eq!(o.kind, Kind::Referral);
        assert_eq!(p.flags & 0x0400, 0, "AA clear on referrals");
        assert_eq!(p.counts, [1, 0, 2, 3]);
        let owners: Vec<_> = p.rrs.iter().map(|r| (r.0, r.1.as_str(), r.2)).collect();
        assert_eq!(
            owners,
            vec![
                (1, "Example.mobile.", rtype::NS),
                (1, "Example.mobile.", rtype::NS),
                (2, "ns1.Example.mobile.", rtype::A),
                (2, "ns1.Example.mobile.", rtype::AAAA),
                (2, "ns2.Example.mobile.", rtype::A),
            ]
        );
        assert_eq!(p.rrs[3].3, "2001:db8::10");
    }

    #[test]
    fn ds_only_with_do_in_referrals() {
        let ix = index();
        let (_, p) = ask(&ix, &query("other.mobile", rtype::A, Some((1232, false))));
        assert!(p.rrs.iter().all(|r| r.2 != rtype::DS));
        assert_eq!(p.rrs[0].3, "ns1.host.net.");
        let (_, p) = ask(&ix, &query("other.mobile", rtype::DS, None));
        assert_eq!(p.counts[1], 1, "DS query answered from the parent side");
        assert_ne!(p.flags & 0x0400, 0);
    }

    #[test]
    fn nxdomain_and_nodata() {
        let ix = index();
        let (o, p) = ask(&ix, &query("nothere.mobile", rtype::A, None));
        assert_eq!(o.rcode, 3);
        assert_eq!(p.counts, [1, 0, 1, 0]);
        assert_eq!(p.rrs[0].2, rtype::SOA);
        let (o, p) = ask(&ix, &query("mobile", rtype::A, None));
        assert_eq!((o.rcode, o.kind), (0, Kind::NoData));
        assert_eq!(p.counts, [1, 0, 1, 0]);
    }

    #[test]
    fn refused_outside_the_zone() {
        let ix = index();
        assert_eq!(ask(&ix, &query("example.com", rtype::A, None)).0.rcode, 5);
        assert_eq!(ask(&ix, &query("xmobile", rtype::A, None)).0.rcode, 5);
        assert_eq!(ask(&ix, &query(".", rtype::NS, None)).0.rcode, 5);
    }

    #[test]
    fn edns_badvers_and_payload() {
        let ix = index();
        let mut q = query("mobile", rtype::SOA, Some((4096, true)));
        let (o, p) = ask(&ix, &q);
        assert_eq!(o.rcode, 0);
        assert_eq!(p.counts[3], 1, "OPT echoed");
        let n = q.len();
        q[n - 5] = 1; // EDNS version 1
        let (o, p) = ask(&ix, &q);
        assert_eq!(o.rcode, rcode::BADVERS);
        assert_eq!(p.counts, [1, 0, 0, 1]);
    }

    #[test]
    fn formerr_and_notimp() {
        let ix = index();
        let mut q = query("mobile", rtype::SOA, None);
        q[2] |= 0x20; // opcode 4 (NOTIFY) — not for this path yet
        assert_eq!(ask(&ix, &q).0.rcode, rcode::NOTIMP as u16);
        let mut q = query("mobile", rtype::SOA, None);
        q[5] = 2; // two questions
        assert_eq!(ask(&ix, &q).0.rcode, rcode::FORMERR as u16);
        let mut out = vec![0u8; 512];
        assert!(answer(&ix, &[0u8; 5], Transport::Udp, &mut out).is_none());
    }

    /// RFC 8906 §3.1.4: a header alone (no question) with an opcode we do
    /// not implement gets NOTIMP, not FORMERR; with opcode QUERY it is a
    /// FORMERR. Either way the header only comes back, ID and RD copied.
    #[test]
    fn rfc8906_3_1_4_unknown_opcode_without_question_is_notimp() {
        let ix = index();
        let mut out = vec![0u8; 512];
        for opcode in [1u8, 2, 3, 5, 6, 15] {
            let mut q = [0u8; 12];
            q[0] = 0xab;
            q[1] = 0xcd;
            q[2] = (opcode << 3) | 0x01;
            let o = answer(&ix, &q, Transport::Udp, &mut out).unwrap();
            assert_eq!(o.rcode, rcode::NOTIMP as u16, "opcode {opcode}");
            assert_eq!(o.len, 12);
            assert_eq!(&out[..2], &[0xab, 0xcd]);
            assert_eq!(out[2], 0x80 | (opcode << 3) | 0x01);
            assert_eq!(&out[4..12], &[0; 8]);
        }
        let q = [0xab, 0xcd, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let o = answer(&ix, &q, Transport::Udp, &mut out).unwrap();
        assert_eq!(o.rcode, rcode::FORMERR as u16);
    }

    #[test]
    fn truncation_sets_tc() {
        // A referral with many name servers does not fit in 512 octets.
        let mut sz = test_zone();
        let ns: Vec<Name> = (0..30)
            .map(|i| n(&format!("ns{i}.a-very-long-hosting-provider-name.net.")))
            .collect();
        sz.zone.content.delegations.insert(
            n("big.mobile."),
            Delegation {
                ns: ns.into(),
                ds: vec![],
            },
        );
        let ix = Index::build(
            &sz,
            Options {
                edns_max_payload: 1232,
                ..Default::default()
            },
        );
        let (o, p) = ask(&ix, &query("big.mobile", rtype::A, None));
        assert_eq!(o.kind, Kind::Truncated);
        assert_ne!(p.flags & 0x0200, 0, "TC");
        let mut out = vec![0u8; 65535];
        let o = answer(
            &ix,
            &query("big.mobile", rtype::A, None),
            Transport::Tcp,
            &mut out,
        )
        .unwrap();
        assert_eq!(o.kind, Kind::Referral);
    }

    #[test]
    fn chaos_only_when_configured() {
        let mut q = query("id.server", rtype::TXT, None);
        let n = q.len();
        q[n - 1] = 3; // class CH
        assert_eq!(ask(&index(), &q).0.rcode, 5);
        let ix = Index::build(
            &test_zone(),
            Options {
                edns_max_payload: 1232,
                identity: Some(b"ns1".to_vec().into()),
                ..Default::default()
            },
        );
        let (o, p) = ask(&ix, &q);
        assert_eq!((o.rcode, p.counts[1]), (0, 1));
    }

    /// Malformed packets never panic (a property test over random bytes and
    /// random mutations of real queries).
    #[test]
    fn random_bytes_never_panic() {
        let ix = index();
        let mut out = vec![0u8; 65535];
        let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rnd = || {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let seeds = [
            query("www.example.mobile", rtype::A, Some((1232, true))),
            query("mobile", rtype::DNSKEY, Some((512, true))),
            query("x.y.z.nothere.mobile", rtype::AAAA, None),
        ];
        for i in 0..200_000 {
            let mut q = if i % 2 == 0 {
                let len = (rnd() % 300) as usize;
                (0..len).map(|_| rnd() as u8).collect::<Vec<u8>>()
            } else {
                seeds[i % 3].clone()
            };
            if !q.is_empty() {
                for _ in 0..(rnd() % 4) {
                    let at = (rnd() as usize) % q.len();
                    q[at] = rnd() as u8;
                }
            }
            if q.len() > 2 && rnd() % 2 == 0 {
                q[2] &= 0x7F; // mostly queries, so the deep paths run
            }
            for t in [Transport::Udp, Transport::Tcp] {
                if let Some(o) = answer(&ix, &q, t, &mut out) {
                    assert!(o.len >= 12 && o.len <= out.len());
                }
            }
        }
    }

    pub(crate) fn signed(opt_out: bool) -> Index {
        use crate::dnssec::keys::KeyDir;
        use crate::dnssec::signer::{SignParams, sign_zone};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("keys/test/ecdsa");
        let keys = KeyDir::load(&dir, &n("mobile.")).unwrap();
        let mut params = SignParams::from_config(&crate::config::DnssecConfig::default(), &[]);
        params.opt_out = opt_out;
        let z = sign_zone(&test_zone().zone, &keys, &params, 1_800_000_000).unwrap();
        Index::build(
            &z,
            Options {
                edns_max_payload: 1232,
                ..Default::default()
            },
        )
    }

    fn types(p: &Parsed, sec: usize) -> Vec<u16> {
        p.rrs.iter().filter(|r| r.0 == sec).map(|r| r.2).collect()
    }

    /// RFC 4035 §3.1.4: a signed delegation's referral carries DS and its RRSIG.
    #[test]
    fn rfc4035_section_3_1_4_secure_referral() {
        let ix = signed(false);
        let (o, p) = ask(
            &ix,
            &query("www.other.mobile", rtype::A, Some((1232, true))),
        );
        assert_eq!(o.kind, Kind::Referral);
        assert_eq!(
            types(&p, 1),
            vec![rtype::NS, rtype::NS, rtype::DS, rtype::RRSIG]
        );
        // Without DO: no DNSSEC records at all (RFC 4035 §3.2.1).
        let (_, p) = ask(
            &ix,
            &query("www.other.mobile", rtype::A, Some((1232, false))),
        );
        assert_eq!(types(&p, 1), vec![rtype::NS, rtype::NS]);
    }

    /// RFC 5155 §7.2.7: an unsigned delegation's referral proves there is no DS.
    #[test]
    fn rfc5155_section_7_2_7_insecure_referral() {
        let (_, p) = ask(
            &signed(false),
            &query("example.mobile", rtype::A, Some((1232, true))),
        );
        assert_eq!(
            types(&p, 1),
            vec![rtype::NS, rtype::NS, rtype::NSEC3, rtype::RRSIG]
        );
        assert!(
            p.rrs
                .iter()
                .any(|r| r.2 == rtype::NSEC3 && r.3.ends_with(" NS")),
            "no DS bit"
        );
        // Opt-out: closest provable encloser and an opt-out cover.
        let (_, p) = ask(
            &signed(true),
            &query("example.mobile", rtype::A, Some((1232, true))),
        );
        let n3: Vec<_> = p.rrs.iter().filter(|r| r.2 == rtype::NSEC3).collect();
        assert!(!n3.is_empty());
        assert!(
            n3.iter().all(|r| r.3.starts_with("1 1 ")),
            "opt-out flag: {n3:?}"
        );
    }

    /// RFC 5155 §7.2.2: NXDOMAIN proves the closest encloser, and covers the
    /// next closer name and the wildcard.
    #[test]
    fn rfc5155_section_7_2_2_name_error() {
        let ix = signed(false);
        let (o, p) = ask(
            &ix,
            &query("a.b.nothere.mobile", rtype::A, Some((1232, true))),
        );
        assert_eq!(o.rcode, 3);
        let t = types(&p, 1);
        assert_eq!(t[..2], [rtype::SOA, rtype::RRSIG]);
        let n3 = t.iter().filter(|&&x| x == rtype::NSEC3).count();
        assert!((2..=3).contains(&n3), "{t:?}");
        assert_eq!(t.iter().filter(|&&x| x == rtype::RRSIG).count(), n3 + 1);
        // Every NSEC3 owner appears once.
        let mut owners: Vec<_> = p
            .rrs
            .iter()
            .filter(|r| r.2 == rtype::NSEC3)
            .map(|r| r.1.clone())
            .collect();
        owners.dedup();
        assert_eq!(owners.len(), n3);
    }

    /// RFC 2181 §9: an NXDOMAIN that does not fit the UDP size is sent with
    /// TC and RCODE NXDOMAIN (not NOERROR), as NSD and Knot do.
    #[test]
    fn rfc2181_9_a_truncated_nxdomain_keeps_its_rcode() {
        // With DO, the NXDOMAIN proof (SOA and three NSEC3 RRs, each with
        // its RRSIG) does not fit an EDNS size of 512 octets.
        let ix = signed(false);
        let q = query("no-such-name-at-all.mobile", rtype::A, Some((512, true)));
        let (o, p) = ask(&ix, &q);
        assert_eq!(o.kind, Kind::Truncated, "{:?}", p.rrs);
        assert_eq!(o.rcode, rcode::NXDOMAIN as u16);
        assert_eq!(p.flags & 0x000f, rcode::NXDOMAIN as u16, "on the wire");
        assert_ne!(p.flags & 0x0200, 0, "TC set");
        // With room, the same question is an ordinary NXDOMAIN.
        let q = query("no-such-name-at-all.mobile", rtype::A, Some((4096, true)));
        let (o, p) = ask(&ix, &q);
        assert_eq!((o.rcode, o.kind), (rcode::NXDOMAIN as u16, Kind::NxDomain));
        assert_eq!(p.flags & 0x0200, 0);
    }

    /// RFC 5155 §7.2.3 and §7.2.4: NODATA at the apex and for DS at an
    /// unsigned delegation carry the matching NSEC3.
    #[test]
    fn rfc5155_section_7_2_3_and_7_2_4_no_data() {
        let ix = signed(false);
        let (o, p) = ask(&ix, &query("mobile", rtype::A, Some((1232, true))));
        assert_eq!((o.rcode, o.kind), (0, Kind::NoData));
        assert_eq!(
            types(&p, 1),
            vec![rtype::SOA, rtype::RRSIG, rtype::NSEC3, rtype::RRSIG]
        );
        let (o, p) = ask(&ix, &query("example.mobile", rtype::DS, Some((1232, true))));
        assert_eq!((o.rcode, o.kind), (0, Kind::NoData));
        assert_ne!(
            p.flags & 0x0400,
            0,
            "DS is answered authoritatively by the parent"
        );
        assert_eq!(
            types(&p, 1),
            vec![rtype::SOA, rtype::RRSIG, rtype::NSEC3, rtype::RRSIG]
        );
        let (o, p) = ask(&ix, &query("other.mobile", rtype::DS, Some((1232, true))));
        assert_eq!(o.kind, Kind::Ds);
        assert_eq!(types(&p, 0), vec![rtype::DS, rtype::RRSIG]);
    }

    /// Apex answers carry their RRSIGs; a DNSKEY set too large for the
    /// client's buffer gets TC (RFC 2181 §9).
    #[test]
    fn apex_with_signatures_and_truncated_dnskey() {
        let ix = signed(false);
        let (_, p) = ask(&ix, &query("mobile", rtype::DNSKEY, Some((1232, true))));
        assert_eq!(
            types(&p, 0),
            vec![rtype::DNSKEY, rtype::DNSKEY, rtype::RRSIG]
        );
        let (o, p) = ask(&ix, &query("mobile", rtype::DNSKEY, Some((512, true))));
        if o.kind == Kind::Truncated {
            assert_ne!(p.flags & 0x0200, 0);
        } else {
            assert!(o.len <= 512);
        }
        let (o, p) = ask(&ix, &query("mobile", rtype::NS, None));
        assert_eq!(o.kind, Kind::Apex);
        assert_eq!(types(&p, 0), vec![rtype::NS, rtype::NS]);
        assert!(types(&p, 2).contains(&rtype::A), "apex glue");
    }
}
