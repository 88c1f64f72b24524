//! `hookctl create`: the request from the command line, and on a terminal the questions for
//! whatever essentials it lacks (name, kind, script). Without a terminal nothing is asked: a
//! missing essential is a usage error, so unattended runs never wait.

use super::args::CreateArgs;
use super::{Failure, interactive, options};
use crate::proto::{CreateHook, HookKind, HookOptions, Request};

pub(super) fn create_request(a: &CreateArgs) -> Result<Request, Failure> {
    let script_from_stdin = a.script.as_deref() == Some("-");
    let mut options = options::to_options(&a.options, script_from_stdin).map_err(Failure::Usage)?;
    if a.disabled {
        options.enabled = Some(false);
    }
    let mut kind = if let Some(src) = &a.script {
        options.script = Some(options::read_script(src).map_err(Failure::Failed)?);
        Some(HookKind::Script)
    } else if let Some(text) = &a.run {
        options.script = Some(text.clone());
        Some(HookKind::Script)
    } else if options.exec.is_some() {
        Some(HookKind::Script)
    } else if a.message {
        Some(HookKind::Message)
    } else if let Some(url) = &a.url {
        options.url = Some(url.clone());
        Some(HookKind::Outgoing)
    } else {
        None
    };
    let mut name = a.name.clone();
    if name.is_none() || kind.is_none() {
        if !interactive() {
            let missing = match (name.is_none(), kind.is_none()) {
                (true, true) => {
                    "a NAME and one of --script FILE, --run TEXT, --exec PATH, --message, --url URL"
                }
                (true, false) => "a NAME",
                _ => "one of --script FILE, --run TEXT, --exec PATH, --message, --url URL",
            };
            return Err(Failure::Usage(format!(
                "create needs {missing} (there is no terminal to ask on)"
            )));
        }
        ask_essentials(&mut name, &mut kind, &mut options)?;
    }
    let (Some(name), Some(kind)) = (name, kind) else {
        return Err(Failure::Usage("create needs a name and a kind".into()));
    };
    Ok(Request::Create(CreateHook {
        name,
        kind,
        options: Box::new(options),
    }))
}

/// Asks on the terminal for what `create` was not given.
fn ask_essentials(
    name: &mut Option<String>,
    kind: &mut Option<HookKind>,
    o: &mut HookOptions,
) -> Result<(), Failure> {
    let asked = |e: dialoguer::Error| Failure::Failed(format!("cannot read the answer: {e}"));
    if name.is_none() {
        let n: String = dialoguer::Input::new()
            .with_prompt("Hook name")
            .validate_with(|s: &String| crate::hook::validate_name(s))
            .interact_text()
            .map_err(asked)?;
        *name = Some(n);
    }
    if kind.is_none() {
        let kinds = [
            "script: a URL that runs a shell script",
            "message: a URL that accepts chat-style messages",
            "outgoing: deliver events to a URL",
        ];
        let i = dialoguer::Select::new()
            .with_prompt("Kind")
            .items(kinds)
            .default(0)
            .interact()
            .map_err(asked)?;
        *kind = Some([HookKind::Script, HookKind::Message, HookKind::Outgoing][i]);
        match kind {
            Some(HookKind::Script) => {
                let text = dialoguer::Editor::new()
                    .extension(".sh")
                    .edit("#!/bin/sh\n# The request body is on stdin; see `man hookctl` for HOOKD_* variables.\n")
                    .map_err(asked)?
                    .ok_or_else(|| Failure::Failed("no script written; nothing created".into()))?;
                o.script = Some(text);
                if o.user.is_none() {
                    let u: String = dialoguer::Input::new()
                        .with_prompt("Run as user (empty: the default)")
                        .allow_empty(true)
                        .interact_text()
                        .map_err(asked)?;
                    o.user = (!u.is_empty()).then_some(u);
                }
            }
            Some(HookKind::Outgoing) => {
                let u: String = dialoguer::Input::new()
                    .with_prompt("Receiver URL")
                    .interact_text()
                    .map_err(asked)?;
                o.url = Some(u);
            }
            _ => {}
        }
    }
    Ok(())
}
