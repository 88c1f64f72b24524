//! `metrics_listen`: Prometheus text exposition that parses, with the counters it promises.

use crate::helper::{Daemon, free_port, http};
use std::collections::HashMap;
use std::time::Duration;

/// Parses Prometheus text format 0.0.4 strictly enough to catch malformed output: every sample
/// belongs to a family announced by `# TYPE`, names and labels are well formed, values are
/// numbers. Returns `name{labels}` → value.
fn parse_exposition(text: &str) -> HashMap<String, f64> {
    let sample = regex::Regex::new(r#"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*\})? (\S+)$"#).unwrap();
    let type_line = regex::Regex::new(
        r"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$",
    )
    .unwrap();
    let mut families: HashMap<String, String> = HashMap::new();
    let mut out = HashMap::new();
    assert!(text.ends_with('\n'));
    for line in text.lines() {
        if let Some(c) = type_line.captures(line) {
            assert!(
                families
                    .insert(c[1].to_string(), c[2].to_string())
                    .is_none(),
                "TYPE twice: {line}"
            );
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#'), "bad comment line: {line}");
        let c = sample
            .captures(line)
            .unwrap_or_else(|| panic!("malformed sample: {line:?}"));
        let name = &c[1];
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| families.get(*f).map(String::as_str) == Some("histogram"))
            })
            .unwrap_or(name);
        assert!(
            families.contains_key(family),
            "sample before its TYPE: {line}"
        );
        let value: f64 = match &c[5] {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        out.insert(
            format!("{}{}", name, c.get(2).map(|m| m.as_str()).unwrap_or("")),
            value,
        );
    }
    out
}

#[test]
fn metrics_count_calls_runs_and_deliveries() {
    let port = free_port();
    let d = Daemon::start_with(&format!("metrics_listen = \"127.0.0.1:{port}\"\n"));
    let ok = d.create("ok", &["--run", "true"]);
    let bad = d.create("bad", &["--run", "exit 2"]);
    d.get(&d.path(&ok));
    d.get(&d.path(&ok));
    d.get(&d.path(&bad));
    let r = http(port, "GET", "/metrics", &[], b"");
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let m = parse_exposition(&r.body);
    assert_eq!(m["hookd_calls_total{hook=\"ok\",status=\"200\"}"], 2.0);
    assert_eq!(m["hookd_calls_total{hook=\"bad\",status=\"500\"}"], 1.0);
    assert_eq!(m["hookd_runs_total{hook=\"bad\",status=\"failed\"}"], 1.0);
    assert_eq!(m["hookd_run_duration_seconds_count{hook=\"ok\"}"], 2.0);
    assert_eq!(
        m["hookd_run_duration_seconds_bucket{hook=\"ok\",le=\"+Inf\"}"],
        2.0
    );
    assert_eq!(m["hookd_queue_depth"], 0.0);
    assert_eq!(m["hookd_running_scripts"], 0.0);
    assert_eq!(m["hookd_pending_deliveries"], 0.0);
    assert_eq!(http(port, "GET", "/other", &[], b"").status, 404);
}

#[test]
fn metrics_are_off_by_default() {
    let d = Daemon::start();
    let s = d.json(&["status"]);
    assert!(s["listen"].is_string());
    assert!(!d.log().contains("metrics on"));
}

#[test]
fn status_and_metrics_show_each_endpoints_backlog_and_health() {
    let port = free_port();
    let d = Daemon::start_with(&format!(
        "metrics_listen = \"127.0.0.1:{port}\"\n[deliveries]\nretry_schedule = [\"1h\"]\n"
    ));
    let rx = crate::helper::receiver::Receiver::start(&[200]);
    d.create(
        "slow",
        &[
            "--url",
            &rx.url("/"),
            "--event",
            "message.received",
            "--rate",
            "1/m",
        ],
    );
    let down = free_port();
    d.create(
        "down",
        &[
            "--url",
            &format!("http://127.0.0.1:{down}/"),
            "--event",
            "message.received",
        ],
    );
    let chat = d.create("chat", &["--message"]);
    for i in 0..3 {
        d.post(&d.path(&chat), &format!(r#"{{"content": "m{i}"}}"#));
    }
    crate::helper::wait_until("down failing", Duration::from_secs(10), || {
        d.json(&["show", "down"])["health"] == "failing"
    });
    let s = d.json(&["status"]);
    let endpoints = s["endpoints"].as_array().unwrap();
    let slow = endpoints.iter().find(|e| e["hook"] == "slow").unwrap();
    assert_eq!(
        slow["backlog"], 2,
        "one sent, two waiting for their slot: {s}"
    );
    assert_eq!(slow["health"], "healthy");
    let failing = endpoints.iter().find(|e| e["hook"] == "down").unwrap();
    assert_eq!(failing["health"], "failing");
    assert_eq!(failing["backlog"], 3);
    assert!(failing["failing_since"].is_string());
    let human = crate::helper::text(&d.ctl(&["status"]).stdout);
    assert!(
        human.contains("Outgoing down") && human.contains("failing since"),
        "{human}"
    );

    let m = parse_exposition(&http(port, "GET", "/metrics", &[], b"").body);
    assert_eq!(m["hookd_delivery_backlog{hook=\"slow\"}"], 2.0);
    assert_eq!(m["hookd_endpoint_failing{hook=\"down\"}"], 1.0);
    assert_eq!(m["hookd_endpoint_failing{hook=\"slow\"}"], 0.0);
}
