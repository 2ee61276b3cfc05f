//! IXFR (RFC 1995): the history of diffs between consecutive published
//! versions, the answer built from it, and the reader of an IXFR or AXFR
//! answer on the secondary side.
//!
//! Out: the newest SOA, then per version step the old SOA, the deleted
//! records, the new SOA, the added records, and the newest SOA again
//! (§4). When the history does not reach back to the client's serial the
//! whole zone is sent AXFR-style (§4); when the client is current, the SOA
//! alone (§4, "the server responds with a single SOA record").

use super::axfr::{self, Packer};
use super::diff::Diff;
use super::msg::{Message, Rr};
use super::tsig::ResponseSigner;
use crate::name::Name;
use crate::rr::{Record, rtype};
use crate::serial::serial_gt;
use crate::zone::SignedZone;
use std::collections::VecDeque;
use std::sync::Arc;

/// Diffs between consecutive published versions, oldest first.
#[derive(Debug, Default)]
pub struct History {
    depth: usize,
    diffs: VecDeque<Arc<Diff>>,
}

impl History {
    /// A history of at most `depth` diffs (`[transfer] ixfr-history`); 0
    /// keeps none, so every IXFR is answered AXFR-style.
    pub fn new(depth: usize) -> History {
        History {
            depth,
            diffs: VecDeque::new(),
        }
    }

    /// Add the step to the newest version. A step that does not continue
    /// the chain (a restart, a reload) starts a new one.
    pub fn push(&mut self, d: Diff) {
        self.push_arc(Arc::new(d));
    }

    /// [`History::push`] of a shared step.
    pub fn push_arc(&mut self, d: Arc<Diff>) {
        if self.depth == 0 {
            return;
        }
        if self.diffs.back().is_some_and(|last| last.to() != d.from()) {
            self.diffs.clear();
        }
        self.diffs.push_back(d);
        while self.diffs.len() > self.depth {
            self.diffs.pop_front();
        }
    }

    /// The steps from `from` to `to`, if the history holds all of them.
    pub fn chain(&self, from: u32, to: u32) -> Option<Vec<Arc<Diff>>> {
        let start = self.diffs.iter().position(|d| d.from() == from)?;
        let steps: Vec<Arc<Diff>> = self.diffs.iter().skip(start).cloned().collect();
        (steps.last()?.to() == to).then_some(steps)
    }

    /// Diffs held.
    pub fn len(&self) -> usize {
        self.diffs.len()
    }

    /// Whether no diff is held.
    pub fn is_empty(&self) -> bool {
        self.diffs.is_empty()
    }
}

/// The SOA record of a version.
pub fn soa_record(z: &SignedZone) -> Record {
    Record::new(
        z.zone.origin.clone(),
        z.zone.ttl.soa,
        rtype::SOA,
        z.zone.soa.to_rdata(),
    )
}

/// How an IXFR was answered, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// The client is current: the SOA alone (RFC 1995 §2).
    Current,
    /// The diffs from the client's serial, in order.
    Incremental {
        /// How many diffs.
        steps: usize,
    },
    /// The history does not reach the client's serial: the whole zone, as
    /// AXFR would send it (RFC 1995 §4).
    AxfrStyle,
}

/// The IXFR answer to a client at `client_serial`.
pub fn respond(
    query: &Message,
    client_serial: u32,
    zone: &SignedZone,
    history: &History,
    signer: Option<ResponseSigner>,
    now: u64,
) -> (Vec<Vec<u8>>, Answered) {
    let current = zone.serial();
    let soa = soa_record(zone);
    if !serial_gt(current, client_serial) {
        let mut p = Packer::new(query, signer, now);
        p.push(&soa);
        return (p.finish(), Answered::Current);
    }
    let Some(steps) = history.chain(client_serial, current) else {
        return (axfr::respond(query, zone, signer, now), Answered::AxfrStyle);
    };
    let mut p = Packer::new(query, signer, now);
    p.push(&soa);
    for d in &steps {
        p.push(&d.old_soa);
        d.removed.iter().for_each(|r| p.push(r));
        p.push(&d.new_soa);
        d.added.iter().for_each(|r| p.push(r));
    }
    p.push(&soa);
    (p.finish(), Answered::Incremental { steps: steps.len() })
}

/// One step of a received IXFR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The SOA the step starts from.
    pub old_soa: Record,
    /// The SOA it ends at.
    pub new_soa: Record,
    /// Records deleted, in the order sent.
    pub removed: Vec<Record>,
    /// Records added, in the order sent.
    pub added: Vec<Record>,
}

/// What a transfer brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Our serial is current (single-SOA IXFR answer).
    UpToDate(u32),
    /// The whole zone (AXFR, or AXFR-style IXFR); the SOA once.
    Full(Vec<Record>),
    /// Incremental steps to the serial.
    Incremental(Vec<Step>, u32),
}

/// Why an answer is not a well-formed transfer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The first record is not the zone's SOA.
    #[error("the answer does not start with the zone's SOA (RFC 5936 §2.2, RFC 1995 §4)")]
    NoLeadingSoa,
    /// Records follow the SOA that closes the transfer.
    #[error("records after the closing SOA (RFC 5936 §2.2)")]
    Trailing,
    /// The stream ended before the closing SOA.
    #[error("the answer ended before the closing SOA (RFC 5936 §2.2)")]
    Incomplete,
    /// A record is not class IN or not at or below the origin; holds its
    /// owner.
    #[error("{0}: record outside the zone or not class IN")]
    Foreign(String),
}

enum State {
    Start,
    First,
    Axfr,
    Del(Step),
    Add(Step),
    Done,
}

/// Reads the records of an AXFR or IXFR answer, message by message.
pub struct Reader {
    origin: Name,
    ixfr: bool,
    ours: Option<u32>,
    serial: u32,
    first_soa: Option<Record>,
    state: State,
    full: Vec<Record>,
    steps: Vec<Step>,
}

fn is_soa(r: &Record, origin: &Name) -> bool {
    r.rtype == rtype::SOA && &r.owner == origin
}

impl Reader {
    /// `ours`: the serial we hold, for an IXFR request.
    pub fn new(origin: &Name, ours: Option<u32>) -> Reader {
        Reader {
            origin: origin.clone(),
            ixfr: ours.is_some(),
            ours,
            serial: 0,
            first_soa: None,
            state: State::Start,
            full: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// Take the answer section of one message; `true` once the transfer is
    /// complete.
    pub fn feed(&mut self, answers: Vec<Rr>) -> Result<bool, ReadError> {
        for rr in answers {
            if rr.class != crate::rr::class::IN || !rr.owner.is_subdomain_of(&self.origin) {
                return Err(ReadError::Foreign(rr.owner.to_string()));
            }
            let r = rr.into_record();
            let soa = is_soa(&r, &self.origin);
            self.state = match std::mem::replace(&mut self.state, State::Done) {
                State::Start => {
                    if !soa {
                        return Err(ReadError::NoLeadingSoa);
                    }
                    self.serial = super::msg::soa_serial(&r.rdata).unwrap_or(0);
                    self.first_soa = Some(r);
                    State::First
                }
                State::First if soa && self.ixfr => State::Del(Step {
                    old_soa: r,
                    new_soa: Record::new(self.origin.clone(), 0, 0, vec![]),
                    removed: vec![],
                    added: vec![],
                }),
                // AXFR of a zone with nothing but the SOA.
                State::First if soa => State::Done,
                State::First => {
                    self.full.push(r);
                    State::Axfr
                }
                State::Axfr if soa => State::Done,
                State::Axfr => {
                    self.full.push(r);
                    State::Axfr
                }
                State::Del(mut s) if soa => {
                    s.new_soa = r;
                    State::Add(s)
                }
                State::Del(mut s) => {
                    s.removed.push(r);
                    State::Del(s)
                }
                State::Add(s) if soa => {
                    let ser = super::msg::soa_serial(&r.rdata).unwrap_or(0);
                    self.steps.push(s);
                    if ser == self.serial {
                        State::Done
                    } else {
                        State::Del(Step {
                            old_soa: r,
                            new_soa: Record::new(self.origin.clone(), 0, 0, vec![]),
                            removed: vec![],
                            added: vec![],
                        })
                    }
                }
                State::Add(mut s) => {
                    s.added.push(r);
                    State::Add(s)
                }
                State::Done => return Err(ReadError::Trailing),
            };
        }
        // RFC 1995 §4: a lone SOA no newer than ours means "up to date".
        if matches!(self.state, State::First)
            && self.ixfr
            && self.ours.is_some_and(|o| !serial_gt(self.serial, o))
        {
            self.state = State::Done;
        }
        Ok(matches!(self.state, State::Done))
    }

    /// What the transfer brought, once [`Self::feed`] has said it is
    /// complete.
    pub fn finish(mut self) -> Result<Received, ReadError> {
        if !matches!(self.state, State::Done) {
            return Err(ReadError::Incomplete);
        }
        let soa = self.first_soa.take().ok_or(ReadError::Incomplete)?;
        if !self.steps.is_empty() {
            return Ok(Received::Incremental(self.steps, self.serial));
        }
        if self.ixfr
            && self.full.is_empty()
            && self.ours.is_some_and(|o| !serial_gt(self.serial, o))
        {
            return Ok(Received::UpToDate(self.serial));
        }
        self.full.push(soa);
        Ok(Received::Full(self.full))
    }
}

#[cfg(test)]
mod tests {
    use super::super::diff::{diff, tests::zone};
    use super::super::msg::{Builder, parse};
    use super::*;

    fn ixfr_query(serial_soa: &Record) -> Message {
        let mut b = Builder::new(5, 0, 65_535);
        b.question(&serial_soa.owner, rtype::IXFR, 1);
        b.rec(2, serial_soa);
        parse(&b.finish()).unwrap()
    }

    fn read(msgs: &[Vec<u8>], origin: &Name, ours: u32) -> Received {
        let mut r = Reader::new(origin, Some(ours));
        let mut done = false;
        for m in msgs {
            done = r.feed(parse(m).unwrap().answers).unwrap();
        }
        assert!(done);
        r.finish().unwrap()
    }

    #[test]
    fn rfc1995_section_4_incremental_answer_and_fallbacks() {
        let v1 = zone(1, &["a.mobile.", "b.mobile."]);
        let v2 = zone(2, &["a.mobile.", "c.mobile."]);
        let v3 = zone(3, &["c.mobile.", "d.mobile."]);
        let mut h = History::new(4);
        h.push(diff(&v1, &v2));
        h.push(diff(&v2, &v3));
        let o = v1.zone.origin.clone();
        let q = ixfr_query(&soa_record(&v1));
        let (msgs, how) = respond(&q, 1, &v3, &h, None, 0);
        assert_eq!(how, Answered::Incremental { steps: 2 });
        match read(&msgs, &o, 1) {
            Received::Incremental(steps, 3) => {
                assert_eq!(steps.len(), 2);
                assert_eq!(steps[1].added.len(), 2);
            }
            other => panic!("{other:?}"),
        }
        // Current client: the SOA alone.
        let (msgs, how) = respond(&q, 3, &v3, &h, None, 0);
        assert_eq!(how, Answered::Current);
        assert_eq!(read(&msgs, &o, 3), Received::UpToDate(3));
        // Serial older than the history: AXFR-style.
        let (msgs, how) = respond(&q, 0, &v3, &h, None, 0);
        assert_eq!(how, Answered::AxfrStyle);
        match read(&msgs, &o, 0) {
            Received::Full(recs) => assert_eq!(recs.len(), v3.records().len()),
            other => panic!("{other:?}"),
        }
        // A depth of 1 keeps only the newest step.
        let mut h1 = History::new(1);
        h1.push(diff(&v1, &v2));
        h1.push(diff(&v2, &v3));
        assert!(h1.chain(1, 3).is_none());
        assert_eq!(h1.chain(2, 3).unwrap().len(), 1);
    }
}
