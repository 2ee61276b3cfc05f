//! Test-only reader for the one-record-per-line output of `ldns-signzone`
//! and `ldns-read-zone`: `owner TTL CLASS TYPE RDATA`, `;` comments. Knows
//! the presentation formats of the types a signed TLD zone holds (RFC 1035
//! §3.3, RFC 3596, RFC 4034 §2.2, §3.2, §5.3, RFC 5155 §3.3, §4.3), plus TXT
//! for the Exhibit A tests. Independent of `crate::zonefile` on purpose: the
//! tests read the independent signer's output with as little of our code as
//! possible.

use crate::name::Name;
use crate::rr::{Record, bitmap_from_types, rtype, type_from_str};
use data_encoding::{BASE32HEX_NOPAD, BASE64, HEXLOWER_PERMISSIVE};
use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Debug)]
pub(crate) struct ParseError {
    pub line: usize,
    pub what: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.what)
    }
}

pub(crate) fn parse_zone(text: &str) -> Result<Vec<Record>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split(';').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        out.push(parse_line(line).map_err(|what| ParseError { line: i + 1, what })?);
    }
    Ok(out)
}

pub(crate) fn parse_line(line: &str) -> Result<Record, String> {
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() < 4 {
        return Err(format!("too few fields: {line}"));
    }
    let owner = name(f[0])?;
    // ldns prints the class between TTL and type; the TTL may be absent in
    // `.key` files.
    let (ttl, rest) = match f[1].parse::<u32>() {
        Ok(t) => (t, &f[2..]),
        Err(_) => (0, &f[1..]),
    };
    let rest = if rest[0].eq_ignore_ascii_case("IN") {
        &rest[1..]
    } else {
        rest
    };
    let t = type_from_str(rest[0]).ok_or_else(|| format!("unknown type {}", rest[0]))?;
    let rdata = rdata(t, &rest[1..])?;
    Ok(Record::new(owner, ttl, t, rdata))
}

fn name(s: &str) -> Result<Name, String> {
    Name::parse(s).map_err(|e| e.to_string())
}

fn num<T: std::str::FromStr>(s: Option<&&str>) -> Result<T, String> {
    let s = s.ok_or("missing field")?;
    s.parse().map_err(|_| format!("bad number {s}"))
}

fn salt(s: Option<&&str>) -> Result<Vec<u8>, String> {
    match *s.ok_or("missing salt")? {
        "-" => Ok(Vec::new()),
        h => HEXLOWER_PERMISSIVE
            .decode(h.as_bytes())
            .map_err(|e| e.to_string()),
    }
}

fn types(f: &[&str]) -> Result<Vec<u8>, String> {
    let t: Option<Vec<u16>> = f.iter().map(|s| type_from_str(s)).collect();
    Ok(bitmap_from_types(&t.ok_or("unknown type in bitmap")?))
}

/// YYYYMMDDHHmmSS (RFC 4034 §3.2) or plain seconds.
fn time(s: &str) -> Result<u32, String> {
    if s.len() != 14 {
        return s.parse().map_err(|_| format!("bad time {s}"));
    }
    let p = |a: usize, b: usize| -> Result<i64, String> {
        s[a..b].parse().map_err(|_| format!("bad time {s}"))
    };
    let (y, m, d) = (p(0, 4)?, p(4, 6)?, p(6, 8)?);
    // Days from civil (H. Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok((days * 86_400 + p(8, 10)? * 3600 + p(10, 12)? * 60 + p(12, 14)?) as u32)
}

fn rdata(t: u16, f: &[&str]) -> Result<Vec<u8>, String> {
    let mut v = Vec::new();
    match t {
        rtype::A => {
            let ip: Ipv4Addr = f
                .first()
                .ok_or("missing address")?
                .parse()
                .map_err(|_| "bad IPv4")?;
            v.extend_from_slice(&ip.octets());
        }
        rtype::AAAA => {
            let ip: Ipv6Addr = f
                .first()
                .ok_or("missing address")?
                .parse()
                .map_err(|_| "bad IPv6")?;
            v.extend_from_slice(&ip.octets());
        }
        rtype::NS => v.extend_from_slice(name(f.first().ok_or("missing name")?)?.wire()),
        rtype::SOA => {
            v.extend_from_slice(name(f.first().ok_or("missing mname")?)?.wire());
            v.extend_from_slice(name(f.get(1).ok_or("missing rname")?)?.wire());
            for i in 2..7 {
                v.extend_from_slice(&num::<u32>(f.get(i))?.to_be_bytes());
            }
        }
        rtype::DS => {
            v.extend_from_slice(&num::<u16>(f.first())?.to_be_bytes());
            v.push(num(f.get(1))?);
            v.push(num(f.get(2))?);
            v.extend(
                HEXLOWER_PERMISSIVE
                    .decode(f[3..].concat().as_bytes())
                    .map_err(|e| e.to_string())?,
            );
        }
        rtype::DNSKEY => {
            v.extend_from_slice(&num::<u16>(f.first())?.to_be_bytes());
            v.push(num(f.get(1))?);
            v.push(num(f.get(2))?);
            v.extend(
                BASE64
                    .decode(f[3..].concat().as_bytes())
                    .map_err(|e| e.to_string())?,
            );
        }
        rtype::RRSIG => {
            let covered = type_from_str(f.first().ok_or("missing type covered")?)
                .ok_or("bad type covered")?;
            v.extend_from_slice(&covered.to_be_bytes());
            v.push(num(f.get(1))?);
            v.push(num(f.get(2))?);
            v.extend_from_slice(&num::<u32>(f.get(3))?.to_be_bytes());
            v.extend_from_slice(&time(f.get(4).ok_or("missing expiration")?)?.to_be_bytes());
            v.extend_from_slice(&time(f.get(5).ok_or("missing inception")?)?.to_be_bytes());
            v.extend_from_slice(&num::<u16>(f.get(6))?.to_be_bytes());
            v.extend_from_slice(name(f.get(7).ok_or("missing signer")?)?.wire());
            v.extend(
                BASE64
                    .decode(f[8..].concat().as_bytes())
                    .map_err(|e| e.to_string())?,
            );
        }
        rtype::NSEC3 => {
            v.push(num(f.first())?);
            v.push(num(f.get(1))?);
            v.extend_from_slice(&num::<u16>(f.get(2))?.to_be_bytes());
            let s = salt(f.get(3))?;
            v.push(s.len() as u8);
            v.extend(s);
            let next = f.get(4).ok_or("missing next hash")?.to_ascii_uppercase();
            let h = BASE32HEX_NOPAD
                .decode(next.as_bytes())
                .map_err(|e| e.to_string())?;
            v.push(h.len() as u8);
            v.extend(h);
            v.extend(types(&f[5..])?);
        }
        rtype::NSEC3PARAM => {
            v.push(num(f.first())?);
            v.push(num(f.get(1))?);
            v.extend_from_slice(&num::<u16>(f.get(2))?.to_be_bytes());
            let s = salt(f.get(3))?;
            v.push(s.len() as u8);
            v.extend(s);
        }
        rtype::TXT => {
            for s in f {
                let s = s.trim_matches('"');
                v.push(s.len() as u8);
                v.extend_from_slice(s.as_bytes());
            }
        }
        _ => return Err(format!("type {t} not supported by the test reader")),
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rrsig_time_round_trip() {
        assert_eq!(time("19700101000000").unwrap(), 0);
        assert_eq!(time("20231114221320").unwrap(), 1_700_000_000);
        assert_eq!(
            crate::rr::rrsig_time(time("20320229120000").unwrap()),
            "20320229120000"
        );
    }

    #[test]
    fn nsec3_line_with_empty_salt_and_bitmap() {
        let r = parse_line("bahkdc0olckljccfqu4fqvr4f9fqva11.mobile.\t3600\tIN\tNSEC3\t1 0 0 -  g6s54bihl04q1ikgk0so9sma1lk9u63u NS SOA RRSIG DNSKEY NSEC3PARAM ").unwrap();
        assert_eq!(
            crate::rr::rdata_to_text(r.rtype, &r.rdata),
            "1 0 0 - g6s54bihl04q1ikgk0so9sma1lk9u63u NS SOA RRSIG DNSKEY NSEC3PARAM"
        );
    }
}
