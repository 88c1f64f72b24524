//! What `--verify` costs per call, inside one process: each kind checks a correctly signed
//! request with a 1 KB body, the way the gate calls it (header lookup by name, a parsed
//! [`Verifier`] built once per hook). Plain timing, no harness: `cargo bench --bench verify`.
//!
//! For each kind the figure is the median of 15 batches (after one warm-up batch) of calls
//! per batch, in microseconds per call. Targets: under 10 µs for the HMAC kinds, under 80 µs
//! for Ed25519 (discord). Basic auth is shown twice: the remembered credential (every call
//! after the first) and the full PBKDF2 check (the first call, and every wrong guess), which
//! is slow by design.

use base64::Engine as _;
use ed25519_dalek::Signer as _;
use hookd::signature::{self, Keys, Verifier, VerifyKind, hex_lower, hmac_sha256, password};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

const SECRET: &str = "bench-secret-0123456789";
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW: i64 = 1_700_000_000;

struct Case {
    name: &'static str,
    verifier: Verifier,
    headers: HashMap<String, String>,
    per_batch: u32,
}

fn hmac_hex(parts: &[&[u8]]) -> String {
    hex_lower(&hmac_sha256(SECRET.as_bytes(), &parts.concat()))
}

fn keys(secret: &str) -> Keys<'_> {
    Keys {
        secret: Some(secret),
        ..Keys::default()
    }
}

fn case(name: &'static str, kind: VerifyKind, k: Keys<'_>, headers: &[(&str, String)]) -> Case {
    Case {
        name,
        verifier: Verifier::new(kind, k).unwrap(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect(),
        per_batch: 2000,
    }
}

fn cases(body: &[u8]) -> Vec<Case> {
    let ts = NOW.to_string();
    let body_hex = hmac_hex(&[body]);
    let b64 = base64::engine::general_purpose::STANDARD;
    let sw = signature::sign_standard(WHSEC, "msg_1", NOW, body).unwrap();
    let sha1 = signature::Hash::Sha1.mac(SECRET.as_bytes(), &[body]);
    let sha512 = signature::Hash::Sha512.mac(SECRET.as_bytes(), &[body]);
    let seed = [7u8; 32];
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    let public = hex_lower(signing.verifying_key().as_bytes());
    let ed_sig = hex_lower(&signing.sign(&[ts.as_bytes(), body].concat()).to_bytes());
    let sealed = password::seal("bench:correct horse battery staple").unwrap();
    let auth = format!("Basic {}", b64.encode("bench:correct horse battery staple"));
    let wrong_auth = format!("Basic {}", b64.encode("bench:wrong"));
    let basic = || Keys {
        basic_auth: Some(&sealed),
        ..Keys::default()
    };
    let mut all = vec![
        case(
            "github",
            VerifyKind::Github,
            keys(SECRET),
            &[("x-hub-signature-256", format!("sha256={body_hex}"))],
        ),
        case(
            "gitlab",
            VerifyKind::Gitlab,
            keys(SECRET),
            &[("x-gitlab-token", SECRET.into())],
        ),
        case(
            "standard",
            VerifyKind::Standard,
            keys(WHSEC),
            &[
                ("webhook-id", "msg_1".into()),
                ("webhook-timestamp", ts.clone()),
                ("webhook-signature", sw),
            ],
        ),
        case(
            "hmac-sha1",
            VerifyKind::HmacSha1,
            keys(SECRET),
            &[("x-signature", format!("sha1={}", hex_lower(&sha1)))],
        ),
        case(
            "hmac-sha256",
            VerifyKind::HmacSha256,
            keys(SECRET),
            &[("x-signature", body_hex.clone())],
        ),
        case(
            "hmac-sha512",
            VerifyKind::HmacSha512,
            keys(SECRET),
            &[("x-signature", hex_lower(&sha512))],
        ),
        case(
            "stripe",
            VerifyKind::Stripe,
            keys(SECRET),
            &[(
                "stripe-signature",
                format!("t={ts},v1={}", hmac_hex(&[ts.as_bytes(), b".", body])),
            )],
        ),
        case(
            "shopify",
            VerifyKind::Shopify,
            keys(SECRET),
            &[(
                "x-shopify-hmac-sha256",
                b64.encode(hmac_sha256(SECRET.as_bytes(), body)),
            )],
        ),
        case(
            "slack",
            VerifyKind::Slack,
            keys(SECRET),
            &[
                ("x-slack-request-timestamp", ts.clone()),
                (
                    "x-slack-signature",
                    format!("v0={}", hmac_hex(&[b"v0:", ts.as_bytes(), b":", body])),
                ),
            ],
        ),
        case(
            "gitea",
            VerifyKind::Gitea,
            keys(SECRET),
            &[("x-gitea-signature", body_hex.clone())],
        ),
        case(
            "bitbucket",
            VerifyKind::Bitbucket,
            keys(SECRET),
            &[("x-hub-signature", format!("sha256={body_hex}"))],
        ),
        case(
            "discord (Ed25519)",
            VerifyKind::Discord,
            Keys {
                public_key: Some(&public),
                ..Keys::default()
            },
            &[
                ("x-signature-ed25519", ed_sig),
                ("x-signature-timestamp", ts.clone()),
            ],
        ),
        case(
            "basic, remembered",
            VerifyKind::Basic,
            basic(),
            &[("authorization", auth)],
        ),
        case(
            "basic, full PBKDF2 (wrong password)",
            VerifyKind::Basic,
            basic(),
            &[("authorization", wrong_auth)],
        ),
    ];
    for c in &mut all {
        if c.verifier.kind() == VerifyKind::Discord {
            c.per_batch = 200;
        }
        if c.name.starts_with("basic, full") {
            c.per_batch = 1;
        }
    }
    all
}

fn time(c: &Case, body: &[u8]) -> f64 {
    let lookup = |name: &str| c.headers.get(name).cloned();
    let ok = !c.name.contains("wrong");
    assert_eq!(
        c.verifier.verify(&lookup, body, NOW).is_ok(),
        ok,
        "{}",
        c.name
    );
    let mut batches = Vec::new();
    let rounds = if c.per_batch == 1 { 3 } else { 16 };
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..c.per_batch {
            let _ = black_box(c.verifier.verify(&lookup, black_box(body), NOW));
        }
        batches.push(start.elapsed().as_secs_f64() * 1e6 / f64::from(c.per_batch));
    }
    batches.remove(0);
    batches.sort_by(f64::total_cmp);
    batches[batches.len() / 2]
}

fn main() {
    let body: Vec<u8> = (0..1024)
        .map(|i| b"{\"a\":1}abcdefghijkl"[i % 19])
        .collect();
    println!("verification per call, 1 KB body (median of batches)");
    for c in cases(&body) {
        let us = time(&c, &body);
        let target = match c.verifier.kind() {
            VerifyKind::Discord => " (target < 80 µs)",
            VerifyKind::Basic if c.name.contains("full") => " (slow by design)",
            _ => " (target < 10 µs)",
        };
        println!("{:<38} {us:>10.2} µs{target}", c.name);
    }
}
