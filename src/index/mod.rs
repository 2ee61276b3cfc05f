//! The served form of a zone version: everything `answer()` needs,
//! precomputed once per version.
//!
//! Built from a [`SignedZone`] when a version is published, then immutable.
//! A TLD answer is one of a handful of shapes (apex RRset, referral, DS,
//! NXDOMAIN, NODATA), and every part of those that does not depend on the
//! query name is a [`Frag`] here: per delegation its NS RRset, glue, and
//! DS with RRSIG (or the hash whose NSEC3 proves there is no DS); at the
//! apex each RRset with its RRSIGs and the negative-answer SOA; the NSEC3
//! chain in sorted buckets by hash prefix, so that an NXDOMAIN costs one
//! hash of the next-closer name and a search of a handful of records.

pub mod frag;

use crate::config::ServerConfig;
use crate::name::Name;
use crate::rr::rtype;
use crate::zone::{Nsec3, Nsec3Param, SignedZone};
use frag::{Frag, FragBuilder};
use std::hash::BuildHasher;
use std::sync::Arc;

/// Answer options taken from the server configuration.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// [`ServerConfig::edns_max_payload`]: the largest UDP response sent.
    pub edns_max_payload: u16,
    /// [`ServerConfig::nsid`] as octets, the NSID option's payload (RFC 5001).
    pub nsid: Option<Box<[u8]>>,
    /// [`ServerConfig::identity`] as octets, the answer to CHAOS TXT
    /// `id.server.`/`hostname.bind.`.
    pub identity: Option<Box<[u8]>>,
}

impl Options {
    /// The options of `[server]`.
    pub fn from_config(c: &ServerConfig) -> Options {
        Options {
            edns_max_payload: c.edns_max_payload,
            nsid: c.nsid.as_ref().map(|s| s.as_bytes().into()),
            identity: c.identity.as_ref().map(|s| s.as_bytes().into()),
        }
    }
}

/// How a referral shows, with DO set, whether the child is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// Unsigned zone: nothing to prove.
    Unsigned,
    /// Secure delegation: the DS RRset then its RRSIGs.
    Ds(Frag),
    /// No DS: the NSEC3 hash of the delegation. At query time the chain
    /// gives the record matching it (no DS bit), or under opt-out the one
    /// covering it (RFC 5155 §7.2.7). Kept as the hash, not as a record,
    /// because which record covers a name changes as the chain changes.
    Nsec3([u8; 20]),
}

/// Octets of a label kept inside a referral; longer ones (rare) are boxed.
const INLINE_LABEL: usize = 22;

/// A delegation's lower-case first label, the key of its referral: short
/// ones in place, so matching a query costs no pointer.
#[derive(Debug, Clone)]
pub enum Label {
    /// A label of up to 22 octets, in place.
    Inline {
        /// Octets of `octets` in use.
        len: u8,
        /// The label, zero-padded.
        octets: [u8; INLINE_LABEL],
    },
    /// A longer label, on the heap.
    Boxed(Box<[u8]>),
}

impl Label {
    fn new(l: &[u8]) -> Label {
        if l.len() <= INLINE_LABEL {
            let mut octets = [0; INLINE_LABEL];
            octets[..l.len()].copy_from_slice(l);
            Label::Inline {
                len: l.len() as u8,
                octets,
            }
        } else {
            Label::Boxed(l.into())
        }
    }

    /// The label's octets, lower-case.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Label::Inline { len, octets } => &octets[..*len as usize],
            Label::Boxed(b) => b,
        }
    }
}

/// Precomputed parts of the answers at one delegation.
#[derive(Debug, Clone)]
pub struct Referral {
    /// The delegation's first label: its key in [`Delegations`].
    pub label: Label,
    /// NS RRset, placed first in the authority section. Delegations whose
    /// answers are the same octets share one.
    pub ns: Frag,
    /// In-zone glue for the NS targets, additional section (shared too).
    pub glue: Frag,
    /// What goes after the NS RRset when DO is set: the DS or the proof of none.
    pub proof: Proof,
}

/// Precomputed apex answers.
#[derive(Debug, Clone, Default)]
pub struct Apex {
    /// The apex SOA, for an answer to a SOA query (TTL `[ttl] soa`).
    pub soa: Frag,
    /// SOA for negative answers: TTL = min(SOA TTL, MINIMUM) (RFC 2308 §3).
    pub neg_soa: Frag,
    /// The apex NS RRset (with its RRSIGs).
    pub ns: Frag,
    /// In-zone addresses of the apex name servers, for the additional section.
    pub ns_glue: Frag,
    /// The DNSKEY RRset with its RRSIGs; empty in an unsigned zone.
    pub dnskey: Frag,
    /// The NSEC3PARAM record with its RRSIG (RFC 5155 §4); empty in an
    /// unsigned zone.
    pub nsec3param: Frag,
    /// The CDS RRset with its RRSIGs (RFC 7344); empty when not published.
    pub cds: Frag,
    /// The CDNSKEY RRset with its RRSIGs; empty when not published.
    pub cdnskey: Frag,
}

/// One record of the NSEC3 chain: its owner hash and the model's record
/// (shared with the zone version, not copied: the query path writes it).
pub type Nsec3Entry = ([u8; 20], Nsec3);

/// The NSEC3 chain, as the query path reads it: sorted buckets by the
/// leading bits of the hash. SHA-1 output is uniform, so a bucket holds a
/// handful of records and a lookup touches two or three cache lines where
/// a binary search over a million hashes touches twenty; and a new version
/// copies only the buckets its changes fall in.
#[derive(Debug, Clone)]
pub struct Nsec3Index {
    /// Bucket of a hash: its first 8 octets shifted right by this.
    shift: u32,
    buckets: Vec<Arc<[Nsec3Entry]>>,
    len: usize,
    /// NSEC3 hash iterations of the chain (RFC 5155 §3.1.3).
    pub iterations: u16,
    /// NSEC3 salt of the chain (RFC 5155 §3.1.5).
    pub salt: Box<[u8]>,
    /// TTL of the NSEC3 records.
    pub ttl: u32,
    /// Wire length of the origin (owner names point at it).
    pub origin_len: u16,
    apex_hash: [u8; 20],
    wild_hash: [u8; 20],
    /// The NSEC3 matching the apex (closest encloser of every non-existent
    /// name in a TLD).
    pub apex: Nsec3Entry,
    /// The NSEC3 covering `*.<origin>` (RFC 5155 §7.2.2).
    pub wildcard_cover: Nsec3Entry,
}

/// Average records per bucket the index is built for; a version that
/// grows past [`BUCKET_MAX`] per bucket gets its buckets rebuilt.
const BUCKET_FILL: usize = 4;
const BUCKET_MAX: usize = 32;

impl Nsec3Index {
    fn new(
        chain: &crate::zone::Map<[u8; 20], Nsec3>,
        p: &Nsec3Param,
        origin: &Name,
        ttl: u32,
    ) -> Option<Nsec3Index> {
        if chain.is_empty() {
            return None;
        }
        let bits = (chain.len() / BUCKET_FILL)
            .max(1)
            .next_power_of_two()
            .trailing_zeros();
        let shift = 64 - bits;
        let mut buckets: Vec<Vec<Nsec3Entry>> = vec![Vec::new(); 1 << bits];
        for (h, n3) in chain.iter() {
            buckets[bucket_of(shift, h)].push((*h, n3.clone()));
        }
        let apex_hash = nsec3_hash_wire(origin.wire(), &p.salt, p.iterations);
        let wild = origin.prepend(b"*").expect("*.TLD is a valid name");
        let wild_hash = nsec3_hash_wire(wild.wire(), &p.salt, p.iterations);
        let any = chain.get_min().map(|(h, n)| (*h, n.clone()))?;
        let mut ix = Nsec3Index {
            shift,
            buckets: buckets.into_iter().map(Arc::from).collect(),
            len: chain.len(),
            iterations: p.iterations,
            salt: p.salt.clone().into_boxed_slice(),
            ttl,
            origin_len: origin.wire_len() as u16,
            apex_hash,
            wild_hash,
            apex: any.clone(),
            wildcard_cover: any,
        };
        ix.locate_fixed();
        Some(ix)
    }

    fn locate_fixed(&mut self) {
        self.apex = self.find(&self.apex_hash).0.clone();
        self.wildcard_cover = self.find(&self.wild_hash).0.clone();
    }

    /// Number of records in the chain.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the chain has no records.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bucket a hash falls in.
    #[inline]
    pub(crate) fn bucket_index(&self, h: &[u8; 20]) -> usize {
        bucket_of(self.shift, h)
    }

    /// Where the pointer to bucket `b` lies, and where its records lie (for
    /// prefetching).
    #[inline]
    pub(crate) fn bucket_slot(&self, b: usize) -> *const Arc<[Nsec3Entry]> {
        &self.buckets[b]
    }

    #[inline]
    pub(crate) fn bucket_data(&self, b: usize) -> *const Nsec3Entry {
        self.buckets[b].as_ptr()
    }

    /// The record whose owner hash equals `h` (`true`), or else the one
    /// that covers it (the last one before it, wrapping around).
    #[inline]
    pub fn find(&self, h: &[u8; 20]) -> (&Nsec3Entry, bool) {
        let mut b = bucket_of(self.shift, h);
        let bucket = &self.buckets[b];
        match bucket.binary_search_by(|e| e.0.cmp(h)) {
            Ok(i) => return (&bucket[i], true),
            Err(i) if i > 0 => return (&bucket[i - 1], false),
            Err(_) => {}
        }
        // The cover is in an earlier bucket, or wraps to the last record.
        loop {
            b = if b == 0 {
                self.buckets.len() - 1
            } else {
                b - 1
            };
            if let Some(e) = self.buckets[b].last() {
                return (e, false);
            }
        }
    }

    /// Apply the difference between two versions of the chain.
    fn apply(
        &mut self,
        old: &crate::zone::Map<[u8; 20], Nsec3>,
        new: &crate::zone::Map<[u8; 20], Nsec3>,
    ) {
        use imbl::ordmap::DiffItem;
        let mut by_bucket: std::collections::BTreeMap<usize, Vec<Change<'_>>> =
            std::collections::BTreeMap::new();
        for d in old.diff(new) {
            let (h, v) = match d {
                DiffItem::Add(h, v) => (h, Some(v)),
                DiffItem::Update { new: (h, v), .. } => (h, Some(v)),
                DiffItem::Remove(h, _) => (h, None),
            };
            by_bucket
                .entry(bucket_of(self.shift, h))
                .or_default()
                .push((h, v));
        }
        for (b, changes) in by_bucket {
            let mut v: Vec<Nsec3Entry> = self.buckets[b].to_vec();
            for (h, rec) in changes {
                match (v.binary_search_by(|e| e.0.cmp(h)), rec) {
                    (Ok(i), Some(r)) => v[i].1 = r.clone(),
                    (Ok(i), None) => {
                        v.remove(i);
                    }
                    (Err(i), Some(r)) => v.insert(i, (*h, r.clone())),
                    (Err(_), None) => {}
                }
            }
            self.buckets[b] = Arc::from(v);
        }
        self.len = new.len();
        self.locate_fixed();
    }
}

/// A change to one NSEC3 record: the new record, or `None` when removed.
type Change<'a> = (&'a [u8; 20], Option<&'a Nsec3>);

#[inline]
fn bucket_of(shift: u32, h: &[u8; 20]) -> usize {
    let p = u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
    p.checked_shr(shift).unwrap_or(0) as usize
}

/// A keyed hasher for the delegation map: query names come from anyone,
/// and registered names from registrants, so the hash is seeded per process.
pub type MapHasher = std::hash::RandomState;

pub(crate) type Shard = hashbrown::HashTable<Referral>;

/// The delegations by lower-case first label, in shards picked by the
/// label's hash, so a new version copies only the shards that changed.
#[derive(Debug, Clone)]
pub struct Delegations {
    hasher: MapHasher,
    shards: Vec<Arc<Shard>>,
    count: u64,
    len: usize,
}

/// Slots of a shard's table as built (a power of two, as the table has),
/// and the delegations per shard it is built for: about 72% full, below the
/// 7/8 at which a table grows, so that a shard grows only after many
/// additions. Few shards mean few shard headers, which stay in cache.
const SHARD_SLOTS: usize = 1024;
const SHARD_FILL: usize = SHARD_SLOTS * 72 / 100;

impl Delegations {
    fn with_capacity(n: usize) -> Delegations {
        let count = n.div_ceil(SHARD_FILL).max(1);
        Delegations {
            hasher: MapHasher::default(),
            shards: (0..count)
                .map(|_| Arc::new(Shard::with_capacity(SHARD_SLOTS * 7 / 8)))
                .collect(),
            count: count as u64,
            len: 0,
        }
    }

    #[inline]
    pub(crate) fn locate(&self, label: &[u8]) -> (u64, usize) {
        let h = self.hasher.hash_one(label);
        // The table takes its slot from the low bits and its tag from the
        // top seven; the shard takes bits 32-55, scaled to the shard count.
        (h, ((((h >> 32) & 0xFF_FFFF) * self.count) >> 24) as usize)
    }

    /// The referral at a lower-case delegation label, if there is one.
    #[inline]
    pub fn get(&self, label: &[u8]) -> Option<&Referral> {
        let (h, s) = self.locate(label);
        self.find(h, s, label)
    }

    /// [`Delegations::get`] with the label already located.
    #[inline]
    pub(crate) fn find(&self, hash: u64, shard: usize, label: &[u8]) -> Option<&Referral> {
        self.shards[shard].find(hash, |r| r.label.as_bytes() == label)
    }

    /// Where a shard's header lies (for prefetching).
    #[inline]
    pub(crate) fn shard_ptr(&self, shard: usize) -> *const Shard {
        Arc::as_ptr(&self.shards[shard])
    }

    fn insert(&mut self, r: Referral) {
        let (h, s) = self.locate(r.label.as_bytes());
        let hasher = &self.hasher;
        let shard = Arc::make_mut(&mut self.shards[s]);
        match shard.entry(
            h,
            |e| e.label.as_bytes() == r.label.as_bytes(),
            |e| hasher.hash_one(e.label.as_bytes()),
        ) {
            hashbrown::hash_table::Entry::Occupied(mut o) => *o.get_mut() = r,
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(r);
                self.len += 1;
            }
        }
    }

    fn remove(&mut self, label: &[u8]) {
        let (h, s) = self.locate(label);
        if self.shards[s]
            .find(h, |e| e.label.as_bytes() == label)
            .is_none()
        {
            return;
        }
        let shard = Arc::make_mut(&mut self.shards[s]);
        if let Ok(o) = shard.find_entry(h, |e| e.label.as_bytes() == label) {
            o.remove();
            self.len -= 1;
        }
    }

    /// Number of delegations.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no delegations.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Everything the query path reads for one zone version.
#[derive(Debug, Clone)]
pub struct Index {
    /// Lower-cased wire form of the origin.
    pub origin: Name,
    /// The version's SOA serial.
    pub serial: u32,
    /// The delegations, by first label.
    pub delegations: Delegations,
    /// The apex answers.
    pub apex: Apex,
    /// The NSEC3 chain; `None` when the version is unsigned.
    pub nsec3: Option<Nsec3Index>,
    /// Answer options from `[server]`.
    pub opts: Options,
}

/// The NSEC3 hash (RFC 5155 §5), shared with the signer: one implementation.
pub use tldns_base::nsec3::nsec3_hash_wire;

/// Identical fragments built once and shared (many delegations use the
/// same name servers, so their NS and glue octets are the same).
#[derive(Default)]
struct Interner(std::collections::HashSet<Frag>);

impl Interner {
    fn get(&mut self, f: Frag) -> Frag {
        if let Some(a) = self.0.get(&f) {
            return a.clone();
        }
        self.0.insert(f.clone());
        f
    }
}

impl Index {
    /// Precompute the answers of `sz`.
    pub fn build(sz: &SignedZone, opts: Options) -> Index {
        let z = &sz.zone;
        let nsec3 = sz
            .dnssec
            .as_ref()
            .and_then(|s| Nsec3Index::new(&s.nsec3, &s.nsec3param, &z.origin, z.ttl.nsec3));
        let mut delegations = Delegations::with_capacity(z.content.delegations.len());
        let mut interner = Interner::default();
        for (name, d) in z.content.delegations.iter() {
            delegations.insert(referral(sz, &nsec3, name, d, &mut interner));
        }
        Index {
            origin: z.origin.clone(),
            serial: z.soa.serial,
            delegations,
            apex: apex(sz),
            nsec3,
            opts,
        }
    }

    /// The index of `new`, made from this one (the index of `old`) by
    /// redoing only what differs: the referrals of delegations that
    /// changed, whose DS signatures changed, or that are named in
    /// `touched` (e.g. users of a glue host that changed), the NSEC3
    /// buckets the chain's changes fall in, and the apex. Falls back to
    /// [`Index::build`] when the versions are not related that way.
    pub fn update(&self, old: &SignedZone, new: &SignedZone, touched: &[Name]) -> Index {
        let (oz, nz) = (&old.zone, &new.zone);
        if oz.origin != nz.origin || self.serial != oz.soa.serial {
            return Index::build(new, self.opts.clone());
        }
        let nsec3 = match (&self.nsec3, &old.dnssec, &new.dnssec) {
            (None, None, None) => None,
            (Some(ix), Some(os), Some(ns))
                if os.nsec3param == ns.nsec3param && ix.ttl == nz.ttl.nsec3 =>
            {
                let mut ix = ix.clone();
                ix.apply(&os.nsec3, &ns.nsec3);
                if ix.len == 0 || ix.len > BUCKET_MAX * ix.buckets.len() {
                    return Index::build(new, self.opts.clone());
                }
                Some(ix)
            }
            _ => return Index::build(new, self.opts.clone()),
        };
        if oz.ttl != nz.ttl {
            return Index::build(new, self.opts.clone());
        }
        let mut names: std::collections::BTreeSet<&Name> = touched.iter().collect();
        for d in oz.content.delegations.diff(&nz.content.delegations) {
            names.insert(diff_key(d));
        }
        if let (Some(os), Some(ns)) = (&old.dnssec, &new.dnssec) {
            for d in os.ds_sigs.diff(&ns.ds_sigs) {
                names.insert(diff_key(d));
            }
        }
        let mut delegations = self.delegations.clone();
        let mut interner = Interner::default();
        for name in names {
            match nz.content.delegations.get(name) {
                Some(d) => delegations.insert(referral(new, &nsec3, name, d, &mut interner)),
                None => delegations.remove(name.first_label().unwrap_or_default()),
            }
        }
        Index {
            origin: nz.origin.clone(),
            serial: nz.soa.serial,
            delegations,
            apex: apex(new),
            nsec3,
            opts: self.opts.clone(),
        }
    }

    /// The referral for a lower-case second-level label.
    #[inline]
    pub fn delegation(&self, label: &[u8]) -> Option<&Referral> {
        self.delegations.get(label)
    }

    /// Number of delegations served.
    pub fn len(&self) -> usize {
        self.delegations.len()
    }

    /// Whether the version has no delegations.
    pub fn is_empty(&self) -> bool {
        self.delegations.is_empty()
    }
}

fn diff_key<'a, K, V>(d: imbl::ordmap::DiffItem<'a, 'a, K, V>) -> &'a K {
    use imbl::ordmap::DiffItem;
    match d {
        DiffItem::Add(k, _) | DiffItem::Remove(k, _) => k,
        DiffItem::Update { new: (k, _), .. } => k,
    }
}

/// The precomputed apex answers of `sz`.
fn apex(sz: &SignedZone) -> Apex {
    let z = &sz.zone;
    let origin = &z.origin;
    let ttl = z.ttl;
    let sec = sz.dnssec.as_ref();
    let apex_sigs = |t: u16| -> &[Vec<u8>] {
        sec.and_then(|s| s.apex_sigs.get(&t))
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    };
    let soa_rdata = z.soa.to_rdata();
    let apex_frag = |t: u16, ttl: u32, rdatas: &[Vec<u8>], base: Option<usize>| {
        let mut b = FragBuilder::new(&[origin], base);
        for r in rdatas {
            b.rr_raw(origin, t, ttl, r);
        }
        b.end_plain();
        for s in apex_sigs(t) {
            b.rrsig(origin, ttl, s);
        }
        b.finish()
    };
    let soa_frag = |ttl: u32, base: Option<usize>| {
        let mut b = FragBuilder::new(&[origin], base);
        b.rr(origin, rtype::SOA, ttl, |b| {
            b.name(&z.soa.mname);
            b.name(&z.soa.rname);
            b.bytes(&soa_rdata[z.soa.mname.wire_len() + z.soa.rname.wire_len()..]);
        });
        b.end_plain();
        for s in apex_sigs(rtype::SOA) {
            b.rrsig(origin, ttl, s);
        }
        b.finish()
    };
    let (apex_ns, apex_glue) =
        ns_and_glue(origin, origin, &z.apex_ns, ttl.ns, apex_sigs(rtype::NS), sz);
    Apex {
        soa: soa_frag(ttl.soa, Some(0)),
        neg_soa: soa_frag(ttl.soa.min(z.soa.minimum), None),
        ns: apex_ns,
        ns_glue: apex_glue,
        dnskey: sec
            .map(|s| apex_frag(rtype::DNSKEY, ttl.dnskey, &s.dnskeys, Some(0)))
            .unwrap_or_default(),
        nsec3param: sec
            .map(|s| {
                apex_frag(
                    rtype::NSEC3PARAM,
                    ttl.nsec3,
                    &[s.nsec3param.to_rdata()],
                    Some(0),
                )
            })
            .unwrap_or_default(),
        cds: sec
            .filter(|s| !s.cds.is_empty())
            .map(|s| apex_frag(rtype::CDS, ttl.dnskey, &s.cds, Some(0)))
            .unwrap_or_default(),
        cdnskey: sec
            .filter(|s| !s.cdnskey.is_empty())
            .map(|s| apex_frag(rtype::CDNSKEY, ttl.dnskey, &s.cdnskey, Some(0)))
            .unwrap_or_default(),
    }
}

/// The precomputed referral of delegation `name`.
fn referral(
    sz: &SignedZone,
    nsec3: &Option<Nsec3Index>,
    name: &Name,
    d: &crate::zone::Delegation,
    interner: &mut Interner,
) -> Referral {
    let z = &sz.zone;
    let (origin, ttl) = (&z.origin, z.ttl);
    let (ns, glue) = ns_and_glue(origin, name, &d.ns, ttl.ns, &[], sz);
    let proof = if d.ds.is_empty() {
        match nsec3 {
            None => Proof::Unsigned,
            Some(ix) => Proof::Nsec3(nsec3_hash_wire(name.wire(), &ix.salt, ix.iterations)),
        }
    } else {
        let mut b = FragBuilder::new(&[origin, name], None);
        for ds in &d.ds {
            b.rr_raw(name, rtype::DS, ttl.ds, &ds.to_rdata());
        }
        b.end_plain();
        if let Some(sigs) = sz.dnssec.as_ref().and_then(|s| s.ds_sigs.get(name)) {
            for s in sigs {
                b.rrsig(name, ttl.ds, s);
            }
        }
        Proof::Ds(b.finish())
    };
    Referral {
        label: Label::new(name.first_label().unwrap_or_default()),
        ns: interner.get(ns),
        glue: interner.get(glue),
        proof,
    }
}

/// NS RRset at `owner` (placed first in its section) and the glue for its
/// in-zone targets, compressed against the NS RDATA.
fn ns_and_glue(
    origin: &Name,
    owner: &Name,
    targets: &[Name],
    ttl: u32,
    sigs: &[Vec<u8>],
    sz: &SignedZone,
) -> (Frag, Frag) {
    let mut nb = FragBuilder::new(&[origin, owner], Some(0));
    for t in targets {
        nb.rr(owner, rtype::NS, ttl, |b| b.name(t));
    }
    nb.end_plain();
    for s in sigs {
        nb.rrsig(owner, ttl, s);
    }
    let mut gb = FragBuilder::new(&[origin, owner], None);
    gb.learn(&nb);
    let gttl = sz.zone.ttl.glue;
    for t in targets {
        if let Some(g) = sz.zone.content.glue.get(t) {
            for a in &g.a {
                gb.rr_raw(t, rtype::A, gttl, &a.octets());
            }
            for a in &g.aaaa {
                gb.rr_raw(t, rtype::AAAA, gttl, &a.octets());
            }
        }
    }
    (nb.finish(), gb.finish())
}
