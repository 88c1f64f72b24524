//! `hookd`, the daemon. Everything lives in the library; this parses, sets up logging and exits
//! with the code the library chose.

use clap::Parser;

fn main() {
    // glibc gives every thread its own malloc arena, each keeping memory it freed; two arenas
    // keep a busy daemon's resident size near what it actually uses.
    #[cfg(target_env = "gnu")]
    // SAFETY: called before any other thread exists; only tunes the allocator.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    let args = hookd::cli::args::DaemonArgs::parse();
    // Under systemd the journal adds its own timestamps.
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("HOOKD_LOG").unwrap_or_else(|_| "info".into());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi);
    if journald {
        builder.without_time().init();
    } else {
        builder.init();
    }
    std::process::exit(hookd::cli::daemon::main(args));
}
