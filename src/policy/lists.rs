//! The reserved-name (Spec 5) and name-collision (Spec 6 §6) lists.
//!
//! The lists change over time (ICANN adds IGO identifiers, releases
//! two-character labels, publishes block lists), so they are data files
//! named in the configuration, not code. Format: one label per line, `#`
//! starts a comment, blank lines are ignored, any case, U-labels are
//! converted to A-labels. This module reads the files; it does not decide.

use super::PolicyError;
use super::label::list_label;
use crate::config::Config;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Labels that must not be activated, as lower-case A-labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lists {
    /// Spec 5 reserved names beyond the built-in ones (`example` and all
    /// two-character labels are reserved in code, whatever the file says).
    pub reserved: HashSet<String>,
    /// Spec 6 §6 second-level names blocked for name collisions.
    pub collision: HashSet<String>,
}

/// Labels no list may hold: Spec 5 §3.1 says `nic` must be activated.
const MUST_ACTIVATE: &[&str] = &["nic"];

impl Lists {
    /// Read the files named in `config.zone.policy`; a list that is not
    /// configured is empty.
    pub fn load(config: &Config) -> Result<Lists, PolicyError> {
        let p = &config.zone.policy;
        let read = |f: &Option<PathBuf>| match f {
            Some(f) => read_list(&config.resolve(f)),
            None => Ok(HashSet::new()),
        };
        Ok(Lists {
            reserved: read(&p.reserved_list)?,
            collision: read(&p.collision_list)?,
        })
    }
}

/// Parse one list's text as if read from `path` (named in errors).
pub fn parse_list(path: &Path, text: &str) -> Result<HashSet<String>, PolicyError> {
    let mut out = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let entry = line.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        let invalid = |reason: &'static str| PolicyError::ListEntry {
            path: path.to_path_buf(),
            line: i + 1,
            entry: entry.to_string(),
            reason,
        };
        let label = list_label(entry).map_err(invalid)?;
        if MUST_ACTIVATE.contains(&label.as_str()) {
            return Err(invalid("Spec 5 §3.1: nic must be activated in the DNS"));
        }
        out.insert(label);
    }
    Ok(out)
}

fn read_list(path: &Path) -> Result<HashSet<String>, PolicyError> {
    let text = std::fs::read_to_string(path).map_err(|error| PolicyError::ListRead {
        path: path.to_path_buf(),
        error,
    })?;
    parse_list(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
version = 1
origin = "mobile."
[soa]
mname = "a.nic.mobile."
rname = "hostmaster.nic.mobile."
refresh = 7200
retry = 3600
expire = 1209600
minimum = 3600
[[apex-ns]]
name = "a.nic.mobile."
addresses = ["192.0.2.53"]
[policy]
reserved-list = "zones/mobile.reserved.txt"
collision-list = "zones/mobile.collision.txt"
"#;

    #[test]
    fn format_comments_blanks_case() {
        let l = parse_list(
            Path::new("r.txt"),
            "# header\n\nWWW  # inline\n  rdds\nwhois\nwww\n",
        )
        .unwrap();
        let want: HashSet<String> = ["www", "rdds", "whois"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(l, want);
    }

    #[test]
    fn invalid_entry_names_file_and_line() {
        let e = parse_list(Path::new("r.txt"), "www\n\nab--cd\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("r.txt:3: \"ab--cd\":"), "{e}");
        let e = parse_list(Path::new("r.txt"), "foo.mobile\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("r.txt:1:"), "{e}");
    }

    #[test]
    fn nic_may_not_be_listed() {
        let e = parse_list(Path::new("c.txt"), "corp\nNIC\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("c.txt:2: \"NIC\": Spec 5 §3.1"), "{e}");
    }

    /// The demo TLD's lists parse and hold what Spec 5 §3.1 names.
    #[test]
    fn demo_lists_load() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tldns.toml");
        let config = Config::parse(&path, CONFIG).unwrap();
        let lists = Lists::load(&config).unwrap();
        for l in ["example", "www", "rdds", "whois"] {
            assert!(lists.reserved.contains(l), "{l}");
        }
        assert!(!lists.reserved.contains("nic"));
        for l in ["corp", "home", "mail", "local", "internal"] {
            assert!(lists.collision.contains(l), "{l}");
        }
    }

    #[test]
    fn missing_file_is_an_error_unconfigured_is_empty() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tldns.toml");
        let bad = CONFIG.replace("mobile.collision.txt", "no-such-list.txt");
        let e = Lists::load(&Config::parse(&path, &bad).unwrap()).unwrap_err();
        assert!(matches!(e, PolicyError::ListRead { .. }), "{e}");
        let none = CONFIG
            .replace("reserved-list", "# reserved-list")
            .replace("collision-list", "# c");
        assert_eq!(
            Lists::load(&Config::parse(&path, &none).unwrap()).unwrap(),
            Lists::default()
        );
    }
}
