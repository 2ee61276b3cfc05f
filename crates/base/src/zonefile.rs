//! Zone-file reader: RFC 1035 §5 master files.
//!
//! Owns the presentation format going in: `$ORIGIN`, `$TTL` (RFC 2308 §4),
//! `@`, blank owners, relative names, parentheses across lines, comments,
//! quoted strings, class and TTL in either order, and RFC 3597 `\#`
//! generic RDATA. `$INCLUDE` is refused: an import reads one file, so what
//! is imported is what the operator named. Entries keep their RDATA as
//! tokens; [`rdata_to_wire`] turns them into wire form for the types a TLD
//! zone holds, the typed ones through [`crate::rdata`]. Nothing here knows
//! about the SRS or policy.
//!
//! The one zone-file lexer is here too ([`Lexer`], [`lex_line`]): the
//! reader joins its physical lines into records, and the CZDS checker,
//! whose format has one record per line, reads each line's tokens,
//! separators and events (comments, parentheses, what was left open) from
//! it. So are the presentation-form helpers both use: [`class_from_str`]
//! and the strict [`decode_name`].

use crate::iana::Class;
use crate::name::{Name, NameError, RelativeNameError};
use crate::rdata::{
    Dnskey, Ds, Nsec, Nsec3, Nsec3param, Rrsig, Soa, TextError, bad, fields, hex_field, name_field,
    num,
};
use crate::rr::{class, rtype, type_from_str, type_name};
pub use crate::time::parse_ttl;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

/// One resource record as written in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Line the record starts on (1-based).
    pub line: usize,
    /// Owner: as written, `@`, or the previous record's for a blank owner
    /// (RFC 1035 §5.1), made absolute.
    pub owner: Name,
    /// TTL in seconds: as written, else `$TTL`, else the last TTL written,
    /// else (a first SOA without any) the SOA minimum.
    pub ttl: u32,
    /// Class code as written, else the previous record's (IN at first).
    pub class: u16,
    /// Type code, from its mnemonic or `TYPEnnn` (RFC 3597 §5).
    pub rtype: u16,
    /// RDATA fields as written; quoted strings keep their quotes.
    pub rdata: Vec<String>,
    /// The `$ORIGIN` in effect, for relative names inside the RDATA.
    pub origin: Option<Name>,
}

impl Entry {
    /// The RDATA in wire form (see [`rdata_to_wire`]).
    pub fn rdata_wire(&self) -> Result<Vec<u8>, RdataError> {
        rdata_to_wire(self.rtype, &self.rdata, self.origin.as_ref())
    }
}

/// A zone file that cannot be read: the file, the line and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ZoneFileError {
    /// The file could not be read (or is not UTF-8).
    #[error("{path}: cannot read: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        error: std::io::Error,
    },
    /// A record or directive that does not parse.
    #[error("{path}:{line}: {problem}")]
    Syntax {
        /// The file, as given (for [`parse_str`], only a label).
        path: PathBuf,
        /// The line (1-based): where the record or directive starts, or where
        /// the unbalanced parenthesis or the unclosed quoted string is.
        line: usize,
        /// What is wrong.
        problem: Problem,
    },
}

/// What is wrong on a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// A `$INCLUDE` directive, which this reader refuses.
    #[error("$INCLUDE is not supported: import one file at a time")]
    Include,
    /// A `$` directive other than `$ORIGIN`, `$TTL` and `$INCLUDE`.
    #[error("unknown directive {0} (RFC 1035 §5.1)")]
    UnknownDirective(String),
    /// `$ORIGIN` or `$TTL` (named here) without its argument.
    #[error("{0} needs an argument")]
    MissingArgument(&'static str),
    /// A `)` without its `(`, or a `(` still open at the end of the file.
    #[error("unbalanced parentheses (RFC 1035 §5.1)")]
    Parenthesis,
    /// A quoted string still open at the end of the file.
    #[error("unterminated quoted string")]
    Quote,
    /// A record with a blank owner before any record had an owner.
    #[error("blank owner but no previous record (RFC 1035 §5.1)")]
    NoPreviousOwner,
    /// A relative name (or `@`), given here, with no `$ORIGIN` in effect.
    #[error("relative name {0:?} but no $ORIGIN")]
    NoOrigin(String),
    /// A name that is not a valid domain name.
    #[error("bad name {text:?}: {error}")]
    Name {
        /// The name as written.
        text: String,
        /// Why it is not a name.
        error: NameError,
    },
    /// A TTL, given here, that does not parse or is above 2^31 - 1.
    #[error("bad TTL {0:?} (RFC 2181 §8: 0 to 2147483647)")]
    Ttl(String),
    /// A record that ends before its type.
    #[error("no record type")]
    MissingType,
    /// A type, given here, that is neither a mnemonic nor `TYPEnnn`.
    #[error("unknown record type {0:?}")]
    UnknownType(String),
    /// A record without a TTL, with no `$TTL` or earlier TTL to take.
    #[error("no TTL given and no $TTL before it (RFC 2308 §4)")]
    NoTtl,
    /// RDATA that does not parse.
    #[error(transparent)]
    Rdata(#[from] RdataError),
}

/// RDATA that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RdataError {
    /// The wrong number of RDATA fields for the type.
    #[error("{rtype}: {got} fields, expected {expected}")]
    FieldCount {
        /// The record's type mnemonic.
        rtype: String,
        /// How many the type takes, as text (`"1"`, `"1 or more"`).
        expected: &'static str,
        /// How many there were.
        got: usize,
    },
    /// One field that does not parse as what it should be.
    #[error("{rtype}: bad {field} {value:?}")]
    Field {
        /// The record's type mnemonic.
        rtype: String,
        /// Which field (`"address"`, `"exchange"`, ...).
        field: &'static str,
        /// The field as written.
        value: String,
    },
    /// A type with no presentation-format parser here, not written as `\#`.
    #[error("{rtype}: no presentation-format parser here; write it as \\# (RFC 3597 §5)")]
    Unsupported {
        /// The record's type mnemonic.
        rtype: String,
    },
    /// RFC 3597 `\# length hex` whose length is not the hex data's.
    #[error("\\# says {declared} octets but the data has {actual} (RFC 3597 §5)")]
    GenericLength {
        /// The length written, in octets.
        declared: usize,
        /// The octets the hex data holds.
        actual: usize,
    },
}

/// Read and parse the zone file at `path`. `origin` is the initial
/// `$ORIGIN` (the zone's name, usually).
pub fn read_file(path: &Path, origin: Option<&Name>) -> Result<Vec<Entry>, ZoneFileError> {
    let text = std::fs::read_to_string(path).map_err(|error| ZoneFileError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    parse_str(&text, path, origin)
}

/// Parse zone-file `text`; `path` is only for messages.
pub fn parse_str(
    text: &str,
    path: &Path,
    origin: Option<&Name>,
) -> Result<Vec<Entry>, ZoneFileError> {
    let err = |line, problem| ZoneFileError::Syntax {
        path: path.to_path_buf(),
        line,
        problem,
    };
    let lines = tokenize(text).map_err(|(line, p)| err(line, p))?;
    let mut st = State {
        origin: origin.cloned(),
        default_ttl: None,
        last_ttl: None,
        last_owner: None,
        last_class: class::IN,
    };
    let mut out = Vec::new();
    for l in lines {
        if let Some(e) = st.entry(l).map_err(|(line, p)| err(line, p))? {
            out.push(e);
        }
    }
    Ok(out)
}

#[derive(Debug)]
struct Token {
    text: String,
    quoted: bool,
}

/// One record's worth of tokens (parentheses joined).
#[derive(Debug)]
struct Logical {
    line: usize,
    blank_owner: bool,
    tokens: Vec<Token>,
}

/// Split into logical lines: comments dropped, parentheses joined, quoted
/// strings kept whole with their quotes, escapes kept as written. A quoted
/// string or an escaped newline goes on across lines.
fn tokenize(text: &str) -> Result<Vec<Logical>, (usize, Problem)> {
    let mut lexer = Lexer::new();
    let mut out = Vec::new();
    let mut cur = Logical {
        line: 1,
        blank_owner: false,
        tokens: Vec::new(),
    };
    let mut depth = 0usize;
    let mut paren_line = 0;
    let token = |l: Lexeme| Token {
        text: String::from_utf8_lossy(&l.text).into_owned(),
        quoted: l.quoted,
    };
    for physical in text.split('\n') {
        let lexed = lexer.line(physical.as_bytes());
        // A line that begins inside a token goes on with that token; any
        // other line at depth 0 may begin a record.
        if depth == 0 && !lexed.continued {
            cur.line = lexed.line;
            cur.blank_owner = matches!(physical.as_bytes().first(), Some(b' ' | b'\t'));
        }
        for ev in &lexed.events {
            match ev {
                LexEvent::Open => {
                    if depth == 0 {
                        paren_line = lexed.line;
                    }
                    depth += 1;
                }
                LexEvent::Close if depth == 0 => return Err((lexed.line, Problem::Parenthesis)),
                LexEvent::Close => depth -= 1,
                LexEvent::Comment | LexEvent::UnclosedQuote | LexEvent::EscapeAtEnd => {}
            }
        }
        cur.tokens.extend(lexed.tokens.into_iter().map(token));
        if depth == 0 && !lexer.is_open() && !cur.tokens.is_empty() {
            let next = Logical {
                line: lexed.line + 1,
                blank_owner: false,
                tokens: Vec::new(),
            };
            out.push(std::mem::replace(&mut cur, next));
        }
    }
    if let Some(start) = lexer.open_quote() {
        return Err((start, Problem::Quote));
    }
    cur.tokens.extend(lexer.end().map(token));
    if depth > 0 {
        return Err((paren_line, Problem::Parenthesis));
    }
    if !cur.tokens.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// One token of a zone-file line (RFC 1035 §5.1), as the [`Lexer`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexeme {
    /// The token as written: escapes kept, a quoted string with its quotes.
    pub text: Vec<u8>,
    /// Whether it is a quoted string.
    pub quoted: bool,
    /// The white space before it on its line since the previous token (or
    /// the start of the line); parentheses are left out.
    pub sep: Vec<u8>,
    /// True when nothing at all stands between the previous token and this
    /// one: a quoted string written against a word or another quoted
    /// string (`a"b"`, `"a""b"`), which are separate tokens all the same.
    pub adjoins: bool,
}

/// What the [`Lexer`] met on a line besides tokens, in the order met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LexEvent {
    /// A `;`: the rest of the line is a comment.
    Comment,
    /// `(`: the record goes on across lines.
    Open,
    /// `)`.
    Close,
    /// The line ended inside a quoted string, which goes on on the next
    /// line.
    UnclosedQuote,
    /// The line ended with a backslash outside a quoted string: it escapes
    /// the newline.
    EscapeAtEnd,
}

/// One physical line, lexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexedLine {
    /// Its number (1-based).
    pub line: usize,
    /// Whether it began inside a token the line before left open (a quoted
    /// string, an escaped newline).
    pub continued: bool,
    /// The tokens that end on this line.
    pub tokens: Vec<Lexeme>,
    /// The white space after the last token, up to a comment or the end
    /// of the line; parentheses are left out.
    pub trailing: Vec<u8>,
    /// Comments, parentheses and what was left open, in order.
    pub events: Vec<LexEvent>,
}

/// The one zone-file lexer (RFC 1035 §5.1): white space separates tokens,
/// `;` starts a comment, `(` and `)` are reported and otherwise separate,
/// `"` quotes, and a backslash escapes the next character. It works on
/// physical lines, so a reader sees each line's tokens, separators and
/// events: the zone-file reader joins lines into records, the CZDS checker
/// reads every line by itself ([`lex_line`]). A token left open at the end
/// of a line (a quoted string, an escaped newline) goes on on the next line,
/// with the newline in it.
#[derive(Debug, Default)]
pub(crate) struct Lexer {
    line: usize,
    open: Option<Open>,
}

/// A token that goes on across a newline.
#[derive(Debug)]
struct Open {
    lexeme: Lexeme,
    in_quote: bool,
    escape: bool,
    /// Where its quoted string began.
    quote_line: usize,
}

impl Lexer {
    /// A lexer before the first line.
    pub(crate) fn new() -> Lexer {
        Lexer::default()
    }

    /// Lex the next physical line, given without its newline.
    pub(crate) fn line(&mut self, l: &[u8]) -> LexedLine {
        self.line += 1;
        let mut out = LexedLine {
            line: self.line,
            continued: self.open.is_some(),
            tokens: Vec::new(),
            trailing: Vec::new(),
            events: Vec::new(),
        };
        let mut cur = self.open.take();
        if let Some(o) = &mut cur {
            // The newline between the lines belongs to the open token.
            o.lexeme.text.push(b'\n');
            o.escape = false;
        }
        let mut sep = Vec::new();
        // The previous token ended just before this byte (a closing quote,
        // or a word a quote ends).
        let mut touching = false;
        for &b in l {
            if let Some(o) = cur.as_mut().filter(|o| o.escape || o.in_quote) {
                o.lexeme.text.push(b);
                let closes = !o.escape && b == b'"';
                o.escape = !o.escape && b == b'\\';
                if closes {
                    out.tokens.extend(cur.take().map(|o| o.lexeme));
                    touching = true;
                }
                continue;
            }
            match b {
                b' ' | b'\t' | b'\r' | b';' | b'(' | b')' => {
                    out.tokens.extend(cur.take().map(|o| o.lexeme));
                    touching = false;
                    match b {
                        b';' => {
                            out.events.push(LexEvent::Comment);
                            break;
                        }
                        b'(' => out.events.push(LexEvent::Open),
                        b')' => out.events.push(LexEvent::Close),
                        _ => sep.push(b),
                    }
                }
                _ => {
                    let quote = b == b'"';
                    if quote && let Some(word) = cur.take() {
                        out.tokens.push(word.lexeme);
                        touching = true;
                    }
                    let o = cur.get_or_insert_with(|| Open {
                        lexeme: Lexeme {
                            text: Vec::new(),
                            quoted: quote,
                            sep: std::mem::take(&mut sep),
                            adjoins: std::mem::take(&mut touching),
                        },
                        in_quote: quote,
                        escape: false,
                        quote_line: self.line,
                    });
                    o.lexeme.text.push(b);
                    o.escape = b == b'\\';
                }
            }
        }
        match cur {
            Some(o) if o.in_quote => {
                out.events.push(LexEvent::UnclosedQuote);
                self.open = Some(o);
            }
            Some(o) if o.escape => {
                out.events.push(LexEvent::EscapeAtEnd);
                self.open = Some(o);
            }
            Some(o) => out.tokens.push(o.lexeme),
            None => {}
        }
        out.trailing = sep;
        out
    }

    /// Whether a token goes on across the last newline.
    pub(crate) fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// The line a quoted string still open began on.
    pub(crate) fn open_quote(&self) -> Option<usize> {
        self.open
            .as_ref()
            .filter(|o| o.in_quote)
            .map(|o| o.quote_line)
    }

    /// The end of the input: the token still open, as it stands.
    pub(crate) fn end(&mut self) -> Option<Lexeme> {
        self.open.take().map(|o| o.lexeme)
    }
}

/// Lex one line by itself, as a format without records across lines reads
/// it (the CZDS subformat): a token left open at its end is ended there.
pub fn lex_line(l: &[u8]) -> LexedLine {
    let mut lexer = Lexer::new();
    let mut lexed = lexer.line(l);
    lexed.tokens.extend(lexer.end());
    lexed
}

struct State {
    origin: Option<Name>,
    default_ttl: Option<u32>,
    last_ttl: Option<u32>,
    last_owner: Option<Name>,
    last_class: u16,
}

impl State {
    fn entry(&mut self, l: Logical) -> Result<Option<Entry>, (usize, Problem)> {
        let line = l.line;
        let e = |p| (line, p);
        let toks = &l.tokens;
        if !l.blank_owner && !toks[0].quoted && toks[0].text.starts_with('$') {
            let d = toks[0].text.to_ascii_uppercase();
            match d.as_str() {
                "$ORIGIN" => {
                    let arg = toks.get(1).ok_or(e(Problem::MissingArgument("$ORIGIN")))?;
                    self.origin = Some(name_in(&arg.text, self.origin.as_ref()).map_err(e)?);
                }
                "$TTL" => {
                    let arg = toks.get(1).ok_or(e(Problem::MissingArgument("$TTL")))?;
                    self.default_ttl = Some(
                        parse_ttl(&arg.text).ok_or_else(|| e(Problem::Ttl(arg.text.clone())))?,
                    );
                }
                "$INCLUDE" => return Err(e(Problem::Include)),
                _ => return Err(e(Problem::UnknownDirective(toks[0].text.clone()))),
            }
            return Ok(None);
        }
        let (owner, mut rest) = if l.blank_owner {
            (
                self.last_owner.clone().ok_or(e(Problem::NoPreviousOwner))?,
                &toks[..],
            )
        } else if toks[0].text == "@" {
            (
                self.origin
                    .clone()
                    .ok_or_else(|| e(Problem::NoOrigin("@".into())))?,
                &toks[1..],
            )
        } else {
            (
                name_in(&toks[0].text, self.origin.as_ref()).map_err(e)?,
                &toks[1..],
            )
        };
        let mut ttl = None;
        let mut cls = None;
        for _ in 0..2 {
            let Some(t) = rest.first() else { break };
            if ttl.is_none() && t.text.starts_with(|c: char| c.is_ascii_digit()) {
                ttl = Some(parse_ttl(&t.text).ok_or_else(|| e(Problem::Ttl(t.text.clone())))?);
            } else if cls.is_none() && class_from_str(&t.text).is_some() {
                cls = class_from_str(&t.text);
            } else {
                break;
            }
            rest = &rest[1..];
        }
        let t = rest.first().ok_or(e(Problem::MissingType))?;
        let rt = type_from_str(&t.text).ok_or_else(|| e(Problem::UnknownType(t.text.clone())))?;
        let rdata: Vec<String> = rest[1..].iter().map(|t| t.text.clone()).collect();
        let ttl = match ttl {
            Some(t) => {
                self.last_ttl = Some(t);
                t
            }
            None => match self.default_ttl.or(self.last_ttl) {
                Some(t) => t,
                // RFC 1035 zones without $TTL took the SOA minimum.
                None if rt == rtype::SOA && rdata.len() == 7 => {
                    let t =
                        parse_ttl(&rdata[6]).ok_or_else(|| e(Problem::Ttl(rdata[6].clone())))?;
                    self.last_ttl = Some(t);
                    t
                }
                None => return Err(e(Problem::NoTtl)),
            },
        };
        let class = cls.unwrap_or(self.last_class);
        self.last_class = class;
        self.last_owner = Some(owner.clone());
        Ok(Some(Entry {
            line,
            owner,
            ttl,
            class,
            rtype: rt,
            rdata,
            origin: self.origin.clone(),
        }))
    }
}

/// The class of a record as written: a data class's mnemonic (`IN`, `CH`,
/// `HS`, `CS`) or `CLASSnnn` (RFC 3597 §5), case-insensitively. The
/// question-only `ANY` and `NONE` (RFC 6895 §3.2) are no class of a record.
pub fn class_from_str(s: &str) -> Option<u16> {
    let c: Class = s.parse().ok()?;
    let question_only =
        Class::from_mnemonic(s).is_some_and(|c| c == Class::ANY || c == Class::NONE);
    (!question_only).then_some(c.to_int())
}

/// A name as written, decoded but not resolved against an origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenName {
    /// The octets of its labels, escapes decoded, the dots between labels
    /// left out; case kept.
    pub octets: Vec<u8>,
    /// Whether it ends with an unescaped dot (is fully qualified).
    pub absolute: bool,
}

/// Decode a presentation-format name strictly (RFC 1035 §5.1): `\DDD` must
/// have three digits and stay below 256, and `\` must escape something.
/// For a checker that reports malformed names; the reader itself takes
/// names through [`name_in`], which is as lenient as [`Name::parse`].
pub fn decode_name(text: &[u8]) -> Result<WrittenName, NameError> {
    let bad = || NameError::BadEscape(String::from_utf8_lossy(text).into_owned());
    let mut octets = Vec::with_capacity(text.len());
    let mut absolute = false;
    let mut i = 0;
    while i < text.len() {
        absolute = false;
        match text[i] {
            b'\\' => {
                let r = &text[i + 1..];
                if r.first().is_some_and(u8::is_ascii_digit) {
                    if r.len() < 3 || !r[..3].iter().all(u8::is_ascii_digit) {
                        return Err(bad());
                    }
                    let v = u32::from(r[0] - b'0') * 100
                        + u32::from(r[1] - b'0') * 10
                        + u32::from(r[2] - b'0');
                    octets.push(u8::try_from(v).map_err(|_| bad())?);
                    i += 4;
                } else if let Some(&c) = r.first() {
                    octets.push(c);
                    i += 2;
                } else {
                    return Err(bad());
                }
            }
            b'.' => {
                absolute = true;
                i += 1;
            }
            c => {
                octets.push(c);
                i += 1;
            }
        }
    }
    Ok(WrittenName { octets, absolute })
}

/// A name as written in the file: absolute, `@`, or relative to `origin`.
pub(crate) fn name_in(text: &str, origin: Option<&Name>) -> Result<Name, Problem> {
    Name::parse_relative(text, origin).map_err(|e| match e {
        RelativeNameError::NoOrigin => Problem::NoOrigin(text.to_string()),
        RelativeNameError::Name(error) => Problem::Name {
            text: text.to_string(),
            error,
        },
    })
}

impl RdataError {
    /// A presentation-form error of one of the `rt` record's fields.
    fn of(rt: u16, e: TextError) -> RdataError {
        match e {
            TextError::FieldCount { expected, got } => RdataError::FieldCount {
                rtype: type_name(rt),
                expected,
                got,
            },
            TextError::Field { field, value } => RdataError::Field {
                rtype: type_name(rt),
                field,
                value,
            },
        }
    }
}

/// One `<character-string>` (RFC 1035 §3.3), quoted or not, escapes decoded.
fn character_string(s: &str) -> Result<Vec<u8>, TextError> {
    let inner = s
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s);
    let b = inner.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            let r = &b[i + 1..];
            if r.len() >= 3 && r[..3].iter().all(u8::is_ascii_digit) {
                let v = u32::from(r[0] - b'0') * 100
                    + u32::from(r[1] - b'0') * 10
                    + u32::from(r[2] - b'0');
                out.push(u8::try_from(v).map_err(|_| bad("string", s))?);
                i += 4;
            } else if let Some(&c) = r.first() {
                out.push(c);
                i += 2;
            } else {
                return Err(bad("string", s));
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    if out.len() > 255 {
        return Err(bad("string", s));
    }
    Ok(out)
}

/// RDATA tokens to wire form for A, AAAA, NS, CNAME, PTR, MX, TXT, SOA,
/// DS, CDS, DNSKEY, CDNSKEY, RRSIG, NSEC, NSEC3, NSEC3PARAM, and any type
/// written as RFC 3597 `\# length hex`. Relative names resolve against
/// `origin`. Names are written uncompressed and lower-cased. The typed
/// ones go through their type in [`crate::rdata`], which owns both
/// directions.
pub fn rdata_to_wire(
    rt: u16,
    toks: &[String],
    origin: Option<&Name>,
) -> Result<Vec<u8>, RdataError> {
    if toks.first().is_some_and(|t| t == "\\#") {
        let t = fields(toks, "\\# length [hex]", |n| n >= 2).map_err(|e| RdataError::of(rt, e))?;
        let declared: usize = num("length", t[1]).map_err(|e| RdataError::of(rt, e))?;
        let data = hex_field("hex", &t[2..]).map_err(|e| RdataError::of(rt, e))?;
        if data.len() != declared {
            return Err(RdataError::GenericLength {
                declared,
                actual: data.len(),
            });
        }
        return Ok(data);
    }
    match known_to_wire(rt, toks, origin) {
        Some(w) => w.map_err(|e| RdataError::of(rt, e)),
        None => Err(RdataError::Unsupported {
            rtype: type_name(rt),
        }),
    }
}

/// The presentation form of a type this reader knows, in wire form; `None`
/// for the others.
fn known_to_wire(
    rt: u16,
    toks: &[String],
    origin: Option<&Name>,
) -> Option<Result<Vec<u8>, TextError>> {
    let w = match rt {
        rtype::A => fields(toks, "1", |n| n == 1)
            .and_then(|t| num::<Ipv4Addr>("address", t[0]).map(|a| a.octets().to_vec())),
        rtype::AAAA => fields(toks, "1", |n| n == 1)
            .and_then(|t| num::<Ipv6Addr>("address", t[0]).map(|a| a.octets().to_vec())),
        rtype::NS | rtype::CNAME | rtype::PTR => fields(toks, "1", |n| n == 1)
            .and_then(|t| name_field("name", t[0], origin).map(|n| n.wire().to_vec())),
        rtype::MX => fields(toks, "2", |n| n == 2).and_then(|t| {
            let mut w = num::<u16>("preference", t[0])?.to_be_bytes().to_vec();
            w.extend_from_slice(name_field("exchange", t[1], origin)?.wire());
            Ok(w)
        }),
        rtype::TXT => fields(toks, "1 or more", |n| n >= 1).and_then(|t| {
            let mut w = Vec::new();
            for s in t {
                let s = character_string(s)?;
                w.push(s.len() as u8);
                w.extend_from_slice(&s);
            }
            Ok(w)
        }),
        rtype::SOA => Soa::from_text(toks, origin).map(|x| x.to_rdata()),
        rtype::DS | rtype::CDS => Ds::from_text(toks).map(|x| x.to_rdata()),
        rtype::DNSKEY | rtype::CDNSKEY => Dnskey::from_text(toks).map(|x| x.to_rdata()),
        rtype::RRSIG => Rrsig::from_text(toks, origin).map(|x| x.to_rdata()),
        rtype::NSEC => Nsec::from_text(toks, origin).map(|x| x.to_rdata()),
        rtype::NSEC3 => Nsec3::from_text(toks).map(|x| x.to_rdata()),
        rtype::NSEC3PARAM => Nsec3param::from_text(toks).map(|x| x.to_rdata()),
        _ => return None,
    };
    Some(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rr::rdata_to_text;

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    fn parse(text: &str) -> Vec<Entry> {
        parse_str(text, Path::new("t.zone"), Some(&n("mobile."))).unwrap()
    }

    fn parse_err(text: &str) -> String {
        parse_str(text, Path::new("t.zone"), Some(&n("mobile.")))
            .unwrap_err()
            .to_string()
    }

    const ZONE: &str = r#"; a TLD zone
$TTL 1h
@   IN  SOA a.nic ( hostmaster.nic.mobile.  ; comment inside
            2024010101 7200 3600
            1209600 3600 )
    86400 IN NS a.nic.mobile.
        IN 3600 NS b.nic.example.
example 172800 NS ns1.example
        NS ns2.example.net.
ns1.example A 192.0.2.1
            AAAA 2001:db8::1
example DS 12345 13 2 ( 2BB183AF5F22588179A53B0A98631FAD1A292118
                         0000000000000000 )

$ORIGIN sub.mobile.
www CH TXT "hello world" plain "a\"b" "\065"
x  TYPE65534 \# 3 abcdef
"#;

    #[test]
    fn rfc1035_section_5_1_master_file_features() {
        let es = parse(ZONE);
        let got: Vec<(usize, String, u32, u16, String)> = es
            .iter()
            .map(|e| {
                (
                    e.line,
                    e.owner.to_string(),
                    e.ttl,
                    e.class,
                    type_name(e.rtype),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (3, "mobile.".into(), 3600, 1, "SOA".into()),
                (6, "mobile.".into(), 86400, 1, "NS".into()),
                (7, "mobile.".into(), 3600, 1, "NS".into()),
                (8, "example.mobile.".into(), 172800, 1, "NS".into()),
                (9, "example.mobile.".into(), 3600, 1, "NS".into()),
                (10, "ns1.example.mobile.".into(), 3600, 1, "A".into()),
                (11, "ns1.example.mobile.".into(), 3600, 1, "AAAA".into()),
                (12, "example.mobile.".into(), 3600, 1, "DS".into()),
                (16, "www.sub.mobile.".into(), 3600, 3, "TXT".into()),
                (17, "x.sub.mobile.".into(), 3600, 3, "TYPE65534".into()),
            ]
        );
        let text = |i: usize| rdata_to_text(es[i].rtype, &es[i].rdata_wire().unwrap());
        assert_eq!(
            text(0),
            "a.nic.mobile. hostmaster.nic.mobile. 2024010101 7200 3600 1209600 3600"
        );
        assert_eq!(text(3), "ns1.example.mobile.");
        assert_eq!(text(4), "ns2.example.net.");
        assert_eq!(text(6), "2001:db8::1");
        assert_eq!(
            text(7),
            "12345 13 2 2bb183af5f22588179a53b0a98631fad1a2921180000000000000000"
        );
        assert_eq!(
            es[8].rdata,
            vec!["\"hello world\"", "plain", "\"a\\\"b\"", "\"\\065\""]
        );
        assert_eq!(
            es[8].rdata_wire().unwrap(),
            b"\x0bhello world\x05plain\x03a\"b\x01A"
        );
        assert_eq!(es[9].rdata_wire().unwrap(), vec![0xab, 0xcd, 0xef]);
    }

    #[test]
    fn without_ttl_rfc1035_uses_last_ttl_and_soa_minimum() {
        let es = parse("@ SOA a. b. 1 2 3 4 300\n@ NS a.\nx 60 NS a.\nx DS 1 13 2 00\n");
        assert_eq!(
            es.iter().map(|e| e.ttl).collect::<Vec<_>>(),
            vec![300, 300, 60, 60]
        );
        assert!(parse_err("x NS a.\n").contains("t.zone:1: no TTL"));
    }

    #[test]
    fn errors_name_file_and_line() {
        assert_eq!(
            parse_err("$TTL 60\n\n$INCLUDE other.zone\n"),
            "t.zone:3: $INCLUDE is not supported: import one file at a time"
        );
        assert!(
            parse_err("$TTL 60\n  NS a.\n").starts_with("t.zone:2: blank owner"),
            "{}",
            parse_err("$TTL 60\n  NS a.\n")
        );
        assert!(parse_err("$TTL 60\nx NS ( a.\n\n").starts_with("t.zone:2: unbalanced"));
        assert!(parse_err("$TTL 60\nx FOO a.\n").starts_with("t.zone:2: unknown record type"));
        assert!(parse_err("$TTL 60\nx 99999999999 NS a.\n").starts_with("t.zone:2: bad TTL"));
        assert!(parse_err("$TTL 60\nx TXT \"open\n").starts_with("t.zone:2: unterminated"));
        let e = parse_str("x NS a.\n", Path::new("t.zone"), None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.zone:1: relative name"), "{e}");
    }

    #[test]
    fn ttl_units() {
        assert_eq!(
            parse_ttl("1w2d3h4m5s"),
            Some(604_800 + 2 * 86_400 + 3 * 3600 + 4 * 60 + 5)
        );
        assert_eq!(parse_ttl("3600"), Some(3600));
        assert_eq!(parse_ttl("2147483648"), None);
        assert_eq!(parse_ttl("h"), None);
    }

    #[test]
    fn escaped_dot_is_not_absolute() {
        assert!(crate::name::is_absolute("a.b."));
        assert!(!crate::name::is_absolute("a\\."));
        assert!(crate::name::is_absolute("a\\\\."));
    }

    /// RFC 4034 §3.3 and §2.3 examples round-trip through wire form.
    #[test]
    fn rfc4034_examples_round_trip() {
        let es = parse(
            "$TTL 3600\n\
             host.example.com. 86400 IN RRSIG A 5 3 86400 20030322173103 ( 20030220173103 2642 example.com. \
             oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCH \
             X3DxKdfb+v6oB9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN2 \
             0XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o= )\n\
             example.com. 86400 IN DNSKEY 256 3 5 ( AQPSKmynfzW4kyBv015MUG2DeIQ3 \
             Cbl+BBZH4b/0PY1kxkmvHjcZc8no kfzj31GajIQKY+5CptLr3buXA10h WqTkF7H6RfoRqXQeogmMHfpftf6z \
             Mv1LyBUgia7za6ZEzOJBOztyvhjL 742iU/TpPSEDhm2SNKLijfUppn1U aNvv4w== )\n\
             0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example. NSEC3 1 1 12 aabbccdd ( 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG )\n\
             example. NSEC3PARAM 1 0 12 aabbccdd\n\
             alfa.example.com. 86400 IN NSEC host.example.com. ( A MX RRSIG NSEC TYPE1234 )\n",
        );
        let text: Vec<String> = es
            .iter()
            .map(|e| rdata_to_text(e.rtype, &e.rdata_wire().unwrap()))
            .collect();
        assert!(
            text[0].starts_with(
                "A 5 3 86400 20030322173103 20030220173103 2642 example.com. oJB1W6WNGv+ldvQ3"
            ),
            "{}",
            text[0]
        );
        assert!(
            text[1].starts_with("256 3 5 AQPSKmynfzW4kyBv015MUG2DeIQ3Cbl+BBZH4b/0PY1kxkmvHjcZc8no")
        );
        assert_eq!(
            text[2],
            "1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr NS SOA MX RRSIG DNSKEY NSEC3PARAM"
        );
        assert_eq!(text[3], "1 0 12 aabbccdd");
        assert_eq!(text[4], "host.example.com. A MX RRSIG NSEC TYPE1234");
    }

    #[test]
    fn generic_rdata_rfc3597_section_5() {
        let es = parse("$TTL 60\na A \\# 4 0A000001\nb TYPE731 \\# 0\n");
        assert_eq!(es[0].rdata_wire().unwrap(), vec![10, 0, 0, 1]);
        assert_eq!(es[1].rdata_wire().unwrap(), Vec::<u8>::new());
        let bad = parse("$TTL 60\na A \\# 5 0A000001\n");
        assert_eq!(
            bad[0].rdata_wire().unwrap_err(),
            RdataError::GenericLength {
                declared: 5,
                actual: 4
            }
        );
    }

    #[test]
    fn unsupported_types_keep_tokens() {
        let es = parse("$TTL 60\na SRV 0 5 5060 sip\n");
        assert_eq!(es[0].rdata, vec!["0", "5", "5060", "sip"]);
        assert!(matches!(
            es[0].rdata_wire(),
            Err(RdataError::Unsupported { .. })
        ));
    }

    #[test]
    fn lexer_gives_tokens_separators_and_events() {
        let l = lex_line(b"a.\t3600  in ( \"x y\"\"z\"w ) ; c");
        let texts: Vec<&[u8]> = l.tokens.iter().map(|t| &t.text[..]).collect();
        assert_eq!(
            texts,
            [&b"a."[..], b"3600", b"in", b"\"x y\"", b"\"z\"", b"w"]
        );
        let seps: Vec<&[u8]> = l.tokens.iter().map(|t| &t.sep[..]).collect();
        assert_eq!(seps, [&b""[..], b"\t", b"  ", b"  ", b"", b""]);
        let adjoins: Vec<bool> = l.tokens.iter().map(|t| t.adjoins).collect();
        assert_eq!(adjoins, [false, false, false, false, true, true]);
        assert_eq!(l.trailing, b"  ");
        assert_eq!(
            l.events,
            [LexEvent::Open, LexEvent::Close, LexEvent::Comment]
        );
        let l = lex_line(b"a\\");
        assert_eq!(l.tokens[0].text, b"a\\");
        assert_eq!(l.events, [LexEvent::EscapeAtEnd]);
    }

    #[test]
    fn lexer_carries_open_tokens_across_lines() {
        let mut lx = Lexer::new();
        let l1 = lx.line(b"x TXT \"a");
        assert_eq!(l1.tokens.len(), 2);
        assert_eq!(l1.events, [LexEvent::UnclosedQuote]);
        assert_eq!(lx.open_quote(), Some(1));
        let l2 = lx.line(b"b\" c\\");
        assert!(l2.continued);
        assert_eq!(l2.tokens[0].text, b"\"a\nb\"");
        assert!(l2.tokens[0].quoted);
        assert_eq!(l2.events, [LexEvent::EscapeAtEnd]);
        assert_eq!(lx.open_quote(), None);
        let l3 = lx.line(b"d");
        assert_eq!(l3.tokens[0].text, b"c\\\nd");
        assert!(!lx.is_open() && lx.end().is_none());
    }

    #[test]
    fn strict_name_decoding_rfc1035_section_5_1() {
        let w = decode_name(b"a\\065.B.").unwrap();
        assert_eq!((&w.octets[..], w.absolute), (&b"aAB"[..], true));
        let w = decode_name(b"a\\.").unwrap();
        assert_eq!((&w.octets[..], w.absolute), (&b"a."[..], false));
        assert!(decode_name(b"a\\25.mobile.").is_err());
        assert!(decode_name(b"a\\256.").is_err());
        assert!(decode_name(b"a\\").is_err());
    }

    #[test]
    fn record_classes() {
        assert_eq!(class_from_str("in"), Some(class::IN));
        assert_eq!(class_from_str("CLASS42"), Some(42));
        assert_eq!(class_from_str("ANY"), None);
        assert_eq!(class_from_str("none"), None);
        assert_eq!(class_from_str("CLASS"), None);
    }

    #[test]
    fn quoted_strings_across_lines_and_escaped_newlines() {
        let es = parse("$TTL 60\na TXT \"one\ntwo\" b\\\nc\nd NS x.\n");
        assert_eq!(es[0].rdata, vec!["\"one\ntwo\"", "b\\\nc"]);
        assert_eq!(es[0].line, 2);
        assert_eq!(
            (es[1].line, es[1].owner.to_string()),
            (5, "d.mobile.".into())
        );
    }
}
