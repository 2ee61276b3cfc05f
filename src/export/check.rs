//! The CZDS checker: reads any zone file (gzip or plain) and reports every
//! line that breaks one of the 18 rules of Spec 4 §2.1.4, with its line and
//! rule number.
//!
//! Owns the reading of the subformat; shares with the writer only the rule
//! list ([`Rule`]), so the writer's output is checked by code that did not
//! produce it. The DNS underneath is the base layer's: lines go through the
//! zone-file lexer ([`crate::zonefile::lex_line`]), names through its strict
//! decoder ([`crate::zonefile::decode_name`]), classes and types through the
//! IANA tables, RDATA through [`rdata_to_wire`]. It streams: memory is a
//! few lines, whatever the file's size.
//! How each rule is read (what counts as a violation) is in `docs/czds.md`.

use super::czds::Rule;
use crate::name::Name;
use crate::zonefile::{LexEvent, RdataError, class_from_str, decode_name, lex_line, rdata_to_wire};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use tldns_base::iana::Rtype;

/// One broken rule on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// 1-based line number.
    pub line: u64,
    /// The rule broken.
    pub rule: Rule,
    /// What on the line breaks it.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: rule {}: {} (Spec 4 §2.1.4: {})",
            self.line,
            self.rule.number(),
            self.detail,
            self.rule.text()
        )
    }
}

/// What a check found.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Lines read.
    pub lines: u64,
    /// Violations found (a line may have several).
    pub violations: u64,
    /// Violations per rule.
    pub by_rule: BTreeMap<Rule, u64>,
}

impl Summary {
    /// `rule 6: 2, rule 17: 1`
    pub fn by_rule_text(&self) -> String {
        self.by_rule
            .iter()
            .map(|(r, n)| format!("rule {}: {n}", r.number()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Why a file could not be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The file cannot be opened or read (a broken gzip stream included).
    #[error("{path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O or decompression error.
        error: std::io::Error,
    },
}

/// Check the file at `path`, gzip (by its magic number) or plain; each
/// violation goes to `report` as it is found.
pub fn check_file(path: &Path, report: &mut dyn FnMut(&Violation)) -> Result<Summary, CheckError> {
    let err = |error| CheckError::Read {
        path: path.to_path_buf(),
        error,
    };
    let f = std::fs::File::open(path).map_err(err)?;
    let mut r = BufReader::with_capacity(1 << 16, f);
    let gzip = r.fill_buf().map_err(err)?.starts_with(&[0x1f, 0x8b]);
    if gzip {
        let d = flate2::bufread::MultiGzDecoder::new(r);
        check_reader(BufReader::with_capacity(1 << 16, d), report).map_err(err)
    } else {
        check_reader(r, report).map_err(err)
    }
}

/// Check text from `r` (uncompressed).
pub fn check_reader<R: BufRead>(
    mut r: R,
    report: &mut dyn FnMut(&Violation),
) -> std::io::Result<Summary> {
    let mut c = Checker::new(report);
    let mut buf = Vec::with_capacity(512);
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        c.line(&buf);
    }
    Ok(c.finish())
}

/// Check `text`; all violations, in order.
pub fn check_bytes(text: &[u8]) -> (Summary, Vec<Violation>) {
    let mut v = Vec::new();
    let s = check_reader(text, &mut |x: &Violation| v.push(x.clone()))
        .expect("reading from memory cannot fail");
    (s, v)
}

/// A line that is a record with an explicit owner.
struct Rec {
    line: u64,
    text: Vec<u8>,
    soa: bool,
}

struct Checker<'r> {
    report: &'r mut dyn FnMut(&Violation),
    summary: Summary,
    n: u64,
    /// Line 1, when it is an SOA record.
    first_soa: Option<Vec<u8>>,
    /// The zone: owner of the first SOA record.
    apex: Option<Name>,
    /// The last line read (it may be the closing SOA) and whether it was an SOA.
    last: Option<Rec>,
    /// The record line before `last` that takes part in the order check.
    before: Option<Rec>,
}

impl<'r> Checker<'r> {
    fn new(report: &'r mut dyn FnMut(&Violation)) -> Checker<'r> {
        Checker {
            report,
            summary: Summary::default(),
            n: 0,
            first_soa: None,
            apex: None,
            last: None,
            before: None,
        }
    }

    fn flag(&mut self, line: u64, rule: Rule, detail: impl Into<String>) {
        let v = Violation {
            line,
            rule,
            detail: detail.into(),
        };
        self.summary.violations += 1;
        *self.summary.by_rule.entry(rule).or_default() += 1;
        (self.report)(&v);
    }

    fn line(&mut self, l: &[u8]) {
        self.n += 1;
        let n = self.n;
        // The previous line is not the last one: it takes its place in the
        // order check, and an SOA there is out of place (rule 16).
        if let Some(prev) = self.last.take() {
            self.middle(prev);
        }
        if l.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
            self.flag(n, Rule::NoBlankLines, "blank line");
            return;
        }
        if l[0] == b'$' {
            let word: Vec<u8> = l
                .iter()
                .take_while(|b| !b.is_ascii_whitespace())
                .map(u8::to_ascii_uppercase)
                .collect();
            let (rule, what) = match word.as_slice() {
                b"$ORIGIN" => (Rule::NoOrigin, "$ORIGIN directive"),
                b"$INCLUDE" => (Rule::NoInclude, "$INCLUDE directive"),
                b"$TTL" => (Rule::NoTtlDirective, "$TTL directive"),
                _ => (Rule::OneLine, "a directive, not a record"),
            };
            self.flag(n, rule, what);
            return;
        }
        if matches!(l[0], b' ' | b'\t') {
            self.flag(
                n,
                Rule::NoBlankOwner,
                "line starts with white space: the owner of the previous record is implied",
            );
            return;
        }
        let soa = self.record(n, l);
        if n == 1 {
            if soa {
                self.first_soa = Some(l.to_vec());
            } else {
                self.flag(
                    n,
                    Rule::SoaFirstAndLast,
                    "the first line is not the SOA record",
                );
            }
        }
        self.last = Some(Rec {
            line: n,
            text: l.to_vec(),
            soa,
        });
    }

    /// A record line known not to be the last: order (rule 17) and no SOA
    /// but the first (rule 16).
    fn middle(&mut self, r: Rec) {
        if r.line == 1 {
            return;
        }
        if r.soa {
            self.flag(
                r.line,
                Rule::SoaFirstAndLast,
                "SOA record between the first and the last line",
            );
        }
        if let Some(b) = &self.before
            && r.text < b.text
        {
            let detail = format!(
                "sorts before line {} (byte order of the lines, as LC_ALL=C sort)",
                b.line
            );
            self.flag(r.line, Rule::Alphabetical, detail);
        }
        self.before = Some(r);
    }

    fn finish(mut self) -> Summary {
        self.summary.lines = self.n;
        match self.last.take() {
            None if self.n == 0 => self.flag(0, Rule::SoaFirstAndLast, "empty file: no SOA record"),
            None => {
                let n = self.n;
                self.flag(
                    n,
                    Rule::SoaFirstAndLast,
                    "the last line is not the SOA record",
                );
            }
            Some(r) if r.line == 1 => self.flag(
                1,
                Rule::SoaFirstAndLast,
                "the SOA record is not repeated at the end",
            ),
            Some(r) if !r.soa => self.flag(
                r.line,
                Rule::SoaFirstAndLast,
                "the last line is not the SOA record",
            ),
            Some(r) => {
                if self.first_soa.as_ref().is_some_and(|f| *f != r.text) {
                    self.flag(
                        r.line,
                        Rule::SoaFirstAndLast,
                        "the last SOA record is not a copy of the first",
                    );
                }
            }
        }
        self.summary
    }

    /// Check one record line; true if it is an SOA record.
    fn record(&mut self, n: u64, l: &[u8]) -> bool {
        let before = self.summary.violations;
        let t = line_tokens(l);
        let paren = t.problems.iter().any(|(r, _)| *r == Rule::NoParentheses);
        for (rule, detail) in &t.problems {
            self.flag(n, *rule, detail.clone());
        }
        let toks = &t.tokens;
        // Separators: one tab between the five fields, one space inside RDATA.
        let mut sep_bad = None;
        // Parentheses stand where separators would: rule 13 says it all.
        for (i, s) in t.seps.iter().enumerate().filter(|_| !paren) {
            let want: &[u8] = if i < 4 { b"\t" } else { b" " };
            if s.as_slice() != want {
                sep_bad = Some((i, s.clone()));
                break;
            }
        }
        if let Some((i, s)) = sep_bad {
            let what = if i < 4 {
                "exactly one tab between fields"
            } else {
                "one space between RDATA fields"
            };
            self.flag(
                n,
                Rule::OneTab,
                format!(
                    "separator {:?} where {what} is expected",
                    String::from_utf8_lossy(&s)
                ),
            );
        }
        if t.trailing_space && !paren {
            self.flag(n, Rule::OneTab, "white space at the end of the line");
        }
        if toks.is_empty() {
            return false;
        }
        // The owner.
        let owner = &toks[0];
        self.name(n, owner, "owner");
        let owner_name = (owner.as_slice() != b"@")
            .then(|| Name::parse(&String::from_utf8_lossy(owner)).ok())
            .flatten();
        // TTL (rule 3); a missing TTL shifts the fields.
        let mut i = 1;
        match toks.get(1) {
            Some(ttl) if ttl.iter().all(u8::is_ascii_digit) => {
                let ok = std::str::from_utf8(ttl)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                    .is_some_and(|v| v <= 0x7fff_ffff);
                if !ok {
                    self.flag(n, Rule::DecimalTtl, "TTL above 2147483647 (RFC 2181 §8)");
                }
                i = 2;
            }
            Some(tok) if is_class(tok) || type_code(tok).is_some() => {
                self.flag(n, Rule::DecimalTtl, "no TTL");
            }
            Some(tok) => {
                self.flag(
                    n,
                    Rule::DecimalTtl,
                    format!(
                        "TTL {:?} is not a decimal integer",
                        String::from_utf8_lossy(tok)
                    ),
                );
                i = 2;
            }
            None => {}
        }
        // Class (rule 2; missing is rule 1).
        match toks.get(i) {
            Some(c) if is_class(c) => {
                if c.iter().any(u8::is_ascii_uppercase) {
                    self.flag(
                        n,
                        Rule::LowerCaseMnemonics,
                        format!(
                            "class {:?} is not in lower case",
                            String::from_utf8_lossy(c)
                        ),
                    );
                }
                i += 1;
            }
            Some(c) if type_code(c).is_some() => {
                self.flag(n, Rule::OneLine, "no class");
            }
            Some(c) => {
                self.flag(
                    n,
                    Rule::LowerCaseMnemonics,
                    format!(
                        "{:?} is not a standard class mnemonic",
                        String::from_utf8_lossy(c)
                    ),
                );
                i += 1;
            }
            None => {}
        }
        // Type (rule 2).
        let Some(ty) = toks.get(i) else {
            self.flag(n, Rule::OneLine, "the record has fewer than five fields");
            return false;
        };
        let code = type_code(ty);
        match code {
            None => self.flag(
                n,
                Rule::LowerCaseMnemonics,
                format!("{:?} is not a type mnemonic", String::from_utf8_lossy(ty)),
            ),
            Some(c) => {
                if ty.iter().any(u8::is_ascii_uppercase) {
                    self.flag(
                        n,
                        Rule::LowerCaseMnemonics,
                        format!(
                            "type {:?} is not in lower case",
                            String::from_utf8_lossy(ty)
                        ),
                    );
                }
                let generic = ty.len() > 4 && ty[..4].eq_ignore_ascii_case(b"type");
                if let Some(m) = generic.then(|| mnemonic(c)).flatten() {
                    self.flag(
                        n,
                        Rule::LowerCaseMnemonics,
                        format!(
                            "{} has the mnemonic {m}; TYPEnnn is for types without one (RFC 3597 §5)",
                            String::from_utf8_lossy(ty)
                        ),
                    );
                }
            }
        }
        let rdata = &toks[i + 1..];
        if rdata.is_empty() {
            self.flag(n, Rule::OneLine, "no RDATA");
        }
        let soa = code == Some(6);
        if let Some(code) = code {
            self.rdata(n, code, rdata, before);
        }
        // One zone per file (rule 18).
        if let Some(o) = &owner_name {
            match &self.apex {
                None if soa => self.apex = Some(o.clone()),
                Some(apex) if soa && o != apex => {
                    let detail = format!("SOA record of another zone, {o} (this file is {apex})");
                    self.flag(n, Rule::OneZone, detail);
                }
                Some(apex) if !o.is_subdomain_of(apex) => {
                    let detail = format!("{o} is outside the zone {apex}");
                    self.flag(n, Rule::OneZone, detail);
                }
                _ => {}
            }
        }
        soa
    }

    /// Rules 4 (escapes), 5 (lower case), 7 (fully qualified), 9 (`@`).
    fn name(&mut self, n: u64, tok: &[u8], what: &str) {
        let shown = String::from_utf8_lossy(tok);
        if tok == b"@" {
            self.flag(n, Rule::NoAt, format!("{what} is \"@\""));
            return;
        }
        match decode_name(tok) {
            Err(_) => self.flag(
                n,
                Rule::Escapes,
                format!("{what} {shown:?}: malformed \\X or \\DDD escape"),
            ),
            Ok(written) => {
                if written.octets.iter().any(u8::is_ascii_uppercase) {
                    self.flag(
                        n,
                        Rule::LowerCaseNames,
                        format!("{what} {shown:?} is not in lower case"),
                    );
                }
                if !written.absolute {
                    self.flag(
                        n,
                        Rule::FullyQualified,
                        format!("{what} {shown:?} is not fully qualified (no trailing dot)"),
                    );
                }
            }
        }
    }

    /// Names inside RDATA (rules 4, 5, 7, 9), type mnemonics inside RDATA
    /// (rule 2), and that the RDATA is complete (rule 1).
    fn rdata(&mut self, n: u64, t: u16, rdata: &[Vec<u8>], before: u64) {
        if rdata.first().is_some_and(|f| f == b"\\#") {
            return self.parse(n, t, rdata, before);
        }
        let names: &[(usize, &str)] = match t {
            2 => &[(0, "NS target")],
            5 => &[(0, "CNAME target")],
            12 => &[(0, "PTR target")],
            39 => &[(0, "DNAME target")],
            6 => &[(0, "SOA mname"), (1, "SOA rname")],
            15 => &[(1, "MX exchange")],
            33 => &[(3, "SRV target")],
            46 => &[(7, "RRSIG signer")],
            47 => &[(0, "NSEC next name")],
            _ => &[],
        };
        for (i, what) in names {
            if let Some(tok) = rdata.get(*i) {
                self.name(n, tok, what);
            }
        }
        let mnemonics: Vec<&Vec<u8>> = match t {
            46 => rdata.iter().take(1).collect(),
            47 => rdata.iter().skip(1).collect(),
            50 => rdata.iter().skip(5).collect(),
            _ => Vec::new(),
        };
        if let Some(m) = mnemonics
            .iter()
            .find(|m| m.iter().any(u8::is_ascii_uppercase))
        {
            self.flag(
                n,
                Rule::LowerCaseMnemonics,
                format!(
                    "type {:?} in the RDATA is not in lower case",
                    String::from_utf8_lossy(m)
                ),
            );
        }
        self.parse(n, t, rdata, before);
    }

    /// Rule 1: the RDATA holds all its fields; checked only on a line with
    /// no other problem, so a broken line gets one clear report.
    fn parse(&mut self, n: u64, t: u16, rdata: &[Vec<u8>], before: u64) {
        if self.summary.violations != before || rdata.is_empty() {
            return;
        }
        let toks: Vec<String> = rdata
            .iter()
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .collect();
        match rdata_to_wire(t, &toks, None) {
            Ok(_) | Err(RdataError::Unsupported { .. }) => {}
            Err(e) => self.flag(
                n,
                Rule::OneLine,
                format!("RDATA incomplete or malformed: {e}"),
            ),
        }
    }
}

/// The tokens of a line, the separators between them, and what the
/// lexer saw on the way (rules 1, 4, 13, 14).
struct Tokens {
    tokens: Vec<Vec<u8>>,
    seps: Vec<Vec<u8>>,
    trailing_space: bool,
    problems: Vec<(Rule, String)>,
}

/// A line through the base layer's lexer, read as the subformat reads it:
/// a token ends only at white space, so a quoted string written against a
/// word is part of it (`"a"b` is one field, not two with no separator).
fn line_tokens(l: &[u8]) -> Tokens {
    let lexed = lex_line(l);
    let mut t = Tokens {
        tokens: Vec::new(),
        seps: Vec::new(),
        trailing_space: false,
        problems: Vec::new(),
    };
    for lexeme in lexed.tokens {
        match t.tokens.last_mut() {
            Some(prev) if lexeme.adjoins => prev.extend_from_slice(&lexeme.text),
            Some(_) => {
                t.seps.push(lexeme.sep);
                t.tokens.push(lexeme.text);
            }
            None => t.tokens.push(lexeme.text),
        }
    }
    let mut paren = false;
    let mut comment = false;
    for ev in lexed.events {
        match ev {
            LexEvent::Open | LexEvent::Close if !paren => {
                let c = if ev == LexEvent::Open { '(' } else { ')' };
                t.problems
                    .push((Rule::NoParentheses, format!("parenthesis {c:?}")));
                paren = true;
            }
            LexEvent::Open | LexEvent::Close => {}
            LexEvent::Comment => {
                t.problems
                    .push((Rule::NoComments, "comment (\";\")".into()));
                comment = true;
            }
            LexEvent::EscapeAtEnd => t
                .problems
                .push((Rule::Escapes, "backslash at the end of the line".into())),
            LexEvent::UnclosedQuote => t.problems.push((
                Rule::OneLine,
                "quoted string not closed on this line".into(),
            )),
        }
    }
    t.trailing_space = !lexed.trailing.is_empty() && !comment;
    t
}

/// A class mnemonic or `CLASSnnn`, as the zone-file reader takes it.
fn is_class(tok: &[u8]) -> bool {
    std::str::from_utf8(tok)
        .ok()
        .and_then(class_from_str)
        .is_some()
}

/// The registered mnemonic of a type that can be a record in a zone: the
/// question-only types (RFC 6895 §3.1: IXFR, AXFR, MAILB, MAILA, ANY) are
/// not record types, so a zone file names them only as `TYPEnnn`.
fn mnemonic(code: u16) -> Option<&'static str> {
    let t = Rtype::new(code);
    if t.is_qtype_only() {
        None
    } else {
        t.mnemonic()
    }
}

/// Type code of a mnemonic or `TYPEnnn`, case-insensitively (RFC 3597 §5).
fn type_code(tok: &[u8]) -> Option<u16> {
    let t: Rtype = std::str::from_utf8(tok).ok()?.parse().ok()?;
    // A question-only mnemonic is refused; its TYPEnnn form is accepted.
    if t.is_qtype_only() && Rtype::from_mnemonic(std::str::from_utf8(tok).ok()?).is_some() {
        return None;
    }
    Some(t.to_int())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "mobile.\t3600\tin\tsoa\ta.nic.mobile. hostmaster.nic.mobile. 7 1800 900 1209600 900\n\
a.mobile.\t172800\tin\tns\tns1.example.net.\n\
nic.mobile.\t172800\tin\tns\ta.nic.mobile.\n\
mobile.\t3600\tin\tsoa\ta.nic.mobile. hostmaster.nic.mobile. 7 1800 900 1209600 900\n";

    fn rules(text: &str) -> Vec<(u64, u8)> {
        let (_, v) = check_bytes(text.as_bytes());
        v.iter().map(|v| (v.line, v.rule.number())).collect()
    }

    #[test]
    fn good_file_passes() {
        assert_eq!(rules(GOOD), vec![]);
    }

    #[test]
    fn writer_output_passes() {
        for signed in [false, true] {
            let z = super::super::czds::tests::sample(signed);
            let mut v = Vec::new();
            super::super::czds::write_zone(&z, &mut v).unwrap();
            let (s, bad) = check_bytes(&v);
            assert_eq!(bad, vec![], "{}", String::from_utf8_lossy(&v));
            assert!(s.lines > 10);
        }
    }

    #[test]
    fn each_rule_is_caught() {
        let soa =
            "mobile.\t3600\tin\tsoa\ta.nic.mobile. hostmaster.nic.mobile. 7 1800 900 1209600 900";
        let wrap = |mid: &str| format!("{soa}\n{mid}\n{soa}\n");
        assert_eq!(rules(&wrap("a.mobile.\t172800\tin\tns")), vec![(2, 1)]);
        assert_eq!(
            rules(&wrap("a.mobile.\t172800\tIN\tns\tb.example.")),
            vec![(2, 2)]
        );
        assert_eq!(
            rules(&wrap("a.mobile.\t1h\tin\tns\tb.example.")),
            vec![(2, 3)]
        );
        assert_eq!(
            rules(&wrap("a\\25.mobile.\t3600\tin\tns\tb.example.")),
            vec![(2, 4)]
        );
        assert_eq!(
            rules(&wrap("A.mobile.\t3600\tin\tns\tb.example.")),
            vec![(2, 5)]
        );
        assert_eq!(
            rules(&wrap("a.mobile. 3600\tin\tns\tb.example.")),
            vec![(2, 6)]
        );
        assert_eq!(
            rules(&wrap("a.mobile.\t3600\tin\tns\tb.example")),
            vec![(2, 7)]
        );
        assert_eq!(rules(&wrap("$ORIGIN mobile.")), vec![(2, 8)]);
        assert_eq!(rules(&wrap("@\t3600\tin\tns\tb.example.")), vec![(2, 9)]);
        assert_eq!(rules(&wrap("\t3600\tin\tns\tb.example.")), vec![(2, 10)]);
        assert_eq!(rules(&wrap("$INCLUDE other.zone")), vec![(2, 11)]);
        assert_eq!(rules(&wrap("$TTL 3600")), vec![(2, 12)]);
        assert_eq!(
            rules(&wrap("a.mobile.\t3600\tin\tds\t( 1 13 2 abcd )")),
            vec![(2, 13)]
        );
        assert_eq!(
            rules(&wrap("a.mobile.\t3600\tin\tns\tb.example.\t; hi")),
            vec![(2, 14)]
        );
        assert_eq!(rules(&wrap("")), vec![(2, 15)]);
        assert_eq!(rules(&format!("{soa}\n")), vec![(1, 16)]);
        assert_eq!(
            rules(&wrap(
                "b.mobile.\t3600\tin\tns\tb.example.\na.mobile.\t3600\tin\tns\tb.example."
            )),
            vec![(3, 17)]
        );
        assert_eq!(
            rules(&wrap("a.example.\t3600\tin\tns\tb.example.")),
            vec![(2, 18)]
        );
    }

    #[test]
    fn unknown_types_rfc3597() {
        let soa =
            "mobile.\t3600\tin\tsoa\ta.nic.mobile. hostmaster.nic.mobile. 7 1800 900 1209600 900";
        let f = |mid: &str| rules(&format!("{soa}\n{mid}\n{soa}\n"));
        assert_eq!(f("a.mobile.\t3600\tin\ttype65000\t\\# 2 abcd"), vec![]);
        assert_eq!(f("a.mobile.\t3600\tin\ttype2\tb.example."), vec![(2, 2)]);
        assert_eq!(f("a.mobile.\t3600\tin\tfoo\tb.example."), vec![(2, 2)]);
    }
}
