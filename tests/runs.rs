//! Runs you can watch and steer: streamed answers (chunked text and SSE), `runs show
//! --follow`, `runs wait`, `runs cancel`, `runs rerun`, `runs --status` and run status over
//! HTTP.

use crate::helper::receiver::Receiver;
use crate::helper::{Daemon, process_gone, text, wait_until};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i128
}

/// A script that writes `one <ns>`, sleeps a second, and writes `two <ns>` (the times of the
/// writes, so a reader can tell how long each took to reach it).
const TWO_LINES: &str = "echo \"one $(date +%s%N)\"\nsleep 1\necho \"two $(date +%s%N)\"\n";

/// The write time a line carries, in ns since the epoch.
fn written_at(line: &str) -> i128 {
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Opens a request and reads the status line and headers; the stream is left at the body.
fn open(d: &Daemon, path: &str, headers: &[(&str, &str)]) -> (BufReader<TcpStream>, String) {
    let mut s = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut r = BufReader::new(s);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        if line.trim_end().is_empty() {
            break;
        }
        head.push_str(&line);
    }
    (r, head)
}

/// The next chunk of a chunked body (empty at its end), with the time it arrived.
fn chunk(r: &mut BufReader<TcpStream>) -> (String, i128) {
    let mut size = String::new();
    r.read_line(&mut size).unwrap();
    let at = now_ns();
    let n =
        usize::from_str_radix(size.trim(), 16).unwrap_or_else(|_| panic!("chunk size {size:?}"));
    let mut data = vec![0; n + 2];
    r.read_exact(&mut data).unwrap();
    data.truncate(n);
    (text(&data), at)
}

#[test]
fn a_streamed_answer_carries_each_write_as_it_happens_then_the_exit_line() {
    let d = Daemon::start();
    let t = d.create("live", &["--run", TWO_LINES, "--stream"]);
    let (mut r, head) = open(&d, &d.path(&t), &[]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    let mut pieces = Vec::new();
    loop {
        let (data, at) = chunk(&mut r);
        if data.is_empty() {
            break;
        }
        pieces.push((data, at));
    }
    let one = pieces
        .iter()
        .find(|(p, _)| p.starts_with("one "))
        .expect("first line");
    let two = pieces
        .iter()
        .find(|(p, _)| p.starts_with("two "))
        .expect("second line");
    assert!(
        !one.0.contains("two "),
        "both lines came in one read: {pieces:?}"
    );
    let latency = one.1 - written_at(&one.0);
    assert!(
        latency < 100_000_000,
        "the first line took {} ms",
        latency / 1_000_000
    );
    assert!(
        two.1 - one.1 >= 800_000_000,
        "reads {} ms apart",
        (two.1 - one.1) / 1_000_000
    );
    assert_eq!(pieces.last().unwrap().0, "[hookd: exit 0]\n", "{pieces:?}");
    let runs = d.json(&["runs", "live"]);
    assert_eq!(runs[0]["status"], "success");
}

#[test]
fn runs_show_follow_prints_output_live_and_exits_with_the_run() {
    let d = Daemon::start();
    let script = format!("sleep 1\n{TWO_LINES}exit 3\n");
    let t = d.create("deploy", &["--run", &script, "--async"]);
    let id = d.post(&d.path(&t), "{}").json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut child = d
        .ctl_cmd(&["runs", "show", &id, "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        lines.push((line, now_ns()));
    }
    let status = child.wait().unwrap();
    let one = lines
        .iter()
        .find(|(l, _)| l.starts_with("one "))
        .expect("first line");
    let two = lines
        .iter()
        .find(|(l, _)| l.starts_with("two "))
        .expect("second line");
    let latency = one.1 - written_at(&one.0);
    assert!(
        latency < 100_000_000,
        "the first line took {} ms",
        latency / 1_000_000
    );
    assert!(
        two.1 - one.1 >= 800_000_000,
        "reads {} ms apart",
        (two.1 - one.1) / 1_000_000
    );
    assert_eq!(status.code(), Some(1), "a failed run exits 1");
    let mut err = String::new();
    child.stderr.unwrap().read_to_string(&mut err).unwrap();
    assert!(err.contains(&format!("run {id} failed exit 3")), "{err}");
    // A finished run: the stored output, exit 0 for success.
    let ok = d.create("fine", &["--run", "echo stored", "--async"]);
    let id = d.post(&d.path(&ok), "{}").json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(d.ctl(&["runs", "wait", &id]).status.success());
    let out = d.ctl(&["runs", "show", &id, "--follow"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "stored\n");
}

#[test]
fn sse_framing_parses_with_a_real_sse_client() {
    let d = Daemon::start();
    let t = d.create(
        "sse",
        &[
            "--run",
            "echo alpha\nprintf 'be'\nsleep 0.2\necho ta\nexit 2",
            "--stream",
        ],
    );
    let url = format!("http://127.0.0.1:{}{}", d.port, d.path(&t));
    let program = r#"
import json, sys, urllib.request
try:
    import sseclient
except ImportError:
    print("SKIP")
    sys.exit(0)
req = urllib.request.Request(sys.argv[1], headers={"Accept": "text/event-stream"})
resp = urllib.request.urlopen(req)
print(json.dumps({"type": resp.headers.get("Content-Type"),
                  "events": [[e.event, e.data] for e in sseclient.SSEClient(resp).events()]}))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", program, &url])
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", text(&out.stderr));
    if text(&out.stdout).trim() == "SKIP" {
        crate::helper::tools::skip(
            "the Python sseclient-py library is not installed (pip install -r tests/requirements.txt)",
        );
        return;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["type"], "text/event-stream");
    let events = v["events"].as_array().unwrap();
    assert_eq!(events[0], serde_json::json!(["output", "alpha"]));
    assert_eq!(events[1], serde_json::json!(["output", "beta"]));
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[2][0], "exit");
    let exit: serde_json::Value = serde_json::from_str(events[2][1].as_str().unwrap()).unwrap();
    assert_eq!(exit["status"], "failed");
    assert_eq!(exit["exit_code"], 2);
    assert!(exit["duration_ms"].as_i64().unwrap() >= 200);
}

#[test]
fn the_output_cap_ends_the_stream_with_the_marker_and_the_run_goes_on() {
    let d = Daemon::start_with("[scripts]\nmax_output_bytes = 1000\n");
    let marker = d.dir.path().join("finished");
    let script = format!(
        "head -c 5000 /dev/zero | tr '\\0' x\nsleep 0.5\ntouch {}\n",
        marker.display()
    );
    let t = d.create("chatty", &["--run", &script, "--stream"]);
    let (mut r, head) = open(&d, &d.path(&t), &[]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut body = String::new();
    loop {
        let (data, _) = chunk(&mut r);
        if data.is_empty() {
            break;
        }
        body.push_str(&data);
    }
    assert!(!marker.exists(), "the stream waited for the run to end");
    assert!(body.starts_with(&"x".repeat(1000)), "{}", &body[..40]);
    assert_eq!(
        &body[1000..],
        "\n[hookd: output truncated at 1000 bytes; the run goes on]\n"
    );
    wait_until("the run to finish", Duration::from_secs(20), || {
        marker.exists()
    });
    let id = d.json(&["runs", "chatty"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(d.ctl(&["runs", "wait", &id]).status.success());
}

#[test]
fn a_stream_client_that_hangs_up_does_not_stop_the_run() {
    let d = Daemon::start();
    let marker = d.dir.path().join("finished");
    let script = format!("echo start\nsleep 1\ntouch {}\n", marker.display());
    let t = d.create("bye", &["--run", &script, "--stream"]);
    let (mut r, _) = open(&d, &d.path(&t), &[]);
    assert_eq!(chunk(&mut r).0, "start\n");
    drop(r);
    wait_until("the run to finish", Duration::from_secs(20), || {
        marker.exists()
    });
    wait_until("the run to be recorded", Duration::from_secs(20), || {
        d.json(&["runs", "bye"])[0]["status"] == "success"
    });
}

#[test]
fn stream_needs_a_sync_hook() {
    let d = Daemon::start();
    let out = d.ctl(&["create", "x", "--run", "true", "--async", "--stream"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--stream"),
        "{}",
        text(&out.stderr)
    );
    d.create("y", &["--run", "true", "--stream"]);
    assert_eq!(d.json(&["show", "y"])["stream"], true);
    let exported = text(&d.ctl(&["export", "y"]).stdout);
    assert!(exported.contains("stream = true"), "{exported}");
    assert!(d.ctl(&["edit", "y", "--stream=false"]).status.success());
    assert_eq!(d.json(&["show", "y"])["stream"], false);
}

fn my_uid() -> u64 {
    let out = std::process::Command::new("id").arg("-u").output().unwrap();
    text(&out.stdout).trim().parse().unwrap()
}

#[test]
fn cancel_ends_a_running_run_and_everything_it_started() {
    let d = Daemon::start();
    let rx = Receiver::start(&[200]);
    let pager = Receiver::start(&[200]);
    d.create("pager", &["--url", &pager.url("/a"), "--type", "alarms"]);
    d.create(
        "watch",
        &["--url", &rx.url("/in"), "--event", "script.cancelled"],
    );
    let pidfile = d.dir.path().join("bg.pid");
    let script = format!("sleep 300 &\necho $! > {}\nsleep 300\n", pidfile.display());
    let t = d.create("slow", &["--run", &script, "--async"]);
    let id = d.post(&d.path(&t), "{}").json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_until("the script to start", Duration::from_secs(20), || {
        std::fs::read_to_string(&pidfile).is_ok_and(|s| s.ends_with('\n'))
    });
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let out = d.ctl(&["runs", "cancel", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("run {id} cancelled\n"));
    wait_until(
        "the background child to die",
        Duration::from_secs(10),
        || process_gone(pid),
    );
    let run = d.json(&["runs", "show", &id]);
    assert_eq!(run["status"], "cancelled");
    assert_eq!(run["cancelled_by"], my_uid());
    let logs = d.json(&["logs", "--direction", "admin"]);
    let entry = logs
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["method"] == "cancel")
        .expect("the cancel is logged");
    assert_eq!(entry["run_id"], id.as_str());
    assert_eq!(entry["uid"], my_uid());
    let got = rx.wait_for(1, Duration::from_secs(20));
    let payload = got[0].json();
    assert_eq!(payload["type"], "script.cancelled");
    assert_eq!(payload["data"]["run_id"], id.as_str());
    assert_eq!(
        payload["message"],
        format!("Run of script slow was cancelled by uid {}", my_uid())
    );
    // Not an alarm: the alarms hook's first event is the failure that came after it.
    let broken = d.create("broken", &["--run", "exit 1"]);
    assert_eq!(d.get(&d.path(&broken)).status, 500);
    let alarms = pager.wait_for(1, Duration::from_secs(20));
    assert_eq!(alarms[0].json()["type"], "script.failed");
    // Over: a second cancel is refused.
    assert_eq!(d.ctl(&["runs", "cancel", &id]).status.code(), Some(1));
}

#[test]
fn a_cancelled_queued_run_never_starts_and_queued_runs_can_be_awaited() {
    let d = Daemon::start();
    let dir = d.dir.path().display().to_string();
    let script = format!("touch {dir}/started-$HOOKD_RUN_ID\necho ran\nsleep 1\n");
    let t = d.create("one-at-a-time", &["--run", &script, "--async"]);
    let call = || -> String {
        let r = d.post(&d.path(&t), "{}");
        r.json()["id"].as_str().unwrap().to_string()
    };
    let first = call();
    wait_until("the first run to start", Duration::from_secs(20), || {
        d.dir.path().join(format!("started-{first}")).exists()
    });
    let second = call();
    let third = call();
    let queued = d.json(&["runs", "--status", "queued"]);
    let ids: Vec<&str> = queued
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [third.as_str(), second.as_str()], "{queued}");
    // Watchers of queued runs: one waits for the run that will be cancelled, one follows the
    // run that will run after it.
    let waiter = d
        .ctl_cmd(&["runs", "wait", &second])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let follower = d
        .ctl_cmd(&["runs", "show", &third, "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = d.ctl(&["runs", "cancel", &second]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let waited = waiter.wait_with_output().unwrap();
    assert_eq!(waited.status.code(), Some(1));
    assert_eq!(
        text(&waited.stdout),
        format!("run {second} cancelled exit -\n")
    );
    let followed = follower.wait_with_output().unwrap();
    assert_eq!(
        followed.status.code(),
        Some(0),
        "{}",
        text(&followed.stderr)
    );
    assert_eq!(text(&followed.stdout), "ran\n");
    assert!(
        !d.dir.path().join(format!("started-{second}")).exists(),
        "the cancelled run ran"
    );
    let run = d.json(&["runs", "show", &second]);
    assert_eq!(run["status"], "cancelled");
    assert_eq!(run["started_at"], serde_json::Value::Null);
    assert_eq!(run["cancelled_by"], my_uid());
    let cancelled = d.json(&["runs", "one-at-a-time", "--status", "cancelled"]);
    assert_eq!(cancelled.as_array().unwrap().len(), 1);
}

#[test]
fn rerun_repeats_the_stored_request() {
    let d = Daemon::start();
    let dir = d.dir.path().display().to_string();
    let script = format!(
        "cat > {dir}/body-$HOOKD_RUN_ID\necho \"$HOOKD_METHOD|$HOOKD_QUERY|$HOOKD_HEADER_X_THING|$HOOKD_CONTENT_TYPE\" > {dir}/meta-$HOOKD_RUN_ID\n"
    );
    let t = d.create("echoer", &["--run", &script]);
    let path = format!("{}?ref=main&n=2", d.path(&t));
    let r = d.request(
        "POST",
        &path,
        &[("Content-Type", "text/x-thing"), ("X-Thing", "yes please")],
        b"the body\nsecond line",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let first = r.json()["id"].as_str().unwrap().to_string();
    let again = d.json(&["runs", "rerun", &first]);
    let second = again["id"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    assert_eq!(again["rerun_of"], first.as_str());
    let out = d.ctl(&["runs", "wait", &second]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("run {second} success exit 0\n"));
    let read = |name: &str| std::fs::read_to_string(d.dir.path().join(name)).unwrap();
    assert_eq!(read(&format!("body-{second}")), "the body\nsecond line");
    assert_eq!(
        read(&format!("meta-{first}")),
        read(&format!("meta-{second}"))
    );
    assert_eq!(
        read(&format!("meta-{second}")),
        "POST|ref=main&n=2|yes please|text/x-thing\n"
    );
    let logs = d.json(&["logs", "--direction", "admin"]);
    assert!(
        logs.as_array()
            .unwrap()
            .iter()
            .any(|l| l["method"] == "rerun" && l["run_id"] == second.as_str())
    );
}

#[test]
fn rerun_is_refused_once_the_run_is_pruned() {
    let mut d = Daemon::start_with("log_retention = \"1s\"\n");
    let t = d.create("brief", &["--run", "true"]);
    let id = d.get(&d.path(&t)).json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    d.stop_with(15);
    std::thread::sleep(Duration::from_millis(1500));
    d.boot();
    let out = d.ctl(&["runs", "rerun", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("log_retention"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn runs_wait_returns_when_the_run_ends_with_its_exit_code() {
    let d = Daemon::start();
    // The script notes when it ends, so the wait's return can be measured from there.
    let ended = d.state_dir().join("ended");
    let script = format!("sleep 1\ndate +%s%N > {}\nexit 4", ended.display());
    let t = d.create("flaky", &["--run", &script, "--async"]);
    let id = d.post(&d.path(&t), "{}").json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let started = Instant::now();
    let out = d.ctl(&["runs", "wait", &id]);
    let returned = now_ns();
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "returned before the run ended"
    );
    let end: i128 = std::fs::read_to_string(&ended)
        .expect("the run ended before the wait returned")
        .trim()
        .parse()
        .unwrap();
    let late = Duration::from_nanos((returned - end).max(0) as u64);
    // Generous for a loaded 2-core machine (the run's reaping and record come first); a wait
    // that polled every few seconds would still miss it.
    assert!(
        late < Duration::from_millis(1500),
        "runs wait returned {late:?} after the run ended: not pushed"
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), format!("run {id} failed exit 4\n"));
    let v = d.ctl(&["--json", "runs", "wait", &id]);
    let v: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(v["exit_code"], 4);
    // --timeout gives up and leaves the run alone.
    let slow = d.create("slow", &["--run", "sleep 30", "--async"]);
    let id = d.post(&d.path(&slow), "{}").json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let started = Instant::now();
    let out = d.ctl(&["runs", "wait", &id, "--timeout", "1s"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(d.json(&["runs", "show", &id])["status"], "running");
    assert!(d.ctl(&["runs", "cancel", &id]).status.success());
}

#[test]
fn run_status_over_http_answers_the_hooks_own_token_only() {
    let d = Daemon::start();
    let t = d.create(
        "job",
        &[
            "--run",
            "echo out; echo err >&2",
            "--async",
            "--method",
            "POST",
        ],
    );
    let other = d.create("other", &["--run", "true"]);
    let id = d.post(&d.path(&t), "{}").json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(d.ctl(&["runs", "wait", &id]).status.success());
    for route in ["/webhook/", "/api/webhook/", "/api/webhooks/execute/"] {
        let r = d.get(&format!("{route}{t}/runs/{id}"));
        assert_eq!(r.status, 200, "{route}: {}", r.body);
        let v = r.json();
        assert_eq!(v["id"], id.as_str());
        assert_eq!(v["hook"], "job");
        assert_eq!(v["status"], "success");
        assert_eq!(v["exit_code"], 0);
        assert_eq!(v["stdout"], "out\n");
        assert_eq!(v["stderr"], "err\n");
        assert!(v["started_at"].is_string() && v["finished_at"].is_string());
        assert!(v["duration_ms"].is_number());
    }
    assert_eq!(d.get(&format!("/webhook/{other}/runs/{id}")).status, 404);
    assert_eq!(d.get(&format!("/webhook/{t}/runs/999999")).status, 404);

    // A hook whose calls show no output (`--output none`) shows none here either.
    assert!(d.ctl(&["edit", "job", "--output", "none"]).status.success());
    let r = d.get(&format!("/webhook/{t}/runs/{id}")).json();
    assert_eq!(r["status"], "success");
    assert!(
        r.get("stdout").is_none() && r.get("stderr").is_none(),
        "{r}"
    );
}

#[test]
fn cancelling_a_streamed_run_ends_its_stream() {
    let d = Daemon::start();
    let t = d.create("endless", &["--run", "echo go\nsleep 300", "--stream"]);
    let (mut r, head) = open(&d, &d.path(&t), &[]);
    let id = head
        .lines()
        .find_map(|l| l.strip_prefix("hookd-run-id: "))
        .expect("the run id header")
        .trim()
        .to_string();
    assert_eq!(chunk(&mut r).0, "go\n");
    let out = d.ctl(&["runs", "cancel", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(chunk(&mut r).0, "[hookd: cancelled]\n");
    assert_eq!(chunk(&mut r).0, "");
    assert_eq!(d.json(&["runs", "show", &id])["status"], "cancelled");
}
