//! `hookd`, the daemon: parse the command line, set up logging (text, or JSON lines with
//! `HOOKD_LOG_FORMAT=json`), then run the daemon or `check-config`.
//!
//! Exit codes: 0 after an orderly stop or a valid config, 1 when the config is broken or the
//! daemon cannot start (the message says which file, line and column, or which resource), 2 for
//! usage errors (clap).

use clap::Parser;
use hookd::cli::args::{DaemonArgs, DaemonCommand, LogFormat};
use hookd::config;

fn main() {
    // glibc gives every thread its own malloc arena, each keeping memory it freed; two arenas
    // keep a busy daemon's resident size near what it actually uses.
    #[cfg(target_env = "gnu")]
    // SAFETY: called before any other thread exists; only tunes the allocator.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    let args = DaemonArgs::parse();
    // Under systemd the journal adds its own timestamps.
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    // The PostgreSQL client logs statements with their parameters (hook secrets among them) at
    // debug level, and the server's notices at info: only its warnings pass, whatever
    // HOOKD_LOG says.
    let filter = tracing_subscriber::EnvFilter::try_from_env("HOOKD_LOG")
        .unwrap_or_else(|_| "info".into())
        .add_directive("tokio_postgres=warn".parse().expect("a valid directive"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi);
    match (args.log_format, journald) {
        (LogFormat::Json, _) => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
        (LogFormat::Text, true) => builder.without_time().init(),
        (LogFormat::Text, false) => builder.init(),
    }
    std::process::exit(run(args));
}

fn run(args: DaemonArgs) -> i32 {
    let overrides = args.overrides();
    let loaded = match config::load(&overrides) {
        Ok(l) => l,
        Err(e @ config::ConfigError::Missing { .. }) => {
            eprintln!("hookd: {e}");
            return 1;
        }
        Err(e) => {
            eprintln!("hookd: invalid configuration: {e}");
            return 1;
        }
    };
    match args.command {
        Some(DaemonCommand::CheckConfig) => {
            if let Err(e) = hookd::daemon::tls::load(&loaded.config) {
                eprintln!("hookd: invalid configuration: {e}");
                return 1;
            }
            match &loaded.file {
                Some(f) => println!("# configuration OK: {}", f.display()),
                None => println!("# no configuration file; these are the defaults"),
            }
            if let (Some(cert), Some(key)) = (&loaded.config.tls_cert, &loaded.config.tls_key) {
                println!(
                    "# TLS certificate {} and key {} load and match",
                    cert.display(),
                    key.display()
                );
            }
            print!("{}", loaded.config.to_toml());
            0
        }
        Some(DaemonCommand::MigrateStore { from, to, force }) => {
            hookd::cli::migrate_store::run(&from, to, loaded.config.database.as_ref(), force)
        }
        None => match hookd::daemon::run(loaded, overrides) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("hookd: {e}");
                1
            }
        },
    }
}
