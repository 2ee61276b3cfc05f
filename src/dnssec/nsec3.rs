//! Which names the NSEC3 chain holds (RFC 5155 §7.1), and `tldns
//! nsec3-hash`'s output.
//!
//! Owns the rule "which owner names get an NSEC3 RR, with which types". The
//! signer builds and edits the chain from these; the verifier must not use
//! them (it re-derives the chain itself). The hash (RFC 5155 §5) is
//! `tldns_base::nsec3`'s, re-exported here.

use crate::name::Name;
use crate::rr::{base32hex_lower, bitmap_from_types, rtype};
use crate::zone::Zone;
use std::ops::Bound;

// The hash itself is the base layer's (one copy for the signer, the query
// path, the verifier and the probe); re-exported for existing callers.
pub use tldns_base::nsec3::nsec3_hash;

/// Why `tldns nsec3-hash` could not hash.
#[derive(Debug, thiserror::Error)]
pub enum Nsec3HashError {
    /// The salt given is neither hex nor `-` (no salt).
    #[error("salt {0:?} is not hex (use \"-\" or \"\" for none)")]
    Salt(String),
    /// The name given is not a domain name.
    #[error(transparent)]
    Name(#[from] crate::name::NameError),
}

/// What `ldns-nsec3-hash -s SALT -t ITERATIONS NAME` prints: the base32hex
/// hash as a one-label name, `0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.`.
pub fn nsec3_hash_text(
    name: &str,
    salt_hex: &str,
    iterations: u16,
) -> Result<String, Nsec3HashError> {
    let name = Name::parse(name)?;
    let salt = if salt_hex == "-" {
        Vec::new()
    } else {
        data_encoding::HEXLOWER_PERMISSIVE
            .decode(salt_hex.as_bytes())
            .map_err(|_| Nsec3HashError::Salt(salt_hex.to_string()))?
    };
    Ok(format!(
        "{}.",
        base32hex_lower(&nsec3_hash(&name, &salt, iterations))
    ))
}

/// Type bitmaps of the chain in a TLD zone (RFC 5155 §3.2.1: the types at
/// the original owner name; RRSIG only where something there is signed).
pub struct Bitmaps {
    /// NS SOA RRSIG DNSKEY NSEC3PARAM (and CDS CDNSKEY when published).
    pub apex: Vec<u8>,
    /// NS DS RRSIG: a secure delegation.
    pub secure: Vec<u8>,
    /// NS only: an insecure delegation has no RRSIG at its owner (RFC 4035 §2.2).
    pub insecure: Vec<u8>,
}

impl Bitmaps {
    /// The three bitmaps, encoded as RFC 4034 §4.1.2 windows.
    pub fn new() -> Bitmaps {
        Bitmaps::with_cds(false)
    }

    /// The bitmaps of a zone that publishes CDS and CDNSKEY at its apex
    /// (`cds`), or not.
    pub fn with_cds(cds: bool) -> Bitmaps {
        let mut apex = vec![
            rtype::NS,
            rtype::SOA,
            rtype::RRSIG,
            rtype::DNSKEY,
            rtype::NSEC3PARAM,
        ];
        if cds {
            apex.extend([rtype::CDS, rtype::CDNSKEY]);
        }
        Bitmaps {
            apex: bitmap_from_types(&apex),
            secure: bitmap_from_types(&[rtype::NS, rtype::DS, rtype::RRSIG]),
            insecure: bitmap_from_types(&[rtype::NS]),
        }
    }
}

impl Default for Bitmaps {
    fn default() -> Self {
        Bitmaps::new()
    }
}

/// The type bitmap of `name`'s NSEC3 RR, or `None` if the chain has no RR
/// for it (RFC 5155 §7.1): the apex; every delegation, except unsigned ones
/// under opt-out; every empty non-terminal with such a name below it.
/// Glue is occluded and gets none. Delegations are second-level in a TLD,
/// but deeper ones are handled: their ancestors become empty non-terminals.
pub fn chain_types(zone: &Zone, name: &Name, opt_out: bool, bm: &Bitmaps) -> Option<Vec<u8>> {
    if *name == zone.origin {
        return Some(bm.apex.clone());
    }
    if !name.is_subdomain_of(&zone.origin) {
        return None;
    }
    if let Some(d) = zone.content.delegations.get(name) {
        return match (d.ds.is_empty(), opt_out) {
            (false, _) => Some(bm.secure.clone()),
            (true, false) => Some(bm.insecure.clone()),
            (true, true) => None,
        };
    }
    // An empty non-terminal needs a chained name below it. In canonical
    // order a name's descendants directly follow it (RFC 4034 §6.1).
    let below = zone
        .content
        .delegations
        .range::<_, Name>((Bound::Excluded(name), Bound::Unbounded))
        .take_while(|(n, _)| n.is_subdomain_of(name))
        .any(|(_, d)| !opt_out || !d.ds.is_empty());
    if below && !occluded(zone, name) {
        Some(Vec::new())
    } else {
        None
    }
}

/// True if a delegation strictly above `name` cuts it off.
pub fn occluded(zone: &Zone, name: &Name) -> bool {
    let mut cur = name.parent();
    while let Some(p) = cur {
        if p.label_count() <= zone.origin.label_count() {
            return false;
        }
        if zone.content.delegations.contains_key(&p) {
            return true;
        }
        cur = p.parent();
    }
    false
}

/// Names strictly between `name` and `origin` (parents, nearest first).
pub fn ancestors_below(name: &Name, origin: &Name) -> Vec<Name> {
    let mut out = Vec::new();
    let mut cur = name.parent();
    while let Some(p) = cur {
        if p.label_count() <= origin.label_count() {
            break;
        }
        cur = p.parent();
        out.push(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The hashed owner names RFC 5155 Appendix A lists (salt aabbccdd, 12 iterations).
    const APPENDIX_A: &[(&str, &str)] = &[
        ("example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"),
        ("a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl"),
        ("ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi"),
        ("ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr"),
        ("ns2.example.", "q04jkcevqvmu85r014c7dkba38o0ji5r"),
        ("w.example.", "k8udemvp1j2f7eg6jebps17vp3n8i58h"),
        ("*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en"),
        ("x.w.example.", "b4um86eghhds6nea196smvmlo4ors995"),
        ("y.w.example.", "ji6neoaepv8b5o6k4ev33abha8ht9fgc"),
        ("x.y.w.example.", "2vptu5timamqttgl4luu9kg21e0aor3s"),
        ("xx.example.", "t644ebqk9bibcna874givr6joj62mlhv"),
        (
            "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.",
            "kohar7mbb8dc2ce8a9qvl8hon4k53uhi",
        ),
    ];

    /// Owner names of the zone file, in order: enough of RFC 1035 §5.1
    /// for this file ($ORIGIN, relative owners, blank owner, parentheses).
    fn owners(text: &str) -> Vec<(Name, String)> {
        let mut origin = Name::root();
        let mut last: Option<Name> = None;
        let mut out = Vec::new();
        let mut in_parens = false;
        for line in text.lines() {
            let body = line.split(';').next().unwrap_or("");
            let was_in_parens = in_parens;
            in_parens ^= body.matches('(').count() != body.matches(')').count();
            if was_in_parens || body.trim().is_empty() {
                continue;
            }
            let mut tok = body.split_whitespace();
            if let Some(o) = body.strip_prefix("$ORIGIN") {
                origin = Name::parse(o.trim()).unwrap();
                continue;
            }
            let owner = if body.starts_with(char::is_whitespace) {
                last.clone().unwrap()
            } else {
                let t = tok.next().unwrap();
                if t == "@" {
                    origin.clone()
                } else if t.ends_with('.') {
                    Name::parse(t).unwrap()
                } else {
                    Name::parse(&format!("{t}.{origin}")).unwrap()
                }
            };
            let ty = tok
                .find(|t| crate::rr::type_from_str(t).is_some() && !t.eq_ignore_ascii_case("IN"))
                .unwrap()
                .to_ascii_uppercase();
            last = Some(owner.clone());
            out.push((owner, ty));
        }
        out
    }

    /// RFC 5155 Appendix A: every hashed owner name the RFC lists, and the
    /// zone file's NSEC3 owners are exactly the hashes of its other names
    /// minus the opt-out delegation c.example and the occluded glue.
    #[test]
    fn rfc5155_appendix_a() {
        let salt = [0xaa, 0xbb, 0xcc, 0xdd];
        for (name, want) in APPENDIX_A {
            let h = nsec3_hash(&Name::parse(name).unwrap(), &salt, 12);
            assert_eq!(base32hex_lower(&h), *want, "H({name})");
            assert_eq!(
                nsec3_hash_text(name, "AABBCCDD", 12).unwrap(),
                format!("{want}.")
            );
        }
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/zones/rfc5155-appendix-a.zone");
        let text = std::fs::read_to_string(path).unwrap();
        let recs = owners(&text);
        let origin = Name::parse("example.").unwrap();
        let nsec3_owners: BTreeSet<String> = recs
            .iter()
            .filter(|(_, t)| t == "NSEC3")
            .map(|(n, _)| n.to_string().trim_end_matches(".example.").to_string())
            .collect();
        let cuts: Vec<Name> = recs
            .iter()
            .filter(|(n, t)| t == "NS" && *n != origin)
            .map(|(n, _)| n.clone())
            .collect();
        let mut names: BTreeSet<Name> = BTreeSet::new();
        for (n, t) in &recs {
            if t == "NSEC3" || t == "RRSIG" {
                continue;
            }
            if cuts.iter().any(|c| n != c && n.is_subdomain_of(c)) {
                continue; // glue
            }
            if n.to_string() == "c.example." {
                continue; // insecure delegation covered by opt-out
            }
            for a in ancestors_below(n, &origin) {
                names.insert(a); // empty non-terminals
            }
            names.insert(n.clone());
        }
        let hashed: BTreeSet<String> = names
            .iter()
            .map(|n| base32hex_lower(&nsec3_hash(n, &salt, 12)))
            .collect();
        assert_eq!(hashed, nsec3_owners);
        assert_eq!(nsec3_owners.len(), APPENDIX_A.len());
    }

    #[test]
    fn empty_salt_zero_iterations() {
        // RFC 9276 parameters; checked against ldns-nsec3-hash -t 0 mobile.
        assert_eq!(
            nsec3_hash_text("mobile.", "-", 0).unwrap(),
            nsec3_hash_text("MOBILE", "", 0).unwrap()
        );
        assert!(nsec3_hash_text("mobile.", "zz", 0).is_err());
    }

    #[test]
    fn matches_ldns_nsec3_hash() {
        if !crate::dnssec::tool_available("ldns-nsec3-hash") {
            return;
        }
        for (name, salt, it) in [
            ("mobile.", "-", 0u16),
            ("nic.mobile.", "01ff", 3),
            ("Xn--Bcher-Kva.mobile.", "", 0),
        ] {
            let mut cmd = std::process::Command::new("ldns-nsec3-hash");
            if !salt.is_empty() && salt != "-" {
                cmd.args(["-s", salt]);
            }
            let out = cmd.args(["-t", &it.to_string(), name]).output().unwrap();
            let theirs = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert_eq!(nsec3_hash_text(name, salt, it).unwrap(), theirs);
        }
    }
}
