//! HTTPS on `listen`: curl and Python's ssl reach it, old protocol versions are refused, SIGHUP
//! swaps the certificate and a broken replacement keeps the running one; `check-config` names
//! the file that is wrong. Certificates are made with `openssl` at test time.

use crate::helper::{Daemon, HOOKD, text, wait_until};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A self-signed certificate for 127.0.0.1 with common name `cn`: (cert, key) in `dir`.
fn make_cert(dir: &Path, cn: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join(format!("{cn}.crt")), dir.join(format!("{cn}.key")));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", &format!("/CN={cn}")])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl: {}", text(&out.stderr));
    (cert, key)
}

fn tls_config(cert: &Path, key: &Path, extra: &str) -> String {
    format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"\n{extra}",
        cert.display(),
        key.display()
    )
}

fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args(["-sS", "--max-time", "30"])
        .args(args)
        .output()
        .unwrap()
}

/// One request with Python's ssl module: (first line "VERSION CN ALPN", the HTTP answer).
fn python(port: u16, ca: &Path, method: &str, path: &str, body: &str) -> Option<(String, String)> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls_get.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(port.to_string())
        .arg(ca)
        .args([method, path, body])
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    let all = text(&out.stdout);
    let (first, rest) = all.split_once('\n').unwrap();
    Some((first.to_string(), rest.to_string()))
}

/// The common name of the certificate a new connection gets.
fn served_cn(port: u16, ca: &Path) -> String {
    let (first, _) = python(port, ca, "GET", "/healthz", "").expect("TLS handshake");
    first.split(' ').nth(1).unwrap().to_string()
}

/// `openssl s_client` with one protocol version forced: (handshake done, its output).
fn s_client(port: u16, version: &str) -> (bool, String) {
    let out = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            version,
        ])
        // Let this client offer old versions at all; the refusal must come from hookd.
        .args(["-cipher", "DEFAULT@SECLEVEL=0"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    (out.status.success() && all.contains("Cipher is"), all)
}

fn skip_without_tools() -> bool {
    for tool in ["openssl", "curl", "python3"] {
        if !have(tool) {
            crate::helper::tools::skip(&format!("{tool} is not installed"));
            return true;
        }
    }
    false
}

#[test]
fn curl_and_python_reach_healthz_and_a_hook_over_https() {
    if skip_without_tools() {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = make_cert(certs.path(), "hookd-test");
    let d = Daemon::start_with(&tls_config(&cert, &key, ""));
    let created = d.json(&["create", "hi", "--run", "echo hi", "--raw-output"]);
    let url = created["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&format!("https://127.0.0.1:{}/webhook/hkd_", d.port)),
        "{url}"
    );
    let ca = cert.to_str().unwrap();
    let health = format!("https://127.0.0.1:{}/healthz", d.port);
    let out = curl(&["--cacert", ca, &health]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "ok\n");
    let out = curl(&["--cacert", ca, "-X", "POST", "-d", "{}", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hi\n");
    // A client that prefers HTTP/2 is answered in HTTP/1.1.
    let out = curl(&[
        "--cacert",
        ca,
        "--http2",
        "-o",
        "/dev/null",
        "-w",
        "%{http_version}",
        &health,
    ]);
    assert_eq!(text(&out.stdout), "1.1");
    // Without the CA the certificate is not trusted; plain HTTP gets no answer.
    assert!(!curl(&[&health]).status.success());
    assert!(
        !curl(&[&format!("http://127.0.0.1:{}/healthz", d.port)])
            .status
            .success()
    );

    let (first, answer) = python(d.port, &cert, "GET", "/healthz", "").expect("python ssl");
    assert_eq!(first, "TLSv1.3 hookd-test http/1.1");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nok\n"), "{answer}");
    let path = url.split_once(&format!(":{}", d.port)).unwrap().1;
    let (_, answer) = python(d.port, &cert, "POST", path, "{}").expect("python ssl");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nhi\n"), "{answer}");
    let (_, answer) = python(d.port, &cert, "GET", "/webhook/hkd_nope", "").unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
}

#[test]
fn tls_1_1_is_refused_and_tls_min_version_1_3_refuses_1_2() {
    if skip_without_tools() {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = make_cert(certs.path(), "hookd-test");
    let d = Daemon::start_with(&tls_config(&cert, &key, ""));
    let (ok, out) = s_client(d.port, "-tls1_1");
    assert!(!ok, "TLS 1.1 was accepted:\n{out}");
    assert!(
        out.contains("SSL alert number"),
        "hookd sent no alert:\n{out}"
    );
    for version in ["-tls1_2", "-tls1_3"] {
        let (ok, out) = s_client(d.port, version);
        assert!(ok, "{version} refused:\n{out}");
    }

    std::fs::write(
        &d.config,
        tls_config(&cert, &key, "tls_min_version = \"1.3\"\n"),
    )
    .unwrap();
    d.signal(1);
    wait_until("the reload", Duration::from_secs(20), || {
        d.log().contains("configuration reloaded")
    });
    let (ok, out) = s_client(d.port, "-tls1_2");
    assert!(!ok, "TLS 1.2 was accepted with tls_min_version 1.3:\n{out}");
    assert!(
        out.contains("SSL alert number"),
        "hookd sent no alert:\n{out}"
    );
    assert!(s_client(d.port, "-tls1_3").0);
}

#[test]
fn sighup_serves_a_replaced_certificate_and_a_broken_one_keeps_it() {
    if skip_without_tools() {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let (a_cert, a_key) = make_cert(certs.path(), "hookd-a");
    let (b_cert, b_key) = make_cert(certs.path(), "hookd-b");
    let ca = certs.path().join("both.pem");
    let both =
        std::fs::read_to_string(&a_cert).unwrap() + &std::fs::read_to_string(&b_cert).unwrap();
    std::fs::write(&ca, both).unwrap();
    let (cert, key) = (certs.path().join("live.crt"), certs.path().join("live.key"));
    std::fs::copy(&a_cert, &cert).unwrap();
    std::fs::copy(&a_key, &key).unwrap();
    let d = Daemon::start_with(&tls_config(&cert, &key, ""));
    assert_eq!(served_cn(d.port, &ca), "hookd-a");

    std::fs::copy(&b_cert, &cert).unwrap();
    std::fs::copy(&b_key, &key).unwrap();
    d.signal(1);
    wait_until("the new certificate", Duration::from_secs(20), || {
        served_cn(d.port, &ca) == "hookd-b"
    });

    let refusals = || d.log().matches("configuration not reloaded").count();
    // A certificate file that is not one, then a key that belongs to another certificate.
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\nbroken\n").unwrap();
    d.signal(1);
    wait_until("the refusal", Duration::from_secs(20), || refusals() == 1);
    assert!(
        d.log()
            .contains(&format!("{}: not a valid PEM file", cert.display())),
        "{}",
        d.log()
    );
    assert_eq!(served_cn(d.port, &ca), "hookd-b");

    std::fs::copy(&b_cert, &cert).unwrap();
    std::fs::copy(&a_key, &key).unwrap();
    d.signal(1);
    wait_until("the refusal", Duration::from_secs(20), || refusals() == 2);
    assert!(
        d.log().contains("does not belong to the certificate"),
        "{}",
        d.log()
    );
    assert_eq!(served_cn(d.port, &ca), "hookd-b");
    assert!(d.ctl(&["status"]).status.success());
}

fn check_config(config: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, config).unwrap();
    Command::new(HOOKD)
        .arg("--config")
        .arg(&file)
        .arg("check-config")
        .output()
        .unwrap()
}

#[test]
fn check_config_and_start_up_name_the_certificate_or_key_that_is_wrong() {
    if skip_without_tools() {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let (a_cert, a_key) = make_cert(certs.path(), "hookd-a");
    let (_, b_key) = make_cert(certs.path(), "hookd-b");

    let out = check_config(&tls_config(&a_cert, &a_key, ""));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("load and match"),
        "{}",
        text(&out.stdout)
    );

    // A key anyone may read still works, with a warning naming it.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&a_key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = check_config(&tls_config(&a_cert, &a_key, ""));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let warning = format!(
        "{}: the private key is readable by every user",
        a_key.display()
    );
    assert!(
        text(&out.stderr).contains(&warning),
        "{}",
        text(&out.stderr)
    );

    let missing = certs.path().join("missing.key");
    let cases = [
        (
            tls_config(&a_cert, &missing, ""),
            format!("{}: cannot read", missing.display()),
        ),
        (
            tls_config(&a_cert, &b_key, ""),
            format!("{}: this private key does not belong", b_key.display()),
        ),
        (
            tls_config(&a_key, &a_key, ""),
            format!("{}: holds no certificate", a_key.display()),
        ),
        (
            tls_config(&a_cert, &a_cert, ""),
            format!("{}: holds no private key", a_cert.display()),
        ),
        (
            format!("tls_cert = \"{}\"\n", a_cert.display()),
            "tls_key is not".to_string(),
        ),
    ];
    for (config, expected) in cases {
        let out = check_config(&config);
        assert_eq!(out.status.code(), Some(1), "{config}");
        let err = text(&out.stderr);
        assert!(err.contains(&expected), "expected {expected:?} in {err:?}");
    }

    // The daemon itself refuses to start on the same mistake, naming the file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, tls_config(&a_cert, &b_key, "")).unwrap();
    let out = Command::new(HOOKD)
        .arg("--config")
        .arg(&file)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--socket")
        .arg(dir.path().join("s.sock"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&b_key.display().to_string()),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn sighup_turns_https_on_and_off() {
    if skip_without_tools() {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = make_cert(certs.path(), "hookd-test");
    let d = Daemon::start_with("");
    assert_eq!(d.get("/healthz").status, 200);
    let reloads = || d.log().matches("configuration reloaded").count();

    std::fs::write(&d.config, tls_config(&cert, &key, "")).unwrap();
    d.signal(1);
    wait_until("the reload", Duration::from_secs(20), || reloads() == 1);
    assert_eq!(served_cn(d.port, &cert), "hookd-test");
    let url = d.json(&["create", "t", "--run", "true"])["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.starts_with("https://"), "{url}");

    std::fs::write(&d.config, "").unwrap();
    d.signal(1);
    wait_until("the reload", Duration::from_secs(20), || reloads() == 2);
    assert_eq!(d.get("/healthz").body, "ok\n");
    assert!(python(d.port, &cert, "GET", "/healthz", "").is_none());
}
