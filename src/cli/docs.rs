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
pub fn files() -> Vec<(String, Vec<u8>)> {
    let hookd = for_man(DaemonArgs::command());
    let hookctl = for_man(args::command());
    let mut out = vec![
        (
            "man/hookd.8".to_string(),
            man(hookd.clone(), "8", HOOKD_SECTIONS),
        ),
        (
            "man/hookctl.1".to_string(),
            man(hookctl.clone(), "1", HOOKCTL_SECTIONS),
        ),
    ];
    subcommand_pages(&hookd, "8", &mut out);
    subcommand_pages(&hookctl, "1", &mut out);
    for (path, shell) in [
        ("completions/hookctl.bash", Shell::Bash),
        ("completions/_hookctl", Shell::Zsh),
        ("completions/hookctl.fish", Shell::Fish),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut args::command(), "hookctl", &mut buf);
        out.push((path.to_string(), buf));
    }
    out
}

/// A command as its man pages describe it: built, so each subcommand knows its full name
/// (`hookctl-runs-show`), and without the `help` subcommand, which `--help` covers.
fn for_man(cmd: clap::Command) -> clap::Command {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// One page per subcommand, `hookctl-create.1` and so on (nested ones too), as the parent
/// page's SUBCOMMANDS section names them. `root` is the main page (`hookctl`).
fn subcommand_pages(parent: &clap::Command, section: &str, out: &mut Vec<(String, Vec<u8>)>) {
    let root = parent.get_name().to_string();
    pages_below(parent, &root, section, out);
}

fn pages_below(
    parent: &clap::Command,
    root: &str,
    section: &str,
    out: &mut Vec<(String, Vec<u8>)>,
) {
    let name_of = |c: &clap::Command| c.get_display_name().unwrap_or(c.get_name()).to_string();
    let roff_ref = |page: &str| format!("\\fB{}\\fR({section})", page.replace('-', "\\-"));
    for sub in parent.get_subcommands().filter(|s| !s.is_hide_set()) {
        let page = name_of(sub);
        // The parent page first (`hookctl-runs` for `hookctl-runs-show`), then the main one.
        let mut refs = vec![];
        if parent.get_name() != root {
            refs.push(roff_ref(&name_of(parent)));
        }
        refs.push(roff_ref(root));
        let extra = format!(".SH \"SEE ALSO\"\n{}\n", refs.join(", "));
        out.push((
            format!("man/{page}.{section}"),
            man(sub.clone(), section, &extra),
        ));
        pages_below(sub, root, section, out);
    }
}

fn man(cmd: clap::Command, section: &str, extra: &str) -> Vec<u8> {
    // Subcommands carry no version of their own (clap_mangen would panic on one).
    let has_version = cmd.get_version().is_some();
    let has_subcommands = cmd.get_subcommands().any(|s| !s.is_hide_set());
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
    if has_subcommands {
        let _ = m.render_subcommands_section(&mut buf);
    }
    buf.extend_from_slice(extra.as_bytes());
    if has_version {
        let _ = m.render_version_section(&mut buf);
    }
    buf
}

const HOOKD_SECTIONS: &str = r#".SH "HOW IT WORKS"
hookd listens for HTTP calls on \fBlisten\fR (default 0.0.0.0:7235) at
\fB/webhook/\fITOKEN\fR (also \fB/api/webhook/\fITOKEN\fR and \fB/api/webhooks/execute/\fITOKEN\fR).
A script hook runs its script and answers with the output (200 on exit 0, 500 otherwise, 504 on
timeout, 202 with a run id for async hooks); a message hook accepts chat\-style JSON messages.
\fBGET /healthz\fR answers \fBok\fR. Hooks are managed with \fBhookctl\fR(1) over the control socket.
.PP
With \fBtls_cert\fR and \fBtls_key\fR set (PEM files: the certificate chain, leaf first, and
its private key) \fBlisten\fR serves HTTPS, HTTP/1.1 only, TLS 1.2 and 1.3 (\fBtls_min_version =
"1.3"\fR refuses 1.2; older versions are never offered), and printed URLs start with
\fBhttps://\fR unless \fBpublic_url\fR says otherwise. The files are read at start and at every
SIGHUP; \fBhookd check\-config\fR checks that they are readable and that the key belongs to the
certificate, naming the file that is wrong.
.PP
Under systemd socket activation (\fBhookd.socket\fR, or \fBLISTEN_FDS\fR and \fBLISTEN_PID\fR
from any launcher) hookd serves the socket it is passed and does not bind \fBlisten\fR. The
first passed socket, or the one named \fBhttp\fR (\fBFileDescriptorName=\fR), serves webhooks; a
second one, or the one named \fBmetrics\fR, serves \fB/metrics\fR instead of
\fBmetrics_listen\fR. Without passed sockets hookd binds the configured addresses.
.PP
Scripts run with a cleared environment, in their own process group, as the hook's user. The
request reaches them only through stdin, the file named by \fBHOOKD_BODY_FILE\fR and
\fBHOOKD_*\fR variables; it is never spliced into the script text.
.SH FILES
.TP
\fB/etc/hookd/config.toml\fR
Configuration when hookd runs as root (\fB$XDG_CONFIG_HOME/hookd/config.toml\fR otherwise).
When this default file is missing, the defaults apply; a file named by \fB\-\-config\fR or
\fBHOOKD_CONFIG\fR must exist (exit 1 naming it). \fBhookd check\-config\fR prints the effective
settings.
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
.TP
\fB/usr/lib/systemd/system/hookd.service\fR, \fB/usr/lib/systemd/system/hookd.socket\fR
The service (enabled by the package) and its socket unit (installed disabled: enable it with
\fBsystemctl enable \-\-now hookd.socket\fR while hookd is stopped, and set the address with
\fBsystemctl edit hookd.socket\fR, since \fBlisten\fR no longer applies).
.SH ENVIRONMENT
.TP
\fBHOOKD_CONFIG\fR, \fBHOOKD_LISTEN\fR, \fBHOOKD_SOCKET\fR, \fBHOOKD_STATE_DIR\fR
Override the config file's path and settings; command\-line flags override these.
.TP
\fBHOOKD_DATABASE\fR
The \fBdatabase\fR setting: a \fBpostgres://\fR URL, \fB@file:\fR\fIPATH\fR or \fB@credential:\fR\fINAME\fR, shared by several nodes (no flag: a password in argv is visible to every local user).
.TP
\fBHOOKD_LOG\fR
Log filter for the daemon's diagnostics on stderr (default \fBinfo\fR; e.g. \fBdebug\fR).
.TP
\fBHOOKD_LOG_FORMAT\fR
\fBtext\fR (default) or \fBjson\fR: one JSON object per line with \fBtimestamp\fR, \fBlevel\fR,
\fBmessage\fR and the event's fields, like \fB\-\-log\-format\fR.
.TP
\fBLISTEN_FDS\fR, \fBLISTEN_PID\fR, \fBLISTEN_FDNAMES\fR
Sockets passed by systemd (socket activation); used only when \fBLISTEN_PID\fR is hookd's own.
.SH SIGNALS
.TP
\fBSIGHUP\fR
Re\-read the configuration and the TLS certificate and key (new connections get the new
certificate); an invalid file, certificate or key is logged, naming it, and the running
configuration and certificate are kept.
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
.TP
\fBtls_cert = "/etc/letsencrypt/live/hooks.example.com/fullchain.pem"\fR
With \fBtls_key\fR (\fBprivkey.pem\fR) in the config: serve HTTPS without a proxy; after a
renewal, \fBsystemctl reload hookd\fR.
.SH SECURITY
A hook URL is a bearer credential; serve it over HTTPS (\fBtls_cert\fR, or a proxy in front). Tokens are stored only as SHA\-256
hashes. Anyone who can write to the control socket can create hooks that run as root: grant
\fBsocket_group\fR membership like sudo. Every management action is logged with the caller's uid.
.SH "SEE ALSO"
\fBhookd\-check\-config\fR(8), \fBhookctl\fR(1)
"#;

const HOOKCTL_SECTIONS: &str = r#".SH "SCRIPT ENVIRONMENT"
Request data reaches a script only through its input and these variables; it is never spliced
into the script text. Always quote them: they hold whatever the caller sent.
.TP
stdin, \fBHOOKD_BODY_FILE\fR
The request body; the variable names a 0600 file holding it, removed after the run.
.TP
\fBHOOKD_HOOK\fR, \fBHOOKD_RUN_ID\fR
The hook's name and this run's id.
.TP
\fBHOOKD_METHOD\fR, \fBHOOKD_QUERY\fR
The HTTP method and the raw query string.
.TP
\fBHOOKD_REMOTE_ADDR\fR, \fBHOOKD_CONTENT_TYPE\fR
The caller's IP address and the body's content type.
.TP
\fBHOOKD_TEST_UID\fR
Only in a \fBhookctl test\fR run: the uid of whoever ran it (the address is then 127.0.0.1).
.TP
\fBHOOKD_HEADER_\fINAME\fR
Every request header whose name has only letters, digits and \- (others are not passed), its name
upper\-cased with \- as _ (\fBHOOKD_HEADER_X_GITHUB_EVENT\fR); a header sent more than once holds
its values joined with ", " in the order they came.
.TP
\fBHOOKD_PARAM_\fINAME\fR
From \fB\-\-param \fINAME\fB=\fIJSON_POINTER\fR: that field of a JSON body (form bodies: by field
name, or inside GitHub's \fBpayload\fR field), upper\-cased name; empty when missing.
.TP
\fB\-\-env\fR \fIK\fR=\fIV\fR
The hook's static variables.
.PP
Everything else is cleared: only PATH, HOME, USER, LOGNAME, SHELL (of the run user) and LANG are
set besides. Each run has its own process group; on timeout it gets SIGTERM, then SIGKILL 5
seconds later.
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
Usage error, including \fBcreate\fR without its essentials, and \fBdelete\fR or \fBregenerate\fR
without \fB\-\-yes\fR, when there is no terminal to ask on. With \fB\-\-json\fR the error is the
JSON document \fB{"error":{"code":"usage","message":...}}\fR on stderr, like every error.
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
\fB\-\-basic\-auth\fR are never printed back. \fBapply \-\-tokens\-out\fR \fIFILE\fR creates a 0600 file
without following symbolic links, replaces an existing file of the caller atomically, and
refuses a file of another user. Script output and caller data printed to a terminal have
control characters other than newline and tab shown escaped (\fB\\x1b\fR); a pipe, or
\fB\-\-raw\fR, gets the bytes.
.SH "SEE ALSO"
\fBhookd\fR(8); one page per command: \fBhookctl\-create\fR(1), \fBhookctl\-edit\fR(1) and
the others listed under SUBCOMMANDS.
"#;
