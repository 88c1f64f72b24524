//! `hookctl`, the client. Everything lives in the library; this restores the default SIGPIPE
//! action (so `hookctl logs | head` ends quietly) and exits with the library's code.

fn main() {
    // SAFETY: called before any other thread exists; resets one signal to its default action.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        );
    }
    std::process::exit(hookd::cli::main());
}
