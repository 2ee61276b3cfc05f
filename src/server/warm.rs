//! Warming a UDP batch: before a batch of queries is answered, the cache
//! lines its answers will read are requested for all of them at once.
//!
//! A referral at a million delegations reads a handful of lines that are
//! almost never in cache (the table slot, the glue, the NSEC3 bucket and
//! record), each only once the one before it is known. Answered one query
//! after the other, those misses are paid in series; here the batch goes
//! through each step of that chain in turn, so the misses of up to
//! `mmsg::BATCH` queries overlap. Only a hint: the answers
//! are made by `answer()` as before, whatever this did.
#![allow(unsafe_code)]

use super::answer::delegation_key;
use crate::index::{Index, Proof, Referral};

/// Queries warmed at once (the receive batch).
pub const MAX: usize = super::mmsg::BATCH;

/// Ask for the cache line at `p` (no effect on what the program computes).
#[inline(always)]
fn prefetch<T: ?Sized>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it does not fault on any address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// `n` octets from `p` on.
#[inline(always)]
fn prefetch_span(p: *const u8, n: usize) {
    let mut o = 0;
    while o < n {
        prefetch(p.wrapping_add(o));
        o += 64;
    }
}

/// Where a query's referral lookup stands.
#[derive(Clone, Copy)]
struct Slot {
    hash: u64,
    shard: usize,
    label: [u8; 63],
    len: u8,
    dnssec: bool,
}

/// Warm what answering `queries` will read.
pub fn batch(ix: &Index, queries: &[&[u8]]) {
    let n = queries.len().min(MAX);
    let none = Slot {
        hash: 0,
        shard: usize::MAX,
        label: [0; 63],
        len: 0,
        dnssec: false,
    };
    let mut slots = [none; MAX];
    // 1. The label's hash and its shard's header.
    let mut lc = [0u8; 255];
    for (q, s) in queries[..n].iter().zip(slots.iter_mut()) {
        if let Some((label, dnssec)) = delegation_key(ix, q, &mut lc) {
            s.label[..label.len()].copy_from_slice(label);
            s.len = label.len() as u8;
            s.dnssec = dnssec;
            (s.hash, s.shard) = ix.delegations.locate(label);
            prefetch(ix.delegations.shard_ptr(s.shard));
        }
    }
    // 2. The referral: its fragments, and the NSEC3 bucket it will need.
    let mut found: [Option<&Referral>; MAX] = [None; MAX];
    let mut bucket = [usize::MAX; MAX];
    for i in 0..n {
        let s = &slots[i];
        if s.shard == usize::MAX {
            continue;
        }
        let Some(r) = ix
            .delegations
            .find(s.hash, s.shard, &s.label[..s.len as usize])
        else {
            continue;
        };
        found[i] = Some(r);
        prefetch(r.ns.as_ptr());
        prefetch(r.glue.as_ptr());
        if s.dnssec {
            match (&r.proof, &ix.nsec3) {
                (Proof::Ds(ds), _) => prefetch_span(ds.as_ptr(), 256),
                (Proof::Nsec3(h), Some(n3)) => {
                    let b = n3.bucket_index(h);
                    prefetch(n3.bucket_slot(b));
                    bucket[i] = b;
                }
                _ => {}
            }
        }
    }
    let Some(n3) = &ix.nsec3 else { return };
    // 3. The bucket's records.
    for &b in &bucket[..n] {
        if b != usize::MAX {
            prefetch(n3.bucket_data(b));
        }
    }
    // 4. The record that proves the delegation has no DS.
    for i in 0..n {
        if let (Some(r), true) = (found[i], bucket[i] != usize::MAX)
            && let Proof::Nsec3(h) = &r.proof
        {
            let rec = n3.find(h).0;
            prefetch_span(rec.1.as_ptr(), 192);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rr::rtype;
    use crate::server::answer::tests::{query, signed};

    /// The delegation key of a query to the test zone (origin `mobile.`).
    fn label_of(q: &[u8]) -> Option<(String, bool)> {
        let ix = crate::index::Index::build(
            &crate::server::answer::tests::test_zone(),
            Default::default(),
        );
        let mut lc = [0u8; 255];
        delegation_key(&ix, q, &mut lc).map(|(l, d)| (String::from_utf8_lossy(l).into(), d))
    }

    #[test]
    fn finds_the_second_level_label_and_the_do_bit() {
        let q = query("www.Example.mobile", rtype::A, Some((1232, true)));
        assert_eq!(label_of(&q), Some(("example".into(), true)));
        let q = query("example.mobile", rtype::DS, Some((1232, false)));
        assert_eq!(label_of(&q), Some(("example".into(), false)));
        let q = query("example.mobile", rtype::A, None);
        assert_eq!(label_of(&q), Some(("example".into(), false)));
        // The apex has no second-level label; nor has a name outside the
        // zone, or a response.
        assert_eq!(label_of(&query("mobile", rtype::SOA, None)), None);
        assert_eq!(label_of(&query("example.com", rtype::A, None)), None);
        let mut r = query("example.mobile", rtype::A, None);
        r[2] |= 0x80;
        assert_eq!(label_of(&r), None);
    }

    #[test]
    fn cut_or_malformed_queries_are_left_alone() {
        let q = query("a.b.example.mobile", rtype::A, Some((1232, true)));
        // Every prefix that cuts the name short has no name to read.
        let name_end = 12 + "a.b.example.mobile".len() + 2;
        for cut in 0..name_end {
            assert_eq!(label_of(&q[..cut]), None, "cut at {cut}");
        }
        assert!(label_of(&q).is_some());
        let mut bad = q.clone();
        bad[12] = 64; // not a label length
        assert_eq!(label_of(&bad), None);
    }

    #[test]
    fn warming_any_batch_is_harmless() {
        let ix = signed(false);
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut batch: Vec<Vec<u8>> = Vec::new();
        for name in [
            "example.mobile",
            "OTHER.mobile",
            "nic.mobile",
            "nx.mobile",
            "mobile",
            "a.b",
        ] {
            for edns in [None, Some((1232, false)), Some((1232, true))] {
                batch.push(query(name, rtype::A, edns));
            }
        }
        for _ in 0..200 {
            let mut q = batch[next() as usize % batch.len()].clone();
            let flips = if q.is_empty() { 0 } else { next() % 4 };
            for _ in 0..flips {
                let i = next() as usize % q.len();
                q[i] = next() as u8;
            }
            q.truncate(next() as usize % (q.len() + 1));
            batch.push(q);
        }
        for chunk in batch.chunks(MAX) {
            let qs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
            batch_warm(&ix, &qs);
        }
        // More than a batch at once: the rest is ignored.
        let qs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        batch_warm(&ix, &qs);
    }

    fn batch_warm(ix: &Index, qs: &[&[u8]]) {
        super::batch(ix, qs)
    }
}
