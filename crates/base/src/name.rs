//! Domain names: wire form, lower-cased, with canonical ordering (RFC 4034 §6.1).
//!
//! Owns the one representation of a name used everywhere outside the query
//! hot path (which works on the raw packet bytes). Names are stored in
//! uncompressed wire form and lower-cased on construction: DNS names compare
//! case-insensitively (RFC 4343) and the canonical form used for signing is
//! lower case (RFC 4034 §6.2), so keeping one form avoids mistakes.

use std::cmp::Ordering;
use std::fmt;

/// Longest name in wire form (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// Longest label (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

/// A fully qualified domain name in lower-cased, uncompressed wire form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Name(Box<[u8]>);

/// Why a name could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Presentation text with an empty label (`a..b`, `.a`, or the empty
    /// string); holds the text.
    #[error("empty label in {0:?} (RFC 1035 §2.3.1)")]
    EmptyLabel(String),
    /// A label of more than 63 octets (or an empty one given to
    /// [`Name::prepend`]); holds the text or the label.
    #[error("label longer than 63 octets in {0:?} (RFC 1035 §2.3.4)")]
    LabelTooLong(String),
    /// A name of more than 255 octets in wire form; holds the text (or, from
    /// [`Name::prepend`], the label).
    #[error("name longer than 255 octets: {0:?} (RFC 1035 §2.3.4)")]
    NameTooLong(String),
    /// A `\DDD` escape above 255, or a `\` at the end of the text; holds
    /// the text.
    #[error("bad escape in {0:?} (RFC 1035 §5.1)")]
    BadEscape(String),
    /// Wire form that is truncated, has a label length above 63, octets
    /// after the root label, or more than 255 octets.
    #[error("malformed wire-format name")]
    BadWire,
}

impl Name {
    /// The root name.
    pub fn root() -> Name {
        Name(Box::new([0u8]))
    }

    /// Parse presentation format (`example.mobile.` or `example.mobile`).
    /// A name without a trailing dot is taken as fully qualified as well:
    /// tldns never guesses an origin outside the zone-file reader.
    /// `\DDD` and `\X` escapes are understood (RFC 1035 §5.1).
    pub fn parse(text: &str) -> Result<Name, NameError> {
        if text == "." {
            return Ok(Name::root());
        }
        let t = text.strip_suffix('.').unwrap_or(text);
        if t.is_empty() {
            return Err(NameError::EmptyLabel(text.to_string()));
        }
        let mut wire = Vec::with_capacity(t.len() + 2);
        let mut label: Vec<u8> = Vec::with_capacity(63);
        let bytes = t.as_bytes();
        let mut i = 0;
        let push_label = |wire: &mut Vec<u8>, label: &mut Vec<u8>| -> Result<(), NameError> {
            if label.is_empty() {
                return Err(NameError::EmptyLabel(text.to_string()));
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(NameError::LabelTooLong(text.to_string()));
            }
            wire.push(label.len() as u8);
            wire.extend(label.iter().map(|b| b.to_ascii_lowercase()));
            label.clear();
            Ok(())
        };
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b'.' => push_label(&mut wire, &mut label)?,
                b'\\' => {
                    let rest = &bytes[i + 1..];
                    if rest.len() >= 3 && rest[..3].iter().all(u8::is_ascii_digit) {
                        let v = (rest[0] - b'0') as u32 * 100
                            + (rest[1] - b'0') as u32 * 10
                            + (rest[2] - b'0') as u32;
                        if v > 255 {
                            return Err(NameError::BadEscape(text.to_string()));
                        }
                        label.push(v as u8);
                        i += 3;
                    } else if let Some(&c) = rest.first() {
                        label.push(c);
                        i += 1;
                    } else {
                        return Err(NameError::BadEscape(text.to_string()));
                    }
                }
                _ => label.push(b),
            }
            i += 1;
        }
        push_label(&mut wire, &mut label)?;
        wire.push(0);
        if wire.len() > MAX_NAME_LEN {
            return Err(NameError::NameTooLong(text.to_string()));
        }
        Ok(Name(wire.into_boxed_slice()))
    }

    /// From uncompressed wire form; lower-cases it.
    pub fn from_wire(wire: &[u8]) -> Result<Name, NameError> {
        let mut i = 0;
        loop {
            let len = *wire.get(i).ok_or(NameError::BadWire)? as usize;
            if len > MAX_LABEL_LEN {
                return Err(NameError::BadWire);
            }
            if len == 0 {
                break;
            }
            i += 1 + len;
        }
        if i + 1 != wire.len() || wire.len() > MAX_NAME_LEN {
            return Err(NameError::BadWire);
        }
        Ok(Name(wire.to_ascii_lowercase().into_boxed_slice()))
    }

    /// Uncompressed, lower-cased wire form.
    pub fn wire(&self) -> &[u8] {
        &self.0
    }

    /// Length of the wire form.
    pub fn wire_len(&self) -> usize {
        self.0.len()
    }

    /// Whether this is the root name (`.`).
    pub fn is_root(&self) -> bool {
        self.0.len() == 1
    }

    /// Labels from left to right, without the root label.
    pub fn labels(&self) -> Labels<'_> {
        Labels {
            wire: &self.0,
            pos: 0,
        }
    }

    /// Number of labels, without the root label.
    pub fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// The leftmost label, or `None` for the root.
    pub fn first_label(&self) -> Option<&[u8]> {
        self.labels().next()
    }

    /// The name with its leftmost label removed (`None` for the root).
    pub fn parent(&self) -> Option<Name> {
        if self.is_root() {
            return None;
        }
        let skip = 1 + self.0[0] as usize;
        Some(Name(self.0[skip..].into()))
    }

    /// The name one label below `origin` at or above this one
    /// (`ns.foo.mobile.` → `foo.mobile.` for the origin `mobile.`): in a
    /// TLD, the delegation a name belongs to. `None` if the name is not
    /// strictly below `origin`.
    pub fn second_level(&self, origin: &Name) -> Option<Name> {
        if !self.is_subdomain_of(origin) || self.label_count() <= origin.label_count() {
            return None;
        }
        let mut off = 0;
        for _ in 0..self.label_count() - origin.label_count() - 1 {
            off += 1 + self.0[off] as usize;
        }
        Some(Name(self.0[off..].into()))
    }

    /// The presentation form without its final dot (`mobile` for
    /// `mobile.`; empty for the root): what the files of a zone are named
    /// after.
    pub fn file_stem(&self) -> String {
        let mut s = self.to_string();
        s.pop();
        s
    }

    /// `label.self`
    pub fn prepend(&self, label: &[u8]) -> Result<Name, NameError> {
        if label.is_empty() || label.len() > MAX_LABEL_LEN {
            return Err(NameError::LabelTooLong(
                String::from_utf8_lossy(label).into(),
            ));
        }
        let mut w = Vec::with_capacity(self.0.len() + 1 + label.len());
        w.push(label.len() as u8);
        w.extend(label.iter().map(|b| b.to_ascii_lowercase()));
        w.extend_from_slice(&self.0);
        if w.len() > MAX_NAME_LEN {
            return Err(NameError::NameTooLong(
                String::from_utf8_lossy(label).into(),
            ));
        }
        Ok(Name(w.into_boxed_slice()))
    }

    /// True if `self` is `other` or below it.
    pub fn is_subdomain_of(&self, other: &Name) -> bool {
        let (a, b) = (&self.0, &other.0);
        if b.len() > a.len() {
            return false;
        }
        let off = a.len() - b.len();
        if a[off..] != b[..] {
            return false;
        }
        // The suffix must start on a label boundary.
        let mut i = 0;
        while i < off {
            i += 1 + a[i] as usize;
        }
        i == off
    }
}

/// Iterator over the labels of a [`Name`].
pub struct Labels<'a> {
    wire: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let len = *self.wire.get(self.pos)? as usize;
        if len == 0 {
            return None;
        }
        let l = &self.wire[self.pos + 1..self.pos + 1 + len];
        self.pos += 1 + len;
        Some(l)
    }
}

/// RFC 4034 §6.1: compare the rightmost labels first; labels compare as
/// unsigned octet strings of their lower-cased form, a label that is a
/// prefix of another sorts first, and a name with fewer labels sorts first.
impl Ord for Name {
    fn cmp(&self, other: &Self) -> Ordering {
        // Label start offsets on the stack: a name has at most 127 labels.
        fn starts(w: &[u8], buf: &mut [u8; 128]) -> usize {
            let (mut i, mut n) = (0usize, 0usize);
            while w[i] != 0 {
                buf[n] = i as u8;
                n += 1;
                i += 1 + w[i] as usize;
            }
            n
        }
        let (a, b) = (&self.0, &other.0);
        let (mut sa, mut sb) = ([0u8; 128], [0u8; 128]);
        let (na, nb) = (starts(a, &mut sa), starts(b, &mut sb));
        for k in 1..=na.min(nb) {
            let ia = sa[na - k] as usize;
            let ib = sb[nb - k] as usize;
            let la = &a[ia + 1..ia + 1 + a[ia] as usize];
            let lb = &b[ib + 1..ib + 1 + b[ib] as usize];
            match la.cmp(lb) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        na.cmp(&nb)
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Presentation format with a trailing dot; bytes outside LDH and `_`/`*`
/// are escaped as `\DDD` (RFC 1035 §5.1).
impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str(".");
        }
        for label in self.labels() {
            for &b in label {
                if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'*' {
                    write!(f, "{}", b as char)?;
                } else {
                    write!(f, "\\{:03}", b)?;
                }
            }
            f.write_str(".")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

impl std::str::FromStr for Name {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Name, NameError> {
        Name::parse(s)
    }
}

/// True if the presentation-format name ends with an unescaped dot.
pub fn is_absolute(text: &str) -> bool {
    let Some(body) = text.strip_suffix('.') else {
        return false;
    };
    let slashes = body.bytes().rev().take_while(|&b| b == b'\\').count();
    slashes % 2 == 0
}

/// Why [`Name::parse_relative`] could not make a name absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelativeNameError {
    /// The name is relative (or `@`) and there is no origin.
    NoOrigin,
    /// The name, made absolute, is not a valid name.
    Name(NameError),
}

impl Name {
    /// A presentation-format name as a zone file means it (RFC 1035 §5.1):
    /// `@` is the origin, a name without a final unescaped dot is relative
    /// to the origin.
    pub fn parse_relative(text: &str, origin: Option<&Name>) -> Result<Name, RelativeNameError> {
        if text == "@" {
            return origin.cloned().ok_or(RelativeNameError::NoOrigin);
        }
        if is_absolute(text) {
            return Name::parse(text).map_err(RelativeNameError::Name);
        }
        let origin = origin.ok_or(RelativeNameError::NoOrigin)?;
        let full = if origin.is_root() {
            format!("{text}.")
        } else {
            format!("{text}.{origin}")
        };
        Name::parse(&full).map_err(RelativeNameError::Name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_level_below_an_origin() {
        let o = Name::parse("mobile.").unwrap();
        let n = |t: &str| Name::parse(t).unwrap();
        assert_eq!(
            n("ns1.foo.mobile.").second_level(&o),
            Some(n("foo.mobile."))
        );
        assert_eq!(n("foo.mobile.").second_level(&o), Some(n("foo.mobile.")));
        assert_eq!(n("mobile.").second_level(&o), None);
        assert_eq!(o.file_stem(), "mobile");
        assert_eq!(n("a.b.mobile").file_stem(), "a.b.mobile");
        assert_eq!(Name::root().file_stem(), "");
        assert_eq!(n("foo.example.").second_level(&o), None);
    }

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    #[test]
    fn parse_and_display_lowercase() {
        assert_eq!(n("Example.MOBILE.").to_string(), "example.mobile.");
        assert_eq!(n("example.mobile").wire(), b"\x07example\x06mobile\x00");
        assert_eq!(n(".").to_string(), ".");
    }

    #[test]
    fn parse_errors() {
        assert!(matches!(Name::parse("a..b"), Err(NameError::EmptyLabel(_))));
        assert!(matches!(
            Name::parse(&"a".repeat(64)),
            Err(NameError::LabelTooLong(_))
        ));
        let long = vec!["abcdefgh"; 40].join(".");
        assert!(matches!(Name::parse(&long), Err(NameError::NameTooLong(_))));
    }

    /// RFC 4034 §6.1 gives this list in canonical order.
    #[test]
    fn rfc4034_section_6_1_canonical_order() {
        let ordered = [
            "example.",
            "a.example.",
            "yljkjljk.a.example.",
            "Z.a.example.",
            "zABC.a.EXAMPLE.",
            "z.example.",
            "\\001.z.example.",
            "*.z.example.",
            "\\200.z.example.",
        ];
        let names: Vec<Name> = ordered.iter().map(|s| n(s)).collect();
        for w in names.windows(2) {
            assert!(w[0] < w[1], "{} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn subdomain_and_parent() {
        let o = n("mobile.");
        assert!(n("a.b.mobile").is_subdomain_of(&o));
        assert!(o.is_subdomain_of(&o));
        assert!(!n("amobile.").is_subdomain_of(&o));
        assert!(!n("x.amobile.").is_subdomain_of(&o));
        assert_eq!(n("a.b.mobile").parent().unwrap(), n("b.mobile"));
    }
}
