//! Tests that need something from outside the repository (a Python library, the `webhook`
//! binary, openssl, curl, systemd-socket-activate, root to create users or mount a tmpfs, …)
//! say so through [`skip`] when it is missing, and return. A developer's machine then still
//! runs the rest of the suite; CI sets `HOOKD_REQUIRE_TOOLS=1`, which turns every such skip into
//! a failure naming what was missing, so a test cannot pass there without having run.

/// The environment variable that turns skips into failures.
pub const REQUIRE: &str = "HOOKD_REQUIRE_TOOLS";

/// Whether a missing tool fails the test (`HOOKD_REQUIRE_TOOLS=1`) instead of skipping it.
pub fn required() -> bool {
    std::env::var(REQUIRE).is_ok_and(|v| v == "1")
}

/// Records that (part of) the calling test cannot run, and why: panics with `reason` when
/// `HOOKD_REQUIRE_TOOLS=1`, otherwise prints a `SKIPPED` line and lets the caller return.
#[track_caller]
pub fn skip(reason: &str) {
    let at = std::panic::Location::caller();
    if required() {
        panic!("{REQUIRE}=1 but this test cannot run: {reason}");
    }
    eprintln!(
        "SKIPPED ({}:{}): {reason} ({REQUIRE}=1 makes this a failure)",
        at.file(),
        at.line()
    );
}
