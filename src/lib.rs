//! hookd: a self-hosted webhook server for Linux hosts.
//!
//! The library holds everything; the `hookd` and `hookctl` binaries are thin shells around
//! the daemon ([`daemon::run`]) and [`cli::main`]. Modules are named after the nouns users know:
//! hooks, tokens, config, the store, the daemon's HTTP and control sides, the runner.

pub mod cli;
pub mod config;
pub mod daemon;
pub mod event_catalogue;
pub mod events;
pub mod hook;
pub mod netaddr;
pub mod proto;
pub mod run;
pub mod secret;
pub mod signature;
pub mod store;
pub mod template;
pub mod time;
pub mod token;
