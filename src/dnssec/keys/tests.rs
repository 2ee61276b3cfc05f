//! The key model, K-files and generation, against BIND and ldns.

use super::kfile::{parse_time, time_human, time_text};
use super::*;
use crate::dnssec::tool_available;
use data_encoding::BASE64;
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tldns-keys-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn mobile() -> Name {
    Name::parse("mobile.").unwrap()
}

/// RFC 4034 §5.4: DS for the dskey.example.com. DNSKEY has key tag 60485.
#[test]
fn rfc4034_section_5_4_key_tag() {
    let pk = BASE64
        .decode(
            b"AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==",
        )
        .unwrap();
    let rdata = dnskey_rdata(256, 5, &pk);
    assert_eq!(key_tag(&rdata), 60485);
}

#[test]
fn time_round_trip() {
    assert_eq!(parse_time("19700101000000"), Some(0));
    assert_eq!(parse_time("20231114221320"), Some(1_700_000_000));
    assert_eq!(time_text(1_700_000_000), "20231114221320");
    assert_eq!(time_human(1_700_000_000), "Tue Nov 14 22:13:20 2023");
    assert_eq!(parse_time("2023111422132"), None);
}

#[test]
fn state_follows_timing() {
    let t = KeyTiming {
        publish: Some(10),
        activate: Some(20),
        inactive: Some(30),
        delete: Some(40),
        created: None,
    };
    let s = |n| t.state(n);
    assert_eq!(
        s(5),
        KeyState {
            published: false,
            active: false,
            retired: false
        }
    );
    assert_eq!(
        s(15),
        KeyState {
            published: true,
            active: false,
            retired: false
        }
    );
    assert_eq!(
        s(25),
        KeyState {
            published: true,
            active: true,
            retired: false
        }
    );
    assert_eq!(
        s(35),
        KeyState {
            published: true,
            active: false,
            retired: true
        }
    );
    assert_eq!(
        s(45),
        KeyState {
            published: false,
            active: false,
            retired: true
        }
    );
    assert_eq!(
        KeyTiming::default().state(0),
        KeyState {
            published: true,
            active: true,
            retired: false
        }
    );
}

#[test]
fn generate_write_read_round_trip() {
    let dir = scratch("rt");
    for alg in [13u8, 15] {
        let cfg = DnssecConfig {
            algorithm: alg,
            ..Default::default()
        };
        let made = KeyDir::generate(&dir, &mobile(), &cfg, 1_700_000_000).unwrap();
        assert_eq!(made.len(), 2);
        for k in &made {
            let base = k.file.clone().unwrap();
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(with_ext(&base, "private"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let r = SigningKey::read(&base).unwrap();
            assert_eq!(r.dnskey_rdata(), k.dnskey_rdata());
            assert_eq!(r.timing, k.timing);
            assert_eq!(r.private_file_text(), k.private_file_text());
            let sig = r.sign(b"data").unwrap();
            assert_eq!(sig.len(), 64);
        }
    }
    let all = KeyDir::load(&dir, &mobile()).unwrap();
    assert_eq!(all.len(), 4);
    assert!(all.iter().all(|k| k.timing.activate == Some(1_700_000_000)));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn duplicate_tag_names_both_files() {
    let dir = scratch("dup");
    let cfg = DnssecConfig {
        scheme: KeyScheme::Csk,
        ..Default::default()
    };
    let k = KeyDir::generate(&dir, &mobile(), &cfg, 0)
        .unwrap()
        .remove(0);
    // The same key under a second name: same tag.
    let base = k.file.clone().unwrap();
    let copy = dir.join("Kmobile.+013+99999");
    std::fs::copy(with_ext(&base, "key"), with_ext(&copy, "key")).unwrap();
    std::fs::copy(with_ext(&base, "private"), with_ext(&copy, "private")).unwrap();
    let e = KeyDir::load(&dir, &mobile()).unwrap_err().to_string();
    assert!(
        e.contains(&k.base_name()) && e.contains("Kmobile.+013+99999"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ds_sha256_matches_ldns_key2ds() {
    if !tool_available("ldns-key2ds") {
        return;
    }
    let dir = scratch("ds");
    let cfg = DnssecConfig {
        scheme: KeyScheme::Csk,
        ..Default::default()
    };
    let k = KeyDir::generate(&dir, &mobile(), &cfg, 0)
        .unwrap()
        .remove(0);
    let out = Command::new("ldns-key2ds")
        .current_dir(&dir)
        .args(["-n", "-2"])
        .arg(with_ext(k.file.as_ref().unwrap(), "key"))
        .output()
        .unwrap();
    let theirs = String::from_utf8_lossy(&out.stdout);
    let ours = k.ds(2).unwrap();
    let hex = data_encoding::HEXLOWER.encode(&ours.digest);
    assert!(
        theirs.to_ascii_lowercase().contains(&hex),
        "{theirs} vs {hex}"
    );
    assert!(
        k.ds_text(2, 86400)
            .unwrap()
            .starts_with("mobile.\t86400\tIN\tDS\t")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Keys made by dnssec-keygen (13, 15, 8) and ldns-keygen (13) load,
/// with BIND's timing metadata, and sign.
#[test]
fn reads_keys_from_bind_and_ldns() {
    let dir = scratch("theirs");
    if tool_available("dnssec-keygen") {
        for args in [
            &["-a", "ECDSAP256SHA256", "-f", "KSK"][..],
            &["-a", "ED25519"],
            &["-a", "RSASHA256", "-b", "2048"],
        ] {
            let out = Command::new("dnssec-keygen")
                .args(["-q", "-K"])
                .arg(&dir)
                .args(args)
                .args(["-P", "20300101000000", "-A", "20300102000000", "mobile."])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let base = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let k = SigningKey::read(&dir.join(&base)).unwrap();
            assert_eq!(k.base_name(), base);
            assert_eq!(k.timing.publish, parse_time("20300101000000"));
            assert!(!k.state(parse_time("20291231000000").unwrap()).published);
            assert!(k.state(parse_time("20300103000000").unwrap()).active);
            k.sign(b"x").unwrap();
        }
    }
    if tool_available("ldns-keygen") {
        let out = Command::new("ldns-keygen")
            .current_dir(&dir)
            .args(["-a", "ECDSAP256SHA256", "-k", "mobile."])
            .output()
            .unwrap();
        assert!(out.status.success());
        let base = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let k = SigningKey::read(&dir.join(&base)).unwrap();
        assert_eq!(k.base_name(), base);
        assert!(k.is_sep());
        assert_eq!(k.timing, KeyTiming::default());
    }
    let keys = KeyDir::load(&dir, &mobile()).unwrap();
    assert!(keys.len() <= 4);
    let _ = std::fs::remove_dir_all(&dir);
}

/// RSA keys: generated through the external tool, written by us, read back.
#[test]
fn rsa_generation_via_tool() {
    if !tool_available("dnssec-keygen") {
        return;
    }
    let dir = scratch("rsa");
    let cfg = DnssecConfig {
        algorithm: 8,
        rsa_bits: 2048,
        scheme: KeyScheme::Csk,
        ..Default::default()
    };
    let k = KeyDir::generate(&dir, &mobile(), &cfg, 1_700_000_000)
        .unwrap()
        .remove(0);
    assert_eq!(k.algorithm, 8);
    let r = SigningKey::read(k.file.as_ref().unwrap()).unwrap();
    assert_eq!(r.dnskey_rdata(), k.dnskey_rdata());
    assert_eq!(r.sign(b"x").unwrap().len(), 256);
    let _ = std::fs::remove_dir_all(&dir);
}
