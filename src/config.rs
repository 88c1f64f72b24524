//! Configuration: defaults, the TOML file, environment and flags, and where things live.
//!
//! Precedence is defaults < file < environment < flags; the environment and flags arrive here
//! already merged (clap reads `HOOKD_*`) as [`Overrides`]. With no file at all the defaults
//! work: embedded SQLite, `0.0.0.0:7235`. Paths follow the mode: root gets the system paths
//! (`/etc/hookd`, `/var/lib/hookd`, `/run/hookd`), anyone else their XDG directories. Unknown
//! keys are errors, so a typo is reported with its line and column instead of being ignored.
//! Loading never creates or touches files; the daemon does that when it starts.

use crate::time::Dur;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_PORT: u16 = 7235;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub listen: SocketAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    pub socket: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socket_group: Option<String>,
    pub state_dir: PathBuf,
    pub max_body_bytes: u64,
    /// Open HTTP connections at most; more wait until one closes.
    pub max_connections: u32,
    /// How long a client may take to send its request headers.
    pub header_timeout: Dur,
    /// Open HTTP connections from one client address at most; more are closed at once.
    pub max_connections_per_ip: u32,
    /// How long a client may take to send a request body in full (then 408).
    pub body_timeout: Dur,
    pub log_retention: Dur,
    /// Proxies (addresses or CIDRs) whose `X-Forwarded-For` is believed; nobody else's is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trust_proxy: Vec<crate::netaddr::Cidr>,
    /// Where Prometheus metrics are served (`/metrics`); off when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_listen: Option<SocketAddr>,
    /// PEM certificate chain (leaf first); with `tls_key`, `listen` serves HTTPS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert` (PKCS#8, PKCS#1 or SEC1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// The oldest TLS version accepted.
    pub tls_min_version: TlsVersion,
    /// Where all state lives: unset for the embedded SQLite database in `state_dir`, or a
    /// `postgres://` URL (also `HOOKD_DATABASE`) shared by any number of nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseUrl>,
    /// This node's name among several on one database (`status`, `--node`); default the host
    /// name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    pub scripts: ScriptsConfig,
    pub deliveries: DeliveriesConfig,
}

/// A PostgreSQL URL, or a reference to a file or credential holding one (`@file:`,
/// `@credential:`). It may carry a password, so it is shown and serialized without it.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(try_from = "String")]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The URL as written (a reference is resolved by [`DatabaseUrl::resolve`]).
    pub fn resolve(&self) -> Result<String, String> {
        let url = crate::secret::resolve(&self.0).map_err(|e| e.to_string())?;
        let url = url.trim().to_string();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(format!(
                "database {}: must be a postgres:// URL",
                self.redacted()
            ));
        }
        Ok(url)
    }

    /// The URL without its password (a reference as written).
    pub fn redacted(&self) -> String {
        if crate::secret::is_reference(&self.0) {
            return self.0.clone();
        }
        redact_url(&self.0)
    }
}

/// A database URL without its password or query (which may hold one), for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("redacted"));
            }
            u.set_query(None);
            u.to_string()
        }
        Err(_) => "(unparsable URL)".into(),
    }
}

impl TryFrom<String> for DatabaseUrl {
    type Error = String;
    fn try_from(s: String) -> Result<DatabaseUrl, String> {
        let ok = crate::secret::is_reference(&s)
            || s.starts_with("postgres://")
            || s.starts_with("postgresql://");
        if !ok {
            return Err(
                "database must be a postgres:// URL, @file:PATH or @credential:NAME".into(),
            );
        }
        Ok(DatabaseUrl(s))
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.redacted())
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

/// A TLS protocol version as the config names it; older ones than 1.2 are never offered.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum TlsVersion {
    #[default]
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ScriptsConfig {
    pub shell: PathBuf,
    /// Empty: the user hookd runs as.
    pub default_user: String,
    pub timeout: Dur,
    pub max_concurrent: u32,
    pub max_output_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveriesConfig {
    pub timeout: Dur,
    pub retry_schedule: Vec<Dur>,
    pub max_in_flight: u32,
    pub disable_after: Dur,
    pub block_private_targets: bool,
    /// A rendered payload larger than this fails its delivery at once (no retries).
    pub max_payload_bytes: u64,
}

impl Default for ScriptsConfig {
    fn default() -> Self {
        ScriptsConfig {
            shell: PathBuf::from("/bin/sh"),
            default_user: String::new(),
            timeout: Dur::secs(300),
            max_concurrent: 16,
            max_output_bytes: 1024 * 1024,
        }
    }
}

impl Default for DeliveriesConfig {
    fn default() -> Self {
        let h = 3600;
        DeliveriesConfig {
            timeout: Dur::secs(15),
            retry_schedule: [5, 300, 1800, 2 * h, 5 * h, 10 * h, 10 * h]
                .map(Dur::secs)
                .to_vec(),
            max_in_flight: 64,
            disable_after: Dur::secs(5 * 24 * h),
            block_private_targets: false,
            max_payload_bytes: 1024 * 1024,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        let paths = Paths::detect();
        Config {
            listen: SocketAddr::from(([0, 0, 0, 0], DEFAULT_PORT)),
            public_url: None,
            socket: paths.socket,
            socket_group: None,
            state_dir: paths.state_dir,
            max_body_bytes: 1024 * 1024,
            max_connections: 1024,
            header_timeout: Dur::secs(30),
            max_connections_per_ip: 64,
            body_timeout: Dur::secs(30),
            log_retention: Dur::secs(30 * 24 * 3600),
            trust_proxy: Vec::new(),
            metrics_listen: None,
            tls_cert: None,
            tls_key: None,
            tls_min_version: TlsVersion::default(),
            database: None,
            node_name: None,
            scripts: ScriptsConfig::default(),
            deliveries: DeliveriesConfig::default(),
        }
    }
}

/// The default locations for this process: system paths for root, XDG paths otherwise.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config: PathBuf,
    pub state_dir: PathBuf,
    pub socket: PathBuf,
}

impl Paths {
    pub fn detect() -> Paths {
        if nix::unistd::geteuid().is_root() {
            return Paths {
                config: "/etc/hookd/config.toml".into(),
                state_dir: "/var/lib/hookd".into(),
                socket: "/run/hookd/hookd.sock".into(),
            };
        }
        match directories::ProjectDirs::from("", "", "hookd") {
            Some(dirs) => {
                let state = dirs
                    .state_dir()
                    .unwrap_or_else(|| dirs.data_dir())
                    .to_path_buf();
                let socket = match dirs.runtime_dir() {
                    Some(run) => run.join("hookd.sock"),
                    None => state.join("hookd.sock"),
                };
                Paths {
                    config: dirs.config_dir().join("config.toml"),
                    state_dir: state,
                    socket,
                }
            }
            // No home directory at all (a bare service account): fall back to the working dir.
            None => Paths {
                config: "hookd.toml".into(),
                state_dir: ".".into(),
                socket: "hookd.sock".into(),
            },
        }
    }
}

/// Values from flags or `HOOKD_*` variables; they win over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub socket: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    /// `HOOKD_DATABASE` (an environment variable only: a flag would show a password in `ps`).
    pub database: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "{path} does not exist; a config file named by --config or HOOKD_CONFIG must exist (leave both unset for the defaults)"
    )]
    Missing { path: PathBuf },
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// A loaded config and the file it came from (None: no file, defaults).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub file: Option<PathBuf>,
}

/// Only the default path may be absent: a path someone named (flag or `HOOKD_CONFIG`) that is
/// missing is a mistake to report, not a reason to fall back to the defaults.
pub fn load(ov: &Overrides) -> Result<Loaded, ConfigError> {
    let explicit = ov.config.is_some();
    let path = ov.config.clone().unwrap_or_else(|| Paths::detect().config);
    let (mut config, file) = match std::fs::read_to_string(&path) {
        Ok(text) => (parse(&text, &path)?, Some(path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit => {
            return Err(ConfigError::Missing { path });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Config::default(), None),
        Err(e) => return Err(ConfigError::Read { path, source: e }),
    };
    if let Some(l) = ov.listen {
        config.listen = l;
    }
    if let Some(s) = &ov.socket {
        config.socket = s.clone();
    }
    if let Some(d) = &ov.state_dir {
        config.state_dir = d.clone();
        // A socket nobody placed explicitly follows the state dir when the runtime dir is absent.
    }
    if let Some(db) = ov.database.clone().filter(|d| !d.is_empty()) {
        config.database =
            Some(
                DatabaseUrl::try_from(db).map_err(|message| ConfigError::Invalid {
                    path: "HOOKD_DATABASE".into(),
                    message,
                })?,
            );
    }
    config.validate().map_err(|message| ConfigError::Invalid {
        path: file.clone().unwrap_or_else(|| PathBuf::from("(defaults)")),
        message,
    })?;
    Ok(Loaded { config, file })
}

/// Parses config text; errors carry the 1-based line and column of the offending spot.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    toml::from_str::<Config>(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        let (line, column) = line_column(text, offset);
        ConfigError::Parse {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

impl Config {
    pub fn validate(&self) -> Result<(), String> {
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!(
                "public_url {url:?} must start with http:// or https://"
            ));
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => return Err("tls_cert is set but tls_key is not; set both".into()),
            (None, Some(_)) => return Err("tls_key is set but tls_cert is not; set both".into()),
            _ => {}
        }
        for (key, path) in [("tls_cert", &self.tls_cert), ("tls_key", &self.tls_key)] {
            if let Some(p) = path.as_ref().filter(|p| !p.is_absolute()) {
                return Err(format!("{key} {p:?} must be an absolute path"));
            }
        }
        if self.max_connections == 0 {
            return Err("max_connections must be at least 1".into());
        }
        if self.max_connections_per_ip == 0 {
            return Err("max_connections_per_ip must be at least 1".into());
        }
        if self.body_timeout.0.is_zero() {
            return Err("body_timeout must be longer than 0s".into());
        }
        if self.max_body_bytes == 0 {
            return Err("max_body_bytes must be at least 1".into());
        }
        if self.scripts.max_concurrent == 0 {
            return Err("scripts.max_concurrent must be at least 1".into());
        }
        if !self.scripts.shell.is_absolute() {
            return Err(format!(
                "scripts.shell {:?} must be an absolute path",
                self.scripts.shell
            ));
        }
        if self.scripts.timeout.0.is_zero() {
            return Err("scripts.timeout must be longer than 0s".into());
        }
        if self.deliveries.max_payload_bytes == 0 {
            return Err("deliveries.max_payload_bytes must be at least 1".into());
        }
        if self.deliveries.max_in_flight == 0 {
            return Err("deliveries.max_in_flight must be at least 1".into());
        }
        Ok(())
    }

    /// Whether `listen` serves HTTPS (`tls_cert` and `tls_key` are set).
    pub fn tls(&self) -> bool {
        self.tls_cert.is_some() && self.tls_key.is_some()
    }

    /// The base of printed webhook URLs: `public_url`, else `http://<listen>` (`https://` with
    /// TLS) with a wildcard address replaced by this host's name so the URL is one a caller can
    /// use.
    pub fn base_url(&self) -> String {
        if let Some(u) = &self.public_url {
            return u.trim_end_matches('/').to_string();
        }
        let scheme = if self.tls() { "https" } else { "http" };
        let port = self.listen.port();
        let ip = self.listen.ip();
        if ip.is_unspecified() {
            let host = nix::unistd::gethostname()
                .ok()
                .and_then(|h| h.into_string().ok())
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "localhost".into());
            format!("{scheme}://{host}:{port}")
        } else {
            format!("{scheme}://{}", self.listen)
        }
    }

    /// This node's name: `node_name`, else the host name.
    pub fn node_name(&self) -> String {
        self.node_name.clone().unwrap_or_else(|| {
            nix::unistd::gethostname()
                .ok()
                .and_then(|h| h.into_string().ok())
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "hookd".into())
        })
    }

    pub fn db_path(&self) -> PathBuf {
        self.state_dir.join("hookd.db")
    }

    /// The effective config as TOML, as `check-config` prints it.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render config: {e}\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_the_defaults() {
        let c = parse("", Path::new("x.toml")).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.listen.port(), 7235);
    }

    #[test]
    fn errors_point_at_line_and_column() {
        let text = "listen = \"127.0.0.1:1\"\n[scripts]\ntimeout = 5\n";
        match parse(text, Path::new("c.toml")) {
            Err(ConfigError::Parse { line, column, .. }) => assert_eq!((line, column), (3, 11)),
            other => panic!("{other:?}"),
        }
        match parse("lissten = 1\n", Path::new("c.toml")) {
            Err(ConfigError::Parse { line, message, .. }) => {
                assert_eq!(line, 1);
                assert!(message.contains("lissten"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn printed_config_parses_back() {
        let c = Config {
            public_url: Some("https://hooks.example.com".into()),
            ..Config::default()
        };
        let back = parse(&c.to_toml(), Path::new("x")).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn tls_needs_both_files_and_a_known_version() {
        let c = parse("tls_cert = \"/c.pem\"\n", Path::new("x")).unwrap();
        assert!(c.validate().unwrap_err().contains("tls_key"));
        let c = parse(
            "tls_cert = \"/c.pem\"\ntls_key = \"k.pem\"\n",
            Path::new("x"),
        )
        .unwrap();
        assert!(
            c.validate()
                .unwrap_err()
                .contains("tls_key \"k.pem\" must be an absolute path")
        );
        let c = parse(
            "listen = \"127.0.0.1:8443\"\ntls_cert = \"/c.pem\"\ntls_key = \"/k.pem\"\ntls_min_version = \"1.3\"\n",
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.tls_min_version, TlsVersion::V1_3);
        assert_eq!(c.base_url(), "https://127.0.0.1:8443");
        assert_eq!(parse(&c.to_toml(), Path::new("x")).unwrap(), c);
        match parse("tls_min_version = \"1.1\"\n", Path::new("x")) {
            Err(ConfigError::Parse { message, .. }) => {
                assert!(message.contains("1.2"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}
