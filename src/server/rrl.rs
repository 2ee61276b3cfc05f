//! Response rate limiting on the UDP path, with the semantics of the "DNS
//! Response Rate Limiting" design (Vixie and Schryver) that NSD, Knot and
//! BIND follow: responses are counted per source prefix (`/24` for IPv4,
//! `/56` for IPv6) and per kind of response:
//!
//! - positive answers and NODATA, for one name and type;
//! - referrals, for one delegation;
//! - NXDOMAINs, all names together (a reflection attack asks for random
//!   names);
//! - errors, all together.
//!
//! Each account holds up to `rrl-responses-per-second` credits and gets that
//! many back every second. A response is sent while the account has credit.
//! Past that it is dropped, and the account's debt grows to at most
//! `rrl-window` seconds' worth, so a flood stays limited until it has
//! stopped for that long. Every `rrl-slip`th limited response goes out
//! instead as an empty answer with TC set, so a real resolver behind a
//! spoofed prefix retries over TCP, which is never limited.
//!
//! The table is fixed-size: one `AtomicU64` per account (the second last
//! seen and the balance), found by hashing the account's key, with no
//! allocation and no lock per query. Two accounts that hash to one slot
//! share it, as in Knot's table; the table is sized so that this is rare.

use crate::config::ServerConfig;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

/// The kind of response an account counts (the metrics' `class`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A positive answer or NODATA.
    Answer,
    /// A referral to a delegation.
    Referral,
    /// NXDOMAIN.
    NxDomain,
    /// FORMERR, NOTIMP, REFUSED and other errors.
    Error,
}

impl Class {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Class::Answer => "answer",
            Class::Referral => "referral",
            Class::NxDomain => "nxdomain",
            Class::Error => "error",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What to do with one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Send it.
    Send,
    /// Drop it.
    Drop,
    /// Send an empty answer with TC set instead.
    Slip,
}

/// The limiter: its settings and the accounts.
pub struct Rrl {
    rate: i64,
    floor: i64,
    slip: u32,
    v4_mask: u32,
    v6_mask: u128,
    exempt: Vec<(IpAddr, u8)>,
    log_only: bool,
    slots: Box<[AtomicU64]>,
    mask: usize,
    /// Responses dropped and slipped, by [`Class`].
    pub dropped: [AtomicU64; 4],
    /// See `dropped`.
    pub slipped: [AtomicU64; 4],
}

pub use crate::config::parse_prefix;

fn v4_mask(bits: u8) -> u32 {
    if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits.min(32))
    }
}

fn v6_mask(bits: u8) -> u128 {
    if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits.min(128))
    }
}

fn in_prefix(ip: IpAddr, (net, bits): (IpAddr, u8)) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            u32::from(a) & v4_mask(bits) == u32::from(n) & v4_mask(bits)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            u128::from(a) & v6_mask(bits) == u128::from(n) & v6_mask(bits)
        }
        _ => false,
    }
}

impl std::fmt::Debug for Rrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rrl")
            .field("rate", &self.rate)
            .field("slip", &self.slip)
            .field("accounts", &self.slots.len())
            .finish()
    }
}

impl Rrl {
    /// From `[server]`'s `rrl-*` keys; `None` when off
    /// (`rrl-responses-per-second = 0`).
    pub fn from_config(cfg: &ServerConfig) -> Option<Rrl> {
        if cfg.rrl_responses_per_second == 0 {
            return None;
        }
        let size = cfg.rrl_table_size.max(1024).next_power_of_two();
        let rate = i64::from(cfg.rrl_responses_per_second);
        Some(Rrl {
            rate,
            floor: -rate * i64::from(cfg.rrl_window.max(1) - 1),
            slip: cfg.rrl_slip,
            v4_mask: v4_mask(cfg.rrl_ipv4_prefix_length),
            v6_mask: v6_mask(cfg.rrl_ipv6_prefix_length),
            exempt: cfg
                .rrl_exempt
                .iter()
                .filter_map(|p| parse_prefix(p))
                .collect(),
            log_only: cfg.rrl_log_only,
            slots: (0..size).map(|_| AtomicU64::new(0)).collect(),
            mask: size - 1,
            dropped: Default::default(),
            slipped: Default::default(),
        })
    }

    /// The verdict on one response of `class` to `peer` at second `now`
    /// (any clock in whole seconds); `name` is the account's name key (0
    /// for NXDOMAIN and errors, see [`name_key`]). `slips`: the caller's
    /// count of limited responses, for `rrl-slip`.
    #[inline]
    pub fn check(
        &self,
        peer: IpAddr,
        class: Class,
        name: u64,
        now: u32,
        slips: &mut u32,
    ) -> Verdict {
        let prefix: u128 = match peer {
            IpAddr::V4(a) => u128::from(u32::from(a) & self.v4_mask),
            IpAddr::V6(a) => u128::from(a) & self.v6_mask | (1 << 127),
        };
        let mut h = (prefix as u64) ^ ((prefix >> 64) as u64).rotate_left(17);
        h = (h ^ class as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h = (h ^ name).wrapping_mul(0xff51_afd7_ed55_8ccd);
        let slot = &self.slots[(h >> 20) as usize & self.mask];
        let mut old = slot.load(Ordering::Relaxed);
        let limited = loop {
            let (seen, bal) = ((old >> 32) as u32, old as u32 as i32 as i64);
            let mut b = if old == 0 {
                self.rate
            } else {
                let elapsed = i64::from(now.wrapping_sub(seen) as i32).max(0);
                (bal + elapsed * self.rate).min(self.rate)
            };
            let limited = b <= 0;
            b = (b - 1).max(self.floor);
            let new = (u64::from(now) << 32) | u64::from(b as i32 as u32);
            match slot.compare_exchange_weak(old, new, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break limited,
                Err(x) => old = x,
            }
        };
        if !limited || self.exempt.iter().any(|p| in_prefix(peer, *p)) {
            return Verdict::Send;
        }
        *slips = slips.wrapping_add(1);
        let slip = self.slip != 0 && slips.is_multiple_of(self.slip);
        let counter = if slip { &self.slipped } else { &self.dropped };
        counter[class.index()].fetch_add(1, Ordering::Relaxed);
        if self.log_only {
            Verdict::Send
        } else if slip {
            Verdict::Slip
        } else {
            Verdict::Drop
        }
    }
}

/// The account name key of a response: for answers the query name (any
/// case) and type; for referrals the delegation, the name's label just
/// above the origin (whose wire form is `origin_len` octets) and the
/// origin; 0 for the rest. `qname` is in wire form.
#[inline]
pub fn name_key(class: Class, qname: &[u8], qtype: u16, origin_len: usize) -> u64 {
    let hash = |bytes: &[u8], seed: u64| {
        let mut h = seed ^ 0xcbf2_9ce4_8422_2325;
        for &b in bytes {
            h ^= u64::from(b.to_ascii_lowercase());
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h
    };
    match class {
        Class::Answer => hash(qname, u64::from(qtype)),
        Class::Referral => {
            // The last label to start before the origin's suffix does.
            let origin_at = qname.len().saturating_sub(origin_len);
            let (mut i, mut from) = (0, 0);
            while i < origin_at && qname[i] != 0 {
                from = i;
                i += 1 + qname[i] as usize;
            }
            hash(&qname[from.min(qname.len())..], 1)
        }
        Class::NxDomain | Class::Error => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rrl(rate: u32, slip: u32, window: u32, exempt: &[&str]) -> Rrl {
        let cfg = ServerConfig {
            rrl_responses_per_second: rate,
            rrl_slip: slip,
            rrl_window: window,
            rrl_exempt: exempt.iter().map(|s| s.to_string()).collect(),
            ..ServerConfig::default()
        };
        Rrl::from_config(&cfg).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_flood_gets_the_rate_then_the_window_keeps_it_limited() {
        let r = rrl(10, 0, 3, &[]);
        let mut slips = 0;
        let sent = |r: &Rrl, now, n, slips: &mut u32| {
            (0..n)
                .filter(|_| {
                    r.check(ip("192.0.2.7"), Class::NxDomain, 0, now, slips) == Verdict::Send
                })
                .count()
        };
        assert_eq!(
            sent(&r, 100, 1000, &mut slips),
            10,
            "the first second: the rate"
        );
        // Under a continuing flood the debt (window - 1 seconds' worth)
        // is never worked off: nothing more is sent.
        assert_eq!(sent(&r, 101, 1000, &mut slips), 0);
        assert_eq!(sent(&r, 102, 1000, &mut slips), 0);
        assert_eq!(
            r.dropped[Class::NxDomain.index()].load(Ordering::Relaxed),
            2990
        );
        // Quiet for the window: the full rate again.
        assert_eq!(sent(&r, 105, 50, &mut slips), 10);
    }

    #[test]
    fn prefixes_classes_names_and_exemptions_are_counted_apart() {
        let r = rrl(5, 0, 1, &["198.51.100.0/24"]);
        let count = |peer: &str, class, name| {
            let mut s2 = 0;
            (0..100)
                .filter(|_| r.check(ip(peer), class, name, 7, &mut s2) == Verdict::Send)
                .count()
        };
        assert_eq!(count("192.0.2.1", Class::NxDomain, 0), 5);
        // The same /24: the same account.
        assert_eq!(count("192.0.2.200", Class::NxDomain, 0), 0);
        // Another /24, another class, another name: accounts of their own.
        assert_eq!(count("192.0.3.1", Class::NxDomain, 0), 5);
        assert_eq!(count("192.0.2.1", Class::Referral, 1), 5);
        assert_eq!(count("192.0.2.1", Class::Referral, 2), 5);
        assert_eq!(count("192.0.2.1", Class::Answer, 1), 5);
        // IPv6 by /56.
        assert_eq!(count("2001:db8:0:1::1", Class::NxDomain, 0), 5);
        assert_eq!(count("2001:db8:0:ff:1::2", Class::NxDomain, 0), 0);
        assert_eq!(count("2001:db8:0:100::1", Class::NxDomain, 0), 5);
        // Exempt.
        assert_eq!(count("198.51.100.9", Class::NxDomain, 0), 100);
    }

    #[test]
    fn every_slip_th_limited_response_is_truncated() {
        let r = rrl(1, 2, 1, &[]);
        let mut slips = 0;
        let v: Vec<Verdict> = (0..7)
            .map(|_| r.check(ip("192.0.2.1"), Class::Answer, 9, 1, &mut slips))
            .collect();
        use Verdict::*;
        assert_eq!(v, vec![Send, Drop, Slip, Drop, Slip, Drop, Slip]);
        assert_eq!(r.slipped[0].load(Ordering::Relaxed), 3);
    }

    #[test]
    fn referral_accounts_are_per_delegation_and_case_blind() {
        let w = |s: &str| {
            let mut v = Vec::new();
            for l in s.split('.').filter(|l| !l.is_empty()) {
                v.push(l.len() as u8);
                v.extend_from_slice(l.as_bytes());
            }
            v.push(0);
            v
        };
        // The origin `mobile.` is 8 octets in wire form.
        let k = |s: &str| name_key(Class::Referral, &w(s), 1, 8);
        assert_eq!(k("www.example.mobile"), k("EXAMPLE.mobile"));
        assert_eq!(k("a.b.example.mobile"), k("example.MOBILE"));
        assert_ne!(k("example.mobile"), k("other.mobile"));
        let a = |s: &str, t| name_key(Class::Answer, &w(s), t, 8);
        assert_eq!(a("Mobile", 6), a("mobile", 6));
        assert_ne!(a("mobile", 6), a("mobile", 48));
        assert_eq!(parse_prefix("10.0.0.0/8"), Some((ip("10.0.0.0"), 8)));
        assert_eq!(parse_prefix("10.0.0.1"), Some((ip("10.0.0.1"), 32)));
        assert_eq!(parse_prefix("10.0.0.0/33"), None);
    }
}
