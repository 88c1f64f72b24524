//! The request-facing helpers, fed one structured request each:
//! - `daemon::http::token_of` only returns a non-empty last segment of a webhook route;
//! - `token::redact_path` keeps the segment count and cuts every `hkd_` segment (and every
//!   segment over 24 bytes) to its first 8 characters plus `…`, so a token longer than that
//!   never reaches the log;
//! - `signature::verify` never panics for any kind, never accepts an empty secret, accepts
//!   what a sender signed correctly with the same secret, and rejects it once the body changes;
//! - `netaddr::Cidr` parsing is canonical (display parses back equal) and `contains` agrees
//!   with building the network of the address itself;
//! - `daemon::http::client_ip` returns the peer or one of the forwarded addresses, and a
//!   forwarded one only when the peer is a trusted proxy and the address is not;
//! - `daemon::incoming::check_message` and `extract_params` keep their documented limits;
//! - `cli::hooksfile::parse` never panics (see the `hooksfile` target for its invariants).
#![no_main]

use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hookd::netaddr::{Cidr, canonical};
use hookd::signature::{self, VerifyError, VerifyKind};
use hyper::HeaderMap;
use hyper::header::{HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::net::IpAddr;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    path: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
    secret: &'a str,
    now_secs: i64,
    msg_id: &'a str,
    cidr: &'a str,
    ip: IpAddr,
    peer: IpAddr,
    trust_proxy: Vec<&'a str>,
    forwarded: Vec<IpAddr>,
    content_type: &'a str,
    params: BTreeMap<String, String>,
    hooks_toml: &'a str,
}

/// Request headers as (name, value) pairs, looked up case-insensitively.
type Headers = Vec<(String, String)>;

const KINDS: [VerifyKind; 4] = [
    VerifyKind::Github,
    VerifyKind::Gitlab,
    VerifyKind::Standard,
    VerifyKind::HmacSha256,
];

fn routing(path: &str) {
    if let Some(token) = hookd::daemon::http::token_of(path) {
        assert!(
            !token.is_empty() && !token.contains('/'),
            "{path:?} -> {token:?}"
        );
        let route = &path[..path.len() - token.len()];
        assert!(
            ["/webhook/", "/api/webhook/", "/api/webhooks/execute/"].contains(&route),
            "{path:?} -> {token:?}"
        );
        // A token that already has the redacted shape (8 characters and `…`) is its own
        // redaction; any other token must not survive.
        let shown: String = token.chars().take(8).collect();
        if token.starts_with("hkd_") && token.chars().count() > 8 && token != format!("{shown}…")
        {
            let redacted = hookd::token::redact_path(path);
            assert!(
                !redacted.contains(token),
                "{path:?} redacted to {redacted:?}"
            );
        }
    }
    let redacted = hookd::token::redact_path(path);
    let before: Vec<&str> = path.split('/').collect();
    let after: Vec<&str> = redacted.split('/').collect();
    assert_eq!(
        before.len(),
        after.len(),
        "{path:?} redacted to {redacted:?}"
    );
    for (seg, out) in before.iter().zip(&after) {
        if seg.starts_with("hkd_") || seg.len() > 24 {
            let shown: String = seg.chars().take(8).collect();
            assert_eq!(
                *out,
                format!("{shown}…"),
                "{path:?} redacted to {redacted:?}"
            );
            if seg.starts_with("hkd_") && seg.chars().count() > 8 && seg != out {
                assert!(!out.contains(seg), "{path:?} redacted to {redacted:?}");
            }
        } else {
            assert_eq!(seg, out, "{path:?} redacted to {redacted:?}");
        }
    }
}

fn lookup(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

fn verify_with(
    kind: VerifyKind,
    secret: &str,
    headers: &[(String, String)],
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    signature::verify(kind, secret, &|n| lookup(headers, n), body, now)
}

fn signatures(input: &Input<'_>) {
    let given: Headers = input
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for kind in KINDS {
        let verdict = verify_with(kind, input.secret, &given, input.body, input.now_secs);
        if input.secret.is_empty() {
            assert!(
                verdict.is_err(),
                "{kind}: an empty secret verified {input:?}"
            );
        }
        let _ = signature::delivery_id(kind, &|n| lookup(&given, n), input.body);
    }

    // What a correct sender would attach, for each convention.
    let secret = input.secret;
    let body = input.body;
    let mut other_body = body.to_vec();
    match other_body.first_mut() {
        Some(b) => *b ^= 1,
        None => other_body.push(b'x'),
    }
    let hex = signature::hex_lower(&signature::hmac_sha256(secret.as_bytes(), body));
    let mut signed: Vec<(VerifyKind, String, Headers, i64)> = vec![
        (
            VerifyKind::Github,
            secret.into(),
            vec![("X-Hub-Signature-256".into(), format!("sha256={hex}"))],
            input.now_secs,
        ),
        (
            VerifyKind::HmacSha256,
            secret.into(),
            vec![("x-signature".into(), hex.to_uppercase())],
            input.now_secs,
        ),
    ];
    // Header values reach `verify` trimmed, so a secret with outer whitespace cannot match.
    if secret == secret.trim_ascii() {
        signed.push((
            VerifyKind::Gitlab,
            secret.into(),
            vec![("x-gitlab-token".into(), secret.into())],
            input.now_secs,
        ));
    }
    let ts = input.now_secs.checked_abs().unwrap_or(0);
    let id = match input.msg_id.trim_ascii() {
        "" => "msg_1",
        id => id,
    };
    // The fuzzed secret is rarely a valid whsec_ one; also sign with one built from its bytes,
    // so the Standard Webhooks path is exercised by every input.
    let mut key = secret.as_bytes().to_vec();
    key.resize(key.len().clamp(16, 64), b'k');
    let built = format!("whsec_{}", STANDARD.encode(&key));
    assert!(signature::is_valid_whsec(&built), "{built:?}");
    for whsec in [secret.to_string(), built] {
        match signature::sign_standard(&whsec, id, ts, body) {
            Ok(sig) => {
                assert!(signature::is_valid_whsec(&whsec));
                signed.push((
                    VerifyKind::Standard,
                    whsec,
                    vec![
                        ("webhook-id".into(), id.into()),
                        ("webhook-timestamp".into(), ts.to_string()),
                        ("webhook-signature".into(), format!("v1a,xyz {sig}")),
                    ],
                    ts,
                ));
            }
            Err(e) => {
                assert_eq!(e, VerifyError::BadSecret);
                assert!(!signature::is_valid_whsec(&whsec));
            }
        }
    }
    for (kind, secret, headers, now) in signed {
        let secret = secret.as_str();
        let good = verify_with(kind, secret, &headers, body, now);
        if secret.is_empty() {
            assert!(good.is_err(), "{kind}: an empty secret verified");
            continue;
        }
        assert_eq!(
            good,
            Ok(()),
            "{kind}: a correct signature was refused: {headers:?}"
        );
        if kind != VerifyKind::Gitlab {
            let forged = verify_with(kind, secret, &headers, &other_body, now);
            assert_eq!(
                forged,
                Err(VerifyError::Mismatch),
                "{kind}: changed body accepted"
            );
        }
    }
}

fn cidrs(input: &Input<'_>) {
    let Ok(net) = input.cidr.parse::<Cidr>() else {
        return;
    };
    let shown = net.to_string();
    assert_eq!(
        shown.parse::<Cidr>(),
        Ok(net),
        "{:?} displays as {shown:?}",
        input.cidr
    );
    assert!(
        net.contains(net.addr()),
        "{net} does not contain its own address"
    );
    let max = if net.addr().is_ipv4() { 32 } else { 128 };
    assert!(net.prefix_len() <= max);
    let ip = canonical(input.ip);
    let expected = Cidr::new(ip, net.prefix_len()) == Some(net);
    assert_eq!(
        net.contains(input.ip),
        expected,
        "{net} contains {}?",
        input.ip
    );
}

fn client_ips(input: &Input<'_>) {
    let mut headers = HeaderMap::new();
    let xff = HeaderName::from_static("x-forwarded-for");
    // Real senders put several addresses in one header or repeat the header; do both.
    for chunk in input.forwarded.chunks(2) {
        let joined: Vec<String> = chunk.iter().map(ToString::to_string).collect();
        let value = HeaderValue::from_str(&joined.join(", ")).expect("addresses are ASCII");
        headers.append(xff.clone(), value);
    }
    for (name, value) in &input.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(n, v);
        }
    }
    let trust: Vec<Cidr> = input
        .trust_proxy
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    let got = hookd::daemon::http::client_ip(input.peer, &headers, &trust);
    let peer = canonical(input.peer);
    if trust.is_empty() {
        assert_eq!(got, peer);
        return;
    }
    if got != peer {
        let trusted = |ip: IpAddr| trust.iter().any(|n| n.contains(ip));
        assert!(trusted(peer), "untrusted peer {peer} let {got} through");
        assert!(!trusted(got), "returned the trusted proxy {got}");
        assert_eq!(got, canonical(got));
    }
}

fn incoming(input: &Input<'_>) {
    match hookd::daemon::incoming::check_message(input.body) {
        Ok(m) => {
            let content = m["content"].as_str().expect("content is a string");
            let n = content.chars().count();
            assert!(n > 0 && n <= 4000 && !content.trim().is_empty());
            match m.get("username") {
                None | Some(serde_json::Value::Null) => {}
                Some(serde_json::Value::String(s)) => assert!(s.chars().count() <= 64),
                Some(other) => panic!("username {other:?} accepted"),
            }
            match m.get("avatar_url") {
                None | Some(serde_json::Value::Null) => {}
                Some(serde_json::Value::String(s)) => {
                    let lower = s.to_ascii_lowercase();
                    assert!(
                        lower.starts_with("http://") || lower.starts_with("https://"),
                        "{s:?}"
                    );
                }
                Some(other) => panic!("avatar_url {other:?} accepted"),
            }
        }
        Err((field, message)) => {
            assert!(matches!(
                field,
                None | Some("content" | "username" | "avatar_url")
            ));
            assert!(!message.is_empty());
        }
    }
    let values =
        hookd::daemon::incoming::extract_params(&input.params, input.content_type, input.body);
    assert_eq!(values.len(), input.params.len());
    for ((name, value), (wanted, _)) in values.iter().zip(&input.params) {
        assert_eq!(name, wanted);
        assert!(!value.contains('\0'), "a NUL reaches the environment");
    }
}

fn hooks_file(text: &str) {
    // The positions and the render/parse round trip are checked by the `hooksfile` target,
    // which gets plain text and so reaches much further into the format.
    let _ = hookd::cli::hooksfile::parse(text);
}

fuzz_target!(|input: Input<'_>| {
    routing(input.path);
    signatures(&input);
    cidrs(&input);
    client_ips(&input);
    incoming(&input);
    hooks_file(input.hooks_toml);
});
