//! Key rollovers by policy, timed by RFC 7583 from the zone's TTLs and
//! the propagation delay. This is the ZSK pre-publication roll (RFC 6781
//! §4.1.1.1, RFC 7583 §3.2): the successor is published an interval
//! `Ipub` before the current key's lifetime ends, takes over the signing
//! at its end, and the old key stays in the DNSKEY RRset an interval
//! `Iret` longer, so a resolver always holds the key of every signature it
//! may have cached.
//!
//! - `Ipub = Dprp + TTLkey`: the new DNSKEY RRset must reach every
//!   secondary (the propagation delay, `propagation-delay`) and the old
//!   RRset must leave every cache (its TTL) before a signature by the new
//!   key is published.
//! - `Iret = Dsgn + Dprp + TTLsig`: after the switch the old key stays
//!   until no cache can hold a signature it made. `Dsgn` is 0 here: the
//!   build at the switch signs every RRset with the new key at once
//!   (a signature is due when its RRset's signers change), and `TTLsig` is
//!   the largest TTL of a signed RRset.
//!
//! The plan is a pure function of the keys and the time ([`plan_zsk`]);
//! the roll is carried out in the key store as BIND's timing metadata
//! (Publish/Activate on the successor, Inactive/Delete on the old key;
//! [`roll_zsk`]), which the signer follows: a key is in the DNSKEY RRset
//! from Publish to Delete and signs from Activate to Inactive. So the
//! state of a roll is in the K-files, survives restarts, and an operator
//! can read and change it with `dnssec-settime`.
//!
//! The KSK is rolled by double-DS with the parent observed (RFC 6781
//! §4.1.2, the way Knot's `submission` and BIND's `checkds` do it):
//!
//! 1. A successor KSK is published and signs the DNSKEY RRset beside the
//!    old one; the DS RRset the parent should now hold (old and new) is
//!    written to `<state-dir>/<zone>.ds` and given to the `ds-hook`.
//! 2. The roll waits until the new DS is seen at every parent server
//!    (`parent-servers`), or the operator says so (`tldns keys ds-seen`,
//!    for the root, after IANA's change). It waits for ever: if the parent
//!    never gets the new DS, the old KSK is never retired.
//! 3. The parent's DS TTL plus the propagation delay after that, the old
//!    KSK leaves the DNSKEY RRset (its Inactive and Delete); every cache
//!    then holds a DS RRset with the new key's DS.
//! 4. The DS RRset for the parent is written again without the old DS.
//!
//! Not here yet: CSK and algorithm rolls, an emergency roll to a
//! standby key, CDS/CDNSKEY.

use super::keys::{KSK, KeyError, KeyStore, KeyTiming, SigningKey, ZSK};
use crate::config::{Config, KeyScheme};
use std::path::Path;

/// The inputs of the ZSK roll's timing, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollPolicy {
    /// How long a ZSK signs; 0: never rolled.
    pub zsk_lifetime: u64,
    /// The algorithm new keys are made with (and whose ZSKs are rolled).
    pub algorithm: u8,
    /// TTL of the DNSKEY RRset.
    pub dnskey_ttl: u64,
    /// The largest TTL of a signed RRset (SOA, apex NS, DNSKEY, DS,
    /// NSEC3PARAM, NSEC3): how long a cached signature may live.
    pub sig_ttl: u64,
    /// `propagation-delay`.
    pub propagation: u64,
}

impl RollPolicy {
    /// From the zone's configuration; ZSK rolls only in the KSK + ZSK
    /// scheme (a CSK is rolled with the parent, not here).
    pub fn from_config(config: &Config) -> RollPolicy {
        let d = &config.zone.dnssec;
        let t = &config.zone.ttl;
        let nsec3 = d.nsec3_ttl.unwrap_or(t.soa.min(config.zone.soa.minimum));
        RollPolicy {
            zsk_lifetime: match d.scheme {
                KeyScheme::KskZsk => u64::from(d.zsk_lifetime_secs()),
                KeyScheme::Csk => 0,
            },
            algorithm: d.algorithm,
            dnskey_ttl: u64::from(t.dnskey),
            sig_ttl: u64::from(t.soa.max(t.ns).max(t.ds).max(t.dnskey).max(nsec3)),
            propagation: u64::from(d.propagation_secs()),
        }
    }

    /// RFC 7583 §3.2's publication interval for a ZSK.
    pub fn ipub(&self) -> u64 {
        self.propagation + self.dnskey_ttl
    }

    /// RFC 7583 §3.2's retire interval for a ZSK (`Dsgn` = 0, see the
    /// module's text).
    pub fn iret(&self) -> u64 {
        self.propagation + self.sig_ttl
    }
}

/// One step of a ZSK roll, as [`plan_zsk`] decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZskRoll {
    /// The key that is rolled (its tag).
    pub old: u16,
    /// Make a successor published at `.0` and active at `.1`; `None` when
    /// it exists already (a roll interrupted between its two writes).
    pub successor: Option<(u64, u64)>,
    /// The old key's Inactive (the successor's Activate) and Delete.
    pub inactive: u64,
    /// When the old key leaves the DNSKEY RRset.
    pub delete: u64,
}

fn is_zsk(k: &SigningKey, p: &RollPolicy) -> bool {
    !k.is_sep() && k.algorithm == p.algorithm
}

/// What the ZSK policy asks for at `now`, if anything: the active ZSK of
/// the policy's algorithm that has no Inactive time yet and whose
/// lifetime ends within `Ipub` gets a successor (published now, active at
/// the end of its lifetime or `Ipub` from now, whichever is later) and
/// its Inactive and Delete times. A key with no Activate, Publish or
/// Created time has no age and is never rolled (as the keys module says
/// of keys without timing).
pub fn plan_zsk(keys: &[SigningKey], p: &RollPolicy, now: u64) -> Option<ZskRoll> {
    plan(keys, p, now, false)
}

/// [`plan_zsk`], or with `now_please` a roll that starts now whatever the
/// current key's age (`tldns keys roll zsk`; still none while one runs).
fn plan(keys: &[SigningKey], p: &RollPolicy, now: u64, now_please: bool) -> Option<ZskRoll> {
    if p.zsk_lifetime == 0 && !now_please {
        return None;
    }
    let (start, cur) = current(keys, now, |k| is_zsk(k, p))?;
    let end = if now_please {
        now
    } else {
        start.saturating_add(p.zsk_lifetime)
    };
    // A successor made already: a ZSK that becomes active after this one.
    let successor = keys
        .iter()
        .filter(|k| is_zsk(k, p) && k.key_tag != cur.key_tag)
        .filter(|k| k.timing.delete.is_none_or(|d| d > now))
        .filter_map(|k| k.timing.activate.filter(|a| *a > start))
        .min();
    let activate = match successor {
        Some(a) => a,
        None if now.saturating_add(p.ipub()) >= end => end.max(now + p.ipub()),
        None => return None,
    };
    Some(ZskRoll {
        old: cur.key_tag,
        successor: successor.is_none().then_some((now, activate)),
        inactive: activate,
        delete: activate + p.iret(),
    })
}

/// The next time a key's state changes by its timing (Publish, Activate,
/// Inactive, Delete after `now`) or a ZSK roll is due to start, if any.
pub fn next_event(keys: &[SigningKey], p: &RollPolicy, now: u64) -> Option<u64> {
    let timed = keys
        .iter()
        .flat_map(|k| {
            let t = &k.timing;
            [t.publish, t.activate, t.inactive, t.delete]
        })
        .flatten()
        .filter(|t| *t > now);
    // When the plan would start the next ZSK roll.
    let roll = current(keys, now, |k| is_zsk(k, p))
        .filter(|_| p.zsk_lifetime > 0)
        .map(|(start, _)| (start + p.zsk_lifetime).saturating_sub(p.ipub()).max(now));
    timed.chain(roll).min()
}

/// Carry out [`plan_zsk`]'s step in the key directory `dir`: the
/// successor's files first (so a crash in between leaves a successor that
/// the next plan finds), then the old key's new Inactive and Delete.
/// Returns the step, or `None` when nothing was due.
pub fn roll_zsk(
    dir: &Path,
    config: &Config,
    keys: &[SigningKey],
    now: u64,
) -> Result<Option<ZskRoll>, KeyError> {
    carry_out(
        dir,
        config,
        keys,
        now,
        plan_zsk(keys, &RollPolicy::from_config(config), now),
    )
}

/// Start a ZSK roll now (`tldns keys roll zsk`), whatever the current
/// key's age: the successor is published now and signs after `Ipub`.
/// `None` when a roll is under way already (or there is no ZSK to roll).
pub fn roll_zsk_now(
    dir: &Path,
    config: &Config,
    keys: &[SigningKey],
    now: u64,
) -> Result<Option<ZskRoll>, KeyError> {
    let p = RollPolicy::from_config(config);
    carry_out(dir, config, keys, now, plan(keys, &p, now, true))
}

fn carry_out(
    dir: &Path,
    config: &Config,
    keys: &[SigningKey],
    now: u64,
    step: Option<ZskRoll>,
) -> Result<Option<ZskRoll>, KeyError> {
    let Some(step) = step else {
        return Ok(None);
    };
    if let Some((publish, activate)) = step.successor {
        let k = KeyStore::add(
            dir,
            &config.origin,
            ZSK,
            &config.zone.dnssec,
            now,
            Some(KeyTiming {
                publish: Some(publish),
                activate: Some(activate),
                ..KeyTiming::default()
            }),
        )?;
        tracing::info!(
            new = %k.base_name(),
            old = step.old,
            publish,
            activate,
            "ZSK roll: successor published (pre-publication, RFC 6781 §4.1.1.1)"
        );
    }
    let mut old = keys
        .iter()
        .find(|k| k.key_tag == step.old)
        .expect("the plan names one of the keys")
        .clone();
    old.timing.inactive = Some(step.inactive);
    old.timing.delete = Some(step.delete);
    old.write_timing()?;
    tracing::info!(
        key = %old.base_name(),
        inactive = step.inactive,
        delete = step.delete,
        "ZSK roll: old key scheduled to retire"
    );
    Ok(Some(step))
}

/// Where a KSK roll stands, read from the keys' timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KskPhase {
    /// Two active KSKs: the new one's DS is to be seen at the parent.
    AwaitingDs {
        /// The old KSK's tag.
        old: u16,
        /// The new KSK's tag.
        new: u16,
    },
    /// The new DS was seen; the old KSK leaves the DNSKEY RRset at `at`.
    Retiring {
        /// The old KSK's tag.
        old: u16,
        /// Its Delete time.
        at: u64,
    },
}

fn is_ksk(k: &SigningKey, p: &RollPolicy) -> bool {
    k.is_sep() && k.algorithm == p.algorithm
}

/// When a key's signing life began: Activate, else Publish, else Created;
/// `None` for a key without timing (it has no age).
fn start_of(k: &SigningKey) -> Option<u64> {
    let t = &k.timing;
    t.activate.or(t.publish).or(t.created)
}

/// The key of a role (`of`) that a roll would replace at `now`: active,
/// not yet scheduled to retire, the newest by [`start_of`]; with its start.
fn current(
    keys: &[SigningKey],
    now: u64,
    of: impl Fn(&SigningKey) -> bool,
) -> Option<(u64, &SigningKey)> {
    keys.iter()
        .filter(|k| of(k) && k.state(now).active && k.timing.inactive.is_none())
        .filter_map(|k| Some((start_of(k)?, k)))
        .max_by_key(|(start, k)| (*start, k.key_tag))
}

/// The KSK roll under way at `now`, if any (KSK + ZSK scheme).
pub fn ksk_phase(keys: &[SigningKey], p: &RollPolicy, now: u64) -> Option<KskPhase> {
    let live: Vec<&SigningKey> = keys
        .iter()
        .filter(|k| is_ksk(k, p) && k.state(now).active)
        .collect();
    if let Some(r) = live
        .iter()
        .find(|k| k.timing.inactive.is_some_and(|t| t > now))
    {
        return Some(KskPhase::Retiring {
            old: r.key_tag,
            at: r.timing.delete.or(r.timing.inactive).unwrap_or(now),
        });
    }
    let mut open: Vec<&&SigningKey> = live
        .iter()
        .filter(|k| k.timing.inactive.is_none())
        .collect();
    if open.len() < 2 {
        return None;
    }
    open.sort_by_key(|k| (start_of(k).unwrap_or(0), k.key_tag));
    Some(KskPhase::AwaitingDs {
        old: open[0].key_tag,
        new: open[open.len() - 1].key_tag,
    })
}

/// Start a KSK roll if the policy (`ksk-lifetime`) or the operator
/// (`now_please`) asks for one and none is under way: a successor KSK,
/// published and active now (it signs the DNSKEY RRset beside the old
/// one). Returns the new key.
pub fn start_ksk_roll(
    dir: &Path,
    config: &Config,
    keys: &[SigningKey],
    now: u64,
    now_please: bool,
) -> Result<Option<SigningKey>, KeyError> {
    let p = RollPolicy::from_config(config);
    if !matches!(config.zone.dnssec.scheme, KeyScheme::KskZsk) || ksk_phase(keys, &p, now).is_some()
    {
        return Ok(None);
    }
    let lifetime = u64::from(config.zone.dnssec.ksk_lifetime_secs());
    let Some(cur) = current(keys, now, |k| is_ksk(k, &p)) else {
        return Ok(None);
    };
    let due = lifetime > 0 && now >= cur.0.saturating_add(lifetime);
    if !(due || now_please) {
        return Ok(None);
    }
    let k = KeyStore::add(
        dir,
        &config.origin,
        KSK,
        &config.zone.dnssec,
        now,
        Some(KeyTiming {
            publish: Some(now),
            activate: Some(now),
            ..KeyTiming::default()
        }),
    )?;
    tracing::info!(
        new = %k.base_name(),
        old = cur.1.key_tag,
        "KSK roll: successor published; its DS is to be submitted to the parent (double-DS, RFC 6781 §4.1.2)"
    );
    Ok(Some(k))
}

/// The new KSK's DS is at the parent (seen there, or the operator says
/// so): the old KSK is scheduled to leave the DNSKEY RRset once every
/// cached copy of the parent's old DS RRset has expired (the parent's DS
/// TTL plus the propagation delay from now). Returns (old tag, time), or
/// `None` when no roll is waiting for `new`'s DS.
pub fn ds_seen(
    config: &Config,
    keys: &[SigningKey],
    new: u16,
    now: u64,
) -> Result<Option<(u16, u64)>, KeyError> {
    let p = RollPolicy::from_config(config);
    let Some(KskPhase::AwaitingDs { old, new: n }) = ksk_phase(keys, &p, now) else {
        return Ok(None);
    };
    if n != new {
        return Ok(None);
    }
    let at = now
        + u64::from(config.zone.dnssec.parent_ds_ttl_secs())
        + u64::from(config.zone.dnssec.propagation_secs());
    let mut k = keys
        .iter()
        .find(|k| k.key_tag == old)
        .expect("the phase names one of the keys")
        .clone();
    k.timing.inactive = Some(at);
    k.timing.delete = Some(at);
    k.write_timing()?;
    tracing::info!(
        old,
        new,
        retire_at = at,
        "KSK roll: the new DS is at the parent; the old KSK leaves after the parent's DS TTL"
    );
    Ok(Some((old, at)))
}

/// The KSKs whose DS the parent should hold at `now`: every KSK that is
/// published or will be, and is not deleted.
pub fn parent_should_hold(keys: &[SigningKey], now: u64) -> Vec<&SigningKey> {
    keys.iter()
        .filter(|k| k.is_sep() && k.timing.delete.is_none_or(|d| d > now))
        .collect()
}

/// One key as `tldns keys status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyStatus {
    /// BIND's base name, `K<zone>+<alg>+<tag>`.
    pub name: String,
    /// `ksk`, `zsk` or `csk`.
    pub role: &'static str,
    /// The key tag.
    pub tag: u16,
    /// The DNSSEC algorithm number.
    pub algorithm: u8,
    /// `published` (in the DNSKEY RRset, not signing yet), `active`
    /// (published and signing), `retired` (published, signing no more),
    /// `removed` (past Delete), or `future` (not published yet).
    pub state: &'static str,
    /// Created, Publish, Activate, Inactive, Delete (Unix seconds).
    pub timing: [Option<u64>; 5],
    /// The next of its timing events after now: (name, Unix seconds).
    pub next_event: Option<(&'static str, u64)>,
}

/// The keys and where the ZSK roll stands, as `tldns keys status` shows
/// them (and `--json` prints).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// Unix seconds the report is for.
    pub now: u64,
    /// Every key of the zone.
    pub keys: Vec<KeyStatus>,
    /// The roll's phase and what it waits for, in words.
    pub zsk_roll: String,
    /// The KSK roll's phase and what it waits for, in words.
    pub ksk_roll: String,
    /// When the next key event (a timing event, or a roll to start) is due.
    pub next_event: Option<u64>,
    /// RFC 7583's intervals for a ZSK roll (seconds).
    pub ipub: u64,
    /// See `ipub`.
    pub iret: u64,
}

/// What `keys` say at `now` under `config`'s policy.
pub fn status(config: &Config, keys: &[SigningKey], now: u64) -> Status {
    let p = RollPolicy::from_config(config);
    let csk = matches!(config.zone.dnssec.scheme, KeyScheme::Csk);
    let out: Vec<KeyStatus> = keys
        .iter()
        .map(|k| {
            let st = k.state(now);
            let t = &k.timing;
            let state = match (st.published, st.active, st.retired) {
                (_, _, _) if t.delete.is_some_and(|d| d <= now) => "removed",
                (true, true, _) => "active",
                (true, false, true) => "retired",
                (true, false, false) => "published",
                (false, _, _) => "future",
            };
            let events = [
                ("publish", t.publish),
                ("activate", t.activate),
                ("inactive", t.inactive),
                ("delete", t.delete),
            ];
            let next_event = events
                .iter()
                .filter_map(|(n, v)| v.filter(|v| *v > now).map(|v| (*n, v)))
                .min_by_key(|(_, v)| *v);
            KeyStatus {
                name: k.base_name(),
                role: match (k.is_sep(), csk) {
                    (false, _) => "zsk",
                    (true, true) => "csk",
                    (true, false) => "ksk",
                },
                tag: k.key_tag,
                algorithm: k.algorithm,
                state,
                timing: [t.created, t.publish, t.activate, t.inactive, t.delete],
                next_event,
            }
        })
        .collect();
    let zsk: Vec<&KeyStatus> = out.iter().filter(|k| k.role == "zsk").collect();
    let waiting = zsk.iter().find(|k| k.state == "published");
    let leaving = zsk.iter().find(|k| k.state == "retired");
    let next = next_event(keys, &p, now);
    let zsk_roll = if let Some(w) = waiting {
        format!(
            "successor {} published, waiting for the DNSKEY TTL and the propagation delay (Ipub {} s): it signs at {}",
            w.name,
            p.ipub(),
            w.timing[2].map_or("?".into(), |t| t.to_string())
        )
    } else if let Some(l) = leaving {
        format!(
            "{} no longer signs; it stays published until cached signatures expire (Iret {} s), until {}",
            l.name,
            p.iret(),
            l.timing[4].map_or("?".into(), |t| t.to_string())
        )
    } else if p.zsk_lifetime == 0 {
        "none: ZSKs are not rolled (zsk-lifetime 0, or the CSK scheme)".into()
    } else {
        format!(
            "none under way; the next starts at {}",
            next.map_or("?".into(), |t| t.to_string())
        )
    };
    let ksk_roll = match ksk_phase(keys, &p, now) {
        Some(KskPhase::AwaitingDs { old, new }) => format!(
            "waiting for the parent to serve the DS of KSK {new} (the DS file and ds-hook have it; `tldns keys ds-seen {new}` confirms by hand); KSK {old} stays until then"
        ),
        Some(KskPhase::Retiring { old, at }) => format!(
            "the new DS is at the parent; KSK {old} leaves the DNSKEY RRset at {at} (the parent's DS TTL plus the propagation delay)"
        ),
        None if config.zone.dnssec.ksk_lifetime_secs() == 0 => {
            "none: KSKs are rolled only when asked (`tldns keys roll ksk`; ksk-lifetime 0)".into()
        }
        None => "none under way".into(),
    };
    Status {
        now,
        keys: out,
        zsk_roll,
        ksk_roll,
        next_event: next,
        ipub: p.ipub(),
        iret: p.iret(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::Name;

    fn policy() -> RollPolicy {
        RollPolicy {
            zsk_lifetime: 1000,
            algorithm: 13,
            dnskey_ttl: 60,
            sig_ttl: 300,
            propagation: 10,
        }
    }

    fn key(flags: u16, timing: KeyTiming) -> SigningKey {
        let mut k =
            SigningKey::generate(&Name::parse("mobile.").unwrap(), flags, 13, 2048, 0).unwrap();
        k.timing = timing;
        k
    }

    fn active_at(t: u64) -> KeyTiming {
        KeyTiming {
            created: Some(t),
            publish: Some(t),
            activate: Some(t),
            ..KeyTiming::default()
        }
    }

    #[test]
    fn rfc7583_zsk_prepublication_times() {
        let p = policy();
        assert_eq!((p.ipub(), p.iret()), (70, 310));
        let keys = [key(257, active_at(0)), key(256, active_at(100))];
        // Lifetime ends at 1100; nothing before 1100 - Ipub.
        assert_eq!(plan_zsk(&keys, &p, 1029), None);
        let step = plan_zsk(&keys, &p, 1030).unwrap();
        assert_eq!(step.old, keys[1].key_tag);
        assert_eq!(step.successor, Some((1030, 1100)));
        assert_eq!((step.inactive, step.delete), (1100, 1410));
        // Late (the daemon was down): Ipub is still waited for.
        let late = plan_zsk(&keys, &p, 5000).unwrap();
        assert_eq!(late.successor, Some((5000, 5070)));
        // A KSK is never rolled here, nor is anything with lifetime 0.
        assert_eq!(plan_zsk(&keys[..1], &p, 5000), None);
        let none = RollPolicy {
            zsk_lifetime: 0,
            ..p
        };
        assert_eq!(plan_zsk(&keys, &none, 5000), None);
    }

    #[test]
    fn an_interrupted_roll_is_finished_not_started_again() {
        let p = policy();
        let succ = KeyTiming {
            publish: Some(1030),
            activate: Some(1100),
            ..KeyTiming::default()
        };
        let keys = [
            key(257, active_at(0)),
            key(256, active_at(100)),
            key(256, succ),
        ];
        let step = plan_zsk(&keys, &p, 1040).unwrap();
        assert_eq!(step.successor, None);
        assert_eq!((step.old, step.inactive), (keys[1].key_tag, 1100));
        // Once the old key has its Inactive time, the roll is planned.
        let mut done = keys.clone();
        done[1].timing.inactive = Some(1100);
        done[1].timing.delete = Some(1410);
        assert_eq!(plan_zsk(&done, &p, 1040), None);
        // After the switch the successor is the current key, rolled in turn.
        let next = plan_zsk(&done, &p, 2030).unwrap();
        assert_eq!(next.old, keys[2].key_tag);
        assert_eq!(next.successor, Some((2030, 2100)));
    }

    #[test]
    fn a_roll_asked_for_starts_now_but_not_twice() {
        let p = policy();
        let keys = [key(257, active_at(0)), key(256, active_at(100))];
        let step = plan(&keys, &p, 200, true).unwrap();
        assert_eq!(step.successor, Some((200, 270)));
        assert_eq!((step.inactive, step.delete), (270, 580));
        let mut under_way = keys.clone();
        under_way[1].timing.inactive = Some(270);
        assert_eq!(plan(&under_way, &p, 210, true), None);
        // Even with rolls off by policy (lifetime 0), the operator may roll.
        let off = RollPolicy {
            zsk_lifetime: 0,
            ..p
        };
        assert!(plan(&keys, &off, 200, true).is_some());
    }

    #[test]
    fn a_key_without_timing_is_never_rolled() {
        let keys = [key(257, active_at(0)), key(256, KeyTiming::default())];
        assert_eq!(plan_zsk(&keys, &policy(), 1_000_000), None);
    }
}
