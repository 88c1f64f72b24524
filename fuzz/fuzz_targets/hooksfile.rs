//! Hooks files (`hookctl apply -f`): `hookd::cli::hooksfile::parse` never panics on any
//! UTF-8; an error starts with a `line:column` that lies inside the text; and the file
//! `hooksfile::render` writes for the parsed hooks (what `hookctl export` prints) parses back
//! to the same hooks, timeouts included to the nanosecond.
#![no_main]

use libfuzzer_sys::fuzz_target;

fn hooks_file(text: &str) {
    let hooks = match hookd::cli::hooksfile::parse(text) {
        Ok(h) => h,
        Err(e) => {
            let (pos, _) = e.split_once(": ").unwrap_or((&e, ""));
            let (line, column) = pos
                .split_once(':')
                .and_then(|(l, c)| Some((l.parse::<usize>().ok()?, c.parse::<usize>().ok()?)))
                .unwrap_or_else(|| panic!("error without line:column: {e:?}"));
            let lines: Vec<&str> = text.split('\n').collect();
            assert!((1..=lines.len()).contains(&line), "{e:?}");
            assert!(
                (1..=lines[line - 1].chars().count() + 1).contains(&column),
                "{e:?}"
            );
            return;
        }
    };
    let written = hookd::cli::hooksfile::render(&hooks);
    // Compared with `==`: `Debug` redacts secrets and shows `Dur` in whole milliseconds.
    match hookd::cli::hooksfile::parse(&written) {
        Ok(back) => assert!(
            back == hooks,
            "rendered hooks read back differently:\n{written}"
        ),
        Err(e) => panic!("rendered hooks do not parse: {e}\n{written}"),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        hooks_file(text);
    }
});
