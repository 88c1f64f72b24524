//! Prometheus metrics: counters kept in memory, served as text on `metrics_listen` by
//! [`crate::daemon::scrape`].
//!
//! Counters start at zero with each process (Prometheus handles resets). Label values are hook
//! names (A-Z a-z 0-9 . _ -) and fixed words, so they never need escaping. Gauges (queue depth,
//! running scripts, pending deliveries) are read when scraped. Serving is off unless
//! `metrics_listen` is set; it has no authentication, so bind it to loopback or a private net.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds (seconds) of the run duration histogram.
const BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Inner {
    /// Calls by hook, then by status: looked up by the hook's name without allocating.
    calls: BTreeMap<String, BTreeMap<u16, u64>>,
    runs: BTreeMap<(String, &'static str), u64>,
    durations: BTreeMap<String, Histogram>,
    deliveries: BTreeMap<(String, &'static str), u64>,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    pub fn call(&self, hook: &str, status: u16) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let by_status = match m.calls.get_mut(hook) {
            Some(s) => s,
            None => m.calls.entry(hook.to_string()).or_default(),
        };
        *by_status.entry(status).or_default() += 1;
    }

    pub fn run(&self, hook: &str, status: &'static str, seconds: f64) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *m.runs.entry((hook.to_string(), status)).or_default() += 1;
        let h = m.durations.entry(hook.to_string()).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    /// `outcome`: succeeded, retried or failed.
    pub fn delivery(&self, hook: &str, outcome: &'static str) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *m.deliveries.entry((hook.to_string(), outcome)).or_default() += 1;
    }

    /// The exposition text, with the gauges given.
    pub fn render(&self, running: u64, queued: u64, pending_deliveries: u64) -> String {
        let m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::with_capacity(4096);
        counter(
            &mut out,
            "hookd_calls_total",
            "Incoming calls answered, by hook and HTTP status.",
            "status",
            m.calls
                .iter()
                .flat_map(|(h, by)| by.iter().map(move |(s, n)| (h, s.to_string(), n))),
        );
        counter(
            &mut out,
            "hookd_runs_total",
            "Script runs finished, by hook and status.",
            "status",
            m.runs.iter().map(|((h, s), n)| (h, s.to_string(), n)),
        );
        durations(&mut out, &m.durations);
        counter(
            &mut out,
            "hookd_delivery_attempts_total",
            "Outgoing delivery attempts, by hook and outcome.",
            "outcome",
            m.deliveries.iter().map(|((h, o), n)| (h, o.to_string(), n)),
        );
        for (name, help, v) in [
            ("hookd_running_scripts", "Script runs in progress.", running),
            (
                "hookd_queue_depth",
                "Script runs waiting for a slot.",
                queued,
            ),
            (
                "hookd_pending_deliveries",
                "Deliveries waiting to be sent or retried.",
                pending_deliveries,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {v}");
        }
        out
    }
}

/// The per-hook gauges of outgoing deliveries: backlog and whether attempts are failing (hook
/// names need no escaping: they are `A-Za-z0-9._-`).
pub fn endpoints(out: &mut String, endpoints: &[crate::proto::EndpointView]) {
    let _ = writeln!(
        out,
        "# HELP hookd_delivery_backlog Deliveries waiting to be sent or retried, by hook."
    );
    let _ = writeln!(out, "# TYPE hookd_delivery_backlog gauge");
    for e in endpoints {
        let _ = writeln!(
            out,
            "hookd_delivery_backlog{{hook=\"{}\"}} {}",
            e.hook, e.backlog
        );
    }
    let _ = writeln!(
        out,
        "# HELP hookd_endpoint_failing 1 while an outgoing hook's attempts are failing."
    );
    let _ = writeln!(out, "# TYPE hookd_endpoint_failing gauge");
    for e in endpoints {
        let failing = u8::from(e.failing_since.is_some());
        let _ = writeln!(
            out,
            "hookd_endpoint_failing{{hook=\"{}\"}} {failing}",
            e.hook
        );
    }
}

/// One counter family labelled by hook and `label`.
fn counter<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    label: &str,
    rows: impl Iterator<Item = (&'a String, String, &'a u64)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} counter");
    for (hook, value, n) in rows {
        let _ = writeln!(out, "{name}{{hook=\"{hook}\",{label}=\"{value}\"}} {n}");
    }
}

/// The run duration histogram, per hook.
fn durations(out: &mut String, all: &BTreeMap<String, Histogram>) {
    let name = "hookd_run_duration_seconds";
    let _ = writeln!(out, "# HELP {name} Script run durations.");
    let _ = writeln!(out, "# TYPE {name} histogram");
    for (hook, h) in all {
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{hook=\"{hook}\",le=\"{b}\"}} {}",
                h.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{hook=\"{hook}\",le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(out, "{name}_sum{{hook=\"{hook}\"}} {}", h.sum);
        let _ = writeln!(out, "{name}_count{{hook=\"{hook}\"}} {}", h.count);
    }
}
