//! Delivery pacing per outgoing hook: `--rate` spacing, one probe at a time to a failing
//! endpoint, and `health` in `show`.

use crate::helper::receiver::{Receiver, Reply};
use crate::helper::{Daemon, text, wait_until};
use std::collections::BTreeSet;
use std::time::Duration;

fn post_messages(d: &Daemon, token: &str, n: usize) {
    for i in 0..n {
        let r = d.post(&d.path(token), &format!(r#"{{"content": "m{i}"}}"#));
        assert_eq!(r.status, 200);
    }
}

#[test]
fn a_rate_limited_hook_gets_its_deliveries_evenly_spaced_and_loses_none() {
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    let out = d.ctl(&[
        "create",
        "slow",
        "--url",
        &rx.url("/"),
        "--event",
        "message.received",
        "--rate",
        "10/s",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(d.json(&["show", "slow"])["rate"], "10/s");
    let chat = d.create("chat", &["--message"]);
    post_messages(&d, &chat, 50);
    let got = rx.wait_for(50, Duration::from_secs(30));
    let spread = got.iter().map(|r| r.at).max().unwrap() - got.iter().map(|r| r.at).min().unwrap();
    assert!(
        spread >= Duration::from_millis(4500),
        "50 deliveries at 10/s took only {spread:?}"
    );
    // Evenly spaced, no burst: slots 100 ms apart, less jitter; the first delivery also opens
    // the connection, so the first gap may be shorter by that much.
    let mut arrivals: Vec<_> = got.iter().map(|r| r.at).collect();
    arrivals.sort();
    let gaps: Vec<Duration> = arrivals.windows(2).map(|w| w[1] - w[0]).collect();
    for (i, gap) in gaps.iter().enumerate() {
        let least = Duration::from_millis(if i == 0 { 50 } else { 70 });
        assert!(
            *gap >= least,
            "deliveries {i} and {} only {gap:?} apart (all gaps: {gaps:?})",
            i + 1
        );
    }
    let contents: BTreeSet<String> = got
        .iter()
        .map(|r| r.json()["data"]["content"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(contents.len(), 50, "each message delivered");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(rx.received().len(), 50, "none twice");

    for bad in ["0/s", "10/h", "fast"] {
        let out = d.ctl(&["edit", "slow", "--rate", bad]);
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(
            text(&out.stderr).contains("--rate"),
            "{}",
            text(&out.stderr)
        );
    }
    let out = d.ctl(&["edit", "chat", "--rate", "1/s"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_rate_holds_across_a_restart() {
    let mut d = Daemon::start();
    let rx = Receiver::start(&[200]);
    d.create(
        "slow",
        &[
            "--url",
            &rx.url("/"),
            "--event",
            "message.received",
            "--rate",
            "4/s",
        ],
    );
    let chat = d.create("chat", &["--message"]);
    post_messages(&d, &chat, 12);
    rx.wait_for(2, Duration::from_secs(10));
    d.stop_with(9);
    d.boot();
    let got = rx.wait_for(12, Duration::from_secs(30));
    let spread = got.iter().map(|r| r.at).max().unwrap() - got.iter().map(|r| r.at).min().unwrap();
    assert!(
        spread >= Duration::from_millis(2500),
        "12 deliveries at 4/s took only {spread:?}"
    );
    let contents: BTreeSet<String> = got
        .iter()
        .map(|r| r.json()["data"]["content"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(contents.len(), 12, "none lost across kill -9");
}

#[test]
fn a_failing_endpoint_gets_one_request_at_a_time_then_drains_at_full_speed() {
    let d = Daemon::start_with(
        "[deliveries]\nretry_schedule = [\"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\", \"300ms\"]\n",
    );
    let mut replies = vec![Reply::delayed(500, Duration::from_millis(200)); 4];
    replies.push(Reply::delayed(200, Duration::from_millis(300)));
    let rx = Receiver::replying(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), replies);
    d.create(
        "flaky",
        &["--url", &rx.url("/"), "--event", "message.received"],
    );
    let chat = d.create("chat", &["--message"]);
    post_messages(&d, &chat, 1);
    rx.wait_for(1, Duration::from_secs(10));
    wait_until(
        "the first failure recorded",
        Duration::from_secs(10),
        || d.json(&["show", "flaky"])["health"] == "failing",
    );
    assert!(d.json(&["show", "flaky"])["failing_since"].is_string());
    post_messages(&d, &chat, 20);
    wait_until("all 21 delivered", Duration::from_secs(30), || {
        let ok: BTreeSet<String> = rx
            .received()
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| r.header("webhook-id").unwrap().to_string())
            .collect();
        ok.len() == 21
    });
    let got = rx.received();
    for f in got.iter().filter(|r| r.status == 500) {
        let overlapping = got
            .iter()
            .filter(|o| o.at < f.answered_at && f.at < o.answered_at)
            .count();
        assert_eq!(
            overlapping, 1,
            "a request to the failing endpoint had company"
        );
    }
    let first_ok = got
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.at)
        .min()
        .unwrap();
    let last = got.iter().map(|r| r.answered_at).max().unwrap();
    // One at a time, the 20 would take 6 s at 300 ms each.
    assert!(
        last - first_ok < Duration::from_secs(3),
        "the backlog drained in {:?}",
        last - first_ok
    );
    assert_eq!(d.json(&["show", "flaky"])["health"], "healthy");
}
