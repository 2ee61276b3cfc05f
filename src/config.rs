//! Zone configuration: one versioned TOML file per TLD (`zones/<tld>.toml`).
//!
//! Owns parsing and checking of the file; every error names the file, the
//! line and the key. Nothing here touches the SRS or the network. Relative
//! paths in the file are relative to the file's own directory.
//!
//! A leaf: it imports nothing from tldns but the base layer (`tldns_base`),
//! so every other module may read the configuration without a cycle.

use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use tldns_base::name::Name;
use tldns_base::time::TimeOfDay;

/// The configuration format this build reads.
pub const CONFIG_VERSION: u32 = 1;

/// The file `zones/<tld>.toml` as written: one field per top-level key or
/// table, defaults filled in; only syntax, key names and types are checked
/// here, the rest in [`Config::parse`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ZoneConfig {
    /// Format version; must be [`CONFIG_VERSION`].
    pub version: u32,
    /// The TLD, e.g. `mobile.`.
    pub origin: String,
    /// `[soa]`: the apex SOA's fields other than the serial.
    pub soa: SoaConfig,
    /// `[ttl]`: TTLs of the records the configuration makes.
    #[serde(default)]
    pub ttl: TtlConfig,
    /// The TLD's own name servers; their in-zone addresses become apex glue.
    pub apex_ns: Vec<ApexNs>,
    /// `[serial]`: how the SOA serial of each new version is chosen.
    #[serde(default)]
    pub serial: SerialConfig,
    /// `[policy]`: what the SRS may publish.
    #[serde(default)]
    pub policy: PolicyConfig,
    /// `[server]`: listening and answering.
    #[serde(default)]
    pub server: ServerConfig,
    /// `[dnssec]`: signing; on by default.
    #[serde(default)]
    pub dnssec: DnssecConfig,
    /// `[export]`: the daily CZDS zone file.
    #[serde(default)]
    pub export: ExportConfig,
    /// SRS database URL (`sqlite://PATH` or `postgres://...`); `--db` overrides.
    #[serde(default)]
    pub db: Option<String>,
    /// Directory for state that must survive restarts (the last serial).
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    /// TSIG keys (RFC 8945) for transfers and NOTIFY.
    #[serde(default)]
    pub tsig_key: Vec<TsigKeyConfig>,
    /// Transfers out (AXFR/IXFR, NOTIFY) to secondaries.
    #[serde(default)]
    pub transfer: TransferConfig,
    /// Secondary mode (`tldns secondary`): the primaries to transfer from.
    #[serde(default)]
    pub secondary: Option<SecondaryConfig>,
}

/// A TSIG key (`[[tsig-key]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TsigKeyConfig {
    /// Key name, as configured on the peer too (`xfr.mobile.`).
    pub name: String,
    /// hmac-sha256 (default), hmac-sha512 or hmac-sha1.
    #[serde(default = "default_tsig_algorithm")]
    pub algorithm: String,
    /// The shared secret, base64.
    pub secret: String,
}

fn default_tsig_algorithm() -> String {
    "hmac-sha256".into()
}

/// `[transfer]`: who may transfer the zone from us, and whom we notify.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct TransferConfig {
    /// Diffs kept for IXFR (RFC 1995); older serials get an AXFR-style answer.
    pub ixfr_history: usize,
    /// `[[transfer.secondaries]]`; none by default.
    pub secondaries: Vec<SecondaryPeer>,
}

impl Default for TransferConfig {
    fn default() -> Self {
        TransferConfig {
            ixfr_history: 16,
            secondaries: Vec::new(),
        }
    }
}

/// `[[transfer.secondaries]]`: one secondary.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecondaryPeer {
    /// Where NOTIFY goes; transfers are allowed from this IP address.
    pub address: SocketAddr,
    /// Send NOTIFY (RFC 1996) on every new serial.
    #[serde(default = "default_true")]
    pub notify: bool,
    /// The TSIG key the secondary must sign its requests with.
    pub tsig_key: String,
}

fn default_true() -> bool {
    true
}

/// `[secondary]`: serve a zone transferred from primaries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecondaryConfig {
    /// Tried in order.
    pub primaries: Vec<PrimaryPeer>,
    /// UDP address for NOTIFY from the primaries (NOTIFY over TCP is also
    /// accepted on the serving addresses).
    #[serde(default)]
    pub notify_listen: Option<SocketAddr>,
    /// Verify DNSSEC of every received version before serving it.
    #[serde(default = "default_true")]
    pub verify_dnssec: bool,
}

/// One primary of `[secondary]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PrimaryPeer {
    /// The primary's address and port (53 for a standard server).
    pub address: SocketAddr,
    /// TSIG key for our requests; NOTIFY from this primary must carry it too.
    #[serde(default)]
    pub tsig_key: Option<String>,
}

fn default_state_dir() -> PathBuf {
    PathBuf::from("var")
}

/// `[soa]`: the apex SOA's fields (RFC 1035 §3.3.13) other than the serial,
/// which [`SerialConfig`] chooses. All required.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SoaConfig {
    /// `mname`: the primary master's name.
    pub mname: String,
    /// `rname`: the responsible mailbox, as a name (`hostmaster.nic.mobile.`).
    pub rname: String,
    /// `refresh`: seconds between a secondary's serial checks.
    pub refresh: u32,
    /// `retry`: seconds before a secondary retries a failed refresh.
    pub retry: u32,
    /// `expire`: seconds after which a secondary that cannot refresh stops
    /// answering.
    pub expire: u32,
    /// Negative-caching TTL (RFC 2308 §4).
    pub minimum: u32,
}

/// `[ttl]`: TTLs, in seconds, of the records tldns makes from the
/// configuration and the SRS.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct TtlConfig {
    /// `soa`: the apex SOA; default 3600. Negative answers use the smaller of
    /// this and `[soa] minimum` (RFC 2308 §5).
    pub soa: u32,
    /// `ns`: the apex and delegation NS RRsets; default 172800 (two days).
    pub ns: u32,
    /// `ds`: delegation DS RRsets; default 86400.
    pub ds: u32,
    /// `glue`: glue addresses; default 172800.
    pub glue: u32,
    /// `dnskey`: the apex DNSKEY RRset; default 3600.
    pub dnskey: u32,
}

impl Default for TtlConfig {
    fn default() -> Self {
        use tldns_base::rr::default_ttl;
        TtlConfig {
            soa: default_ttl::SOA,
            ns: default_ttl::NS,
            ds: default_ttl::DS,
            glue: default_ttl::GLUE,
            dnskey: default_ttl::DNSKEY,
        }
    }
}

/// `[[apex-ns]]`: one of the TLD's own name servers (at least one is
/// required).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ApexNs {
    /// `name`: the server's name; if inside the zone it must be below a
    /// registered name (`a.nic.mobile.`) and have `addresses`.
    pub name: String,
    /// Addresses; required when the name is inside the zone (glue).
    #[serde(default)]
    pub addresses: Vec<IpAddr>,
}

/// `[serial] scheme`: how the next SOA serial is chosen (RFC 1982 arithmetic
/// keeps it increasing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SerialScheme {
    /// Seconds since the epoch at build time, or last + 1 if that is not greater.
    #[default]
    Unixtime,
    /// Last serial + 1.
    Increment,
    /// YYYYMMDDnn, or last + 1 if that is not greater.
    Dateserial,
}

/// `[serial]`; the table may be left out.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SerialConfig {
    /// `scheme`: default `unixtime`.
    #[serde(default)]
    pub scheme: SerialScheme,
}

/// `[policy]`: what a version built from the SRS may hold.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyConfig {
    /// Spec 5 reserved names, one label per line (`#` comments).
    pub reserved_list: Option<PathBuf>,
    /// Spec 6 §6 name-collision block list, one label per line.
    pub collision_list: Option<PathBuf>,
    /// Extra record types allowed by an RSEP approval; empty by default.
    #[serde(default)]
    pub allowed_extra_types: Vec<String>,
    /// Largest fraction of delegations a new version may add or lose
    /// relative to the last published one before verify refuses it.
    #[serde(default = "default_max_change")]
    pub max_delegation_change: f64,
    /// `max-ns-per-domain`: a domain with more name servers is refused
    /// (and reported). Default 13, as registries' EPP servers commonly
    /// allow; at most 60, so that a referral's names stay within the
    /// 16 KiB that compression pointers reach (RFC 1035 §4.1.4).
    #[serde(default = "default_max_ns")]
    pub max_ns_per_domain: usize,
}

fn default_max_ns() -> usize {
    13
}

/// The largest `max-ns-per-domain`: 60 name servers of the longest names
/// (255 octets, with their record headers) stay below 16 KiB.
pub const MAX_NS_PER_DOMAIN: usize = 60;

fn default_max_change() -> f64 {
    0.1
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            reserved_list: None,
            collision_list: None,
            allowed_extra_types: Vec::new(),
            max_delegation_change: default_max_change(),
            max_ns_per_domain: default_max_ns(),
        }
    }
}

/// `[server]`: listening and answering.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServerConfig {
    /// `listen`: UDP and TCP addresses served; default `127.0.0.1:5353`; may not
    /// be empty.
    pub listen: Vec<SocketAddr>,
    /// UDP worker threads; 0 means one per core. Default 0.
    pub udp_workers: usize,
    /// Largest UDP payload we send, whatever the client offers (RFC 6891
    /// §6.2.5). Default 1232; at least 512.
    pub edns_max_payload: u16,
    /// `tcp-idle-timeout-ms`: a TCP connection idle this long is closed (RFC 7766
    /// §6.2.3); default 10000.
    pub tcp_idle_timeout_ms: u64,
    /// `tcp-max-connections`: TCP connections served at once, at least 1
    /// (a connection over the cap is closed at once, RFC 7766 §6.2.2);
    /// default 1000.
    pub tcp_max_connections: usize,
    /// `tcp-max-connections-per-source`: of those, from one source address;
    /// default 100.
    pub tcp_max_connections_per_source: usize,
    /// `tcp-write-timeout-ms`: a connection whose answer cannot be written
    /// within this (a client that does not read) is closed; default 5000.
    pub tcp_write_timeout_ms: u64,
    /// `rrl-responses-per-second`: response rate limiting on UDP
    /// ([`crate::server::rrl`]), responses per second per source prefix
    /// and kind of response; 0 turns it off. Default 200 (NSD's), which no
    /// real resolver reaches for one name of a TLD.
    pub rrl_responses_per_second: u32,
    /// `rrl-slip`: every this-many-th limited response is sent as an empty
    /// answer with TC set (0: none). Default 2.
    pub rrl_slip: u32,
    /// `rrl-window` (seconds): a flooding account stays limited until it
    /// has been quiet this long. Default 15.
    pub rrl_window: u32,
    /// `rrl-ipv4-prefix-length`: sources are counted by this prefix. Default 24.
    pub rrl_ipv4_prefix_length: u8,
    /// `rrl-ipv6-prefix-length`: the same for IPv6. Default 56.
    pub rrl_ipv6_prefix_length: u8,
    /// `rrl-exempt`: prefixes never limited (`"192.0.2.0/24"`).
    pub rrl_exempt: Vec<String>,
    /// `rrl-log-only`: count what would be limited, limit nothing.
    pub rrl_log_only: bool,
    /// `rrl-table-size`: accounts in the fixed table (rounded up to a
    /// power of two). Default 262144 (2 MiB).
    pub rrl_table_size: usize,
    /// Queries answered per TCP connection before it is closed (0 = no
    /// limit). Default 0.
    pub tcp_max_queries: u32,
    /// NSID payload (RFC 5001), sent when the client asks; off when unset.
    pub nsid: Option<String>,
    /// Answer CHAOS TXT `id.server.`/`hostname.bind.` with this; off when unset.
    pub identity: Option<String>,
    /// Prometheus metrics on this address; off when unset.
    pub metrics_listen: Option<SocketAddr>,
    /// Rebuild from the SRS this often (seconds); 0 turns the timer off. Default 300.
    pub reload_interval_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 5353))],
            udp_workers: 0,
            edns_max_payload: 1232,
            tcp_idle_timeout_ms: 10_000,
            tcp_max_connections: 1000,
            tcp_max_connections_per_source: 100,
            tcp_write_timeout_ms: 5000,
            rrl_responses_per_second: 200,
            rrl_slip: 2,
            rrl_window: 15,
            rrl_ipv4_prefix_length: 24,
            rrl_ipv6_prefix_length: 56,
            rrl_exempt: Vec::new(),
            rrl_log_only: false,
            rrl_table_size: 262_144,
            tcp_max_queries: 0,
            nsid: None,
            identity: None,
            metrics_listen: None,
            reload_interval_secs: 300,
        }
    }
}

/// `[dnssec] scheme`: which keys sign the zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum KeyScheme {
    /// Separate key-signing and zone-signing keys.
    #[default]
    KskZsk,
    /// One combined signing key.
    Csk,
}

/// `[dnssec] cds-cdnskey`: when the zone publishes CDS and CDNSKEY
/// (RFC 7344, RFC 8078) for a parent that reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CdsPublish {
    /// Never (the default: Exhibit A does not name these types).
    #[default]
    None,
    /// While a KSK, CSK or algorithm roll waits for the parent to serve
    /// the new DS: the DS RRset the parent should hold then (old and new),
    /// as `<state-dir>/<zone>.ds` says. The old DS's removal is asked for
    /// by the DS file and the hook only.
    Rollover,
    /// Always the DS RRset the parent should hold, so a parent that scans
    /// for CDS also learns of removals.
    Always,
}

/// `[dnssec]`: signing of each version (keys, NSEC3, RRSIG timing).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct DnssecConfig {
    /// `enabled`: sign each version; default true. When false the zone is
    /// served unsigned.
    pub enabled: bool,
    /// Key directory (BIND K-files). Default `keys`.
    pub keys_dir: PathBuf,
    /// 13 (ECDSA P-256, default), 15 (Ed25519) or 8 (RSA/SHA-256); no other
    /// value is accepted.
    pub algorithm: u8,
    /// `scheme`: default `ksk-zsk`.
    pub scheme: KeyScheme,
    /// RSA modulus size when algorithm is 8. Default 2048.
    pub rsa_bits: u32,
    /// `ksk-lifetime` (a duration, [`Secs`]): how long a KSK signs before
    /// the daemon starts a double-DS roll (`crate::dnssec::roll`); 0 (the
    /// default) for never: a KSK roll involves the parent, so it is the
    /// operator's to turn on (or to start, `tldns keys roll ksk`).
    /// `ksk-lifetime-days` is the older spelling, in days.
    pub ksk_lifetime: Option<Secs>,
    /// `ksk-lifetime-days`: see `ksk-lifetime`.
    pub ksk_lifetime_days: Option<u32>,
    /// `zsk-lifetime` (a duration): how long a ZSK signs before the daemon
    /// rolls it by pre-publication (`crate::dnssec::roll`); default 90
    /// days, 0 for never. `zsk-lifetime-days` is the older spelling.
    pub zsk_lifetime: Option<Secs>,
    /// `zsk-lifetime-days`: see `zsk-lifetime`.
    pub zsk_lifetime_days: Option<u32>,
    /// `propagation-delay` (a duration): how long a new version takes to
    /// reach every secondary and anycast node (RFC 7583 §3.2, Dprp),
    /// safety margin included; a roll waits this long beyond the TTLs.
    /// Default 1 hour (Knot's default).
    pub propagation_delay: Option<Secs>,
    /// Extra NSEC3 hash iterations (RFC 5155 §3.1.3); default 0, as RFC 9276
    /// §3.1 asks.
    pub nsec3_iterations: u16,
    /// Hex, empty for none (the default, RFC 9276 §3.1); at most 255 octets.
    pub nsec3_salt: String,
    /// `nsec3-opt-out`: set the Opt-Out flag and leave unsigned delegations out
    /// of the chain (RFC 5155 §6); default false.
    pub nsec3_opt_out: bool,
    /// `nsec3-ttl`: TTL of NSEC3 and NSEC3PARAM records; default the smaller of
    /// `[ttl] soa` and `[soa] minimum` (RFC 5155 §3, RFC 9077 §3).
    pub nsec3_ttl: Option<u32>,
    /// `signature-validity` (a duration, [`Secs`]): RRSIG expiration minus
    /// signing time for a renewed signature, before jitter; default 21
    /// days. `signature-validity-days` is the older spelling, in days.
    pub signature_validity: Option<Secs>,
    /// `signature-validity-days`: see `signature-validity`.
    pub signature_validity_days: Option<u32>,
    /// `inception-backdate-secs`: RRSIG inception this long before signing
    /// time, for validators with slow clocks; default 3600.
    pub inception_backdate_secs: u32,
    /// `signature-refresh` (a duration): a signature with less than this
    /// left is made again. Default 14 days; at least the SOA expire (a
    /// secondary serves what it has for that long), and below the validity
    /// less the jitter. `refresh-days` is the older spelling.
    pub signature_refresh: Option<Secs>,
    /// `refresh-days`: see `signature-refresh`.
    pub refresh_days: Option<u32>,
    /// `signature-jitter` (a duration): renewed expirations spread over ±
    /// this, so signatures don't all expire at once. Default 24 hours.
    /// `jitter-hours` is the older spelling.
    pub signature_jitter: Option<Secs>,
    /// `jitter-hours`: see `signature-jitter`.
    pub jitter_hours: Option<u32>,
    /// `parent-ds-file`: the DS RRset the parent holds for the zone (DS
    /// records in zone-file syntax). When set, a version is published only
    /// if its DNSKEY RRset is signed by a key one of them names (the
    /// chain-of-trust gate); when not, by a key that signed the last
    /// published version's. Default: none.
    pub parent_ds_file: Option<PathBuf>,
    /// `parent-servers`: the parent zone's name servers (`"addr:port"`),
    /// asked for the zone's DS RRset before each full build; a version is
    /// then published only if its DNSKEY RRset is signed by a key whose DS
    /// every one of them serves (with `parent-ds-file` too, a DS both
    /// name). When a server does not answer, or the parent holds no DS,
    /// the anchors in force stay. Default: none.
    pub parent_servers: Vec<std::net::SocketAddr>,
    /// `parent-ds-ttl` (a duration): the TTL the parent gives the zone's
    /// DS RRset; a KSK roll waits this long (plus the propagation delay)
    /// after the new DS is seen at the parent before the old KSK goes.
    /// Default 1 day (the root zone's).
    pub parent_ds_ttl: Option<Secs>,
    /// `parent-check-interval` (a duration): how often, during a KSK roll,
    /// the parent servers are asked whether they serve the new DS (or
    /// still the old one). Default 1 hour.
    pub parent_check_interval: Option<Secs>,
    /// `ds-hook`: a command (run by `sh -c`) told each time the DS RRset
    /// the parent should hold changes: the DS records on its standard
    /// input, the file holding them in `TLDNS_DS_FILE`, the zone in
    /// `TLDNS_ZONE`. Default: none (the file alone, `<state-dir>/<zone>.ds`).
    pub ds_hook: Option<String>,
    /// `refresh-interval` (a duration): how often, between full builds,
    /// the signatures that have come due are made again on the published
    /// version ([`crate::pipeline::refresh`]). Default 1 hour; "0": only
    /// the full builds refresh.
    pub refresh_interval: Option<Secs>,
    /// `cds-cdnskey`: `none` (default), `rollover` or `always`
    /// ([`CdsPublish`]). Anything but `none` needs CDS and CDNSKEY in
    /// `[policy] allowed-extra-types`: Exhibit A does not name them.
    pub cds_cdnskey: CdsPublish,
}

impl Default for DnssecConfig {
    fn default() -> Self {
        DnssecConfig {
            enabled: true,
            keys_dir: PathBuf::from("keys"),
            algorithm: 13,
            scheme: KeyScheme::KskZsk,
            rsa_bits: 2048,
            ksk_lifetime: None,
            ksk_lifetime_days: None,
            zsk_lifetime: None,
            zsk_lifetime_days: None,
            propagation_delay: None,
            nsec3_iterations: 0,
            nsec3_salt: String::new(),
            nsec3_opt_out: false,
            nsec3_ttl: None,
            signature_validity: None,
            signature_validity_days: None,
            inception_backdate_secs: 3600,
            signature_refresh: None,
            refresh_days: None,
            signature_jitter: None,
            jitter_hours: None,
            parent_ds_file: None,
            parent_servers: Vec::new(),
            parent_ds_ttl: None,
            parent_check_interval: None,
            ds_hook: None,
            refresh_interval: None,
            cds_cdnskey: CdsPublish::None,
        }
    }
}

impl DnssecConfig {
    /// The signature validity in seconds (`signature-validity`).
    pub fn validity_secs(&self) -> u32 {
        pick(
            self.signature_validity,
            self.signature_validity_days,
            86_400,
            21 * 86_400,
        )
    }

    /// The refresh window in seconds (`signature-refresh`).
    pub fn refresh_secs(&self) -> u32 {
        pick(
            self.signature_refresh,
            self.refresh_days,
            86_400,
            14 * 86_400,
        )
    }

    /// The expiration jitter in seconds (`signature-jitter`).
    pub fn jitter_secs(&self) -> u32 {
        pick(self.signature_jitter, self.jitter_hours, 3600, 24 * 3600)
    }

    /// The intended ZSK lifetime in seconds (`zsk-lifetime`).
    pub fn zsk_lifetime_secs(&self) -> u32 {
        pick(
            self.zsk_lifetime,
            self.zsk_lifetime_days,
            86_400,
            90 * 86_400,
        )
    }

    /// The propagation delay in seconds (`propagation-delay`).
    pub fn propagation_secs(&self) -> u32 {
        self.propagation_delay.map_or(3600, |Secs(s)| s)
    }

    /// The parent's DS TTL in seconds (`parent-ds-ttl`).
    pub fn parent_ds_ttl_secs(&self) -> u32 {
        self.parent_ds_ttl.map_or(86_400, |Secs(s)| s)
    }

    /// Seconds between signature refreshes (`refresh-interval`); 0: none.
    pub fn refresh_interval_secs(&self) -> u32 {
        self.refresh_interval.map_or(3600, |Secs(s)| s)
    }

    /// Seconds between checks of the parent during a KSK roll.
    pub fn parent_check_secs(&self) -> u32 {
        self.parent_check_interval.map_or(3600, |Secs(s)| s.max(1))
    }

    /// The intended KSK lifetime in seconds (`ksk-lifetime`); 0: none.
    pub fn ksk_lifetime_secs(&self) -> u32 {
        pick(self.ksk_lifetime, self.ksk_lifetime_days, 86_400, 0)
    }
}

/// The duration given in its new spelling, else in its old one (`unit`
/// seconds each), else `default`.
fn pick(new: Option<Secs>, old: Option<u32>, unit: u32, default: u32) -> u32 {
    match (new, old) {
        (Some(Secs(s)), _) => s,
        (None, Some(n)) => n.saturating_mul(unit),
        (None, None) => default,
    }
}

/// A duration in the configuration: an integer number of seconds, or a
/// string with units as BIND and Knot write them (`"90d"`, `"2h30m"`,
/// `"30s"`, `"1w"`; units s, m, h, d, w), at most 2^31 - 1 seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secs(pub u32);

impl<'de> Deserialize<'de> for Secs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Secs, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Text(String),
        }
        let bad = |what: &str| {
            serde::de::Error::custom(format!(
                "{what}: a duration is seconds or a number with units s, m, h, d, w (\"90d\", \"2h30m\")"
            ))
        };
        match Raw::deserialize(d)? {
            Raw::Int(n) => u32::try_from(n)
                .ok()
                .filter(|n| *n <= 0x7fff_ffff)
                .map(Secs)
                .ok_or_else(|| bad(&n.to_string())),
            Raw::Text(t) => tldns_base::time::parse_ttl(t.trim())
                .map(Secs)
                .ok_or_else(|| bad(&t)),
        }
    }
}

/// CZDS zone-file export (Spec 4 §2.1): where, when, how many, signed by whom.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ExportConfig {
    /// `tldns serve` exports daily; `tldns export` works either way. Default true.
    pub enabled: bool,
    /// Directory the files are published in; default `<state-dir>/czds`.
    pub out_dir: Option<PathBuf>,
    /// UTC time of day (`HH:MM:SS`) of the SRS state a daily file holds
    /// (Spec 4 §2.3: "as close as possible to 00:00:00 UTC").
    #[serde(deserialize_with = "time_of_day")]
    pub daily_at: TimeOfDay,
    /// Historical copies (`<zone>-yyyymmdd.zone.gz`) kept; 0 keeps them all. Default 30.
    pub keep_days: u32,
    /// Armored, unprotected OpenPGP secret key that signs the `.sig` files;
    /// default `<state-dir>/czds-openpgp.asc`, generated when missing.
    pub signing_key: Option<PathBuf>,
}

/// `daily-at = "HH:MM:SS"`, read with [`TimeOfDay`]'s parser (the base
/// layer knows no serde).
fn time_of_day<'de, D: serde::Deserializer<'de>>(d: D) -> Result<TimeOfDay, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}

impl Default for ExportConfig {
    fn default() -> Self {
        ExportConfig {
            enabled: true,
            out_dir: None,
            daily_at: TimeOfDay::default(),
            keep_days: 30,
            signing_key: None,
        }
    }
}

/// A configuration error: file, line and key, and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read: {error}")]
    Read {
        /// The file's path.
        path: PathBuf,
        /// The read error.
        error: std::io::Error,
    },
    /// The file was read but is not a valid configuration: bad TOML, an unknown
    /// or missing key, a wrong type, or a value the checks refuse.
    #[error("{path}:{line}: {key}: {message}")]
    Invalid {
        /// The file's path.
        path: PathBuf,
        /// 1-based line of the offending key; 0 when it cannot be found.
        line: usize,
        /// The key, as written in the file (`retry`, `nsec3-salt`).
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

/// A checked configuration: the raw file plus the values derived from it.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from; relative paths in it are resolved against
    /// this file's directory ([`Config::resolve`]).
    pub path: PathBuf,
    /// The file as written.
    pub zone: ZoneConfig,
    /// [`ZoneConfig::origin`], parsed: the TLD, exactly one label.
    pub origin: Name,
    /// `[soa] mname`, parsed.
    pub soa_mname: Name,
    /// `[soa] rname`, parsed.
    pub soa_rname: Name,
    /// `[[apex-ns]]` parsed: each server's name and glue addresses (empty for a
    /// server outside the zone).
    pub apex_ns: Vec<(Name, Vec<IpAddr>)>,
    /// `[dnssec] nsec3-salt`, decoded from hex.
    pub nsec3_salt: Vec<u8>,
}

impl Config {
    /// Read and check `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Config::parse(path, &text)
    }

    /// Parse and check `text` as if read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let zone: ZoneConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of_offset(text, s.start)).unwrap_or(0);
            let msg = e.message().to_string();
            let key = key_from_message(&msg)
                .or_else(|| e.span().map(|s| key_at(text, s.start)))
                .unwrap_or_default();
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line,
                key,
                message: msg,
            }
        })?;
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            line: line_of_key(text, key),
            key: key.to_string(),
            message,
        };
        if zone.version != CONFIG_VERSION {
            return Err(invalid(
                "version",
                format!(
                    "this build reads version {CONFIG_VERSION}, not {}",
                    zone.version
                ),
            ));
        }
        let name = |key: &str, s: &str| Name::parse(s).map_err(|e| invalid(key, e.to_string()));
        let origin = name("origin", &zone.origin)?;
        if origin.label_count() != 1 {
            return Err(invalid("origin", "a TLD has exactly one label".into()));
        }
        let soa_mname = name("mname", &zone.soa.mname)?;
        let soa_rname = name("rname", &zone.soa.rname)?;
        if zone.apex_ns.is_empty() {
            return Err(invalid(
                "apex-ns",
                "at least one name server is needed".into(),
            ));
        }
        let mut apex_ns = Vec::new();
        for ns in &zone.apex_ns {
            let n = name("name", &ns.name)?;
            if n.is_subdomain_of(&origin) {
                if n.label_count() < 3 {
                    return Err(invalid(
                        "name",
                        format!(
                            "{n}: an in-zone name server must be below a registered name (such as nic.{origin})"
                        ),
                    ));
                }
                if ns.addresses.is_empty() {
                    return Err(invalid(
                        "addresses",
                        format!("{n} is in the zone and needs glue"),
                    ));
                }
            } else if !ns.addresses.is_empty() {
                return Err(invalid(
                    "addresses",
                    format!("{n} is outside the zone; glue would be out of bailiwick"),
                ));
            }
            apex_ns.push((n, ns.addresses.clone()));
        }
        if zone.server.listen.is_empty() {
            return Err(invalid(
                "listen",
                "at least one listen address is needed".into(),
            ));
        }
        for (key, v) in [
            ("tcp-max-connections", zone.server.tcp_max_connections),
            (
                "tcp-max-connections-per-source",
                zone.server.tcp_max_connections_per_source,
            ),
        ] {
            if v == 0 {
                return Err(invalid(
                    key,
                    "must be at least 1 (a listener that takes no connection would refuse every TCP client, zone transfers included)".into(),
                ));
            }
        }
        let sv = &zone.server;
        if sv.rrl_ipv4_prefix_length > 32 || sv.rrl_ipv6_prefix_length > 128 {
            return Err(invalid(
                if sv.rrl_ipv4_prefix_length > 32 {
                    "rrl-ipv4-prefix-length"
                } else {
                    "rrl-ipv6-prefix-length"
                },
                "a prefix length is at most 32 (IPv4) or 128 (IPv6)".into(),
            ));
        }
        if let Some(bad) = sv.rrl_exempt.iter().find(|p| parse_prefix(p).is_none()) {
            return Err(invalid(
                "rrl-exempt",
                format!("{bad:?} is not an address or address/prefix-length"),
            ));
        }
        if zone.server.edns_max_payload < 512 {
            return Err(invalid(
                "edns-max-payload",
                "must be at least 512 (RFC 6891 §6.2.5)".into(),
            ));
        }
        if !(0.0..=1.0).contains(&zone.policy.max_delegation_change) {
            return Err(invalid(
                "max-delegation-change",
                "must be a fraction between 0 and 1".into(),
            ));
        }
        if !(1..=MAX_NS_PER_DOMAIN).contains(&zone.policy.max_ns_per_domain) {
            return Err(invalid(
                "max-ns-per-domain",
                format!(
                    "must be 1 to {MAX_NS_PER_DOMAIN} (a referral must fit one DNS message with working name compression)"
                ),
            ));
        }
        if ![8, 13, 15].contains(&zone.dnssec.algorithm) {
            return Err(invalid("algorithm", "supported: 8, 13, 15".into()));
        }
        let d = &zone.dnssec;
        for (new, old) in [
            ("signature-validity", "signature-validity-days"),
            ("signature-refresh", "refresh-days"),
            ("signature-jitter", "jitter-hours"),
            ("zsk-lifetime", "zsk-lifetime-days"),
            ("ksk-lifetime", "ksk-lifetime-days"),
        ] {
            if line_of_key(text, new) > 0 && line_of_key(text, old) > 0 {
                return Err(invalid(
                    old,
                    format!("{new} says the same; give one of the two"),
                ));
            }
        }
        if d.enabled {
            let refresh = u64::from(d.refresh_secs());
            let refresh_key = if line_of_key(text, "refresh-days") > 0 {
                "refresh-days"
            } else {
                "signature-refresh"
            };
            if refresh < u64::from(zone.soa.expire) {
                return Err(invalid(
                    refresh_key,
                    format!(
                        "{refresh} s is less than [soa] expire ({} s): a secondary that lost the primary serves the zone that long, so signatures must be replaced while they have at least that left (RFC 6781 §4.4.3)",
                        zone.soa.expire
                    ),
                ));
            }
            let shortest = u64::from(d.validity_secs()).saturating_sub(u64::from(d.jitter_secs()));
            if shortest <= refresh {
                let key = if line_of_key(text, "signature-validity-days") > 0 {
                    "signature-validity-days"
                } else {
                    "signature-validity"
                };
                return Err(invalid(
                    key,
                    format!(
                        "{} s less the {} s jitter is not more than the {refresh} s refresh window: every signature would be due for refresh as soon as it is made",
                        d.validity_secs(),
                        d.jitter_secs()
                    ),
                ));
            }
        }
        let nsec3_salt = data_encoding::HEXLOWER_PERMISSIVE
            .decode(zone.dnssec.nsec3_salt.as_bytes())
            .map_err(|e| invalid("nsec3-salt", format!("not hex: {e}")))?;
        if nsec3_salt.len() > 255 {
            return Err(invalid("nsec3-salt", "longer than 255 octets".into()));
        }
        for t in &zone.policy.allowed_extra_types {
            if tldns_base::rr::type_from_str(t).is_none() {
                return Err(invalid("allowed-extra-types", format!("unknown type {t}")));
            }
        }
        if zone.dnssec.cds_cdnskey != CdsPublish::None {
            let listed = |t: &str| {
                zone.policy
                    .allowed_extra_types
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(t))
            };
            if !(listed("CDS") && listed("CDNSKEY")) {
                return Err(invalid(
                    "cds-cdnskey",
                    "Exhibit A §1 of the registry agreement names RRSIG, DNSKEY, NSEC and NSEC3, not CDS and CDNSKEY: list them in [policy] allowed-extra-types (RSEP approval) to publish them".into(),
                ));
            }
        }
        Ok(Config {
            path: path.to_path_buf(),
            zone,
            origin,
            soa_mname,
            soa_rname,
            apex_ns,
            nsec3_salt,
        })
    }

    /// A path from the file, made relative to the file's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.path.parent().unwrap_or(Path::new(".")).join(p)
        }
    }
}

fn line_of_offset(text: &str, off: usize) -> usize {
    text[..off.min(text.len())].matches('\n').count() + 1
}

/// The key written at the start of the line holding `off`.
fn key_at(text: &str, off: usize) -> String {
    let start = text[..off.min(text.len())]
        .rfind('\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let line = &text[start..];
    line.split(['=', '\n'])
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

fn key_from_message(msg: &str) -> Option<String> {
    // serde's messages name the key between backticks: "unknown field `x`", "missing field `y`".
    let a = msg.find('`')?;
    let b = msg[a + 1..].find('`')?;
    Some(msg[a + 1..a + 1 + b].to_string())
}

/// First line that assigns `key` (1-based), or 0 if none does.
fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
                || l.starts_with(&format!("[{key}]"))
                || l.starts_with(&format!("[[{key}]]"))
        })
        .map(|i| i + 1)
        .unwrap_or(0)
}

/// Parse `a.b.c.d/n` or `x::/n` (a bare address is a /32 or /128): the
/// form of `rrl-exempt`'s entries.
pub fn parse_prefix(s: &str) -> Option<(IpAddr, u8)> {
    let (a, n) = match s.split_once('/') {
        Some((a, n)) => (a, Some(n)),
        None => (s, None),
    };
    let ip: IpAddr = a.trim().parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let n = match n {
        Some(n) => n.trim().parse::<u8>().ok().filter(|n| *n <= max)?,
        None => max,
    };
    Some((ip, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
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
addresses = ["127.0.0.1"]
"#;

    #[test]
    fn minimal_config_parses() {
        let c = Config::parse(Path::new("z.toml"), GOOD).unwrap();
        assert_eq!(c.origin.to_string(), "mobile.");
        assert!(c.zone.dnssec.enabled);
        assert_eq!(c.zone.server.edns_max_payload, 1232);
    }

    #[test]
    fn signatures_must_outlive_the_soa_expire_and_not_be_due_at_once() {
        let short = format!("{GOOD}[dnssec]\nrefresh-days = 7\n");
        let e = Config::parse(Path::new("z.toml"), &short)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("z.toml:15: refresh-days:"), "{e}");
        assert!(e.contains("expire (1209600 s)"), "{e}");
        // Durations with units.
        let units = format!(
            "{GOOD}[dnssec]\nsignature-validity = \"30d\"\nsignature-refresh = \"2w\"\nsignature-jitter = \"1h30m\"\nzsk-lifetime = 7776000\n"
        );
        let c = Config::parse(Path::new("z.toml"), &units).unwrap();
        let d = &c.zone.dnssec;
        assert_eq!(
            (d.validity_secs(), d.refresh_secs(), d.jitter_secs()),
            (30 * 86_400, 14 * 86_400, 5400)
        );
        assert_eq!(
            (d.zsk_lifetime_secs(), d.ksk_lifetime_secs()),
            (90 * 86_400, 0)
        );
        let e = Config::parse(
            Path::new("z.toml"),
            &format!("{GOOD}[dnssec]\nsignature-refresh = \"2 weeks\"\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("z.toml:15: signature-refresh:"), "{e}");
        let both = format!("{GOOD}[dnssec]\nsignature-refresh = \"14d\"\nrefresh-days = 14\n");
        let e = Config::parse(Path::new("z.toml"), &both)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("z.toml:16: refresh-days:"), "{e}");
        let due = format!("{GOOD}[dnssec]\nsignature-validity-days = 15\n");
        let e = Config::parse(Path::new("z.toml"), &due)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("z.toml:15: signature-validity-days:"), "{e}");
        // Unsigned zones have no signatures to keep.
        let off = format!("{GOOD}[dnssec]\nenabled = false\nrefresh-days = 1\n");
        Config::parse(Path::new("z.toml"), &off).unwrap();
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let bad = GOOD.replace("retry = 3600", "retry = 3600\nretyr = 5");
        let e = Config::parse(Path::new("z.toml"), &bad)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("z.toml:9: retyr:"), "{e}");
    }

    #[test]
    fn semantic_error_names_line_and_key() {
        let bad = GOOD.replace("origin = \"mobile.\"", "origin = \"a.mobile.\"");
        let e = Config::parse(Path::new("z.toml"), &bad)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("z.toml:3: origin:"), "{e}");
    }

    #[test]
    fn wrong_type_names_line() {
        let bad = GOOD.replace("refresh = 7200", "refresh = \"soon\"");
        let e = Config::parse(Path::new("z.toml"), &bad)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("z.toml:7: refresh"), "{e}");
    }

    #[test]
    fn export_daily_at_is_a_utc_time_of_day() {
        let c = Config::parse(Path::new("z.toml"), GOOD).unwrap();
        assert_eq!(c.zone.export.daily_at, TimeOfDay { secs: 0 });
        let at = format!("{GOOD}[export]\ndaily-at = \"01:30\"\n");
        let c = Config::parse(Path::new("z.toml"), &at).unwrap();
        assert_eq!(c.zone.export.daily_at, TimeOfDay { secs: 5400 });
        let bad = format!("{GOOD}[export]\ndaily-at = \"25:00\"\n");
        let e = Config::parse(Path::new("z.toml"), &bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"25:00\" is not a UTC time of day"), "{e}");
    }

    #[test]
    fn in_zone_ns_needs_glue() {
        let bad = GOOD.replace("addresses = [\"127.0.0.1\"]", "");
        let e = Config::parse(Path::new("z.toml"), &bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("addresses"), "{e}");
    }
}
