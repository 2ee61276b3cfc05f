//! Label and host-name syntax: what a registered label and a name-server
//! host name may look like.
//!
//! Works on text as the SRS stores it, before anything becomes a
//! [`Name`]: `Name::parse` accepts any octet (escapes included), the zone
//! must only ever hold LDH labels and valid IDN A-labels (Spec 6 §1.1).
//! IDNA validation is the `idna` crate's (UTS 46 processing with STD3 rules,
//! CheckHyphens and round-trip), not ours.

use super::Rule;
use crate::name::{MAX_LABEL_LEN, Name};
use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

/// Why a label is refused: the rule and a short explanation.
pub type LabelError = (Rule, &'static str);

/// Check one lower-case label of a registered name.
///
/// RFC 1035 §2.3.1 / RFC 1123 §2.1: letters, digits and hyphen, not starting
/// or ending with a hyphen, 1 to 63 octets. RFC 5891 §4.2.3.1: hyphens in
/// positions 3 and 4 only in an `xn--` label, and that label must be a valid
/// A-label (RFC 5890 §2.3.2.1).
pub fn check_label(label: &str) -> Result<(), LabelError> {
    if label.is_empty() {
        return Err((Rule::InvalidLabel, "empty label (RFC 1035 §2.3.1)"));
    }
    if label.len() > MAX_LABEL_LEN {
        return Err((
            Rule::InvalidLabel,
            "longer than 63 octets (RFC 1035 §2.3.4)",
        ));
    }
    if label == "*" {
        return Err((Rule::Wildcard, "wildcard label (Spec 6 §2.2)"));
    }
    if !label
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err((
            Rule::InvalidLabel,
            "not only letters, digits and hyphens (RFC 1123 §2.1)",
        ));
    }
    if label.starts_with('-') {
        return Err((Rule::InvalidLabel, "starts with a hyphen (RFC 1035 §2.3.1)"));
    }
    if label.get(2..4) == Some("--") {
        return if label.starts_with("xn--") {
            check_a_label(label).map_err(|why| (Rule::InvalidIdn, why))
        } else {
            Err((
                Rule::HyphenPosition,
                "hyphens in positions 3 and 4 without xn-- (RFC 5891 §4.2.3.1)",
            ))
        };
    }
    if label.ends_with('-') {
        return Err((Rule::InvalidLabel, "ends with a hyphen (RFC 1035 §2.3.1)"));
    }
    Ok(())
}

/// An `xn--` label is a valid A-label if it decodes to a valid U-label and
/// encodes back to exactly itself (RFC 5891 §5.4: "the resulting A-label
/// MUST be identical to the original").
///
/// Limitation: UTS 46 non-transitional processing is close to, but not
/// exactly, IDNA2008's PVALID set (it accepts a few symbols IDNA2008
/// disallows, such as some emoji). Registries apply their own IDN tables at
/// registration time; this check catches broken and non-canonical labels.
fn check_a_label(label: &str) -> Result<(), &'static str> {
    let uts46 = Uts46::new();
    let (unicode, result) = uts46.to_unicode(label.as_bytes(), AsciiDenyList::STD3, Hyphens::Check);
    if result.is_err() {
        return Err("xn-- label does not decode to a valid U-label (RFC 5891 §5.4)");
    }
    if unicode.is_ascii() {
        return Err("xn-- label decodes to ASCII only: not an A-label (RFC 5890 §2.3.2.1)");
    }
    match uts46.to_ascii(
        unicode.as_bytes(),
        AsciiDenyList::STD3,
        Hyphens::Check,
        DnsLength::Verify,
    ) {
        Ok(back) if back == label => Ok(()),
        Ok(_) => Err("xn-- label is not the canonical encoding of its U-label (RFC 5891 §5.4)"),
        Err(_) => Err("U-label of the xn-- label does not encode back (RFC 5891 §4.2)"),
    }
}

/// Parse a name-server host name as stored: ASCII LDH labels (RFC 952,
/// RFC 1123 §2.1), at least two of them, trailing dot optional, any case.
/// The last label must not be all digits (RFC 3696 §2), which refuses an
/// IPv4 address given as a host name. Hyphen-position and IDNA rules are not
/// applied: foreign host names are their own registries' business.
pub fn host_name(text: &str) -> Result<Name, &'static str> {
    let t = text.strip_suffix('.').unwrap_or(text);
    if t.is_empty() {
        return Err("empty host name");
    }
    if t.len() > 253 {
        return Err("longer than 255 octets (RFC 1035 §2.3.4)");
    }
    let mut count = 0;
    let mut last = "";
    for l in t.split('.') {
        if l.is_empty() {
            return Err("empty label (RFC 1035 §2.3.1)");
        }
        if l.len() > MAX_LABEL_LEN {
            return Err("label longer than 63 octets (RFC 1035 §2.3.4)");
        }
        if !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err("not only letters, digits and hyphens (RFC 1123 §2.1)");
        }
        if l.starts_with('-') || l.ends_with('-') {
            return Err("label starts or ends with a hyphen (RFC 1123 §2.1)");
        }
        count += 1;
        last = l;
    }
    if count < 2 {
        return Err("a host name needs at least two labels");
    }
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err("all-numeric top-level label: an address, not a host name (RFC 3696 §2)");
    }
    // Only LDH octets are left, so parsing cannot meet an escape.
    Name::parse(t).map_err(|_| "not a domain name")
}

/// A list entry as a lower-case label: ASCII as is, a U-label converted to
/// its A-label (so lists may be written in either form).
pub fn list_label(entry: &str) -> Result<String, &'static str> {
    let label = if entry.is_ascii() {
        entry.to_ascii_lowercase()
    } else {
        Uts46::new()
            .to_ascii(
                entry.as_bytes(),
                AsciiDenyList::STD3,
                Hyphens::Check,
                DnsLength::Verify,
            )
            .map_err(|_| "not a valid IDN label (RFC 5891)")?
            .into_owned()
    };
    if label.contains('.') {
        return Err("one label per line, without the TLD");
    }
    check_label(&label).map_err(|(_, why)| why)?;
    Ok(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(l: &str) -> Option<Rule> {
        check_label(l).err().map(|e| e.0)
    }

    #[test]
    fn rfc1123_ldh_labels() {
        for ok in ["a", "nic", "0", "123", "a-b", "a1-2b", &"x".repeat(63)] {
            assert_eq!(rule(ok), None, "{ok}");
        }
        for bad in ["", "-a", "a-", "a_b", "a b", "é", "a.b", &"x".repeat(64)] {
            assert_eq!(rule(bad), Some(Rule::InvalidLabel), "{bad}");
        }
        assert_eq!(rule("*"), Some(Rule::Wildcard));
    }

    #[test]
    fn rfc5891_section_4_2_3_1_hyphen_positions() {
        assert_eq!(rule("ab--cd"), Some(Rule::HyphenPosition));
        assert_eq!(rule("a---b"), Some(Rule::HyphenPosition));
        assert_eq!(rule("a-b-c"), None);
        assert_eq!(rule("abc--d"), None);
    }

    #[test]
    fn rfc5891_section_5_4_a_labels() {
        assert_eq!(rule("xn--bcher-kva"), None); // bücher
        assert_eq!(rule("xn--mnchen-3ya"), None); // münchen
        assert_eq!(rule("xn--abc-"), Some(Rule::InvalidIdn));
        assert_eq!(rule("xn--"), Some(Rule::InvalidIdn));
        assert_eq!(rule("xn--a"), Some(Rule::InvalidIdn));
        // Decodes to ASCII only: a fake A-label.
        assert_eq!(rule("xn--abc"), Some(Rule::InvalidIdn));
        // "bÜcher": upper case is not a U-label (it maps to ü).
        assert_eq!(rule("xn--bcher-2pa"), Some(Rule::InvalidIdn));
        // "école" with a combining accent: not NFC (RFC 5891 §5.3).
        assert_eq!(rule("xn--ecole-6ed"), Some(Rule::InvalidIdn));
        // ZERO WIDTH JOINER outside its CONTEXTJ rule (RFC 5892 Appendix A.2).
        assert_eq!(rule("xn--ab-m1t"), Some(Rule::InvalidIdn));
        // Three CJK ideographs: odd-looking but a valid A-label.
        assert_eq!(rule("xn--zzzzzzz"), None);
    }

    #[test]
    fn host_names() {
        assert_eq!(
            host_name("NS1.Example.NET.").unwrap().to_string(),
            "ns1.example.net."
        );
        assert_eq!(
            host_name("ns.foo.mobile").unwrap().to_string(),
            "ns.foo.mobile."
        );
        for bad in [
            "",
            ".",
            "ns",
            "ns..foo",
            "ns_1.foo.net",
            "-ns.foo.net",
            "192.0.2.1",
            "ns\\.x.net",
        ] {
            assert!(host_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn list_entries() {
        assert_eq!(list_label("WWW").unwrap(), "www");
        assert_eq!(list_label("bücher").unwrap(), "xn--bcher-kva");
        assert!(list_label("a.mobile").is_err());
        assert!(list_label("ab--cd").is_err());
    }
}
