//! The layers, checked from the source (the `use crate::…` paths of every
//! module outside its tests), so that an arrow added the wrong way fails
//! the test suite: between the top-level modules of `src/`, and between the
//! modules inside each crate of `crates/`. Layers and rules:
//! docs/architecture.md.
//!
//! The same check, as a command: `cargo test --test layers`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module of the root crate's `src/` → the top-level modules its
/// code names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    imports_of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

/// Top-level module of the crate whose sources are in `src` → the top-level
/// modules of the same crate that its code names (`crate::module`).
fn imports_of(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let src = src.to_path_buf();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(&src).unwrap();
            let parts: Vec<String> = rel
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            let file = parts.last().unwrap().clone();
            if !file.ends_with(".rs") || file == "tests.rs" || parts.iter().any(|c| c == "tests") {
                continue;
            }
            let top = if parts.len() == 1 {
                file.trim_end_matches(".rs").to_string()
            } else {
                parts[0].clone()
            };
            if top == "lib" || top == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            // An inline test module may reach anything, and the tests are
            // the last thing in a file: stop at the first one. (An
            // out-of-line `mod tests;` is a file of its own, skipped above.)
            let code = text
                .match_indices("#[cfg(test)]\n")
                .find(|(i, m)| {
                    let next = text[i + m.len()..].lines().next().unwrap_or("");
                    let next = next.trim().trim_start_matches("pub(crate) ");
                    next.starts_with("mod tests") && next.ends_with('{')
                })
                .map_or(&text[..], |(i, _)| &text[..i]);
            let code: String = code
                .lines()
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            let set = edges.entry(top.clone()).or_default();
            for m in crate_paths(&code) {
                if m != top {
                    set.insert(m);
                }
            }
        }
    }
    edges
}

/// The first module of every `crate::` path in `code`, groups expanded:
/// `crate::a::X` and `crate::{a::X, b}` (over any number of lines).
fn crate_paths(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + 7..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut start) = (0usize, 0usize);
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.insert(ident(&group[start..j]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(ident(&group[start..j]));
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.remove("");
    out
}

#[test]
fn crate_paths_reads_plain_and_grouped_imports() {
    let code = "use crate::a::X;\nuse crate::{\n    b::Y,\n    c::{D, E},\n    f,\n};\nlet x = crate::g::h();";
    let got: Vec<String> = crate_paths(code).into_iter().collect();
    assert_eq!(got, ["a", "b", "c", "f", "g"]);
}

/// The modules that reach themselves.
fn on_a_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    edges
        .keys()
        .filter(|m| reaches(edges, m, m))
        .cloned()
        .collect()
}

fn reaches(edges: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(m) = todo.pop() {
        for n in edges.get(&m).into_iter().flatten() {
            if n == to {
                return true;
            }
            if seen.insert(n.clone()) {
                todo.push(n.clone());
            }
        }
    }
    false
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let edges = imports();
    assert!(edges.len() > 10, "modules not found: {edges:?}");
    let cycles = on_a_cycle(&edges);
    assert!(
        cycles.is_empty(),
        "modules on an import cycle: {cycles:?}\n{edges:#?}"
    );
}

/// Inside each crate of `crates/` too: the base layer is ordered (iana,
/// name and time below rdata, below rr, zonefile and message), and so are
/// the zone model and the verifier.
#[test]
fn no_import_cycle_inside_any_crate() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
    let mut names: Vec<_> = std::fs::read_dir(&crates)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("src").is_dir())
        .collect();
    names.sort();
    assert!(names.len() >= 3, "crates not found: {names:?}");
    for dir in names {
        let edges = imports_of(&dir.join("src"));
        assert!(!edges.is_empty(), "no modules found in {}", dir.display());
        let cycles = on_a_cycle(&edges);
        assert!(
            cycles.is_empty(),
            "{}: modules on an import cycle: {cycles:?}\n{edges:#?}",
            dir.display()
        );
    }
}

/// The base layer's own order, as docs/architecture.md states it: the
/// registries, names and time know nothing of RDATA, records or messages.
#[test]
fn the_base_layer_is_ordered() {
    let edges = imports_of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/base/src"));
    assert!(
        edges.contains_key("rdata"),
        "base modules not found: {edges:?}"
    );
    for low in ["iana", "name", "time"] {
        for high in ["rdata", "rr", "zonefile", "message"] {
            assert!(!reaches(&edges, low, high), "base: {low} reaches {high}");
        }
    }
    for high in ["rr", "zonefile", "message"] {
        assert!(
            !reaches(&edges, "rdata", high),
            "base: rdata reaches {high}"
        );
    }
}

#[test]
fn config_is_a_leaf() {
    let edges = imports();
    let config = edges.get("config").cloned().unwrap_or_default();
    assert!(config.is_empty(), "config imports {config:?}");
}

#[test]
fn consumers_of_the_store_never_import_the_pipeline() {
    let edges = imports();
    for m in ["server", "xfr", "export", "store", "index"] {
        assert!(!reaches(&edges, m, "pipeline"), "{m} reaches the pipeline");
    }
}

#[test]
fn the_query_path_does_not_import_the_signer() {
    let edges = imports();
    for m in ["server", "index", "store"] {
        assert!(!reaches(&edges, m, "dnssec"), "{m} reaches the signer");
    }
}

/// The verifier's crate depends on the base layer and the zone model only,
/// and the zone model on the base layer only: no path to the signer.
#[test]
fn the_verifier_has_no_path_to_the_signer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let deps = |krate: &str| -> Vec<String> {
        let text =
            std::fs::read_to_string(root.join("crates").join(krate).join("Cargo.toml")).unwrap();
        text.lines()
            .filter(|l| l.starts_with("tldns"))
            .map(|l| l.split([' ', '=']).next().unwrap().to_string())
            .collect()
    };
    assert_eq!(deps("verify"), ["tldns-base", "tldns-zone"]);
    assert_eq!(deps("zone"), ["tldns-base"]);
    assert!(deps("base").is_empty());
}

/// The probe measures a server from outside: it depends on the base layer
/// (and may on the verifier), never on what builds or serves a zone. Its one
/// write, `--update-time`'s test domain, goes through
/// `probe::update_time::Committer`, which the binary implements over the SRS.
#[test]
fn the_probe_reaches_neither_the_srs_nor_the_server() {
    let edges = imports();
    assert!(edges.contains_key("probe"), "probe not found: {edges:?}");
    for m in [
        "srs", "config", "server", "index", "store", "pipeline", "dnssec", "xfr", "export",
    ] {
        assert!(
            !reaches(&edges, "probe", m),
            "probe reaches {m}: it imports {:?}",
            edges["probe"]
        );
    }
}
