//! `runs show ID [--follow]`, `runs wait`, `runs cancel` and `runs rerun`: one run at a time.
//!
//! Exit codes follow the run: 0 when it succeeded, 1 otherwise (also when `wait` gave up at its
//! `--timeout`, which leaves the run alone). Followed output goes to stdout as the script wrote
//! it, with control characters escaped on a terminal.

use super::args::RunsCommand;
use super::client::{Client, ClientError};
use super::{EXIT_FAILED, Failure, output};
use crate::proto::{Request, Response, RunId, RunStatus, RunView};
use base64::Engine;
use std::io::Write;

pub(super) fn request(c: &RunsCommand) -> Request {
    let id = |id: &String| RunId { id: id.clone() };
    match c {
        RunsCommand::Show { id: i, follow } if *follow => Request::RunFollow(id(i)),
        RunsCommand::Show { id: i, .. } => Request::RunShow(id(i)),
        RunsCommand::Wait { id: i, .. } => Request::RunWait(id(i)),
        RunsCommand::Cancel { id: i } => Request::RunCancel(id(i)),
        RunsCommand::Rerun { id: i } => Request::RunRerun(id(i)),
    }
}

fn exit_of(r: &RunView) -> i32 {
    if r.status == RunStatus::Success {
        0
    } else {
        EXIT_FAILED
    }
}

fn unexpected(r: Response) -> Failure {
    Failure::Failed(format!("unexpected answer from hookd: {r:?}"))
}

pub(super) fn run(
    client: &mut Client,
    c: &RunsCommand,
    request: &Request,
    json: bool,
    escape: bool,
) -> Result<i32, Failure> {
    match c {
        RunsCommand::Show { follow: true, .. } => follow(client, request, json, escape),
        RunsCommand::Show { .. } => {
            let r = expect_run(client.request(request)?)?;
            match json {
                true => output::json(&r),
                false => output::run(&r, escape),
            }
            Ok(0)
        }
        RunsCommand::Wait { timeout, .. } => wait(client, request, *timeout, json),
        RunsCommand::Cancel { .. } => {
            let r = match client.request(request)? {
                Response::RunEnded(r) => r,
                other => return Err(unexpected(other)),
            };
            if json {
                output::json(&r);
                return Ok(exit_of_cancel(&r));
            }
            if r.status != RunStatus::Cancelled {
                return Err(Failure::Failed(format!(
                    "run {} ended ({}) before it could be cancelled",
                    r.id,
                    r.status.as_str()
                )));
            }
            println!("run {} cancelled", r.id);
            Ok(0)
        }
        RunsCommand::Rerun { id } => {
            let r = expect_run(client.request(request)?)?;
            match json {
                true => output::json(&r),
                false => println!("run {} {} (rerun of {id})", r.id, r.status.as_str()),
            }
            Ok(0)
        }
    }
}

fn expect_run(r: Response) -> Result<Box<RunView>, Failure> {
    match r {
        Response::Run(r) => Ok(r),
        other => Err(unexpected(other)),
    }
}

/// `runs wait`: the daemon answers when the run has ended; `--timeout` bounds the wait here.
fn wait(
    client: &mut Client,
    request: &Request,
    timeout: Option<crate::time::Dur>,
    json: bool,
) -> Result<i32, Failure> {
    client.set_read_timeout(timeout.map(|t| t.0))?;
    let r = match client.request(request) {
        Ok(Response::RunEnded(r)) => r,
        Ok(other) => return Err(unexpected(other)),
        Err(ClientError::Io(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            let t = timeout.map(|t| t.to_string()).unwrap_or_default();
            return Err(Failure::Failed(format!(
                "the run has not ended after {t}; it goes on"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    print_ended(&r, json);
    Ok(exit_of(&r))
}

fn exit_of_cancel(r: &RunView) -> i32 {
    if r.status == RunStatus::Cancelled {
        0
    } else {
        EXIT_FAILED
    }
}

/// `run ID STATUS exit CODE`, or the run object.
fn print_ended(r: &RunView, json: bool) {
    if json {
        return output::json(r);
    }
    let code = r
        .exit_code
        .map(|c| c.to_string())
        .unwrap_or_else(|| "-".into());
    println!("run {} {} exit {code}", r.id, r.status.as_str());
}

/// The output so far, then as it is written; the run's status last (on stderr, so stdout is
/// the script's output alone). With `--json`, only the run object as stored at its end.
fn follow(
    client: &mut Client,
    request: &Request,
    json: bool,
    escape: bool,
) -> Result<i32, Failure> {
    client.send(request)?;
    let mut stdout = std::io::stdout().lock();
    let mut last_newline = true;
    while let Some(resp) = client.next_response()? {
        let bytes = match resp {
            // A run that has ended already comes with its stored output.
            Response::Run(r) => [r.stdout.unwrap_or_default(), r.stderr.unwrap_or_default()]
                .concat()
                .into_bytes(),
            Response::RunOutput { data } => base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|e| Failure::Failed(format!("hookd sent unreadable output: {e}")))?,
            Response::RunEnded(r) => {
                if json {
                    output::json(&r);
                } else {
                    if !last_newline {
                        let _ = writeln!(stdout);
                    }
                    let _ = stdout.flush();
                    let code = r
                        .exit_code
                        .map(|c| format!(" exit {c}"))
                        .unwrap_or_default();
                    eprintln!("run {} {}{code}", r.id, r.status.as_str());
                }
                return Ok(exit_of(&r));
            }
            Response::Error(e) => return Err(Failure::Client(ClientError::Daemon(e))),
            other => return Err(unexpected(other)),
        };
        if json || bytes.is_empty() {
            continue;
        }
        last_newline = bytes.ends_with(b"\n");
        let shown = match escape {
            true => output::terminal_safe(&String::from_utf8_lossy(&bytes), true)
                .into_owned()
                .into_bytes(),
            false => bytes,
        };
        if stdout
            .write_all(&shown)
            .and_then(|_| stdout.flush())
            .is_err()
        {
            return Ok(0);
        }
    }
    Err(Failure::Failed(
        "hookd closed the connection before the run ended".into(),
    ))
}
