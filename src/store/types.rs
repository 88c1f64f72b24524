//! The values storage operations take and give: log entries, staged events, run and attempt
//! records. They belong to the store, not to the socket protocol, so either can change without
//! the other; the few protocol views listings return are built from them here.

use crate::events::Event;
use crate::hook::Hook;
use crate::proto::LogView;
use crate::run::{Invocation, Outcome};

/// Which way a log entry points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// A call of an incoming hook.
    #[default]
    In,
    /// An attempt to deliver to an outgoing hook.
    Out,
    /// A management action through the control socket.
    Admin,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
            Direction::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Direction> {
        match s {
            "in" => Some(Direction::In),
            "out" => Some(Direction::Out),
            "admin" => Some(Direction::Admin),
            _ => None,
        }
    }
}

/// A management action, as logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    Create,
    Edit,
    Enable,
    Disable,
    Delete,
    Regenerate,
    RotateSecret,
    /// `runs cancel`.
    Cancel,
    /// `runs rerun`.
    Rerun,
}

impl AdminAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AdminAction::Create => "create",
            AdminAction::Edit => "edit",
            AdminAction::Enable => "enable",
            AdminAction::Disable => "disable",
            AdminAction::Delete => "delete",
            AdminAction::Regenerate => "regenerate",
            AdminAction::RotateSecret => "rotate-secret",
            AdminAction::Cancel => "cancel",
            AdminAction::Rerun => "rerun",
        }
    }
}

/// A log entry about to be written. Fields that do not apply stay `None`.
#[derive(Debug, Clone, Default)]
pub struct NewLog {
    pub time: i64,
    pub direction: Direction,
    pub hook: Option<String>,
    /// HTTP method, or for admin entries the action (`create`, `delete`, …).
    pub method: Option<String>,
    /// Incoming: the path with the token redacted. Outgoing: the URL without credentials.
    pub url: Option<String>,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
    pub remote_addr: Option<String>,
    pub run_id: Option<i64>,
    pub delivery_id: Option<String>,
    pub attempt: Option<u32>,
    pub uid: Option<u32>,
}

impl NewLog {
    /// The record of a management action on `hook` by the caller `uid`.
    pub fn admin(action: AdminAction, hook: &str, uid: Option<u32>) -> NewLog {
        NewLog {
            time: crate::time::now_ms(),
            direction: Direction::Admin,
            hook: Some(hook.to_string()),
            method: Some(action.as_str().to_string()),
            uid,
            ..NewLog::default()
        }
    }

    pub fn view(&self, id: i64) -> LogView {
        LogView {
            id: id.to_string(),
            time: crate::time::rfc3339(self.time),
            direction: self.direction.as_str().to_string(),
            hook: self.hook.clone(),
            method: self.method.clone(),
            url: self.url.clone(),
            status: self.status,
            error: self.error.clone(),
            duration_ms: self.duration_ms,
            remote_addr: self.remote_addr.clone(),
            run_id: self.run_id.map(|r| r.to_string()),
            delivery_id: self.delivery_id.clone(),
            attempt: self.attempt,
            uid: self.uid,
        }
    }
}

/// An event with the outgoing hooks it goes to, its data already serialized.
#[derive(Debug, Clone)]
pub struct StagedEvent {
    pub event: Event,
    pub data: String,
    /// (hook id, hook name) of each subscriber.
    pub targets: Vec<(i64, String)>,
}

/// Events to write with the unit of work that caused them. Only events with at least one
/// subscriber are kept: an event nobody receives is not stored at all.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    events: Vec<StagedEvent>,
}

impl Outbox {
    pub fn new(events: impl IntoIterator<Item = StagedEvent>) -> Outbox {
        Outbox {
            events: events
                .into_iter()
                .filter(|e| !e.targets.is_empty())
                .collect(),
        }
    }

    /// Whether writing this creates any delivery: accepted work, which reaches the disk before
    /// its cause is acknowledged.
    pub fn has_deliveries(&self) -> bool {
        !self.events.is_empty()
    }

    pub fn events(&self) -> &[StagedEvent] {
        &self.events
    }

    /// How many deliveries writing this queues.
    pub fn delivery_count(&self) -> u64 {
        self.events.iter().map(|e| e.targets.len() as u64).sum()
    }
}

/// Claimed deliveries handed back by pacing: each due at its instant, and hooks whose other
/// deliveries due before an instant wait until then too (a failing endpoint's backlog).
#[derive(Debug, Default)]
pub struct Deferred {
    pub deliveries: Vec<(i64, i64)>,
    pub hooks: std::collections::HashMap<i64, i64>,
}

/// What an emit did: the event (for a key seen before, the first one) and its deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emitted {
    pub id: String,
    pub deliveries: u64,
    pub duplicate: bool,
}

/// A custom event to publish, with the idempotency key that guards it.
#[derive(Debug)]
pub struct Emission {
    pub event_id: String,
    /// The key, and the instant before which an earlier use of it no longer counts.
    pub key: Option<(String, i64)>,
    pub outbox: Outbox,
    pub log: NewLog,
}

/// A hook just inserted.
#[derive(Debug, Clone, Copy)]
pub struct Created {
    pub id: i64,
    pub log_id: i64,
}

/// A hook change committed, with the id of its admin log entry.
#[derive(Debug, Clone, Copy)]
pub struct Written {
    pub hook_id: i64,
    pub log_id: i64,
}

/// One change of an applied hooks file.
#[derive(Debug, Clone)]
pub enum HookChange {
    Create(Hook, NewLog),
    /// The hook as read (its `revision`) with the changes made.
    Update(Hook, NewLog),
    Delete(Hook, NewLog),
}

impl HookChange {
    pub fn log(&self) -> &NewLog {
        match self {
            HookChange::Create(_, l) | HookChange::Update(_, l) | HookChange::Delete(_, l) => l,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Counts {
    pub hooks: u64,
    pub queued_runs: u64,
}

/// A run about to be stored.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub hook_id: i64,
    pub hook: String,
    pub at: i64,
    /// The run whose request this one repeats.
    pub rerun_of: Option<i64>,
}

/// A run's stored request, for `runs rerun`.
#[derive(Debug, Clone)]
pub struct StoredRequest {
    pub hook_id: i64,
    /// `None` when it was not kept (a run recorded before requests were kept).
    pub inv: Option<Invocation>,
}

/// Everything a call leaves behind, written in one commit.
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub hook_id: i64,
    /// How the call was answered, as the hook's `last_status`.
    pub status: u16,
    pub log: NewLog,
    /// A sync run's outcome, stored with the call instead of in a commit of its own.
    pub run: Option<(i64, Outcome)>,
}

/// A queued async run found at start-up.
#[derive(Debug, Clone)]
pub struct QueuedRun {
    pub id: i64,
    pub hook_id: i64,
    pub inv: Invocation,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    /// Claimed by a worker; shown as pending.
    Sending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        match s {
            "pending" => Some(DeliveryStatus::Pending),
            "sending" => Some(DeliveryStatus::Sending),
            "succeeded" => Some(DeliveryStatus::Succeeded),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// A delivery taken for sending.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub hook_id: i64,
    pub hook: String,
    /// Attempts made before this one.
    pub attempts: u32,
    pub event: Event,
}

/// The result of one attempt, as stored.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Pending (a retry is planned), succeeded or failed.
    pub status: DeliveryStatus,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub next_attempt_at: Option<i64>,
    pub at: i64,
}

/// One attempt with what it leaves behind.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub delivery_id: i64,
    pub attempt: Attempt,
    pub log: NewLog,
    /// The endpoint whose failing streak this attempt extends or ends (none when the hook is
    /// gone or disabled).
    pub endpoint: Option<i64>,
    /// A success at an endpoint already known healthy: nothing but history, which may lag. If
    /// a power loss drops it, the delivery is sent again with the same `webhook-id`.
    pub routine: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Finished {
    pub log_id: i64,
    /// When the endpoint started failing, if it is failing now.
    pub failing_since: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub hook: Option<String>,
    /// Pending includes those being sent.
    pub status: Option<DeliveryStatus>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redelivery {
    NotFound,
    /// It is being sent right now.
    InFlight,
    /// Queued again under the same id and event id, to the named hook.
    Queued(String),
}

/// Which runs a listing shows.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// Runs of this hook (by id: an earlier hook of the same name is another hook).
    pub hook_id: Option<i64>,
    /// Runs recorded under this hook name.
    pub hook: Option<String>,
    pub status: Option<crate::proto::RunStatus>,
    pub limit: u32,
}
