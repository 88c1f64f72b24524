//! `hookctl`: arguments in, one protocol request out, the answer printed.
//!
//! Exit codes are the contract scripts rely on: 0 done, 1 the operation failed (not found,
//! invalid, a test call that failed), 2 usage error, 3 hookd unreachable. Nothing here waits on a
//! terminal that is not there: questions are asked only when stdin and stderr are terminals,
//! otherwise missing essentials are a usage error.

pub mod args;
pub mod client;
mod create;
mod daemon_args;
pub mod docs;
pub mod emit;
pub mod hooksfile;
pub mod import;
mod import_rules;
pub mod migrate_store;
pub mod options;
pub mod output;
pub mod rotate;
mod runs;
pub mod secretfile;

use crate::proto::{
    ApplyHooks, Created, DeliveryId, EditHook, ExportHooks, HookKind, HookOptions, ListDeliveries,
    ListHooks, ListRuns, LogQuery, NamedHook, RedeliverFailed, Request, Response, SetEnabled,
    TestCall,
};
use args::{Cli, Command, EditArgs, KindArg, LogsArgs, RunsArgs};
use clap::FromArgMatches;
use client::{Client, ClientError};
use std::io::IsTerminal;

pub const EXIT_FAILED: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_UNREACHABLE: i32 = 3;

#[derive(Debug)]
enum Failure {
    Usage(String),
    Failed(String),
    Client(ClientError),
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        Failure::Client(e)
    }
}

/// Parses the command line, runs the command and returns the process exit code.
pub fn main() -> i32 {
    let cli = match args::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => return clap_failure(e),
    };
    let json = cli.json;
    match run(cli) {
        Ok(code) => code,
        Err(f) => report(f, json),
    }
}

/// A command line clap refused (or `--help`/`--version`, which clap prints itself). With
/// `--json` a refusal is the JSON error document like every other failure.
fn clap_failure(e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    let wants_json = std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    if !wants_json
        || matches!(
            e.kind(),
            ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        )
    {
        e.exit();
    }
    print_json_error("usage", &clap_sentence(&e));
    EXIT_USAGE
}

/// clap's message without its `error: ` prefix, usage block and styling: one sentence.
fn clap_sentence(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let lines: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.is_empty() && !l.starts_with("Usage:"))
        .collect();
    let text = lines.join(" ");
    text.strip_prefix("error: ").unwrap_or(&text).to_string()
}

fn print_json_error(code: &str, message: &str) {
    eprintln!(
        "{}",
        serde_json::json!({"error": {"code": code, "message": message}})
    );
}

fn report(f: Failure, json: bool) -> i32 {
    let (code, kind, message) = match f {
        Failure::Usage(m) if json => (EXIT_USAGE, "usage", m),
        Failure::Usage(m) => {
            let err = args::command().error(clap::error::ErrorKind::MissingRequiredArgument, m);
            let _ = err.print();
            return EXIT_USAGE;
        }
        Failure::Failed(m) => (EXIT_FAILED, "failed", m),
        Failure::Client(ClientError::Daemon(e)) => (EXIT_FAILED, e.code.as_str(), e.message),
        Failure::Client(e @ ClientError::Unreachable { .. }) => {
            (EXIT_UNREACHABLE, "unreachable", e.to_string())
        }
        Failure::Client(e @ ClientError::NotAccessible { .. }) => {
            (EXIT_UNREACHABLE, "permission_denied", e.to_string())
        }
        Failure::Client(e) => (EXIT_FAILED, "connection", e.to_string()),
    };
    if json {
        print_json_error(kind, &message);
    } else {
        eprintln!("hookctl: {message}");
    }
    code
}

fn socket_path(cli: &Cli) -> std::path::PathBuf {
    cli.socket
        .clone()
        .unwrap_or_else(|| crate::config::Paths::detect().socket)
}

fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

fn run(cli: Cli) -> Result<i32, Failure> {
    let json = cli.json;
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(
            shell,
            &mut args::command(),
            "hookctl",
            &mut std::io::stdout(),
        );
        return Ok(0);
    }
    // Prepare everything that can fail locally before connecting, so usage errors are usage
    // errors even when the daemon is down.
    let request = match manage_request(&cli.command)? {
        Some(r) => r,
        None => history_request(&cli.command)?,
    };
    let mut client = Client::connect(&socket_path(&cli))?;
    let escape = !cli.raw && std::io::stdout().is_terminal();
    if let Request::Logs(q) = &request
        && q.follow
    {
        return follow(&mut client, &request, json, escape);
    }
    if let Command::Runs(RunsArgs { show: Some(c), .. }) = &cli.command {
        return runs::run(&mut client, c, &request, json, escape);
    }
    let response = client.request(&request)?;
    print(&cli.command, response, json, escape)
}

/// The request of a command that changes or shows hooks; `None` for the other commands.
fn manage_request(command: &Command) -> Result<Option<Request>, Failure> {
    let request = match command {
        Command::Create(a) => create::create_request(a)?,
        Command::Edit(a) => edit_request(a)?,
        Command::List { kind } => Request::List(ListHooks {
            kind: kind.map(kind_of),
        }),
        Command::Show { name } => Request::Show(NamedHook { name: name.clone() }),
        Command::Enable { name } => Request::SetEnabled(SetEnabled {
            name: name.clone(),
            enabled: true,
        }),
        Command::Disable { name } => Request::SetEnabled(SetEnabled {
            name: name.clone(),
            enabled: false,
        }),
        Command::Delete { name, yes } => {
            if !yes
                && !confirm(
                    "delete",
                    &format!("Delete hook {name}? Its URL stops working and this cannot be undone"),
                )?
            {
                return Err(Failure::Failed("not deleted".into()));
            }
            Request::Delete(NamedHook { name: name.clone() })
        }
        Command::Regenerate { name, yes } => {
            if !yes
                && !confirm(
                    "regenerate",
                    &format!("Give {name} a new token? The current URL stops working at once"),
                )?
            {
                return Err(Failure::Failed("token not changed".into()));
            }
            Request::Regenerate(NamedHook { name: name.clone() })
        }
        Command::Export {
            name,
            include_secrets,
        } => Request::Export(ExportHooks {
            name: name.clone(),
            include_secrets: *include_secrets,
        }),
        _ => return file_request(command),
    };
    Ok(Some(request))
}

/// The request of `apply` or `import`: hooks read from a file, checked here; `None` for the
/// other commands.
fn file_request(command: &Command) -> Result<Option<Request>, Failure> {
    let request = match command {
        Command::Apply {
            file,
            prune,
            dry_run,
            tokens_out,
        } => {
            if let Some(path) = tokens_out {
                secretfile::check(path).map_err(Failure::Failed)?;
            }
            Request::Apply(ApplyHooks {
                hooks: hooksfile::read(file).map_err(Failure::Failed)?,
                prune: *prune,
                dry_run: *dry_run,
            })
        }
        Command::Import {
            file,
            dry_run,
            tokens_out,
            keep_paths,
            skip_invalid,
            template,
        } => {
            if let Some(path) = tokens_out {
                secretfile::check(path).map_err(Failure::Failed)?;
            }
            let flags = import::Flags {
                template: *template,
                keep_paths: *keep_paths,
                skip_invalid: *skip_invalid,
            };
            Request::Apply(ApplyHooks {
                hooks: import::read(file, flags).map_err(Failure::Failed)?,
                prune: false,
                dry_run: *dry_run,
            })
        }
        _ => return Ok(None),
    };
    Ok(Some(request))
}

/// The request of a command that reads history or tries a hook.
fn history_request(command: &Command) -> Result<Request, Failure> {
    Ok(match command {
        Command::Test { name, data, method } => {
            test_request(name, data.as_deref(), method.clone())?
        }
        Command::Logs(a) => logs_request(a),
        Command::Runs(RunsArgs { show: Some(c), .. }) => runs::request(c),
        Command::Runs(a) => Request::Runs(ListRuns {
            hook: a.name.clone(),
            limit: a.lines,
            status: a.status.as_deref().and_then(crate::proto::RunStatus::parse),
        }),
        Command::Status => Request::Status,
        Command::Deliveries {
            name,
            status,
            lines,
        } => Request::Deliveries(ListDeliveries {
            hook: name.clone(),
            status: status.clone(),
            limit: *lines,
        }),
        Command::Redeliver {
            target,
            failed: true,
            since,
        } => Request::RedeliverFailed(RedeliverFailed {
            hook: target.clone(),
            since_ms: since.map(|d| crate::time::now_ms() - d.as_millis()),
        }),
        Command::Redeliver { target, .. } => Request::Redeliver(DeliveryId {
            id: target.clone().unwrap_or_default(),
        }),
        Command::RotateSecret {
            name,
            secret,
            overlap,
        } => rotate::request(name, secret.as_deref(), *overlap).map_err(Failure::Usage)?,
        Command::Emit {
            event_type,
            data,
            idempotency_key,
        } => emit::request(event_type, data.as_deref(), idempotency_key.as_deref())
            .map_err(Failure::Usage)?,
        _ => unreachable!("every other command is a management command or handled first"),
    })
}

fn kind_of(k: KindArg) -> HookKind {
    match k {
        KindArg::Script => HookKind::Script,
        KindArg::Message => HookKind::Message,
        KindArg::Outgoing => HookKind::Outgoing,
    }
}

/// Asks on a terminal. Without one there is nobody to answer, and acting anyway would let a
/// script destroy what it did not mean to: that is a usage error naming `--yes`.
fn confirm(verb: &str, question: &str) -> Result<bool, Failure> {
    if !interactive() {
        return Err(Failure::Usage(format!(
            "refusing to {verb} without --yes when not on a terminal"
        )));
    }
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .map_err(|e| Failure::Failed(format!("cannot ask for confirmation: {e}")))
}

fn edit_request(a: &EditArgs) -> Result<Request, Failure> {
    let script_from_stdin = a.script.as_deref() == Some("-");
    let mut options = options::to_options(&a.options, script_from_stdin).map_err(Failure::Usage)?;
    if let Some(src) = &a.script {
        options.script = Some(options::read_script(src).map_err(Failure::Failed)?);
    }
    if let Some(text) = &a.run {
        options.script = Some(text.clone());
    }
    if let Some(url) = &a.url {
        options.url = Some(url.clone());
    }
    if options == HookOptions::default() {
        return Err(Failure::Usage(
            "edit needs at least one option to change (see hookctl edit --help)".into(),
        ));
    }
    Ok(Request::Edit(EditHook {
        name: a.name.clone(),
        options: Box::new(options),
    }))
}

fn test_request(
    name: &str,
    data: Option<&str>,
    method: Option<String>,
) -> Result<Request, Failure> {
    let body = match data {
        Some(d) if d.starts_with('@') => Some(
            std::fs::read_to_string(&d[1..])
                .map_err(|e| Failure::Failed(format!("cannot read {}: {e}", &d[1..])))?,
        ),
        Some(d) => Some(d.to_string()),
        None => None,
    };
    Ok(Request::Test(TestCall {
        name: name.to_string(),
        method,
        body,
        content_type: None,
    }))
}

fn logs_request(a: &LogsArgs) -> Request {
    Request::Logs(LogQuery {
        hook: a.name.clone(),
        limit: a.lines,
        direction: a.direction.clone(),
        since_ms: a.since.map(|d| crate::time::now_ms() - d.as_millis()),
        failed: a.failed,
        follow: a.follow,
    })
}

fn follow(
    client: &mut Client,
    request: &Request,
    json: bool,
    escape: bool,
) -> Result<i32, Failure> {
    client.send(request)?;
    while let Some(resp) = client.next_response()? {
        match resp {
            Response::Log(entry) if json => output::json_line(&entry),
            Response::Log(entry) => println!("{}", output::log_line(&entry, escape)),
            Response::Error(e) => return Err(Failure::Client(ClientError::Daemon(e))),
            other => return Err(Failure::Failed(format!("unexpected answer: {other:?}"))),
        }
    }
    Ok(0)
}

fn print_created(c: &Created, json: bool) {
    if json {
        let mut v =
            serde_json::json!({"name": c.name, "kind": c.kind, "token": c.token, "url": c.url});
        if let Some(s) = &c.secret {
            v["secret"] = serde_json::json!(s);
        }
        output::json(&v);
        return;
    }
    match (&c.url, &c.token) {
        (Some(url), Some(_)) => {
            println!(
                "{} hook {} is ready. Its URL (shown only this once; keep it secret):",
                c.kind, c.name
            );
            println!("  {url}");
        }
        _ => println!("{} hook {} is ready.", c.kind, c.name),
    }
    if let Some(s) = &c.secret {
        println!("Signing secret (shown only this once): {s}");
    }
}

/// Prints an answer; `escape` says stdout is a terminal that caller-chosen text must not drive.
fn print(command: &Command, response: Response, json: bool, escape: bool) -> Result<i32, Failure> {
    match response {
        Response::Created(c) => print_created(&c, json),
        Response::Hook(h) if json => output::json(&h),
        Response::Hook(h) => {
            if matches!(command, Command::Edit(_)) {
                println!("Hook {} updated.", h.name);
            }
            output::hook(&h)
        }
        Response::Hooks { hooks } if json => output::json(&hooks),
        Response::Hooks { hooks } => output::hooks(&hooks),
        Response::Done { message } if json => {
            output::json(&serde_json::json!({"ok": true, "message": message}))
        }
        Response::Done { message } => println!("{message}"),
        Response::Rotated {
            name,
            secret,
            old_valid_until,
        } => rotate::print(&name, secret.as_deref(), &old_valid_until, json),
        Response::Requeued { count } if json => {
            output::json(&serde_json::json!({"requeued": count}))
        }
        Response::Requeued { count } => match count {
            1 => println!("1 failed delivery queued again"),
            n => println!("{n} failed deliveries queued again"),
        },
        Response::Emitted {
            id,
            deliveries,
            duplicate,
        } => emit::print(&id, deliveries, duplicate, json),
        Response::Status(s) if json => output::json(&s),
        Response::Status(s) => output::status(&s),
        Response::TestResult {
            status,
            body,
            duration_ms,
            note,
        } => {
            let code = print_test(status, &body, duration_ms, note, (json, escape));
            if code != 0 {
                return Ok(code);
            }
        }
        Response::Applied { changes, dry_run } => {
            let tokens_out = match command {
                Command::Apply { tokens_out, .. } | Command::Import { tokens_out, .. } => {
                    tokens_out.as_deref()
                }
                _ => None,
            };
            return hooksfile::report(&changes, dry_run, tokens_out, json).map_err(Failure::Failed);
        }
        Response::Exported { hooks } if json => output::json(&hooks),
        Response::Exported { hooks } => print!("{}", hooksfile::render(&hooks)),
        Response::Deliveries { deliveries } if json => output::json(&deliveries),
        Response::Deliveries { deliveries } => output::deliveries(&deliveries),
        Response::Runs { runs } if json => output::json(&runs),
        Response::Runs { runs } => output::runs(&runs),
        Response::Run(r) if json => output::json(&r),
        Response::Run(r) => output::run(&r, escape),
        Response::Logs { logs } if json => output::json(&logs),
        Response::Logs { logs } => {
            for l in &logs {
                println!("{}", output::log_line(l, escape));
            }
        }
        Response::Error(e) => return Err(Failure::Client(ClientError::Daemon(e))),
        // Stream pieces and the handshake never answer a one-shot command.
        _ => return Err(Failure::Failed("unexpected answer from hookd".into())),
    }
    Ok(0)
}

/// What `hookctl test` shows of the answer; its exit code (the call's status not 2xx: 1).
fn print_test(
    status: u16,
    body: &str,
    duration_ms: Option<u64>,
    note: Option<String>,
    (json, escape): (bool, bool),
) -> i32 {
    if let Some(note) = &note {
        eprintln!("hookctl: {note}");
    }
    if json {
        let mut v = serde_json::json!({"status": status});
        if let Some(d) = duration_ms {
            v["duration_ms"] = serde_json::json!(d);
        }
        v["body"] = serde_json::json!(body);
        if let Some(note) = note {
            v["note"] = serde_json::json!(note);
        }
        output::json(&v);
    } else {
        match duration_ms {
            Some(d) => println!("HTTP {status} in {d} ms"),
            None => println!("HTTP {status}"),
        }
        if !body.is_empty() {
            println!("{}", output::terminal_safe(body, escape));
        }
    }
    if (200..300).contains(&status) {
        0
    } else {
        EXIT_FAILED
    }
}
