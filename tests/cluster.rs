//! Several hookd nodes on one PostgreSQL database: hooks changed through one node are live on
//! the others, and accepted work survives a node killed mid-delivery. These tests start their
//! own throwaway cluster (tests/helper/postgres.rs) in every run of the suite.

use crate::helper::receiver::Receiver;
use crate::helper::{Daemon, free_port, on_postgres, postgres, tools, wait_until};
use std::collections::HashMap;
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// `n` nodes named a, b, c… on one fresh database, each with `config` besides its name.
fn nodes(n: usize, config: &str) -> Option<Vec<Daemon>> {
    let cluster = match postgres::cluster() {
        Ok(c) => c,
        Err(e) => {
            tools::skip(&e);
            return None;
        }
    };
    let url = cluster.database();
    let mut out = Vec::new();
    for name in ["a", "b", "c", "d", "e"].iter().take(n) {
        let mut d = Daemon::prepare(&format!("node_name = \"{name}\"\n{config}"));
        d.database = Some(url.clone());
        d.boot();
        out.push(d);
    }
    Some(out)
}

/// Run once, in the suite's default pass (on PostgreSQL they would only repeat themselves).
fn once() -> bool {
    !on_postgres()
}

#[test]
fn a_hook_created_on_one_node_answers_on_the_others_within_a_second() {
    if !once() {
        return;
    }
    let Some(nodes) = nodes(3, "") else { return };
    let status = nodes[0].json(&["status"]);
    let names: Vec<&str> = status["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "c"], "{status}");

    let token = nodes[0].create("chat", &["--message"]);
    let created = Instant::now();
    for d in &nodes[1..] {
        wait_until(
            "the hook to answer on another node",
            Duration::from_secs(5),
            || d.post(&d.path(&token), r#"{"content":"hi"}"#).status == 200,
        );
    }
    let took = created.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "live everywhere after {took:?}"
    );

    // Disabling and deleting travel the same way.
    nodes[2].ctl(&["disable", "chat"]);
    wait_until("disabled on a", Duration::from_secs(1), || {
        nodes[0].post(&nodes[0].path(&token), "{}").status == 404
    });
    nodes[1].ctl(&["enable", "chat"]);
    wait_until("enabled on c", Duration::from_secs(1), || {
        nodes[2]
            .post(&nodes[2].path(&token), r#"{"content":"x"}"#)
            .status
            == 200
    });
    nodes[0].ctl(&["delete", "chat", "--yes"]);
    wait_until("deleted on b", Duration::from_secs(1), || {
        nodes[1].post(&nodes[1].path(&token), "{}").status == 404
    });
}

#[test]
fn every_accepted_message_is_delivered_when_a_node_dies_mid_delivery() {
    if !once() {
        return;
    }
    // The receiver is down for as long as accepting takes: retries enough to outlast it.
    let retries = vec!["\"2s\""; 150].join(", ");
    let Some(mut nodes) = nodes(3, &format!("[deliveries]\nretry_schedule = [{retries}]\n")) else {
        return;
    };
    // The receiver is down while the messages are accepted: nothing listens on its port.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    nodes[0].create("out", &["--url", &url, "--event", "message.received"]);
    let token = nodes[0].create("chat", &["--message"]);
    for d in &nodes {
        wait_until("the hooks everywhere", Duration::from_secs(5), || {
            d.post(&d.path(&token), r#"{"content":"warm-up"}"#).status == 200
        });
    }
    const PER_NODE: usize = 1000;
    std::thread::scope(|s| {
        for d in &nodes {
            let token = &token;
            s.spawn(move || {
                for i in 0..PER_NODE {
                    let body = format!(r#"{{"content":"m{}-{i}"}}"#, d.port);
                    let r = d.post(&d.path(token), &body);
                    assert_eq!(r.status, 200, "{}", r.body);
                }
            });
        }
    });
    let accepted = 3 * PER_NODE + 3;

    // The receiver comes up, answering slowly enough that deliveries are in flight when node b
    // is killed.
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    // Each answer takes 300 ms, so the backlog takes seconds to drain and every node, b among
    // them, holds deliveries in flight when b is killed.
    let rx = Receiver::replying(
        listener,
        vec![crate::helper::receiver::Reply::delayed(
            200,
            Duration::from_millis(300),
        )],
    );
    rx.wait_for(100, Duration::from_secs(60));
    // Killed while it is sending: what it held stays claimed by it until its lease expires.
    let url = nodes[0].database.clone().unwrap();
    let held_by_b = || -> usize {
        postgres::cluster()
            .unwrap()
            .psql(
                url.rsplit('/').next().unwrap(),
                "SELECT count(*) FROM deliveries WHERE status = 'sending' AND claimed_by LIKE 'b/%'",
            )
            .trim()
            .parse()
            .unwrap()
    };
    wait_until("node b sending", Duration::from_secs(30), || {
        held_by_b() >= 1
    });
    nodes[1].stop_with(9);
    let held = held_by_b();
    assert!(held > 0, "node b was sending nothing when it was killed");

    let mut ids: HashMap<String, usize> = HashMap::new();
    wait_until(
        "every accepted message delivered",
        Duration::from_secs(180),
        || {
            ids.clear();
            for r in rx.received() {
                *ids.entry(r.header("webhook-id").unwrap_or("").to_string())
                    .or_default() += 1;
            }
            ids.len() >= accepted
        },
    );
    assert_eq!(ids.len(), accepted);
    let twice: usize = ids.values().map(|n| n - 1).sum();
    // Only what node b had in flight when it died can be sent again (its leases expired), and
    // it holds at most deliveries.max_in_flight (64) at once.
    eprintln!(
        "{accepted} messages delivered; node b held {held} when killed; {twice} sent again after its leases expired"
    );
    assert!(twice <= 64, "{twice} deliveries were sent twice");
    // The survivors report two live nodes once b's heartbeat has expired.
    wait_until("b gone from status", Duration::from_secs(45), || {
        nodes[0].json(&["status"])["nodes"]
            .as_array()
            .unwrap()
            .len()
            == 2
    });
}

#[test]
fn a_rate_limit_holds_across_nodes() {
    if !once() {
        return;
    }
    let Some(nodes) = nodes(3, "") else { return };
    let token = nodes[0].create("limited", &["--message", "--rate-limit", "6/m"]);
    for d in &nodes {
        wait_until("the hook everywhere", Duration::from_secs(5), || {
            d.get(&d.path(&token)).status != 404
        });
    }
    // 18 calls, 6 to each node, within a few seconds: a minute's worth is 6 in all.
    let mut accepted = 0;
    let mut refused = Vec::new();
    for round in 0..6 {
        for d in &nodes {
            let r = d.post(&d.path(&token), &format!(r#"{{"content":"{round}"}}"#));
            match r.status {
                200 => accepted += 1,
                429 => refused.push(r.header("retry-after").unwrap_or("").to_string()),
                s => panic!("unexpected {s}: {}", r.body),
            }
        }
    }
    // One more token may have refilled while the calls were made (one per 10 s).
    assert!(
        (6..=7).contains(&accepted),
        "{accepted} accepted across three nodes"
    );
    assert!(
        refused
            .iter()
            .all(|w| w.parse::<u64>().is_ok_and(|s| (1..=10).contains(&s))),
        "{refused:?}"
    );
}

#[test]
fn a_database_out_of_reach_at_start_is_named_and_exit_1_within_15_s() {
    if !once() {
        return;
    }
    let port = free_port();
    let mut d = Daemon::prepare("");
    d.database = Some(format!("postgres://hookd:s3cret@127.0.0.1:{port}/nowhere"));
    let started = Instant::now();
    let out = std::process::Command::new(crate::helper::HOOKD)
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .arg("--socket")
        .arg(&d.socket)
        .arg("--config")
        .arg(&d.config)
        .env("HOOKD_DATABASE", d.database.take().unwrap())
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1));
    assert!(took < Duration::from_secs(15), "gave up after {took:?}");
    let err = crate::helper::text(&out.stderr);
    assert!(err.contains(&format!("127.0.0.1:{port}/nowhere")), "{err}");
    assert!(!err.contains("s3cret"), "the password is shown: {err}");
}

#[test]
fn a_concurrency_1_hook_called_on_every_node_never_runs_twice_at_once() {
    if !once() {
        return;
    }
    let Some(nodes) = nodes(3, "") else { return };
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace");
    std::fs::write(&trace, "").unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let script = format!(
        "echo \"start $(date +%s%N)\" >> {t}; sleep 0.3; echo \"end $(date +%s%N)\" >> {t}",
        t = trace.display()
    );
    let token = nodes[0].create("deploy", &["--run", &script, "--concurrency", "1"]);
    for d in &nodes {
        wait_until("the hook everywhere", Duration::from_secs(5), || {
            d.get(&d.path(&token)).status != 404
        });
    }
    std::fs::write(&trace, "").unwrap();
    std::thread::scope(|s| {
        for d in &nodes {
            let token = &token;
            s.spawn(move || {
                for _ in 0..3 {
                    let r = d.post(&d.path(token), "{}");
                    assert_eq!(r.status, 200, "{}", r.body);
                }
            });
        }
    });
    let text = std::fs::read_to_string(&trace).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 18, "{text}");
    // Starts and ends alternate: no run started before the one before it ended.
    for pair in lines.chunks(2) {
        assert!(
            pair[0].starts_with("start") && pair[1].starts_with("end"),
            "two runs overlapped:\n{text}"
        );
    }
}

#[test]
fn a_hook_pinned_to_a_node_runs_there_and_is_misdirected_elsewhere() {
    if !once() {
        return;
    }
    let Some(nodes) = nodes(3, "") else { return };
    let token = nodes[0].create(
        "local-deploy",
        &["--run", "echo ran on $HOOKD_HOOK", "--node", "b"],
    );
    assert_eq!(nodes[0].json(&["show", "local-deploy"])["node"], "b");
    wait_until("the hook on b", Duration::from_secs(5), || {
        nodes[1].get(&nodes[1].path(&token)).status != 404
    });
    for (i, d) in nodes.iter().enumerate() {
        let r = d.post(&d.path(&token), "{}");
        if i == 1 {
            assert_eq!(r.status, 200, "{}", r.body);
        } else {
            assert_eq!(r.status, 421, "{}", r.body);
            assert!(r.body.contains("runs on node b"), "{}", r.body);
        }
    }
    // Unpinned again, every node runs it.
    assert!(
        nodes[2]
            .ctl(&["edit", "local-deploy", "--node", ""])
            .status
            .success()
    );
    wait_until("unpinned on a", Duration::from_secs(2), || {
        nodes[0].post(&nodes[0].path(&token), "{}").status == 200
    });
}

#[test]
fn losing_the_database_answers_503_and_service_resumes_when_it_is_back() {
    if !once() {
        return;
    }
    let pg = match postgres::private() {
        Ok(c) => c,
        Err(e) => return tools::skip(&e),
    };
    pg.psql("postgres", "CREATE DATABASE lose");
    let mut d = Daemon::prepare("");
    d.database = Some(pg.url("lose"));
    d.boot();
    let token = d.create("chat", &["--message"]);
    assert_eq!(
        d.post(&d.path(&token), r#"{"content":"before"}"#).status,
        200
    );

    pg.stop();
    let lost = Instant::now();
    let r = d.post(&d.path(&token), r#"{"content":"while down"}"#);
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(
        lost.elapsed() < Duration::from_secs(5),
        "answered after {:?}",
        lost.elapsed()
    );
    wait_until("/healthz to say 503", Duration::from_secs(5), || {
        d.get("/healthz").status == 503
    });

    pg.start();
    let back = Instant::now();
    wait_until("service to resume", Duration::from_secs(10), || {
        d.post(&d.path(&token), r#"{"content":"after"}"#).status == 200
            && d.get("/healthz").status == 200
    });
    eprintln!("resumed {:?} after the database came back", back.elapsed());
}

#[test]
fn a_queue_limit_holds_across_nodes() {
    if !once() {
        return;
    }
    let Some(nodes) = nodes(3, "") else { return };
    let token = nodes[0].create(
        "deploy",
        &[
            "--run",
            "sleep 1.5",
            "--concurrency",
            "1",
            "--queue-limit",
            "1",
        ],
    );
    for d in &nodes {
        wait_until("the hook everywhere", Duration::from_secs(5), || {
            d.get(&d.path(&token)).status != 404
        });
    }
    std::thread::scope(|s| {
        // a runs; b waits in the hook's one waiting place; c finds it taken, on another node.
        let running = s.spawn(|| nodes[0].post(&nodes[0].path(&token), "{}"));
        std::thread::sleep(Duration::from_millis(500));
        let waiting = s.spawn(|| nodes[1].post(&nodes[1].path(&token), "{}"));
        std::thread::sleep(Duration::from_millis(500));
        let started = Instant::now();
        let refused = nodes[2].post(&nodes[2].path(&token), "{}");
        assert_eq!(refused.status, 429, "{}", refused.body);
        assert!(
            refused.body.contains("too many calls waiting"),
            "{}",
            refused.body
        );
        assert!(refused.header("retry-after").is_some());
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "refused only after {:?}",
            started.elapsed()
        );
        assert_eq!(running.join().unwrap().status, 200);
        assert_eq!(waiting.join().unwrap().status, 200);
    });
    // The places were given back: the hook takes calls again on every node.
    for d in &nodes {
        let r = d.post(&d.path(&token), "{}");
        assert_eq!(r.status, 200, "{}", r.body);
    }
}

#[test]
fn a_delivery_rate_holds_across_nodes() {
    if !once() {
        return;
    }
    let Some(nodes) = nodes(3, "") else { return };
    let rx = Receiver::start(&[200]);
    nodes[0].create(
        "paced",
        &[
            "--url",
            &rx.url("/"),
            "--event",
            "message.received",
            "--rate",
            "5/s",
        ],
    );
    let token = nodes[0].create("chat", &["--message"]);
    for d in &nodes {
        wait_until("the hooks everywhere", Duration::from_secs(5), || {
            d.get(&d.path(&token)).status != 404
        });
    }
    // 15 messages, 5 through each node at about the same time: one node pacing on its own
    // would send its 5 beside the others' and the receiver would see bursts of 3.
    std::thread::scope(|s| {
        for d in &nodes {
            let token = &token;
            s.spawn(move || {
                for i in 0..5 {
                    let body = format!(r#"{{"content":"{}-{i}"}}"#, d.port);
                    assert_eq!(d.post(&d.path(token), &body).status, 200);
                }
            });
        }
    });
    let got = rx.wait_for(15, Duration::from_secs(30));
    let mut arrivals: Vec<Instant> = got.iter().map(|r| r.at).collect();
    arrivals.sort();
    let gaps: Vec<Duration> = arrivals.windows(2).map(|w| w[1] - w[0]).collect();
    // Slots 200 ms apart across the nodes, less jitter (and a first connection per node).
    let close = gaps
        .iter()
        .filter(|g| **g < Duration::from_millis(120))
        .count();
    assert!(
        close <= 2,
        "deliveries closer than the rate allows: {gaps:?}"
    );
    let spread = *arrivals.last().unwrap() - arrivals[0];
    assert!(
        spread >= Duration::from_millis(14 * 200 - 400),
        "15 deliveries at 5/s across 3 nodes took only {spread:?} ({gaps:?})"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(rx.received().len(), 15, "none twice");
}
