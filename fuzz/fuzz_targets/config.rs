//! Config files: `hookd::config::parse` never panics on any UTF-8; a parse error's
//! line/column lie inside the text (line 1..=lines, column 1..=chars of that line + 1); a
//! parsed config validates without panicking, and the TOML that `check-config` prints for it
//! (`Config::to_toml`) parses back to the same config.
#![no_main]

use hookd::config::{ConfigError, parse};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.toml");
    let config = match parse(text, path) {
        Ok(c) => c,
        Err(ConfigError::Parse { line, column, .. }) => {
            let lines: Vec<&str> = text.split('\n').collect();
            assert!(
                (1..=lines.len()).contains(&line),
                "line {line} outside 1..={}",
                lines.len()
            );
            let width = lines[line - 1].chars().count();
            assert!(
                (1..=width + 1).contains(&column),
                "column {column} outside 1..={} on line {line}",
                width + 1
            );
            return;
        }
        Err(e) => panic!("parse returned a non-parse error: {e:?}"),
    };
    let _ = config.validate();
    let _ = config.db_path();
    let printed = config.to_toml();
    match parse(&printed, path) {
        Ok(back) => assert_eq!(
            back, config,
            "printed config reads back differently:\n{printed}"
        ),
        Err(e) => panic!("printed config does not parse: {e}\n{printed}"),
    }
});
