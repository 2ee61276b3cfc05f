//! The `tldns` command line: SRS maintenance, building, serving.
#![forbid(unsafe_code)]

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tldns::config::Config;
use tldns::pipeline::Pipeline;
use tldns::pipeline::daemon::{Command, Daemon};
use tldns::probe::update_time::{CommitError, Committer};
use tldns::server::{self, stats::Stats};
use tldns::srs::Srs;
use tldns_base::time::unix_now;
use tracing::info;

#[derive(Parser)]
#[command(
    name = "tldns",
    version,
    about = "Authoritative nameserver for a gTLD registry"
)]
struct Cli {
    /// Zone configuration file.
    #[arg(
        long,
        global = true,
        default_value = "zones/mobile.toml",
        env = "TLDNS_CONFIG"
    )]
    config: PathBuf,
    /// SRS database: sqlite://PATH or postgres://... (overrides the config's `db`).
    #[arg(long, global = true, env = "TLDNS_DB")]
    db: Option<String>,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Registry database (SRS) maintenance.
    Srs {
        #[command(subcommand)]
        cmd: SrsCmd,
    },
    /// Build the zone from the SRS and report refused rows (publishes nothing).
    Build {
        /// Write the refusal report (JSON) here.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Serve the zone over UDP and TCP.
    Serve {
        /// Listen address (repeatable); overrides the config's `listen`.
        #[arg(long)]
        listen: Vec<SocketAddr>,
    },
    /// Serve a zone transferred from the `[secondary]` primaries (IXFR/AXFR, NOTIFY, TSIG).
    Secondary {
        /// Listen address (repeatable); overrides the config's `listen`.
        #[arg(long)]
        listen: Vec<SocketAddr>,
    },
    /// Check a zone configuration file.
    CheckConfig { file: PathBuf },
    /// DNSSEC keys (BIND K-files in the configured keys directory).
    Keys {
        #[command(subcommand)]
        cmd: KeysCmd,
    },
    /// Build, sign and verify the zone from the SRS; publish nothing.
    Verify,
    /// NSEC3 hash of a name (RFC 5155 §5), like ldns-nsec3-hash.
    Nsec3Hash {
        name: String,
        /// Salt in hex; "-" or empty for none.
        #[arg(long, short = 's', default_value = "")]
        salt: String,
        #[arg(long, short = 't', default_value_t = 0)]
        iterations: u16,
    },
    /// Build, sign and verify the zone from the SRS and write the CZDS zone
    /// file (Spec 4 §2.1): <zone>.zone.gz, .md5, .sig and the dated copy.
    Export {
        /// Export directory (default: [export] out-dir).
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a zone file (gzip or plain) against the 18 rules of Spec 4
    /// §2.1.4; exit status 0 if it passes, 1 if not, 2 if it cannot be read.
    CheckCzds { file: PathBuf },
    /// SLA probe (Spec 10 §3): validated DNS tests, resolution RTT, update time.
    Probe(Box<tldns::probe::ProbeArgs>),
    /// The demo: create and seed the SQLite SRS if it is empty, then serve.
    Demo {
        /// Domains to seed.
        #[arg(long, default_value_t = 10_000)]
        domains: usize,
        /// UDP/TCP port on 127.0.0.1.
        #[arg(long, default_value_t = 5353)]
        port: u16,
    },
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Generate keys by the configured key policy.
    Generate,
    /// Show the zone's keys: state, tag, algorithm, and the DS for the parent.
    List,
    /// Each key's role, state, timing and next event, and where the ZSK
    /// roll stands (what it waits for).
    Status {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Bring keys made elsewhere (dnssec-keygen, ldns-keygen: a K-file's
    /// `.key`, `.private` or base path) into the keys directory, checked:
    /// the zone's, a key tldns can sign with, a tag no key there has.
    Import {
        /// The keys' files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Start a key roll now, whatever the key's age. `zsk`: the successor
    /// is published at once and signs after the DNSKEY TTL and the
    /// propagation delay. `ksk`: the successor is published and signs the
    /// DNSKEY RRset beside the old KSK, and its DS goes to the parent (the
    /// DS file, the ds-hook); the old KSK stays until the new DS is at the
    /// parent. `csk`: the same for the CSK scheme's one key, which signs
    /// everything beside the old one (double signature). `algorithm`: to
    /// the configured algorithm, in RFC 6781 §4.1.4's order (new
    /// signatures, new keys, new DS, old keys out, old signatures out).
    /// A running server acts on it at its next reload (SIGHUP).
    Roll {
        /// What to roll.
        #[arg(value_parser = ["zsk", "ksk", "csk", "algorithm"])]
        role: String,
        /// `ksk`/`csk` only: switch to the standby key at once and withdraw
        /// the active one now (it is compromised or lost). Its DS must be
        /// at the parent already; the chain-of-trust gate refuses the new
        /// DNSKEY RRset otherwise.
        #[arg(long)]
        emergency: bool,
    },
    /// Publish a standby KSK (or CSK) that does not sign: its DS goes to the
    /// parent with the others, for an emergency roll.
    Standby,
    /// Confirm that the parent serves the DS of the new KSK `TAG` (for a
    /// parent tldns cannot ask, such as the root after IANA's change): the
    /// old KSK (or the old algorithm's keys) leave after the parent's DS TTL
    /// and the propagation delay.
    DsSeen {
        /// The new KSK's key tag.
        tag: u16,
    },
}

#[derive(Subcommand)]
enum SrsCmd {
    /// Create the schema (idempotent).
    Init,
    /// Add deterministic synthetic registrations.
    Seed {
        #[arg(long)]
        domains: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Load delegations, glue and DS of a TLD zone file into the SRS.
    Import {
        file: PathBuf,
        /// Write the refused records (JSON) here.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Print registered domains, one per line.
    List {
        #[arg(long)]
        with_ds: bool,
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Register a domain with name servers.
    AddDomain {
        name: String,
        #[arg(long = "ns", required = true)]
        ns: Vec<String>,
    },
    /// Delete a domain.
    RemoveDomain { name: String },
    /// Replace a domain's name servers.
    SetNs {
        name: String,
        #[arg(long = "ns", required = true)]
        ns: Vec<String>,
    },
    /// Add a DS record to a domain.
    AddDs {
        name: String,
        #[arg(long)]
        key_tag: u16,
        #[arg(long)]
        algorithm: u8,
        #[arg(long)]
        digest_type: u8,
        #[arg(long)]
        digest: String,
    },
    /// Remove a domain's DS records with this key tag.
    RemoveDs {
        name: String,
        #[arg(long)]
        key_tag: u16,
    },
    /// Put a domain on serverHold.
    Hold { name: String },
    /// Remove clientHold/serverHold.
    Unhold { name: String },
    /// Create a host or add addresses to it.
    AddHost {
        name: String,
        #[arg(long = "addr", required = true)]
        addr: Vec<IpAddr>,
    },
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // sqlx warns of every statement over 1 s: a full snapshot of a large
        // SRS is meant to take that long.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx::query=error"));
    use std::io::IsTerminal;
    // Colours only on a terminal: log files and journald get plain text.
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => b.init(),
        LogFormat::Json => b.json().init(),
    }
}

fn main() {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    if let Err(e) = run(cli) {
        eprintln!("tldns: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    if let Cmd::CheckConfig { file } = &cli.cmd {
        let c = Config::load(file)?;
        tldns::policy::Lists::load(&c)?;
        println!(
            "{}: ok ({} apex name servers, listen {:?})",
            file.display(),
            c.apex_ns.len(),
            c.zone.server.listen
        );
        return Ok(());
    }
    if let Cmd::Nsec3Hash {
        name,
        salt,
        iterations,
    } = &cli.cmd
    {
        let salt = if salt == "-" { "" } else { salt.as_str() };
        println!(
            "{}",
            tldns::dnssec::nsec3::nsec3_hash_text(name, salt, *iterations)?
        );
        return Ok(());
    }
    if let Cmd::CheckCzds { file } = &cli.cmd {
        check_czds(file);
    }
    if let Cmd::Probe(args) = &cli.cmd {
        let mut srs = ProbeSrs {
            config: &cli.config,
            db: &cli.db,
            open: None,
        };
        return Ok(tldns::probe::run(args, &mut srs)?);
    }
    if let Cmd::Keys { cmd } = &cli.cmd {
        return keys_cmd(cmd, &Config::load(&cli.config)?);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(run_async(cli))
}

fn db_url(cli_db: &Option<String>, config: &Config) -> String {
    cli_db
        .clone()
        .or_else(|| config.zone.db.clone())
        .unwrap_or_else(|| {
            let p = config
                .resolve(&config.zone.state_dir)
                .join(format!("{}.sqlite", config.origin.file_stem()));
            format!("sqlite://{}", p.display())
        })
}

/// `probe --update-time`'s way into the SRS: the probe commits its test
/// domain through [`Committer`] and knows neither the SRS nor the
/// configuration. The SRS is opened on first use, in a runtime of its own
/// (the probe is blocking), and only by the mode that commits.
struct ProbeSrs<'a> {
    config: &'a std::path::Path,
    db: &'a Option<String>,
    open: Option<(tokio::runtime::Runtime, Srs)>,
}

impl ProbeSrs<'_> {
    fn srs(&mut self) -> Result<&mut (tokio::runtime::Runtime, Srs), CommitError> {
        let open = match self.open.take() {
            Some(open) => open,
            None => {
                let config = Config::load(self.config)?;
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("starting a runtime for the SRS: {e}"))?;
                let srs = rt.block_on(Srs::connect(&db_url(self.db, &config)))?;
                (rt, srs)
            }
        };
        Ok(self.open.insert(open))
    }
}

impl Committer for ProbeSrs<'_> {
    fn connect(&mut self) -> Result<(), CommitError> {
        self.srs().map(|_| ())
    }

    fn add_domain(&mut self, name: &tldns::name::Name, ns: &[String]) -> Result<(), CommitError> {
        let (rt, srs) = self.srs()?;
        Ok(rt.block_on(srs.add_domain(&name.to_string(), ns))?)
    }

    fn remove_domain(&mut self, name: &tldns::name::Name) -> Result<(), CommitError> {
        let (rt, srs) = self.srs()?;
        Ok(rt.block_on(srs.remove_domain(&name.to_string()))?)
    }
}

async fn run_async(cli: Cli) -> Result<()> {
    let mut config = Config::load(&cli.config)?;
    if let Cmd::Secondary { listen } = &cli.cmd {
        if !listen.is_empty() {
            config.zone.server.listen = listen.clone();
        }
        return Ok(tldns::xfr::secondary::run(config).await?);
    }
    let url = db_url(&cli.db, &config);
    // A fresh clone has no state directory yet: SQLite needs the folder.
    if let Some(path) = url.strip_prefix("sqlite://")
        && let Some(dir) = std::path::Path::new(path.split('?').next().unwrap_or(path)).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let srs = Srs::connect(&url).await?;
    match cli.cmd {
        Cmd::CheckConfig { .. }
        | Cmd::Nsec3Hash { .. }
        | Cmd::Keys { .. }
        | Cmd::Probe(_)
        | Cmd::Secondary { .. }
        | Cmd::CheckCzds { .. } => {
            unreachable!("handled before the runtime starts")
        }
        Cmd::Verify => {
            let mut p = Pipeline::new(config, srs).await?;
            let built = p.build().await?;
            println!(
                "verified serial {}: {} delegations; sign {:.2}s, verify {:.2}s",
                built.zone.serial(),
                built.zone.zone.content.delegations.len(),
                built.timings.sign.as_secs_f64(),
                built.timings.verify.as_secs_f64()
            );
            Ok(())
        }
        Cmd::Srs { cmd } => srs_cmd(cmd, &srs, &config).await,
        Cmd::Export { out } => export(config, srs, out).await,
        Cmd::Build { report } => {
            let mut p = Pipeline::new(config, srs).await?;
            let spinner = progress_wanted().then(|| {
                let s = indicatif::ProgressBar::new_spinner();
                s.set_message("reading the SRS, applying policy, signing, verifying");
                s.enable_steady_tick(Duration::from_millis(120));
                s
            });
            let built = p.build().await;
            if let Some(s) = spinner {
                s.finish_and_clear();
            }
            let built = built?;
            let c = &built.report.counts;
            println!(
                "built serial {}: {} delegations, {} glue hosts, {} DS; {} rows refused; {:.2}s",
                built.zone.serial(),
                built.zone.zone.content.delegations.len(),
                c.glue_hosts,
                c.ds_published,
                built.report.refused.len(),
                built.timings.total.as_secs_f64()
            );
            let t = &built.timings;
            println!(
                "timings: snapshot {:.2}s, policy {:.2}s, sign {:.2}s, verify {:.2}s",
                t.snapshot.as_secs_f64(),
                t.policy.as_secs_f64(),
                t.sign.as_secs_f64(),
                t.verify.as_secs_f64()
            );
            if let Some(path) = report {
                built.report.write_json(&path)?;
                println!("report: {}", path.display());
            }
            Ok(())
        }
        Cmd::Serve { listen } => {
            let mut config = config;
            if !listen.is_empty() {
                config.zone.server.listen = listen;
            }
            serve(config, srs, None).await
        }
        Cmd::Demo { domains, port } => {
            srs.init().await?;
            if srs.list(false, Some(1)).await?.is_empty() {
                info!(domains, "seeding the demo SRS");
                tldns::srs::seed(
                    &srs,
                    &config.origin,
                    &config.apex_ns,
                    domains,
                    1,
                    progress_wanted(),
                )
                .await?;
            }
            // The demo is its own operator: a zone it never published gets
            // its first keys here, as `tldns keys generate` makes them.
            let dir = config.resolve(&config.zone.dnssec.keys_dir);
            if config.zone.dnssec.enabled
                && tldns::pipeline::load_keys(&config).is_err()
                && !tldns::pipeline::state::StateFile::new(
                    &config.resolve(&config.zone.state_dir),
                    &config.origin,
                )
                .path()
                .exists()
            {
                for k in tldns::dnssec::keys::KeyDir::generate(
                    &dir,
                    &config.origin,
                    &config.zone.dnssec,
                    unix_now(),
                )? {
                    info!(key = %k.base_name(), "demo: made the zone's first key");
                }
            }
            let mut config = config;
            config.zone.server.listen = vec![SocketAddr::from(([127, 0, 0, 1], port))];
            serve(config, srs, Some(port)).await
        }
    }
}

/// `tldns export`: one version built now, recorded in the zone state as
/// any published version is (by the pipeline), then written out.
async fn export(config: Config, srs: Srs, out: PathBuf) -> Result<()> {
    let mut p = Pipeline::new(config.clone(), srs).await?;
    let built = p.build().await?;
    p.commit(&built)?;
    let build_secs = built.timings.total.as_secs_f64();
    let zone = built.zone;
    let now = unix_now();
    let t = std::time::Instant::now();
    let r = tokio::task::spawn_blocking(move || {
        tldns::export::export_configured(&zone, &config, Some(&out), now)
    })
    .await??;
    println!(
        "exported serial {}: {} lines, {} bytes gzipped, md5 {}, signed by {}; build {build_secs:.1}s, export {:.1}s",
        r.serial,
        r.lines,
        r.gz_bytes,
        r.md5,
        r.signer,
        t.elapsed().as_secs_f64()
    );
    for f in &r.files {
        println!("  {}", f.display());
    }
    for f in &r.pruned {
        println!("  removed {}", f.display());
    }
    Ok(())
}

/// `tldns check-czds`: every violation on stdout; exits.
fn check_czds(file: &std::path::Path) -> ! {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let res = tldns::export::check::check_file(file, &mut |v| {
        let _ = writeln!(out, "{}:{}", file.display(), v);
    });
    match res {
        Ok(s) => {
            if s.violations == 0 {
                let _ = writeln!(out, "{}: ok ({} lines)", file.display(), s.lines);
            } else {
                let _ = writeln!(
                    out,
                    "{}: {} violations in {} lines ({})",
                    file.display(),
                    s.violations,
                    s.lines,
                    s.by_rule_text()
                );
            }
            let _ = out.flush();
            std::process::exit(if s.violations == 0 { 0 } else { 1 });
        }
        Err(e) => {
            let _ = out.flush();
            eprintln!("tldns: {e}");
            std::process::exit(2);
        }
    }
}

fn keys_cmd(cmd: &KeysCmd, config: &Config) -> Result<()> {
    use tldns::dnssec::keys::KeyDir;
    let dir = config.resolve(&config.zone.dnssec.keys_dir);
    let store = tldns::dnssec::keys::keystore(config);
    let store = &*store;
    let now = unix_now();
    let keys = match cmd {
        KeysCmd::Generate => KeyDir::generate(&dir, &config.origin, &config.zone.dnssec, now)?,
        KeysCmd::List => store.keys()?,
        KeysCmd::Status { json } => {
            let keys = store.keys()?;
            let st = tldns::dnssec::roll::status(config, &keys, now);
            if *json {
                println!("{}", serde_json::to_string_pretty(&st)?);
            } else {
                for k in &st.keys {
                    let t = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
                    println!(
                        "{} {} tag {} algorithm {} {}: created {} publish {} activate {} inactive {} delete {}{}",
                        k.name,
                        k.role,
                        k.tag,
                        k.algorithm,
                        k.state,
                        t(k.timing[0]),
                        t(k.timing[1]),
                        t(k.timing[2]),
                        t(k.timing[3]),
                        t(k.timing[4]),
                        k.next_event
                            .map_or(String::new(), |(n, v)| format!("; next: {n} at {v}"))
                    );
                }
                println!("ZSK roll: {}", st.zsk_roll);
                println!("KSK roll: {}", st.ksk_roll);
                println!("algorithm roll: {}", st.algorithm_roll);
            }
            return Ok(());
        }
        KeysCmd::Import { files } => {
            let mut out = Vec::new();
            for f in files {
                out.push(
                    KeyDir::import(&dir, &config.origin, f)
                        .with_context(|| format!("importing {}", f.display()))?,
                );
            }
            out
        }
        KeysCmd::DsSeen { tag } => {
            let keys = store.keys()?;
            match tldns::dnssec::roll::confirm_ds(store, config, &keys, *tag, now)? {
                Some(at) => println!("the old key(s) leave the DNSKEY RRset at {at}"),
                None => bail!("no key roll is waiting for the DS of key {tag}"),
            }
            return Ok(());
        }
        KeysCmd::Standby => {
            let keys = store.keys()?;
            match tldns::dnssec::roll::add_standby(store, config, &keys, now)? {
                Some(k) => println!(
                    "standby {} published; DS for the parent: {}",
                    k.base_name(),
                    k.ds_text(2, config.zone.ttl.ds)?
                ),
                None => bail!("there is a standby key already"),
            }
            return Ok(());
        }
        KeysCmd::Roll {
            role,
            emergency: true,
        } => {
            if role != "ksk" && role != "csk" {
                bail!("--emergency rolls a KSK or CSK to its standby, not a {role}");
            }
            let keys = store.keys()?;
            let (sb, old) = tldns::dnssec::roll::emergency_ksk_roll(store, config, &keys, now)?;
            println!("emergency roll: standby {sb} signs now; withdrawn: {old:?}");
            return Ok(());
        }
        KeysCmd::Roll { role, .. } if role == "algorithm" => {
            let keys = store.keys()?;
            let made = tldns::dnssec::roll::start_algorithm_roll(store, config, &keys, now)?;
            for k in &made {
                println!(
                    "algorithm roll: {} signs now, published at {}",
                    k.base_name(),
                    k.timing.publish.unwrap_or(now)
                );
            }
            return Ok(());
        }
        KeysCmd::Roll { role, .. } if role == "ksk" || role == "csk" => {
            let csk = matches!(config.zone.dnssec.scheme, tldns::config::KeyScheme::Csk);
            if csk != (role == "csk") {
                bail!(
                    "the zone's key scheme is {}: roll {}",
                    if csk { "csk" } else { "ksk-zsk" },
                    if csk { "csk" } else { "ksk" }
                );
            }
            let keys = store.keys()?;
            match tldns::dnssec::roll::start_ksk_roll(store, config, &keys, now, true)? {
                Some(k) => println!(
                    "KSK roll started: {} published; DS for the parent: {}",
                    k.base_name(),
                    k.ds_text(2, config.zone.ttl.ds)?
                ),
                None => bail!(
                    "no KSK roll started: one is under way, or there is no active KSK to roll"
                ),
            }
            return Ok(());
        }
        KeysCmd::Roll { .. } => {
            let keys = store.keys()?;
            match tldns::dnssec::roll::roll_zsk_now(store, config, &keys, now)? {
                Some(step) => println!(
                    "ZSK {} rolls: its successor signs from {}, it leaves the DNSKEY RRset at {}",
                    step.old, step.inactive, step.delete
                ),
                None => bail!(
                    "no ZSK roll started: one is under way, or there is no active ZSK to roll"
                ),
            }
            return Ok(());
        }
    };
    for k in &keys {
        println!(
            "{} tag {} algorithm {} flags {} {:?}",
            k.base_name(),
            k.key_tag,
            k.algorithm,
            k.flags,
            k.state(now)
        );
        if k.is_sep() {
            println!("  DS for the parent: {}", k.ds_text(2, config.zone.ttl.ds)?);
        }
    }
    Ok(())
}

fn progress_wanted() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

async fn srs_cmd(cmd: SrsCmd, srs: &Srs, config: &Config) -> Result<()> {
    match cmd {
        SrsCmd::Init => {
            srs.init().await?;
            println!("SRS ready: {}", srs.url());
        }
        SrsCmd::Seed { domains, seed } => {
            srs.init().await?;
            tldns::srs::seed(
                srs,
                &config.origin,
                &config.apex_ns,
                domains,
                seed,
                progress_wanted(),
            )
            .await?;
            println!("seeded {domains} domains (seed {seed})");
        }
        SrsCmd::Import { file, report } => {
            srs.init().await?;
            let r = tldns::srs::import(srs, &config.origin, &file).await?;
            // The whole report: counts, and every refused record with its rule.
            println!("{}", serde_json::to_string_pretty(&r)?);
            if let Some(p) = report {
                std::fs::write(&p, serde_json::to_string_pretty(&r)?)
                    .with_context(|| format!("writing {}", p.display()))?;
            }
        }
        SrsCmd::List { with_ds, limit } => {
            use std::io::Write;
            let names = srs.list(with_ds, limit).await?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for n in names {
                writeln!(out, "{n}")?;
            }
        }
        SrsCmd::AddDomain { name, ns } => srs.add_domain(&name, &ns).await?,
        SrsCmd::RemoveDomain { name } => srs.remove_domain(&name).await?,
        SrsCmd::SetNs { name, ns } => srs.set_ns(&name, &ns).await?,
        SrsCmd::AddDs {
            name,
            key_tag,
            algorithm,
            digest_type,
            digest,
        } => {
            srs.add_ds(&name, key_tag, algorithm, digest_type, &digest)
                .await?
        }
        SrsCmd::RemoveDs { name, key_tag } => {
            if srs.remove_ds(&name, key_tag).await? == 0 {
                bail!("{name} has no DS with key tag {key_tag}");
            }
        }
        SrsCmd::Hold { name } => srs.hold(&name).await?,
        SrsCmd::Unhold { name } => srs.unhold(&name).await?,
        SrsCmd::AddHost { name, addr } => srs.add_host(&name, &addr).await?,
    }
    Ok(())
}

/// `tldns serve` (and the demo): the first version built and published,
/// the sockets bound, then the daemon runs until SIGTERM or SIGINT; SIGHUP
/// reloads. What the loop does is [`tldns::pipeline::daemon`]; this only
/// wires it to sockets and signals.
async fn serve(config: Config, srs: Srs, demo_port: Option<u16>) -> Result<()> {
    let server_cfg = config.zone.server.clone();
    // Metrics first, so the first build's gauges are recorded.
    if let Some(addr) = server_cfg.metrics_listen {
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .with_http_listener(addr)
            .install()
            .with_context(|| format!("metrics listener on {addr}"))?;
        info!(%addr, "metrics");
    }
    // A restart serves the stored version even when the keys are gone
    // (it says why, and signs nothing new until they are back).
    let pipeline = Pipeline::starting(config, srs).await?;
    let mut daemon = Daemon::start(pipeline)
        .await
        .context("building the first version")?;
    let current = daemon.current();
    let primary = tldns::xfr::Primary::new(&daemon.pipeline().config)?;
    // The steps stored with the version read back at start: a secondary
    // at an earlier serial gets an IXFR across the restart.
    primary.seed(daemon.restored_history());
    {
        let primary = primary.clone();
        daemon.on_published(Box::new(move |old, new, step| match step {
            Some(d) => primary.record(d.clone(), new.zone.as_ref()),
            None => primary.published(&old.zone, &new.zone),
        }));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(Stats::default());
    let (threads, tcp_tasks) = server::listen(
        &server_cfg,
        &current,
        &stats,
        Some(primary.tcp_hook()),
        None,
        &stop,
    )?;
    if let Some(port) = demo_port {
        let z = &current.load().zone.zone;
        let example = z
            .content
            .delegations
            .keys()
            .find(|n| n.first_label() != Some(b"nic"))
            .cloned();
        println!(
            "tldns is serving {} (serial {}) on 127.0.0.1:{port}. Try:",
            z.origin, z.soa.serial
        );
        println!("  dig @127.0.0.1 -p {port} {} SOA +dnssec +multi", z.origin);
        if let Some(e) = example {
            println!("  dig @127.0.0.1 -p {port} {e} A +dnssec");
        }
        println!(
            "  dig @127.0.0.1 -p {port} no-such-name.{} A +dnssec",
            z.origin
        );
        for k in daemon.pipeline().keys().iter().filter(|k| k.is_sep()) {
            println!(
                "DS for a validator's trust anchor:\n  {}",
                k.ds_text(2, 3600)?
            );
        }
    }

    // The daily CZDS zone file (Spec 4 §2.1, §2.3).
    tokio::spawn(tldns::export::schedule::run(
        daemon.pipeline().config.clone(),
        current.clone(),
    ));

    // Counters into metrics now and then.
    {
        let stats = stats.clone();
        tokio::spawn(async move {
            let mut t = tokio::time::interval(Duration::from_secs(2));
            loop {
                t.tick().await;
                stats.export();
            }
        });
    }

    // Signals onto the daemon's commands: SIGHUP reloads, SIGTERM and
    // SIGINT end it.
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let (commands, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        loop {
            let c = tokio::select! {
                _ = hup.recv() => {
                    info!("SIGHUP: reloading configuration and zone");
                    Command::Reload
                }
                _ = term.recv() => Command::Shutdown,
                _ = int.recv() => Command::Shutdown,
            };
            if commands.send(c).await.is_err() || c == Command::Shutdown {
                break;
            }
        }
    });
    daemon.run(rx).await;
    stop.store(true, Ordering::Relaxed);
    for t in tcp_tasks {
        let _ = t.await;
    }
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}
