//! `hookd`'s command line: run the daemon, or `check-config`.
//!
//! Exit codes: 0 after an orderly stop or a valid config, 1 when the config is broken or the
//! daemon cannot start (the message says which file, line and column, or which resource), 2 for
//! usage errors (clap).

use crate::cli::args::{DaemonArgs, DaemonCommand};
use crate::config;

pub fn main(args: DaemonArgs) -> i32 {
    let overrides = args.overrides();
    let loaded = match config::load(&overrides) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("hookd: invalid configuration: {e}");
            return 1;
        }
    };
    match args.command {
        Some(DaemonCommand::CheckConfig) => {
            match &loaded.file {
                Some(f) => println!("# configuration OK: {}", f.display()),
                None => println!("# no configuration file; these are the defaults"),
            }
            print!("{}", loaded.config.to_toml());
            0
        }
        None => match crate::daemon::run(loaded, overrides) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("hookd: {e}");
                1
            }
        },
    }
}
