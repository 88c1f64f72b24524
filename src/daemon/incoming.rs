//! Answering a call of an incoming hook, whether it came over HTTP or from `hookctl test`.
//!
//! The HTTP layer has already found the hook, checked the method and read the body within its
//! limit; this module decides what the call does (run a script, accept a message), records it
//! (run row, call count, log entry) and shapes the answer of the product contract. It never
//! sees the token: `path` is already redacted.

use crate::daemon::answer::Answer;
use crate::daemon::cluster_slot::{self, Entered, QueuePlace};
use crate::daemon::gate;
use crate::daemon::live::{End, LiveRun, Recorder};
use crate::daemon::outbox;
use crate::daemon::registry::LiveHook;
use crate::daemon::respond;
use crate::daemon::runner::Refused;
use crate::daemon::state::Shared;
use crate::events::{self, Event};
use crate::hook::{Hook, refs};
use crate::proto::{HookKind, Mode, RunStatus};
use crate::run::{Invocation, Outcome};
use crate::store::{self, CallRecord, Direction, NewLog, NewRun};
use bytes::Bytes;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

pub struct Call {
    pub hook: Arc<LiveHook>,
    /// The called path with the token redacted.
    pub path: String,
    pub inv: Invocation,
    pub received: Instant,
    /// For a streamed call: told the run once it has started, so its output can be sent as it
    /// is written. A call that never starts a run (refused, failed to store) drops it unused.
    pub stream: Option<tokio::sync::oneshot::Sender<Arc<LiveRun>>>,
    /// Whether the hook's `--if` holds, once [`prepare`] has asked.
    pub holds: Option<bool>,
}

/// What handling a script call leaves for [`record`], and the run that is recorded with it.
struct Handled {
    answer: Answer,
    events: Vec<Event>,
    run: Option<(i64, Outcome)>,
    /// Dropped once the call (and a sync run's outcome) is recorded.
    recorder: Option<Recorder>,
}

impl Handled {
    fn answer(answer: Answer) -> Handled {
        Handled {
            answer,
            events: Vec::new(),
            run: None,
            recorder: None,
        }
    }
}

/// Extracts the call's `--param` values and asks whether the hook's `--if` holds (it may read
/// them); asked once per call.
pub fn prepare(call: &mut Call) -> bool {
    if call.holds.is_none() {
        if let Some(params) = &call.hook.options.params {
            call.inv.params = refs::extract_params(params, &call.inv.content_type, &call.inv.body);
        }
        call.holds = Some(gate::condition_holds(&call.hook, &call.inv));
    }
    call.holds == Some(true)
}

/// Handles the call to completion and records it. Runs in its own task so a caller that hangs
/// up does not cut a script run short.
pub async fn handle(shared: Arc<Shared>, mut call: Call) -> Answer {
    if !prepare(&mut call) {
        return skipped(&shared, &call, true).await;
    }
    let mut h = match call.hook.kind {
        HookKind::Script => match gate::values_fit(&call.hook, &call.inv) {
            Ok(()) => Box::pin(script(&shared, &mut call)).await,
            Err(a) => Handled::answer(*a),
        },
        HookKind::Message => {
            let (a, e) = message(&call);
            Handled {
                events: e,
                ..Handled::answer(a)
            }
        }
        HookKind::Outgoing => Handled::answer(Answer::not_found()),
    };
    if call.hook.kind == HookKind::Script {
        respond::add_headers(&call.hook, &mut h.answer);
    }
    let (record, outbox) = call_record(&shared, &call, &h.answer, h.events, h.run);
    let recorded = shared
        .store
        .record_call(record, outbox)
        .await
        .inspect_err(|e| tracing::error!(hook = %call.hook.name, "cannot record a call: {e}"));
    drop(h.recorder);
    match recorded {
        Ok(_) => h.answer,
        // Nothing is acknowledged that was not stored.
        Err(e) => store_failed(e),
    }
}

/// Answers a call whose `--if` is false: nothing runs, and the call is counted and logged
/// `skipped: condition false`. Unless `wait` (or the call's events queue deliveries, which are
/// acknowledged only once stored), the answer does not wait for that record to be written:
/// it is queued before the answer (on the embedded database, whatever reads the log after the
/// answer finds it) and written in the background, at most [`Shared::unwritten`] at a time.
pub async fn skipped(shared: &Arc<Shared>, call: &Call, wait: bool) -> Answer {
    let answer = gate::mismatch(&call.hook);
    let (record, outbox) = call_record(shared, call, &answer, Vec::new(), None);
    if wait || outbox.has_deliveries() {
        return match shared.store.record_call(record, outbox).await {
            Ok(_) => answer,
            Err(e) => store_failed(e),
        };
    }
    // The semaphore is never closed: a permit is always granted, in time.
    let permit = shared.unwritten.clone().acquire_owned().await.ok();
    shared
        .store
        .record_call_behind(record, outbox, Box::new(permit));
    answer
}

/// A call's record for the store: its count, its log entry, a sync run's outcome, and its
/// events (`webhook.received`, plus any the call produced) staged for the outbox, all written
/// in one commit.
fn call_record(
    shared: &Arc<Shared>,
    call: &Call,
    answer: &Answer,
    mut events: Vec<Event>,
    run: Option<(i64, Outcome)>,
) -> (CallRecord, store::Outbox) {
    let log = NewLog {
        time: crate::time::now_ms(),
        direction: Direction::In,
        hook: Some(call.hook.name.clone()),
        method: Some(call.inv.method.clone()),
        url: Some(call.path.clone()),
        status: Some(answer.status),
        error: answer.error.clone(),
        duration_ms: Some(call.received.elapsed().as_millis() as i64),
        remote_addr: Some(call.inv.remote_addr.clone()),
        run_id: answer.run_id,
        ..NewLog::default()
    };
    // Building the event copies the request; skip it when no outgoing hook could want it.
    if shared.registry.wants("webhook.received") {
        let inv = &call.inv;
        events.push(Event::new(
            "webhook.received",
            json!({
                "hook": call.hook.name,
                "hook_id": call.hook.id.to_string(),
                "request": events::request_data(&inv.method, &call.path, &inv.query, &inv.headers, &inv.body, call.hook.options.keep_headers.as_deref().unwrap_or_default()),
                "response": {"status": answer.status, "body": events::body_value(&answer.body)},
            }),
        ));
    }
    shared.metrics.call(&call.hook.name, answer.status);
    let record = CallRecord {
        hook_id: call.hook.id,
        status: answer.status,
        log,
        run,
    };
    (record, outbox::stage(shared, events))
}

/// A script call's answer, the events it produced and, for a sync run, the run's outcome for
/// [`record`] to store.
async fn script(shared: &Arc<Shared>, call: &mut Call) -> Handled {
    let hook = call.hook.clone();
    let place = match shared.runner.admit(&hook, false) {
        Ok(p) => p,
        Err(Refused::QueueFull) => return queue_full(shared, &hook),
    };
    let mut queued = match cluster_slot::enter_queue(&shared.store, &hook).await {
        Ok(Entered::Alone) => None,
        Ok(Entered::Waiting(q)) => Some(q),
        Ok(Entered::Full) => return queue_full(shared, &hook),
        Err(e) => return Handled::answer(store_failed(e)),
    };
    if hook.mode() == Mode::Async {
        let id = match queue(shared, &hook, call.inv.clone(), None, (place, queued)).await {
            Ok(id) => id,
            Err(e) => return Handled::answer(store_failed(e)),
        };
        let mut a = respond::queued(&hook, id);
        a.run_id = Some(id);
        return Handled::answer(a);
    }
    let ticket = place.wait().await;
    let slot = match cluster_slot::take(&shared.store, &hook, &mut queued).await {
        Ok(s) => s,
        Err(e) => return Handled::answer(store_failed(e)),
    };
    drop(queued);
    let run = new_run(&hook, None);
    let id = match shared.store.start_run(run, call.inv.clone()).await {
        Ok(id) => id,
        Err(e) => return Handled::answer(store_failed(e)),
    };
    let recorder = shared.live.register(id, hook.id, false, output_cap(shared));
    if let Some(stream) = call.stream.take() {
        let _ = stream.send(recorder.run.clone());
    }
    announce_start(shared, &hook, id).await;
    let (outcome, event) = run_script(shared, &hook, id, &call.inv, &recorder.run).await;
    drop((slot, ticket));
    let mut a = respond::finished(&hook, id, &outcome, &recorder.run.output());
    a.run_id = Some(id);
    // The outcome is stored with the call's record: one commit instead of two per sync call.
    Handled {
        answer: a,
        events: event.into_iter().collect(),
        run: Some((id, outcome)),
        recorder: Some(recorder),
    }
}

/// The answer to a call for which `queue_limit` calls wait already.
fn queue_full(shared: &Shared, hook: &Hook) -> Handled {
    let mut a = Answer::json(
        429,
        json!({"error": "too many calls waiting for this hook"}),
    )
    .with_error("queue full");
    a.retry_after = Some(retry_after(hook, shared));
    Handled::answer(a)
}

/// A call's places in its hook's queues: this node's, and the one across nodes sharing the
/// store (none for a store this process has alone).
pub type Places = (crate::daemon::runner::Place, Option<QueuePlace>);

/// Stores a run as queued with its request and starts waiting for its turn; returns its id.
/// Async calls and `runs rerun` come in here.
pub async fn queue(
    shared: &Arc<Shared>,
    hook: &Arc<LiveHook>,
    inv: Invocation,
    rerun_of: Option<i64>,
    places: Places,
) -> Result<i64, store::StoreError> {
    let run = new_run(hook, rerun_of);
    let id = shared.store.queue_run(run, inv.clone()).await?;
    spawn_async_run(shared.clone(), hook.clone(), id, inv, places);
    Ok(id)
}

fn new_run(hook: &Hook, rerun_of: Option<i64>) -> NewRun {
    NewRun {
        hook_id: hook.id,
        hook: hook.name.clone(),
        at: crate::time::now_ms(),
        rerun_of,
    }
}

/// How much of a run's combined output watchers can see (`scripts.max_output_bytes`).
fn output_cap(shared: &Shared) -> usize {
    shared.config().scripts.max_output_bytes as usize
}

/// The `script.started` event of run `id`, staged (empty when nobody subscribes).
fn started_event(shared: &Shared, hook: &Hook, id: i64) -> store::Outbox {
    if !shared.registry.wants("script.started") {
        return store::Outbox::default();
    }
    let event = Event::new(
        "script.started",
        json!({"hook": hook.name, "hook_id": hook.id.to_string(), "run_id": id.to_string(), "cwd": hook.options.cwd}),
    );
    outbox::stage(shared, [event])
}

/// Puts a sync run's `script.started` in the outbox.
async fn announce_start(shared: &Arc<Shared>, hook: &Hook, id: i64) {
    let outbox = started_event(shared, hook, id);
    if !outbox.has_deliveries() {
        return;
    }
    if let Err(e) = shared.store.publish(outbox).await {
        tracing::error!(hook = %hook.name, run = id, "cannot store script.started: {e}");
    }
}

/// Runs a script and returns its outcome with the `script.completed` / `script.failed` event
/// that reports it (none when no outgoing hook subscribes to it); storing both is the caller's
/// job.
async fn run_script(
    shared: &Arc<Shared>,
    hook: &Hook,
    id: i64,
    inv: &Invocation,
    live: &Arc<LiveRun>,
) -> (Outcome, Option<Event>) {
    let config = shared.config();
    let o = shared.runner.execute(&config, hook, id, inv, live).await;
    live.exited(End {
        status: o.status,
        exit_code: o.exit_code,
        duration_ms: o.duration_ms,
    });
    shared
        .metrics
        .run(&hook.name, o.status.as_str(), o.duration_ms as f64 / 1000.0);
    let event_type = match o.status {
        RunStatus::Success => "script.completed",
        RunStatus::Cancelled => "script.cancelled",
        _ => "script.failed",
    };
    if !shared.registry.wants(event_type) {
        return (o, None);
    }
    let event = Event::new(
        event_type,
        json!({
            "hook": hook.name,
            "hook_id": hook.id.to_string(),
            "run_id": id.to_string(),
            "cwd": hook.options.cwd,
            "status": o.status.as_str(),
            "exit_code": o.exit_code,
            "duration_ms": o.duration_ms,
            "cancelled_by": o.cancelled_by,
            "stdout": events::excerpt(&o.stdout),
            "stderr": events::excerpt(&o.stderr),
        }),
    );
    (o, Some(event))
}

/// Runs an async run's script and stores its outcome and event in their own commit (its
/// call was answered long ago).
async fn run_and_store(
    shared: &Arc<Shared>,
    hook: &Hook,
    id: i64,
    inv: &Invocation,
    live: &Arc<LiveRun>,
) {
    let (o, event) = run_script(shared, hook, id, inv, live).await;
    if let Err(e) = shared
        .store
        .finish_run(id, o, outbox::stage(shared, event))
        .await
    {
        tracing::error!(hook = %hook.name, run = id, "cannot store the run's outcome: {e}")
    }
}

/// Runs a queued async run once its turn comes. Also used for queued runs found at start-up.
pub fn spawn_async_run(
    shared: Arc<Shared>,
    hook: Arc<LiveHook>,
    id: i64,
    inv: Invocation,
    (place, mut queued): Places,
) {
    let recorder = shared.live.register(id, hook.id, true, output_cap(&shared));
    tokio::spawn(async move {
        let live = recorder.run.clone();
        let turn = async {
            let ticket = place.wait().await;
            let slot = cluster_slot::take_patiently(&shared.store, &hook, &mut queued).await;
            drop(queued);
            (slot, ticket)
        };
        let ticket = tokio::select! {
            t = turn => t,
            uid = live.cancelled() => return cancel_queued(&shared, &hook, id, uid).await,
        };
        let now = crate::time::now_ms();
        let started = started_event(&shared, &hook, id);
        if let Err(e) = shared.store.run_started(id, now, started).await {
            tracing::error!(hook = %hook.name, run = id, "cannot mark the run as running: {e}");
        }
        live.started();
        run_and_store(&shared, &hook, id, &inv, &live).await;
        drop(ticket);
        drop(recorder);
    });
}

/// A queued run cancelled before its turn: it leaves the queue (its place is dropped with the
/// task) and never starts.
async fn cancel_queued(shared: &Arc<Shared>, hook: &Hook, id: i64, uid: Option<u32>) {
    let outbox = if shared.registry.wants("script.cancelled") {
        let event = Event::new(
            "script.cancelled",
            json!({"hook": hook.name, "hook_id": hook.id.to_string(), "run_id": id.to_string(),
                   "cwd": hook.options.cwd, "status": "cancelled", "exit_code": null,
                   "duration_ms": 0, "cancelled_by": uid, "stdout": "", "stderr": ""}),
        );
        outbox::stage(shared, [event])
    } else {
        store::Outbox::default()
    };
    let at = crate::time::now_ms();
    if let Err(e) = shared.store.cancel_queued(id, at, uid, outbox).await {
        tracing::error!(hook = %hook.name, run = id, "cannot store the cancel: {e}");
    }
    if let Some(live) = shared.live.get(id) {
        live.exited(End {
            status: RunStatus::Cancelled,
            exit_code: None,
            duration_ms: 0,
        });
    }
}

/// Seconds a refused caller should wait: about one run's worth, bounded to something sane.
fn retry_after(hook: &Hook, shared: &Shared) -> u64 {
    let timeout = hook
        .options
        .timeout
        .unwrap_or(shared.config().scripts.timeout)
        .0
        .as_secs();
    timeout.clamp(1, 60)
}

fn store_failed(e: store::StoreError) -> Answer {
    tracing::error!("cannot store a call: {e}");
    Answer::json(503, json!({"error": "hookd cannot write its database"}))
        .with_error(format!("store: {e}"))
}

/// Chat-style messages: `{content, username, avatar_url}` checked field by field. A valid
/// message becomes a `message.received` event, stored (with its deliveries) before the 200.
fn message(call: &Call) -> (Answer, Vec<Event>) {
    match check_message(&call.inv.body) {
        Ok(m) => {
            let get = |k: &str| m.get(k).and_then(|v| v.as_str()).map(str::to_string);
            let avatar = get("avatar_url").or_else(|| call.hook.options.avatar_url.clone());
            let event = Event::new(
                "message.received",
                json!({
                    "hook": call.hook.name,
                    "hook_id": call.hook.id.to_string(),
                    "content": get("content"),
                    "username": get("username"),
                    "avatar_url": avatar,
                }),
            );
            (Answer::text(200, Bytes::new()), vec![event])
        }
        Err((field, msg)) => {
            let mut body = json!({"error": msg});
            if let Some(f) = field {
                body["field"] = json!(f);
            }
            (Answer::json(422, body).with_error(msg), Vec::new())
        }
    }
}

/// A valid message, or the field at fault and why.
pub fn check_message(
    body: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, (Option<&'static str>, String)> {
    let text =
        std::str::from_utf8(body).map_err(|_| (None, "body is not valid UTF-8".to_string()))?;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| (None, format!("body is not valid JSON: {e}")))?;
    let serde_json::Value::Object(obj) = value else {
        return Err((None, "body must be a JSON object".into()));
    };
    match obj.get("content") {
        Some(serde_json::Value::String(s)) => {
            let n = s.chars().count();
            if n == 0 || s.trim().is_empty() {
                return Err((Some("content"), "content must not be empty".into()));
            }
            if n > 4000 {
                return Err((
                    Some("content"),
                    format!("content is {n} characters; at most 4000 are allowed"),
                ));
            }
        }
        Some(_) => return Err((Some("content"), "content must be a string".into())),
        None => return Err((Some("content"), "content is required".into())),
    }
    match obj.get("username") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::String(s)) if s.chars().count() <= 64 => {}
        Some(serde_json::Value::String(_)) => {
            return Err((
                Some("username"),
                "username is longer than 64 characters".into(),
            ));
        }
        Some(_) => return Err((Some("username"), "username must be a string".into())),
    }
    match obj.get("avatar_url") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::String(s))
            if crate::hook::check_http_url("avatar_url", s).is_ok() => {}
        Some(_) => {
            return Err((
                Some("avatar_url"),
                "avatar_url must be an http(s) URL".into(),
            ));
        }
    }
    Ok(obj)
}
