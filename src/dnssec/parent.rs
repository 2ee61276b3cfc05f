//! What the parent vouches for: the DS RRset it holds for the zone (RFC
//! 4034 §5), against which every version's DNSKEY RRset is checked before
//! it is published (the chain-of-trust gate, in the verifier).
//!
//! Owns reading the operator's statement of the parent's DS RRset (a file
//! of DS records in zone-file syntax, `[dnssec] parent-ds-file`), asking
//! the parent's name servers for it (`[dnssec] parent-servers`,
//! [`query_ds`]: what Knot's DS submission check and BIND's `checkds` do),
//! and the
//! trust anchors a version is held to: that file when configured, else the
//! key-signing keys of the last published version (so a restart with other
//! keys cannot break a chain that a parent already holds), else none (a
//! zone never published, with no parent configured).

use crate::name::Name;
use crate::rr::{Ds, rtype};
use crate::zone::SignedZone;
use std::path::{Path, PathBuf};

/// Why the parent's DS RRset could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParentError {
    /// The file does not read or does not parse as a zone file.
    #[error("parent DS file: {0}")]
    File(#[from] tldns_base::zonefile::ZoneFileError),
    /// A record that is not a DS of the zone.
    #[error(
        "{path}:{line}: {owner} {rtype}: only DS records of {zone} belong in the parent DS file"
    )]
    NotDs {
        /// The file.
        path: PathBuf,
        /// The record's line.
        line: usize,
        /// Its owner.
        owner: Name,
        /// Its type mnemonic.
        rtype: String,
        /// The zone.
        zone: Name,
    },
    /// A DS whose RDATA does not parse.
    #[error("{path}:{line}: DS: {reason}")]
    BadDs {
        /// The file.
        path: PathBuf,
        /// The record's line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// No DS record at all: a parent with none holds the zone insecure,
    /// which is never what a TLD's operator means by naming the file.
    #[error("{0}: no DS record; the parent's DS RRset of the zone is expected here")]
    Empty(PathBuf),
}

/// The DS records in `path`, all owned by `zone` (relative owners are
/// relative to it).
pub fn read_ds_file(path: &Path, zone: &Name) -> Result<Vec<Ds>, ParentError> {
    let entries = tldns_base::zonefile::read_file(path, Some(zone))?;
    let mut out = Vec::new();
    for e in entries {
        if e.rtype != rtype::DS || &e.owner != zone {
            return Err(ParentError::NotDs {
                path: path.to_path_buf(),
                line: e.line,
                owner: e.owner,
                rtype: crate::rr::type_name(e.rtype).to_string(),
                zone: zone.clone(),
            });
        }
        let bad = |reason: String| ParentError::BadDs {
            path: path.to_path_buf(),
            line: e.line,
            reason,
        };
        let wire = e.rdata_wire().map_err(|x| bad(x.to_string()))?;
        out.push(Ds::from_rdata(&wire).map_err(|x| bad(x.to_string()))?);
    }
    if out.is_empty() {
        return Err(ParentError::Empty(path.to_path_buf()));
    }
    Ok(out)
}

/// The DS (SHA-256) of each key whose RRSIG over the DNSKEY RRset `zone`
/// holds: what a parent must hold for the version to validate, and the
/// anchors the next version is held to when no parent DS is configured.
pub fn signing_ksks(zone: &SignedZone) -> Vec<Ds> {
    let Some(d) = &zone.dnssec else {
        return Vec::new();
    };
    let signers: Vec<(u8, u16)> = d
        .apex_sigs
        .get(&rtype::DNSKEY)
        .into_iter()
        .flatten()
        .filter_map(|s| crate::rr::RrsigFields::parse(s).ok())
        .map(|f| (f.algorithm, f.key_tag))
        .collect();
    let origin = &zone.zone.origin;
    let mut out: Vec<Ds> = d
        .dnskeys
        .iter()
        .filter_map(|rd| {
            let tag = tldns_base::keytag::key_tag(rd);
            let alg = *rd.get(3)?;
            signers.contains(&(alg, tag)).then(|| Ds {
                key_tag: tag,
                algorithm: alg,
                digest_type: 2,
                digest: tldns_base::keytag::ds_digest(origin.wire(), rd, 2)
                    .expect("SHA-256 is a digest type ds_digest computes"),
            })
        })
        .collect();
    out.sort_by_key(|d| (d.key_tag, d.algorithm));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ds_records_and_refuses_anything_else() {
        let dir = std::env::temp_dir().join(format!("tldns-parent-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let zone = Name::parse("mobile.").unwrap();
        let p = dir.join("ds");
        std::fs::write(
            &p,
            "mobile. 86400 IN DS 12345 13 2 0011223344556677889900112233445566778899001122334455667788990011\n\
             @ 86400 IN DS 54321 13 4 001122334455667788990011223344556677889900112233445566778899001100112233445566778899001122334455\n",
        )
        .unwrap();
        let ds = read_ds_file(&p, &zone).unwrap();
        assert_eq!(ds.len(), 2);
        assert_eq!(
            (ds[0].key_tag, ds[0].algorithm, ds[0].digest_type),
            (12345, 13, 2)
        );
        assert_eq!(ds[1].digest.len(), 48);
        std::fs::write(&p, "mobile. 3600 IN NS a.nic.mobile.\n").unwrap();
        assert!(matches!(
            read_ds_file(&p, &zone),
            Err(ParentError::NotDs { line: 1, .. })
        ));
        std::fs::write(&p, "other. 86400 IN DS 1 13 2 00\n").unwrap();
        assert!(matches!(
            read_ds_file(&p, &zone),
            Err(ParentError::NotDs { .. })
        ));
        std::fs::write(&p, "; nothing\n").unwrap();
        assert!(matches!(
            read_ds_file(&p, &zone),
            Err(ParentError::Empty(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Why the parent's servers did not tell us their DS RRset.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// No answer within the time allowed, or a socket error.
    #[error("{server}: {error}")]
    Io {
        /// The parent server.
        server: std::net::SocketAddr,
        /// What went wrong.
        error: std::io::Error,
    },
    /// An answer that is not an authoritative NOERROR answer to our DS
    /// question (a lame or broken server, a spoofed reply).
    #[error("{server}: {why}")]
    Answer {
        /// The parent server.
        server: std::net::SocketAddr,
        /// What is wrong with it.
        why: String,
    },
}

/// How long one parent server is given (per transport).
const QUERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// The DS RRset of `zone` that every server in `servers` serves now: each
/// is asked over UDP (TCP when the answer is truncated), must answer
/// authoritatively with NOERROR (an empty answer is an empty RRset), and
/// the result is the DS records all of them hold, so a DS counts only
/// once no resolver can reach a parent server without it. Any server that
/// does not answer so is an error: the caller keeps what it knew.
pub async fn query_ds(
    servers: &[std::net::SocketAddr],
    zone: &Name,
) -> Result<Vec<Ds>, QueryError> {
    let mut common: Option<Vec<Ds>> = None;
    for s in servers {
        let got = query_one(*s, zone).await?;
        common = Some(match common {
            None => got,
            Some(c) => c.into_iter().filter(|d| got.contains(d)).collect(),
        });
    }
    let mut ds = common.unwrap_or_default();
    ds.sort();
    ds.dedup();
    Ok(ds)
}

async fn query_one(server: std::net::SocketAddr, zone: &Name) -> Result<Vec<Ds>, QueryError> {
    use tldns_base::message::{Builder, Message, flag};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let io = |error| QueryError::Io { server, error };
    let id: u16 = rand::random();
    let mut b = Builder::new(id, 0, 512);
    b.question(zone, rtype::DS, crate::rr::class::IN);
    b.edns(1232, tldns_base::iana::Rcode::NOERROR, false, &[]);
    let q = b.finish();
    let timeout = |e| io(std::io::Error::new(std::io::ErrorKind::TimedOut, e));
    let bind = if server.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let sock = tokio::net::UdpSocket::bind(bind).await.map_err(io)?;
    sock.connect(server).await.map_err(io)?;
    sock.send(&q).await.map_err(io)?;
    let mut buf = vec![0u8; 65535];
    let n = tokio::time::timeout(QUERY_TIMEOUT, sock.recv(&mut buf))
        .await
        .map_err(|_| timeout("no answer over UDP"))?
        .map_err(io)?;
    let mut m = Message::parse(&buf[..n]).map_err(|e| QueryError::Answer {
        server,
        why: format!("malformed answer: {e}"),
    })?;
    if m.id == id && m.has(flag::TC) {
        let mut tcp = tokio::time::timeout(QUERY_TIMEOUT, tokio::net::TcpStream::connect(server))
            .await
            .map_err(|_| timeout("no TCP connection"))?
            .map_err(io)?;
        let mut framed = (q.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&q);
        tcp.write_all(&framed).await.map_err(io)?;
        let read = async {
            let len = tcp.read_u16().await? as usize;
            let mut a = vec![0u8; len];
            tcp.read_exact(&mut a).await?;
            Ok::<_, std::io::Error>(a)
        };
        let a = tokio::time::timeout(QUERY_TIMEOUT, read)
            .await
            .map_err(|_| timeout("no answer over TCP"))?
            .map_err(io)?;
        m = Message::parse(&a).map_err(|e| QueryError::Answer {
            server,
            why: format!("malformed answer: {e}"),
        })?;
    }
    let bad = |why: &str| QueryError::Answer {
        server,
        why: why.to_string(),
    };
    let asked = m
        .question()
        .is_some_and(|q| &q.name == zone && q.qtype == rtype::DS);
    if m.id != id || !m.is_response() || !asked {
        return Err(bad("the answer is not to our DS question"));
    }
    if m.rcode() != tldns_base::iana::Rcode::NOERROR {
        return Err(bad(&format!("rcode {}", m.rcode())));
    }
    if !m.has(flag::AA) {
        return Err(bad("not authoritative for the parent zone (AA clear)"));
    }
    m.answers
        .iter()
        .filter(|r| r.rtype == rtype::DS && &r.owner == zone)
        .map(|r| Ds::from_rdata(&r.rdata).map_err(|_| bad("malformed DS RDATA")))
        .collect()
}
