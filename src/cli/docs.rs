//! Man pages and shell completions, generated from the clap definitions.
//!
//! `man/` and `completions/` are committed so packages and people get them without building;
//! the integration suite regenerates them in memory and fails when the committed files differ
//! (regenerate with `HOOKD_REGENERATE=1 cargo test generated_docs`). The prose sections clap
//! does not know about (files, environment, exit status, examples, security) live here as roff.

use crate::cli::args::{self, DaemonArgs};
use clap::CommandFactory;
use clap_complete::Shell;

/// Every generated file: its path relative to the repository root, and its content.
pub fn files() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = vec![
        (
            "man/hookd.8",
            man(DaemonArgs::command(), "8", HOOKD_SECTIONS),
        ),
        ("man/hookctl.1", man(args::command(), "1", HOOKCTL_SECTIONS)),
    ];
    for (path, shell) in [
        ("completions/hookctl.bash", Shell::Bash),
        ("completions/_hookctl", Shell::Zsh),
        ("completions/hookctl.fish", Shell::Fish),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut args::command(), "hookctl", &mut buf);
        out.push((path, buf));
    }
    out
}

fn man(cmd: clap::Command, section: &str, extra: &str) -> Vec<u8> {
    let m = clap_mangen::Man::new(cmd)
        .section(section)
        .manual("hookd manual")
        .source(format!("hookd {}", env!("CARGO_PKG_VERSION")));
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = m.render_title(&mut buf);
    let _ = m.render_name_section(&mut buf);
    let _ = m.render_synopsis_section(&mut buf);
    let _ = m.render_description_section(&mut buf);
    let _ = m.render_options_section(&mut buf);
    let _ = m.render_subcommands_section(&mut buf);
    buf.extend_from_slice(extra.as_bytes());
    let _ = m.render_version_section(&mut buf);
    buf
}

const HOOKD_SECTIONS: &str = r#".SH "HOW IT WORKS"
hookd listens for HTTP calls on \fBlisten\fR (default 0.0.0.0:7235) at
\fB/webhook/\fITOKEN\fR (also \fB/api/webhook/\fITOKEN\fR and \fB/api/webhooks/execute/\fITOKEN\fR).
A script hook runs its script and answers with the output (200 on exit 0, 500 otherwise, 504 on
timeout, 202 with a run id for async hooks); a message hook accepts chat\-style JSON messages.
\fBGET /healthz\fR answers \fBok\fR. Hooks are managed with \fBhookctl\fR(1) over the control socket.
.PP
Scripts run with a cleared environment, in their own process group, as the hook's user. The
request reaches them only through stdin, the file named by \fBHOOKD_BODY_FILE\fR and
\fBHOOKD_*\fR variables; it is never spliced into the script text.
.SH FILES
.TP
\fB/etc/hookd/config.toml\fR
Configuration when hookd runs as root (\fB$XDG_CONFIG_HOME/hookd/config.toml\fR otherwise).
A missing file means the defaults; \fBhookd check\-config\fR prints the effective settings.
.TP
\fB/var/lib/hookd/hookd.db\fR
The SQLite database (XDG state directory for other users): hooks, runs, logs, events and
deliveries. Mode 0600. The daemon holds it exclusively while it runs: a second hookd on the
same state directory is refused, and other programs (such as \fBsqlite3\fR) can open it only
while hookd is stopped. Use \fBhookctl export\fR, \fBruns\fR and \fBlogs\fR to read it
meanwhile, and stop hookd before copying the database.
.TP
\fB/run/hookd/hookd.sock\fR
The control socket (\fB$XDG_RUNTIME_DIR/hookd/hookd.sock\fR for other users), mode 0660,
group \fBsocket_group\fR when that group exists.
.SH ENVIRONMENT
.TP
\fBHOOKD_CONFIG\fR, \fBHOOKD_LISTEN\fR, \fBHOOKD_SOCKET\fR, \fBHOOKD_STATE_DIR\fR
Override the config file's path and settings; command\-line flags override these.
.TP
\fBHOOKD_LOG\fR
Log filter for the daemon's diagnostics on stderr (default \fBinfo\fR; e.g. \fBdebug\fR).
.SH SIGNALS
.TP
\fBSIGHUP\fR
Re\-read the configuration; an invalid file is logged and the running configuration kept.
.TP
\fBSIGTERM\fR, \fBSIGINT\fR
Stop accepting calls, give calls and scripts in flight 30 seconds, end the process groups of
scripts still running, and exit 0.
.SH "EXIT STATUS"
0 after an orderly stop or a valid \fBcheck\-config\fR; 1 when the configuration is invalid
(the message names the file, line and column) or a resource cannot be used (port, socket,
database); 2 on a usage error.
.SH EXAMPLES
.TP
\fBhookd check\-config \-\-config /etc/hookd/config.toml\fR
Validate a configuration before reloading.
.TP
\fBhookd \-\-listen 127.0.0.1:7235\fR
Listen on loopback only, behind a reverse proxy that terminates TLS.
.SH SECURITY
A hook URL is a bearer credential; serve hookd behind TLS. Tokens are stored only as SHA\-256
hashes. Anyone who can write to the control socket can create hooks that run as root: grant
\fBsocket_group\fR membership like sudo. Every management action is logged with the caller's uid.
.SH "SEE ALSO"
\fBhookctl\fR(1)
"#;

const HOOKCTL_SECTIONS: &str = r#".SH "SCRIPT ENVIRONMENT"
A script reads the request body from stdin and from the 0600 file \fBHOOKD_BODY_FILE\fR, and
gets \fBHOOKD_HOOK\fR, \fBHOOKD_RUN_ID\fR, \fBHOOKD_METHOD\fR, \fBHOOKD_QUERY\fR,
\fBHOOKD_REMOTE_ADDR\fR, \fBHOOKD_CONTENT_TYPE\fR, \fBHOOKD_HEADER_\fINAME\fR (upper case, \- as _)
and the hook's \fB\-\-env\fR variables. Otherwise only PATH, HOME, USER, LOGNAME, SHELL and LANG
are set. On timeout the script's process group gets SIGTERM, then SIGKILL 5 seconds later.
.SH ENVIRONMENT
.TP
\fBHOOKD_SOCKET\fR
The control socket, like \fB\-\-socket\fR.
.TP
\fBNO_COLOR\fR
Never colour output.
.SH "EXIT STATUS"
.TP
0
Done.
.TP
1
The operation failed: no such hook, an invalid option, a test call that did not get 2xx.
.TP
2
Usage error, including \fBcreate\fR without its essentials when there is no terminal to ask on.
.TP
3
hookd cannot be reached; the message names the socket and how to start hookd.
.SH EXAMPLES
.TP
\fBhookctl create deploy \-\-script /srv/app/deploy.sh \-\-user www\-data \-\-async\fR
A hook that runs a deploy script as www\-data in the background; prints its URL once.
.TP
\fBhookctl create hello \-\-run 'echo hello' \-\-raw\-output\fR
A hook that answers with the script's output as plain text.
.TP
\fBhookctl \-\-json list\fR
All hooks as a JSON array, for scripts.
.TP
\fBhookctl logs \-f \-\-failed\fR
Follow failing calls as they happen.
.TP
\fBhookctl regenerate deploy \-\-yes\fR
Replace a leaked URL; the old one stops at once.
.SH SECURITY
The URL printed by \fBcreate\fR and \fBregenerate\fR is shown only once and is a secret; listings
show only its first 8 characters. Secrets given with \fB\-\-secret\fR, \fB\-\-bearer\fR or
\fB\-\-basic\-auth\fR are never printed back.
.SH "SEE ALSO"
\fBhookd\fR(8)
"#;
