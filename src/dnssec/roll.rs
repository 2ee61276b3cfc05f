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
//! A CSK (the `csk` scheme) is rolled the same way, by double signature
//! (RFC 7583 §3.3.2): the successor signs everything beside the old one
//! until the parent serves its DS and every cache has it.
//!
//! An algorithm roll (`tldns keys roll algorithm`, to the configured
//! algorithm) follows RFC 6781 §4.1.4's order, so that every RRset is
//! signed by every algorithm of any DNSKEY RRset a cache may hold:
//!
//! 2. The new algorithm's keys sign every RRset, unpublished (their
//!    Activate now, their Publish `Dprp + TTLsig` later: every cached
//!    RRset then has the new signatures).
//! 3. They are published; `Dprp + TTLkey` later every cache has the new
//!    DNSKEY RRset, and their DS is written out for the parent.
//! 4. The roll waits for the new DS at the parent, as a KSK roll does;
//!    then for the parent's DS TTL and the propagation delay.
//! 5. The old keys leave the DNSKEY RRset (their Delete) but still sign,
//! 6. until `Dprp + TTLkey` later (their Inactive): no cache holds the old
//!    DNSKEY RRset any more.
//!
//! An emergency KSK roll (`tldns keys roll ksk --emergency`) moves the
//! signing at once to a standby KSK (`tldns keys standby`): one published
//! and given to the parent beforehand, never signing, so that when the
//! active KSK is compromised or lost it can go at once.

use super::keys::{KSK, KeyError, KeyTiming, Keystore, SigningKey, ZSK};
use crate::config::{Config, KeyScheme};

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
    // When an algorithm roll's new DS is to be written out.
    let ds = keys
        .iter()
        .filter_map(|k| match (k.timing.activate, k.timing.publish) {
            (Some(a), Some(pb)) if a < pb && pb + p.ipub() > now => Some(pb + p.ipub()),
            _ => None,
        });
    timed.chain(roll).chain(ds).min()
}

/// Carry out [`plan_zsk`]'s step in the keystore: the
/// successor's files first (so a crash in between leaves a successor that
/// the next plan finds), then the old key's new Inactive and Delete.
/// Returns the step, or `None` when nothing was due.
pub fn roll_zsk(
    store: &dyn Keystore,
    config: &Config,
    keys: &[SigningKey],
    now: u64,
) -> Result<Option<ZskRoll>, KeyError> {
    carry_out(
        store,
        keys,
        now,
        plan_zsk(keys, &RollPolicy::from_config(config), now),
    )
}

/// Start a ZSK roll now (`tldns keys roll zsk`), whatever the current
/// key's age: the successor is published now and signs after `Ipub`.
/// `None` when a roll is under way already (or there is no ZSK to roll).
pub fn roll_zsk_now(
    store: &dyn Keystore,
    config: &Config,
    keys: &[SigningKey],
    now: u64,
) -> Result<Option<ZskRoll>, KeyError> {
    let p = RollPolicy::from_config(config);
    carry_out(store, keys, now, plan(keys, &p, now, true))
}

fn carry_out(
    store: &dyn Keystore,
    keys: &[SigningKey],
    now: u64,
    step: Option<ZskRoll>,
) -> Result<Option<ZskRoll>, KeyError> {
    let Some(step) = step else {
        return Ok(None);
    };
    if let Some((publish, activate)) = step.successor {
        let k = store.make(
            ZSK,
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
    store.store_timing(&old)?;
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

/// Start a KSK (or CSK) roll if the policy (`ksk-lifetime`) or the
/// operator (`now_please`) asks for one and none is under way: a successor
/// KSK, published and active now (it signs the DNSKEY RRset beside the old
/// one; a CSK signs everything beside the old one). Returns the new key.
pub fn start_ksk_roll(
    store: &dyn Keystore,
    config: &Config,
    keys: &[SigningKey],
    now: u64,
    now_please: bool,
) -> Result<Option<SigningKey>, KeyError> {
    let p = RollPolicy::from_config(config);
    if ksk_phase(keys, &p, now).is_some() || alg_phase(keys, &p, now).is_some() {
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
    let k = store.make(
        KSK,
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

/// When no cache holds the parent's DS RRset of before `now` any more:
/// the parent's DS TTL plus the propagation delay later.
fn parent_ds_expired(config: &Config, now: u64) -> u64 {
    now + u64::from(config.zone.dnssec.parent_ds_ttl_secs())
        + u64::from(config.zone.dnssec.propagation_secs())
}

/// The new KSK's DS is at the parent (seen there, or the operator says
/// so): the old KSK is scheduled to leave the DNSKEY RRset once every
/// cached copy of the parent's old DS RRset has expired (the parent's DS
/// TTL plus the propagation delay from now). Returns (old tag, time), or
/// `None` when no roll is waiting for `new`'s DS.
pub fn ds_seen(
    store: &dyn Keystore,
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
    let mut at = parent_ds_expired(config, now);
    // A CSK's successor signs the zone's data alone once the old key is
    // gone: by then every cache must hold the DNSKEY RRset with it too. (A
    // KSK's signs only the DNSKEY RRset, which a cache fetches with it.)
    if matches!(config.zone.dnssec.scheme, KeyScheme::Csk) {
        let published = keys
            .iter()
            .find(|k| k.key_tag == new)
            .and_then(|k| k.timing.publish)
            .unwrap_or(now);
        at = at.max(published + p.ipub());
    }
    let mut k = keys
        .iter()
        .find(|k| k.key_tag == old)
        .expect("the phase names one of the keys")
        .clone();
    k.timing.inactive = Some(at);
    k.timing.delete = Some(at);
    store.store_timing(&k)?;
    tracing::info!(
        old,
        new,
        retire_at = at,
        "KSK roll: the new DS is at the parent; the old KSK leaves after the parent's DS TTL"
    );
    Ok(Some((old, at)))
}

/// The KSKs whose DS the parent should hold at `now`: every KSK that is
/// published or will be, and is not deleted; but a key that signed before
/// it was published (an algorithm roll's) only once its DNSKEY has reached
/// every cache (`Ipub` after its Publish, RFC 6781 §4.1.4 step 4).
pub fn parent_should_hold<'k>(
    keys: &'k [SigningKey],
    p: &RollPolicy,
    now: u64,
) -> Vec<&'k SigningKey> {
    keys.iter()
        .filter(|k| k.is_sep() && k.timing.delete.is_none_or(|d| d > now))
        .filter(|k| match (k.timing.activate, k.timing.publish) {
            (Some(a), Some(pb)) if a < pb => now >= pb + p.ipub(),
            _ => true,
        })
        .collect()
}

/// Where an algorithm roll stands (RFC 6781 §4.1.4), read from the keys'
/// timing: from algorithm `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlgPhase {
    /// Step 2: the new algorithm's keys sign unpublished until `publish`.
    NewSignatures {
        /// The old algorithm.
        from: u8,
        /// The new one.
        to: u8,
        /// When the new keys are published.
        publish: u64,
    },
    /// Step 3: the new keys are published; their DS goes to the parent at
    /// `ds` (when every cache has the new DNSKEY RRset).
    NewKeys {
        /// The old algorithm.
        from: u8,
        /// The new one.
        to: u8,
        /// When the new DS is written out for the parent.
        ds: u64,
    },
    /// Step 4: the new KSK's DS (`new`) is to be seen at the parent.
    AwaitingDs {
        /// The old algorithm.
        from: u8,
        /// The new one.
        to: u8,
        /// The new KSK's tag.
        new: u16,
    },
    /// Steps 5 and 6: the old keys leave the DNSKEY RRset at `delete` and
    /// stop signing at `inactive`.
    Retiring {
        /// The old algorithm.
        from: u8,
        /// The new one.
        to: u8,
        /// The old keys' Delete.
        delete: u64,
        /// Their Inactive.
        inactive: u64,
    },
}

impl AlgPhase {
    /// The new algorithm's KSK tag while the parent is to get its DS.
    pub fn awaiting_ds(&self) -> Option<u16> {
        match self {
            AlgPhase::AwaitingDs { new, .. } => Some(*new),
            _ => None,
        }
    }
}

/// The algorithm roll under way at `now`, if any: keys of two algorithms
/// sign (or, with the old ones retiring, one of them is the policy's and
/// the other's keys still have an Inactive time ahead). `to` is the
/// policy's algorithm.
pub fn alg_phase(keys: &[SigningKey], p: &RollPolicy, now: u64) -> Option<AlgPhase> {
    let active = |k: &&SigningKey| k.state(now).active;
    let to = p.algorithm;
    let new: Vec<&SigningKey> = keys
        .iter()
        .filter(active)
        .filter(|k| k.algorithm == to)
        .collect();
    let old: Vec<&SigningKey> = keys
        .iter()
        .filter(active)
        .filter(|k| k.algorithm != to)
        .collect();
    let from = old.first()?.algorithm;
    if new.is_empty() || old.iter().any(|k| k.algorithm != from) {
        return None;
    }
    if old
        .iter()
        .all(|k| k.timing.inactive.is_some_and(|t| t > now))
    {
        let max = |f: fn(&KeyTiming) -> Option<u64>| {
            old.iter().filter_map(|k| f(&k.timing)).max().unwrap_or(now)
        };
        return Some(AlgPhase::Retiring {
            from,
            to,
            delete: max(|t| t.delete),
            inactive: max(|t| t.inactive),
        });
    }
    let publish = new
        .iter()
        .filter_map(|k| k.timing.publish)
        .max()
        .unwrap_or(0);
    if publish > now {
        return Some(AlgPhase::NewSignatures { from, to, publish });
    }
    if now < publish + p.ipub() {
        return Some(AlgPhase::NewKeys {
            from,
            to,
            ds: publish + p.ipub(),
        });
    }
    let ksk = new
        .iter()
        .filter(|k| k.is_sep())
        .max_by_key(|k| start_of(k))?;
    Some(AlgPhase::AwaitingDs {
        from,
        to,
        new: ksk.key_tag,
    })
}

/// Why an algorithm roll cannot start.
#[derive(Debug, thiserror::Error)]
pub enum AlgRollError {
    /// The keys are of the configured algorithm already.
    #[error(
        "the active keys are of algorithm {0} already: set the new one in the configuration (dnssec algorithm) first"
    )]
    SameAlgorithm(u8),
    /// A roll of some kind is under way.
    #[error("a key roll is under way; it must end first ({0})")]
    Busy(&'static str),
    /// No active KSK to roll from.
    #[error("no active KSK to roll from")]
    NoKsk,
    /// Making or writing a key failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Start an algorithm roll to the configured algorithm (RFC 6781 §4.1.4
/// step 2): new keys of that algorithm (a KSK and a ZSK, or one CSK in the
/// CSK scheme) that sign from now and are published `Dprp + TTLsig` later.
/// Returns them.
pub fn start_algorithm_roll(
    store: &dyn Keystore,
    config: &Config,
    keys: &[SigningKey],
    now: u64,
) -> Result<Vec<SigningKey>, AlgRollError> {
    let p = RollPolicy::from_config(config);
    if alg_phase(keys, &p, now).is_some() {
        return Err(AlgRollError::Busy("algorithm"));
    }
    if ksk_phase(keys, &p, now).is_some() {
        return Err(AlgRollError::Busy("KSK"));
    }
    let cur = keys
        .iter()
        .filter(|k| k.is_sep() && k.state(now).active)
        .max_by_key(|k| start_of(k))
        .ok_or(AlgRollError::NoKsk)?;
    if cur.algorithm == p.algorithm {
        return Err(AlgRollError::SameAlgorithm(p.algorithm));
    }
    let timing = KeyTiming {
        activate: Some(now),
        publish: Some(now + p.iret()),
        ..KeyTiming::default()
    };
    let mut roles = vec![KSK];
    if matches!(config.zone.dnssec.scheme, KeyScheme::KskZsk) {
        roles.push(ZSK);
    }
    let mut made = Vec::new();
    for flags in roles {
        made.push(store.make(flags, now, Some(timing))?);
    }
    tracing::info!(
        from = cur.algorithm,
        to = p.algorithm,
        keys = ?made.iter().map(SigningKey::base_name).collect::<Vec<_>>(),
        publish = now + p.iret(),
        "algorithm roll: the new keys sign every RRset now and are published once every cache has their signatures (RFC 6781 §4.1.4)"
    );
    Ok(made)
}

/// The new algorithm's DS is at the parent: the old algorithm's keys leave
/// the DNSKEY RRset once every cache has the parent's new DS RRset (the
/// parent's DS TTL plus the propagation delay) and sign until every cache
/// has the DNSKEY RRset without them (`Ipub` after that). Returns (Delete,
/// Inactive), or `None` when the roll is not waiting for `new`'s DS.
pub fn alg_ds_seen(
    store: &dyn Keystore,
    config: &Config,
    keys: &[SigningKey],
    new: u16,
    now: u64,
) -> Result<Option<(u64, u64)>, KeyError> {
    let p = RollPolicy::from_config(config);
    let Some(AlgPhase::AwaitingDs { from, new: n, .. }) = alg_phase(keys, &p, now) else {
        return Ok(None);
    };
    if n != new {
        return Ok(None);
    }
    let delete = parent_ds_expired(config, now);
    let inactive = delete + p.ipub();
    for k in keys
        .iter()
        .filter(|k| k.algorithm == from && k.state(now).active)
    {
        let mut k = k.clone();
        k.timing.delete = Some(delete);
        k.timing.inactive = Some(inactive);
        store.store_timing(&k)?;
    }
    tracing::info!(
        from,
        new,
        delete,
        inactive,
        "algorithm roll: the new DS is at the parent; the old keys leave the DNSKEY RRset, then stop signing"
    );
    Ok(Some((delete, inactive)))
}

/// The operator's confirmation that the parent serves the DS of `tag`
/// (`tldns keys ds-seen`): for a KSK or CSK roll, or an algorithm roll,
/// whichever waits for it. Returns the old key(s)' retire time.
pub fn confirm_ds(
    store: &dyn Keystore,
    config: &Config,
    keys: &[SigningKey],
    tag: u16,
    now: u64,
) -> Result<Option<u64>, KeyError> {
    if let Some((_, at)) = ds_seen(store, config, keys, tag, now)? {
        return Ok(Some(at));
    }
    Ok(alg_ds_seen(store, config, keys, tag, now)?.map(|(d, _)| d))
}

/// Add a standby KSK (or CSK): published now, never signing, so that its
/// DS goes to the parent with the others and an emergency roll can switch
/// to it at once. `None` when there is one already.
pub fn add_standby(
    store: &dyn Keystore,
    config: &Config,
    keys: &[SigningKey],
    now: u64,
) -> Result<Option<SigningKey>, KeyError> {
    if standby(keys, config.zone.dnssec.algorithm, now).is_some() {
        return Ok(None);
    }
    let k = store.make(
        KSK,
        now,
        Some(KeyTiming {
            publish: Some(now),
            ..KeyTiming::default()
        }),
    )?;
    tracing::info!(key = %k.base_name(), "standby KSK published; its DS is for the parent too");
    Ok(Some(k))
}

/// The standby KSK of `algorithm` at `now`: published, not signing, with
/// no Activate, Inactive or Delete time.
pub fn standby(keys: &[SigningKey], algorithm: u8, now: u64) -> Option<&SigningKey> {
    keys.iter().find(|k| {
        let t = &k.timing;
        k.is_sep()
            && k.algorithm == algorithm
            && k.state(now).published
            && t.activate.is_none()
            && t.inactive.is_none()
            && t.delete.is_none()
    })
}

/// Why an emergency roll cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum EmergencyError {
    /// No standby key to switch to.
    #[error(
        "no standby KSK of algorithm {0} (`tldns keys standby` makes one; its DS must be at the parent beforehand)"
    )]
    NoStandby(u8),
    /// Writing the timing failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// An emergency KSK roll: the standby KSK signs from now and every other
/// active KSK of its algorithm leaves at once (Inactive and Delete now).
/// Validators follow at once only if the parent already serves the
/// standby's DS; the chain-of-trust gate refuses the new DNSKEY RRset
/// otherwise (and the old version keeps serving). Returns (standby tag,
/// retired tags).
pub fn emergency_ksk_roll(
    store: &dyn Keystore,
    config: &Config,
    keys: &[SigningKey],
    now: u64,
) -> Result<(u16, Vec<u16>), EmergencyError> {
    let alg = config.zone.dnssec.algorithm;
    let mut sb = standby(keys, alg, now)
        .ok_or(EmergencyError::NoStandby(alg))?
        .clone();
    sb.timing.activate = Some(now);
    store.store_timing(&sb)?;
    let mut retired = Vec::new();
    for k in keys.iter().filter(|k| {
        k.is_sep() && k.algorithm == alg && k.key_tag != sb.key_tag && k.state(now).active
    }) {
        let mut k = k.clone();
        k.timing.inactive = Some(now);
        k.timing.delete = Some(now);
        store.store_timing(&k)?;
        retired.push(k.key_tag);
    }
    tracing::warn!(
        standby = sb.key_tag,
        retired = ?retired,
        "emergency KSK roll: the standby KSK signs now; the old KSK is withdrawn at once"
    );
    Ok((sb.key_tag, retired))
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
    /// The algorithm roll's phase and what it waits for, in words.
    pub algorithm_roll: String,
    /// The rolls' phases as numbers (`tldns_key_roll_phase`): ZSK 0 none,
    /// 1 successor published, 2 old key retiring; KSK 0 none, 1 waiting
    /// for the parent's DS, 2 old key retiring; algorithm 0 none, else the
    /// step of RFC 6781 §4.1.4 it is in (2 to 5).
    pub phases: Phases,
    /// When the next key event (a timing event, or a roll to start) is due.
    pub next_event: Option<u64>,
    /// RFC 7583's intervals for a ZSK roll (seconds).
    pub ipub: u64,
    /// See `ipub`.
    pub iret: u64,
}

/// The rolls' phases as numbers (see [`Status::phases`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Phases {
    /// The ZSK roll's.
    pub zsk: u8,
    /// The KSK (or CSK) roll's.
    pub ksk: u8,
    /// The algorithm roll's.
    pub algorithm: u8,
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
    let alg = alg_phase(keys, &p, now);
    let algorithm_roll = match &alg {
        None => "none under way".into(),
        Some(AlgPhase::NewSignatures { from, to, publish }) => format!(
            "{from} to {to}, step 2: the new keys sign every RRset unpublished; they are published at {publish}, when every cache has their signatures"
        ),
        Some(AlgPhase::NewKeys { from, to, ds }) => format!(
            "{from} to {to}, step 3: the new keys are published; their DS goes to the parent at {ds}, when every cache has them"
        ),
        Some(AlgPhase::AwaitingDs { from, to, new }) => format!(
            "{from} to {to}, step 4: waiting for the parent to serve the DS of KSK {new} (the DS file and ds-hook have it; `tldns keys ds-seen {new}` confirms by hand)"
        ),
        Some(AlgPhase::Retiring {
            from,
            to,
            delete,
            inactive,
        }) => format!(
            "{from} to {to}, steps 5 and 6: the old keys leave the DNSKEY RRset at {delete} and stop signing at {inactive}"
        ),
    };
    let phases = Phases {
        zsk: if waiting.is_some() {
            1
        } else if leaving.is_some() {
            2
        } else {
            0
        },
        ksk: match ksk_phase(keys, &p, now) {
            None => 0,
            Some(KskPhase::AwaitingDs { .. }) => 1,
            Some(KskPhase::Retiring { .. }) => 2,
        },
        algorithm: match alg {
            None => 0,
            Some(AlgPhase::NewSignatures { .. }) => 2,
            Some(AlgPhase::NewKeys { .. }) => 3,
            Some(AlgPhase::AwaitingDs { .. }) => 4,
            Some(AlgPhase::Retiring { .. }) => 5,
        },
    };
    Status {
        now,
        keys: out,
        zsk_roll,
        ksk_roll,
        algorithm_roll,
        phases,
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

    fn key_of(flags: u16, algorithm: u8, timing: KeyTiming) -> SigningKey {
        let mut k =
            SigningKey::generate(&Name::parse("mobile.").unwrap(), flags, algorithm, 2048, 0)
                .unwrap();
        k.timing = timing;
        k
    }

    #[test]
    fn rfc6781_algorithm_roll_phases_in_order() {
        // From Ed25519 (15) to ECDSA P-256 (13): the timing logic is the
        // same for any two algorithms.
        let p = policy();
        let mut keys = vec![key_of(257, 15, active_at(0)), key_of(256, 15, active_at(0))];
        assert_eq!(alg_phase(&keys, &p, 500), None);
        // Step 2: the new keys sign from 1000 and are published Iret later.
        let new = KeyTiming {
            activate: Some(1000),
            publish: Some(1000 + p.iret()),
            ..KeyTiming::default()
        };
        keys.push(key_of(257, 13, new));
        keys.push(key_of(256, 13, new));
        let (ksk13, zsk13) = (keys[2].key_tag, keys[3].key_tag);
        assert_eq!(
            alg_phase(&keys, &p, 1100),
            Some(AlgPhase::NewSignatures {
                from: 15,
                to: 13,
                publish: 1310
            })
        );
        let st = keys[3].state(1100);
        assert!(st.active && !st.published, "{st:?}");
        // The parent is given the new DS only once the new DNSKEY RRset is
        // in every cache (Ipub after its publication).
        let tags = |keys: &[SigningKey], at| -> Vec<u16> {
            parent_should_hold(keys, &p, at)
                .iter()
                .map(|k| k.key_tag)
                .collect()
        };
        assert_eq!(tags(&keys, 1100), vec![keys[0].key_tag]);
        assert_eq!(tags(&keys, 1379), vec![keys[0].key_tag]);
        assert_eq!(tags(&keys, 1380), vec![keys[0].key_tag, ksk13]);
        // Step 3, then step 4.
        assert_eq!(
            alg_phase(&keys, &p, 1320),
            Some(AlgPhase::NewKeys {
                from: 15,
                to: 13,
                ds: 1380
            })
        );
        assert_eq!(next_event(&keys, &p, 1320), Some(1380));
        let awaiting = alg_phase(&keys, &p, 1400).unwrap();
        assert_eq!(awaiting.awaiting_ds(), Some(ksk13));
        // It waits for the parent for ever: nothing retires by itself.
        assert_eq!(
            alg_phase(&keys, &p, 1_000_000).unwrap().awaiting_ds(),
            Some(ksk13)
        );
        // Steps 5 and 6, as alg_ds_seen writes them: the old keys leave the
        // DNSKEY RRset at 2000 and sign until 2070.
        for k in &mut keys[..2] {
            k.timing.delete = Some(2000);
            k.timing.inactive = Some(2070);
        }
        let retiring = AlgPhase::Retiring {
            from: 15,
            to: 13,
            delete: 2000,
            inactive: 2070,
        };
        assert_eq!(alg_phase(&keys, &p, 1500), Some(retiring.clone()));
        assert_eq!(alg_phase(&keys, &p, 2010), Some(retiring));
        let st = keys[1].state(2010);
        assert!(st.active && !st.published, "{st:?}");
        assert_eq!(tags(&keys, 2010), vec![ksk13]);
        assert_eq!(alg_phase(&keys, &p, 2070), None);
        assert!(!keys[0].state(2070).active && !keys[0].state(2070).published);
        assert!(keys[3].state(2070).active && keys[3].state(2070).published);
        assert_ne!(zsk13, ksk13);
    }

    #[test]
    fn a_standby_ksk_is_published_and_never_signs() {
        let sb = key(
            257,
            KeyTiming {
                publish: Some(10),
                ..KeyTiming::default()
            },
        );
        let st = sb.state(1_000_000);
        assert!(st.published && !st.active, "{st:?}");
        let keys = [key(257, active_at(0)), key(256, active_at(0)), sb];
        assert_eq!(
            standby(&keys, 13, 20).map(|k| k.key_tag),
            Some(keys[2].key_tag)
        );
        assert!(standby(&keys, 13, 5).is_none());
        // Its DS is for the parent with the active KSK's; it is not a KSK
        // roll's successor.
        assert_eq!(parent_should_hold(&keys, &policy(), 20).len(), 2);
        assert_eq!(ksk_phase(&keys, &policy(), 20), None);
    }

    #[test]
    fn a_key_without_timing_is_never_rolled() {
        let keys = [key(257, active_at(0)), key(256, KeyTiming::default())];
        assert_eq!(plan_zsk(&keys, &policy(), 1_000_000), None);
    }
}
