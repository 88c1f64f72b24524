//! The signature header parsers and every `--verify` kind, fed arbitrary header values:
//! - no parser in `signature::parse` (hex, base64, timestamps, Stripe's `t=…,v1=…`, HMAC lists,
//!   Slack's `v0=`, Ed25519 signatures and keys, `Authorization: Basic`) and no password-hash
//!   parser panics on any input;
//! - no `Verifier` panics on any headers, body and clock, and none accepts a request that
//!   carries no signature made with its key (the keys are fixed here, the input is not);
//! - a request signed correctly for a kind verifies, and fails once the body changes;
//! - building a `Verifier` from arbitrary option text never panics.
#![no_main]

use arbitrary::Arbitrary;
use base64::Engine as _;
use hookd::signature::{self, Keys, Verifier, VerifyKind, parse, password};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    values: Vec<(u8, &'a str)>,
    body: &'a [u8],
    now: i64,
    option_text: &'a str,
}

/// Every header any kind reads.
const NAMES: [&str; 17] = [
    "x-hub-signature-256",
    "x-gitlab-token",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-signature",
    "stripe-signature",
    "x-shopify-hmac-sha256",
    "x-slack-signature",
    "x-slack-request-timestamp",
    "x-gitea-signature",
    "x-hub-signature",
    "x-signature-ed25519",
    "x-signature-timestamp",
    "authorization",
    "x-github-delivery",
    "x-request-uuid",
];

const SECRET: &str = "fuzz-secret";
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PUBLIC_KEY: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

fn parsers(value: &str) {
    let _ = parse::timestamp(value);
    let _ = parse::hex(value, 32);
    let _ = parse::base64(value, 32);
    for (prefix, len) in [("sha1=", 20), ("sha256=", 32), ("sha512=", 64)] {
        for digest in parse::hmac_list(value, prefix, len) {
            assert_eq!(digest.len(), len);
        }
    }
    if let Some(h) = parse::stripe(value) {
        assert!(h.timestamp >= 0);
    }
    let _ = parse::slack(value);
    let _ = parse::ed25519_signature(value);
    let _ = parse::ed25519_public_key(value);
    let _ = parse::basic_authorization(value);
    let _ = password::PasswordHash::parse(value);
    let _ = password::BasicCredential::parse(value);
    let _ = signature::is_discord_ping(value.as_bytes());
}

fn verifiers() -> Vec<Verifier> {
    // One round: the property is about parsing, not about paying the KDF per input.
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    let sealed = format!(
        "u:$pbkdf2-sha256$i=1,l=32${}${}",
        b64.encode([1u8; 16]),
        b64.encode([2u8; 32])
    );
    VerifyKind::ALL
        .into_iter()
        .map(|kind| {
            let keys = Keys {
                secret: Some(if kind == VerifyKind::Standard { WHSEC } else { SECRET }),
                public_key: (kind == VerifyKind::Discord).then_some(PUBLIC_KEY),
                basic_auth: Some(&sealed),
                signature_header: None,
            };
            Verifier::new(kind, keys).expect("fixed keys are valid")
        })
        .collect()
}

/// Whether `value` could be a real signature over `body` with the fixed key of `kind`: only
/// if it was computed from it, which this target never does for arbitrary input.
fn signed_correctly(kind: VerifyKind, headers: &[(String, String)], body: &[u8]) -> bool {
    let hex = signature::hex_lower(&signature::hmac_sha256(SECRET.as_bytes(), body));
    match kind {
        VerifyKind::Gitlab => headers.iter().any(|(_, v)| v.trim_ascii() == SECRET),
        VerifyKind::Github
        | VerifyKind::Gitea
        | VerifyKind::Bitbucket
        | VerifyKind::HmacSha256 => headers
            .iter()
            .any(|(_, v)| v.to_ascii_lowercase().contains(&hex)),
        // The others sign over a timestamp or id too, or use keys no input can know.
        _ => false,
    }
}

fuzz_target!(|input: Input<'_>| {
    let headers: Vec<(String, String)> = input
        .values
        .iter()
        .map(|(i, v)| (NAMES[usize::from(*i) % NAMES.len()].to_string(), v.to_string()))
        .collect();
    for (_, v) in &headers {
        parsers(v);
    }
    parsers(input.option_text);
    let lookup = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    for v in verifiers() {
        let verdict = v.verify(&lookup, input.body, input.now);
        if verdict.is_ok() {
            assert!(
                signed_correctly(v.kind(), &headers, input.body),
                "{} accepted {headers:?}",
                v.kind()
            );
        }
        let _ = v.delivery_id(&lookup, input.body);
    }
    // A correct Gitea/Bitbucket signature verifies and stops verifying when the body changes.
    let hex = signature::hex_lower(&signature::hmac_sha256(SECRET.as_bytes(), input.body));
    let mut other = input.body.to_vec();
    match other.first_mut() {
        Some(b) => *b ^= 1,
        None => other.push(b'x'),
    }
    let gitea = |name: &str| (name == "x-gitea-signature").then(|| hex.clone());
    let v = &verifiers()[VerifyKind::ALL.iter().position(|k| *k == VerifyKind::Gitea).unwrap()];
    assert!(v.verify(&gitea, input.body, input.now).is_ok());
    assert!(v.verify(&gitea, &other, input.now).is_err());
    let text = input.option_text;
    let keys = Keys {
        secret: Some(text),
        signature_header: Some(text),
        public_key: Some(text),
        basic_auth: Some(text),
    };
    for kind in VerifyKind::ALL {
        let _ = Verifier::new(kind, keys);
        let _ = Verifier::new(kind, Keys { secret: Some(text), ..Keys::default() });
    }
});
