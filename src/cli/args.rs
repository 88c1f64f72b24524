//! Clap definitions for `hookctl` and `hookd`: the one source of `--help`, man pages and
//! completions.
//!
//! Nothing here talks to the daemon. [`crate::cli::options`] turns these structs into protocol
//! requests; the daemon never sees clap types.

use crate::time::Dur;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub use super::daemon_args::{DaemonArgs, DaemonCommand, LogFormat};

/// The `hookctl` command as parsed, documented and completed. `create` and `edit` share their
/// options, but the defaults their help names (`[default: 1]`) are true only for `create`:
/// `edit` changes what is named and nothing else, so its help names no default.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command().mut_subcommand("edit", |edit| {
        let ids: Vec<clap::Id> = edit.get_arguments().map(|a| a.get_id().clone()).collect();
        ids.into_iter().fold(edit, |edit, id| {
            edit.mut_arg(id, |arg| match arg.get_help().map(ToString::to_string) {
                Some(help) if help.contains(" [default: ") => {
                    let kept = strip_defaults(&help);
                    arg.help(kept)
                }
                _ => arg,
            })
        })
    })
}

/// `"Runs at once [default: 1]"` → `"Runs at once"`.
fn strip_defaults(help: &str) -> String {
    let mut out = String::new();
    let mut rest = help;
    while let Some(i) = rest.find(" [default: ") {
        out.push_str(&rest[..i]);
        rest = rest[i..].split_once(']').map(|(_, r)| r).unwrap_or("");
    }
    out.push_str(rest);
    out
}

#[derive(Debug, Parser)]
#[command(
    name = "hookctl",
    version,
    about = "Manage hookd: secret URLs that run scripts, chat-style message hooks, outgoing notifications",
    after_help = "Exit status: 0 done, 1 the operation failed, 2 usage error, 3 hookd cannot be reached."
)]
pub struct Cli {
    /// Control socket of the daemon [default: /run/hookd/hookd.sock as root, else $XDG_RUNTIME_DIR/hookd/hookd.sock]
    #[arg(long, global = true, env = "HOOKD_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Print exactly one JSON document (NDJSON lines for `logs -f`)
    #[arg(long, global = true)]
    pub json: bool,
    /// Never colour output (also when NO_COLOR is set)
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Print script output and caller data as received, also to a terminal (by default control
    /// characters other than newline and tab are shown escaped there, as \x1b)
    #[arg(long, global = true)]
    pub raw: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a hook and print its URL (the token is shown only this once)
    Create(CreateArgs),
    /// Change options of a hook; options not given stay as they are
    Edit(EditArgs),
    /// List hooks
    List {
        /// Only hooks of this kind
        #[arg(long, value_enum)]
        kind: Option<KindArg>,
    },
    /// Show one hook in full (never its token or secrets)
    Show { name: String },
    /// Enable a hook: its URL answers again
    Enable { name: String },
    /// Disable a hook: its URL answers 404 until enabled
    Disable { name: String },
    /// Delete a hook (asks first on a terminal; without one, needs --yes)
    Delete {
        name: String,
        /// Do not ask for confirmation (needed when not on a terminal, else exit 2)
        #[arg(long, short)]
        yes: bool,
    },
    /// Give a hook a new token; the old URL stops working at once (asks as delete does)
    Regenerate {
        name: String,
        /// Do not ask for confirmation (needed when not on a terminal, else exit 2)
        #[arg(long, short)]
        yes: bool,
    },
    /// Call an incoming hook as an HTTP caller would, or send a test event to an outgoing hook
    Test {
        name: String,
        /// Request body: JSON text, or @FILE to read it from a file
        #[arg(long, value_name = "JSON|@FILE")]
        data: Option<String>,
        /// HTTP method [default: POST]
        #[arg(long, value_name = "M")]
        method: Option<String>,
    },
    /// Show incoming calls, outgoing attempts and management actions
    Logs(LogsArgs),
    /// Show script runs, or one run with its output (`runs show ID [--follow]`); wait for,
    /// cancel or rerun a run
    Runs(RunsArgs),
    /// Show outgoing deliveries, newest first
    Deliveries {
        /// Only deliveries to this hook
        name: Option<String>,
        /// Only deliveries in this state
        #[arg(long, value_name = "STATUS", value_parser = ["pending", "failed", "succeeded"])]
        status: Option<String>,
        /// How many recent deliveries
        #[arg(short = 'n', long = "lines", value_name = "N", default_value_t = 20)]
        lines: u32,
    },
    /// Send a stored delivery again, now, with the same id and webhook-id; with --failed, every
    /// failed delivery (of hook NAME) instead
    Redeliver {
        /// The delivery's id; with --failed, a hook's name (optional)
        #[arg(value_name = "ID|NAME", required_unless_present = "failed")]
        target: Option<String>,
        /// Queue again every delivery whose status is failed (after an outage)
        #[arg(long)]
        failed: bool,
        /// With --failed: only those whose last attempt was within this long, e.g. 2h
        #[arg(long, value_name = "DUR", value_parser = parse_dur, requires = "failed")]
        since: Option<Dur>,
    },
    /// Make the hooks match a TOML file of [[hook]] tables (idempotent)
    Apply {
        /// The hooks file ('-' reads stdin)
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: String,
        /// Delete hooks that are not in the file
        #[arg(long)]
        prune: bool,
        /// Print what would change, change nothing
        #[arg(long)]
        dry_run: bool,
        /// Write the URLs of newly created hooks to this file (mode 0600) instead of printing them
        #[arg(long, value_name = "FILE")]
        tokens_out: Option<std::path::PathBuf>,
    },
    /// Create hooks from an adnanh/webhook hooks file (JSON or YAML), idempotently like apply
    Import {
        /// The hooks file ('-' reads stdin)
        file: String,
        /// Print what would change, change nothing
        #[arg(long)]
        dry_run: bool,
        /// Write the URLs of newly created hooks to this file (mode 0600) instead of printing them
        #[arg(long, value_name = "FILE")]
        tokens_out: Option<std::path::PathBuf>,
        /// Also serve each hook at /hooks/ID, as webhook did (with --insecure-path where the
        /// hook has no other guard)
        #[arg(long)]
        keep_paths: bool,
        /// Import the hooks that can be translated and name each one skipped
        #[arg(long)]
        skip_invalid: bool,
        /// Treat the file as webhook's -template file (also detected by its {{ … }} actions);
        /// getenv reads hookctl's environment
        #[arg(long)]
        template: bool,
    },
    /// Print hooks as a TOML file that `apply` accepts (never tokens)
    Export {
        /// Only this hook
        name: Option<String>,
        /// Include secrets, bearer tokens, basic auth and headers (for backups; keep the output safe)
        #[arg(long)]
        include_secrets: bool,
    },
    /// Give a hook a new secret; the old one stays valid for the overlap (outgoing deliveries
    /// are signed with both meanwhile). A hook holds at most two
    RotateSecret {
        name: String,
        /// The new secret ('-' reads stdin); outgoing hooks get a generated whsec_ one
        /// without it, incoming hooks need it (the sender chooses)
        #[arg(long, value_name = "S")]
        secret: Option<String>,
        /// How long the old secret stays valid
        #[arg(long, value_name = "DUR", default_value = "24h", value_parser = parse_dur)]
        overlap: Dur,
    },
    /// Publish an event of your own to the outgoing hooks that subscribe to it (signed,
    /// templated and retried like hookd's events); exits 0 once it and its deliveries are on disk
    Emit {
        /// Event type: dotted lowercase words, e.g. backup.done (alarm.* types are alarms)
        #[arg(value_name = "TYPE")]
        event_type: String,
        /// The event's data: JSON text, @FILE, or '-' for stdin [default: {}]
        #[arg(long, value_name = "JSON|@FILE|-")]
        data: Option<String>,
        /// Within 24 hours, a second emit with this key queues nothing and prints the first id
        #[arg(long, value_name = "K")]
        idempotency_key: Option<String>,
    },
    /// Show the daemon's version, uptime, addresses and load
    Status,
    /// Print shell completions
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Script,
    Message,
    Outgoing,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Hook name: 1-64 characters of A-Z a-z 0-9 . _ -
    pub name: Option<String>,
    /// Script hook: run this file's text ('-' reads it from stdin)
    #[arg(long, value_name = "FILE|-", group = "kind")]
    pub script: Option<String>,
    /// Script hook: run this shell text
    #[arg(long, value_name = "TEXT", group = "kind")]
    pub run: Option<String>,
    /// Message hook: accept chat-style JSON messages
    #[arg(long, group = "kind")]
    pub message: bool,
    /// Outgoing hook: deliver events to this URL
    #[arg(long, value_name = "URL", group = "kind")]
    pub url: Option<String>,
    /// Create the hook disabled
    #[arg(long)]
    pub disabled: bool,
    #[command(flatten)]
    pub options: OptionArgs,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    pub name: String,
    /// Replace the script with this file's text ('-' reads stdin)
    #[arg(long, value_name = "FILE|-", conflicts_with = "run")]
    pub script: Option<String>,
    /// Replace the script with this shell text
    #[arg(long, value_name = "TEXT")]
    pub run: Option<String>,
    /// Change the outgoing hook's URL
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    #[command(flatten)]
    pub options: OptionArgs,
}

/// Options shared by `create` and `edit`; which apply depends on the hook's kind.
#[derive(Debug, Args, Default)]
pub struct OptionArgs {
    /// Free text shown in listings
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Script: system user the script runs as (needs hookd to run as root)
    #[arg(long, value_name = "U", help_heading = "Script hooks")]
    pub user: Option<String>,
    /// Script: answer with the script's stdout as text/plain instead of JSON
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", help_heading = "Script hooks")]
    pub raw_output: Option<bool>,
    /// Script: answer 202 with a run id at once and run in the background
    #[arg(long = "async", conflicts_with = "sync", help_heading = "Script hooks")]
    pub async_mode: bool,
    /// Script: answer with the script's output when it finishes (the default)
    #[arg(long, help_heading = "Script hooks")]
    pub sync: bool,
    /// Script (sync): answer 200 at once and send the output as the script writes it, then
    /// `[hookd: exit N]` (Server-Sent Events for callers that accept text/event-stream)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", help_heading = "Script hooks")]
    pub stream: Option<bool>,
    /// Script or outgoing: time limit, e.g. 30s, 5m
    #[arg(long, value_name = "D", value_parser = parse_dur)]
    pub timeout: Option<Dur>,
    /// Script: runs of this hook at the same time [default: 1]
    #[arg(long, value_name = "N", help_heading = "Script hooks")]
    pub concurrency: Option<u32>,
    /// Script: calls that may wait for a free slot before 429 [default: 32]
    #[arg(long, value_name = "N", help_heading = "Script hooks")]
    pub queue_limit: Option<u32>,
    /// Script: allowed HTTP method, repeatable [default: GET, POST]; outgoing: POST or PUT
    #[arg(long = "method", value_name = "M")]
    pub methods: Vec<String>,
    /// Script: working directory (absolute)
    #[arg(long, value_name = "DIR", help_heading = "Script hooks")]
    pub cwd: Option<String>,
    /// Script: extra environment variable, repeatable (V may be a secret: -, @file:, @credential:)
    #[arg(long = "env", value_name = "K=V", help_heading = "Script hooks")]
    pub env: Vec<String>,
    /// Script: verify callers: github, gitlab, standard, hmac-sha1, hmac-sha256, hmac-sha512,
    /// stripe, shopify, slack, gitea, bitbucket, discord, basic, none
    #[arg(long, value_name = "KIND", help_heading = "Script hooks")]
    pub verify: Option<String>,
    /// Script: verification secret; outgoing: whsec_ signing secret. '-' reads it from stdin;
    /// @file:PATH and @credential:NAME (from $CREDENTIALS_DIRECTORY) are read by hookd at each
    /// use, as are these forms given to --basic-auth, --bearer, --header and --env
    /// Incoming hooks take several (any one verifies; e.g. while senders move to a new one).
    #[arg(long, value_name = "S")]
    pub secret: Vec<String>,
    /// Script: header holding the hex HMAC for --verify hmac-sha1|hmac-sha256|hmac-sha512
    /// [default: X-Signature]
    #[arg(long, value_name = "H", help_heading = "Script hooks")]
    pub signature_header: Option<String>,
    /// Script: Ed25519 public key (hex) for --verify discord
    #[arg(long, value_name = "HEX", help_heading = "Script hooks")]
    pub public_key: Option<String>,
    /// Incoming: only callers from this network, repeatable (IPv4/IPv6 CIDR)
    #[arg(long = "allow-ip", value_name = "CIDR")]
    pub allow_ip: Vec<String>,
    /// Incoming: at most this many calls per period, e.g. 60/m (s, m, h); more get 429
    #[arg(long, value_name = "N/PERIOD")]
    pub rate_limit: Option<String>,
    /// Incoming: pass this header into events unredacted although its name looks like a
    /// credential (names containing key, token, secret, signature, auth, password or cookie
    /// are redacted otherwise), repeatable
    #[arg(long = "keep-header", value_name = "NAME")]
    pub keep_headers: Vec<String>,
    /// Incoming: run (or accept) a call only when EXPR holds, e.g.
    /// "payload.ref == 'refs/heads/main' && header('X-GitHub-Event') == 'push'"; '' clears it
    #[arg(long = "if", value_name = "EXPR")]
    pub condition: Option<String>,
    /// Script: run this program directly, no shell, instead of a script text (absolute path)
    #[arg(long, value_name = "PATH", help_heading = "Script hooks")]
    pub exec: Option<String>,
    /// Script with --exec: one argument from the request, repeatable, in order. REF is
    /// payload:NAME, header:NAME, query:NAME, request:method|remote-addr|body, string:TEXT,
    /// entire-payload, entire-headers or entire-query; each is one argument, never split
    #[arg(long = "arg", value_name = "REF", help_heading = "Script hooks")]
    pub args: Vec<String>,
    /// Script: set VAR to a request value (REF as for --arg), repeatable; unset when missing
    #[arg(
        long = "env-from",
        value_name = "VAR=REF",
        help_heading = "Script hooks"
    )]
    pub env_from: Vec<String>,
    /// Script: write a request value to a 0600 file whose path is in VAR (removed after the
    /// run); ',base64' decodes it first; repeatable; no file when the value is missing
    #[arg(
        long = "file-from",
        value_name = "VAR=REF[,base64]",
        help_heading = "Script hooks"
    )]
    pub file_from: Vec<String>,
    /// Script: decode this payload field's JSON text so payload: paths reach inside, repeatable
    #[arg(
        long = "parse-json",
        value_name = "NAME",
        help_heading = "Script hooks"
    )]
    pub parse_json: Vec<String>,
    /// Incoming: read the body as this content type, whatever the request says
    #[arg(long, value_name = "TYPE")]
    pub content_type: Option<String>,
    /// Incoming: also serve the hook at this public path, /hooks/NAME (needs --verify or
    /// --allow-ip, else --insecure-path); '' removes it
    #[arg(long, value_name = "/hooks/NAME")]
    pub path: Option<String>,
    /// Incoming: allow --path without --verify or --allow-ip
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub insecure_path: Option<bool>,
    /// Script: on a database several nodes share, run only on the node of this node_name (other
    /// nodes answer 421); '' removes it
    #[arg(long, value_name = "NAME", help_heading = "Script hooks")]
    pub node: Option<String>,
    /// Incoming: the status answered when --if is false (default 200)
    #[arg(long, value_name = "STATUS")]
    pub if_mismatch_status: Option<u16>,
    /// Script: status of a successful sync answer or an accepted async call (default 200/202)
    #[arg(long, value_name = "STATUS", help_heading = "Script hooks")]
    pub success_status: Option<u16>,
    /// Script: add this header to every answer of a call that passed the checks, repeatable
    #[arg(
        long = "response-header",
        value_name = "K: V",
        help_heading = "Script hooks"
    )]
    pub response_headers: Vec<String>,
    /// Script: body of the async answer, or of a successful sync one with --output none
    #[arg(long, value_name = "TEXT", help_heading = "Script hooks")]
    pub response_body: Option<String>,
    /// Script: answer with plain text: stdout, combined (stdout and stderr in arrival order)
    /// or none; a failed run then answers 500 with a generic message unless --error-output
    #[arg(long, value_name = "WHAT", help_heading = "Script hooks")]
    pub output: Option<String>,
    /// Script with --output: answer with the output when the run failed too
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL", help_heading = "Script hooks")]
    pub error_output: Option<bool>,
    /// Script: HOOKD_PARAM_NAME from a JSON pointer into the body, repeatable
    #[arg(
        long = "param",
        value_name = "NAME=JSON_POINTER",
        help_heading = "Script hooks"
    )]
    pub params: Vec<String>,
    /// Message: avatar_url used when a message has none
    #[arg(long, value_name = "URL", help_heading = "Message hooks")]
    pub avatar_url: Option<String>,
    /// Outgoing: event pattern to deliver, repeatable (exact name, prefix.*, *)
    #[arg(
        long = "event",
        value_name = "PATTERN",
        help_heading = "Outgoing hooks"
    )]
    pub events: Vec<String>,
    /// Outgoing: events (every non-alarm event) or alarms (failures) by default
    #[arg(long = "type", value_name = "TYPE", value_parser = ["events", "alarms"], help_heading = "Outgoing hooks")]
    pub hook_type: Option<String>,
    /// Outgoing: language of the human message text
    #[arg(long, value_name = "LANG", value_parser = ["en", "zh"], help_heading = "Outgoing hooks")]
    pub language: Option<String>,
    /// Outgoing: JSON payload template file with ${…} placeholders
    #[arg(long, value_name = "FILE", help_heading = "Outgoing hooks")]
    pub template: Option<PathBuf>,
    /// Outgoing: payload format
    #[arg(long, value_name = "FORMAT", value_parser = ["default", "slack", "discord"], help_heading = "Outgoing hooks")]
    pub format: Option<String>,
    /// Outgoing: extra header, repeatable (the value may be -, @file:PATH or @credential:NAME)
    #[arg(
        long = "header",
        value_name = "'K: V'",
        help_heading = "Outgoing hooks"
    )]
    pub headers: Vec<String>,
    /// Outgoing: HTTP basic auth sent to the receiver (or -, @file:PATH, @credential:NAME);
    /// script with --verify basic: the credentials callers must send (stored hashed; given
    /// inline or as -)
    #[arg(long, value_name = "USER:PASS")]
    pub basic_auth: Option<String>,
    /// Outgoing: bearer token for the receiver (or -, @file:PATH, @credential:NAME)
    #[arg(long, value_name = "TOKEN", help_heading = "Outgoing hooks")]
    pub bearer: Option<String>,
    /// Outgoing: at most this many deliveries per period, evenly spaced, e.g. 10/s or 100/m;
    /// the rest wait their turn (never dropped)
    #[arg(long, value_name = "N/PERIOD", help_heading = "Outgoing hooks")]
    pub rate: Option<String>,
    /// Outgoing: make a new whsec_ signing secret and print it once
    #[arg(long, conflicts_with = "secret", help_heading = "Outgoing hooks")]
    pub generate_secret: bool,
    /// Outgoing: add "secret" to the payload, for receivers that check it there
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", help_heading = "Outgoing hooks")]
    pub include_secret: Option<bool>,
    /// Outgoing: only webhook.received events of this hook
    #[arg(long, value_name = "NAME", help_heading = "Outgoing hooks")]
    pub match_hook: Option<String>,
    /// Outgoing: only webhook.received events with this method
    #[arg(long, value_name = "M", help_heading = "Outgoing hooks")]
    pub match_method: Option<String>,
    /// Outgoing: only webhook.received events whose path matches this regex
    #[arg(long, value_name = "REGEX", help_heading = "Outgoing hooks")]
    pub match_path: Option<String>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Only entries of this hook
    pub name: Option<String>,
    /// Keep printing entries as they happen
    #[arg(long, short)]
    pub follow: bool,
    /// How many recent entries
    #[arg(short = 'n', long = "lines", value_name = "N", default_value_t = 20)]
    pub lines: u32,
    /// Only incoming calls, outgoing attempts, or management actions
    #[arg(long, value_name = "DIR", value_parser = ["in", "out", "admin"])]
    pub direction: Option<String>,
    /// Only entries newer than this, e.g. 10m, 2h, 7d
    #[arg(long, value_name = "DUR", value_parser = parse_dur)]
    pub since: Option<Dur>,
    /// Only failures (HTTP status >= 400 or an error)
    #[arg(long)]
    pub failed: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RunsArgs {
    /// Only runs of this hook
    pub name: Option<String>,
    /// How many recent runs
    #[arg(short = 'n', long = "lines", value_name = "N", default_value_t = 20)]
    pub lines: u32,
    /// Only runs with this status
    #[arg(long, value_name = "S", value_parser = ["queued", "running", "success", "failed", "timeout", "interrupted", "cancelled"])]
    pub status: Option<String>,
    #[command(subcommand)]
    pub show: Option<RunsCommand>,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// One run with its captured stdout and stderr
    Show {
        id: String,
        /// Print the output so far, then as the script writes it, until the run ends (exit 0
        /// for success, 1 otherwise)
        #[arg(long, short)]
        follow: bool,
    },
    /// Wait until the run ends and print `run ID STATUS exit CODE` (exit 0 for success, 1
    /// otherwise)
    Wait {
        id: String,
        /// Give up after this long (exit 1; the run goes on), e.g. 30s, 10m
        #[arg(long, value_name = "D", value_parser = parse_dur)]
        timeout: Option<Dur>,
    },
    /// Cancel a queued run (it never starts) or a running one (SIGTERM to its process group,
    /// SIGKILL after the grace period)
    Cancel { id: String },
    /// Run the hook again with the run's stored request (body, method, headers, query)
    Rerun { id: String },
}

fn parse_dur(s: &str) -> Result<Dur, String> {
    s.parse()
}
