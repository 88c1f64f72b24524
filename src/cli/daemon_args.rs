//! Clap definitions for the `hookd` daemon's own command line (`hookctl`'s are in
//! [`super::args`]).

use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "hookd",
    version,
    about = "Webhook server: secret URLs that run scripts, chat-style message hooks, signed retried notifications",
    after_help = "Signals: SIGHUP reloads the config (and the TLS certificate and key), SIGTERM/SIGINT stop gracefully. Under systemd socket activation (LISTEN_FDS) hookd serves the passed socket instead of binding --listen; a second passed socket, or one named \"metrics\", serves /metrics. Manage hooks with hookctl."
)]
pub struct DaemonArgs {
    /// Config file; one named here must exist [default: /etc/hookd/config.toml as root, else $XDG_CONFIG_HOME/hookd/config.toml, used when present]
    #[arg(long, global = true, env = "HOOKD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// HTTP address [default: 0.0.0.0:7235]
    #[arg(long, global = true, env = "HOOKD_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Control socket path
    #[arg(long, global = true, env = "HOOKD_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Directory of the database
    #[arg(long, global = true, env = "HOOKD_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Diagnostics on stderr as text lines or one JSON object per line
    #[arg(
        long,
        global = true,
        env = "HOOKD_LOG_FORMAT",
        value_name = "FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Option<DaemonCommand>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (no timestamps under journald, which adds its own)
    Text,
    /// One JSON object per line: timestamp, level, message and the event's fields
    Json,
}

#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Validate the config (and the TLS certificate and key it names) and print the effective settings (exit 1 on errors)
    CheckConfig,
    /// Copy the whole state of a stopped installation from its SQLite database into PostgreSQL, and verify the counts (exit 1 on errors)
    #[command(
        after_help = "Refuses while a hookd runs on the SQLite database, and when the target already holds hookd data (unless --force, which replaces it). The copy is one transaction: it lands whole or not at all. Afterwards set `database` (or HOOKD_DATABASE) to the target and start hookd: every hook keeps its token."
    )]
    MigrateStore {
        /// The source: sqlite:PATH, PATH being the hookd.db file or its state directory
        #[arg(long, value_name = "sqlite:PATH")]
        from: String,
        /// The target: a postgres:// URL, @file:PATH or @credential:NAME (a URL with a password here is visible to every local user in ps; prefer a reference) [default: the configured database]
        #[arg(long, value_name = "URL")]
        to: Option<String>,
        /// Replace what the target database already holds
        #[arg(long)]
        force: bool,
    },
}

impl DaemonArgs {
    pub fn overrides(&self) -> crate::config::Overrides {
        crate::config::Overrides {
            config: self.config.clone(),
            listen: self.listen,
            socket: self.socket.clone(),
            state_dir: self.state_dir.clone(),
            database: std::env::var("HOOKD_DATABASE").ok(),
        }
    }
}
