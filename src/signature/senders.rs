//! Each sender's rule: which headers it signs with, over what, and how fresh it must be.
//!
//! Every function takes a [`Verifier`] whose keys were checked when it was built, reads headers
//! through the caller's lookup, and answers with a [`VerifyError`] for the log. Timestamps are
//! checked before signatures, as the Standard Webhooks libraries do; the answer to the caller
//! is the same 401 either way. Digests are compared with `subtle`, never with `==`.

use super::parse;
use super::{Checked, Hash, Headers, TOLERANCE_SECS, Verifier, VerifyError, VerifyKind};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

const H_GITHUB_SIG: &str = "x-hub-signature-256";
const H_GITLAB_TOKEN: &str = "x-gitlab-token";
const H_SW_ID: &str = "webhook-id";
const H_SW_TIMESTAMP: &str = "webhook-timestamp";
const H_SW_SIGNATURE: &str = "webhook-signature";
const H_STRIPE: &str = "stripe-signature";
const H_SHOPIFY: &str = "x-shopify-hmac-sha256";
const H_SLACK_SIG: &str = "x-slack-signature";
const H_SLACK_TS: &str = "x-slack-request-timestamp";
const H_GITEA: &str = "x-gitea-signature";
const H_BITBUCKET: &str = "x-hub-signature";
const H_DISCORD_SIG: &str = "x-signature-ed25519";
const H_DISCORD_TS: &str = "x-signature-timestamp";
const H_AUTHORIZATION: &str = "authorization";

pub(super) fn check(v: &Verifier, header: Headers<'_>, body: &[u8], now: i64) -> Checked {
    let key = v.key.as_slice();
    match v.kind {
        VerifyKind::Github => prefixed_hex(key, header, H_GITHUB_SIG, body),
        VerifyKind::Bitbucket => prefixed_hex(key, header, H_BITBUCKET, body),
        VerifyKind::Gitea => {
            let value = required(header, H_GITEA)?;
            let given = parse::hex(&value, 32).ok_or_else(|| malformed(H_GITEA))?;
            ok_if(Hash::Sha256.mac(key, &[body]).ct_eq(&given))
        }
        VerifyKind::HmacSha1 | VerifyKind::HmacSha256 | VerifyKind::HmacSha512 => {
            let hash = v.kind.hmac_hash().unwrap_or(Hash::Sha256);
            hmac_list(key, hash, header, &v.header, body)
        }
        VerifyKind::Gitlab => {
            let token = required(header, H_GITLAB_TOKEN)?;
            // Comparing digests rather than the strings keeps the comparison
            // fixed-length, so not even the secret's length leaks.
            let given = Sha256::digest(token.as_bytes());
            let wanted = Sha256::digest(key);
            ok_if(given.as_slice().ct_eq(wanted.as_slice()))
        }
        VerifyKind::Standard => standard(key, header, body, now),
        VerifyKind::Stripe => stripe(key, header, body, now),
        VerifyKind::Shopify => {
            let value = required(header, H_SHOPIFY)?;
            let given = parse::base64(&value, 32).ok_or_else(|| malformed(H_SHOPIFY))?;
            ok_if(Hash::Sha256.mac(key, &[body]).ct_eq(&given))
        }
        VerifyKind::Slack => slack(key, header, body, now),
        VerifyKind::Discord => discord(v, header, body, now),
        VerifyKind::Basic => basic(v, header),
    }
}

/// `sha256=<hex>` with the prefix required (GitHub, Bitbucket).
fn prefixed_hex(key: &[u8], header: Headers<'_>, name: &'static str, body: &[u8]) -> Checked {
    let value = required(header, name)?;
    let given = value
        .strip_prefix("sha256=")
        .and_then(|hex| parse::hex(hex, 32))
        .ok_or_else(|| malformed(name))?;
    ok_if(Hash::Sha256.mac(key, &[body]).ct_eq(&given))
}

fn hmac_list(key: &[u8], hash: Hash, header: Headers<'_>, name: &str, body: &[u8]) -> Checked {
    let value = header(name).ok_or_else(|| VerifyError::MissingHeader(name.to_owned()))?;
    let given = parse::hmac_list(&value, hash.prefix(), hash.digest_len());
    if given.is_empty() {
        return Err(VerifyError::Malformed(name.to_owned()));
    }
    let expected = hash.mac(key, &[body]);
    ok_if(any_equal(&expected, given.iter().map(Vec::as_slice)))
}

fn standard(key: &[u8], header: Headers<'_>, body: &[u8], now: i64) -> Checked {
    let id = required(header, H_SW_ID)?;
    let ts_raw = required(header, H_SW_TIMESTAMP)?;
    let sigs = required(header, H_SW_SIGNATURE)?;
    if id.is_empty() {
        return Err(malformed(H_SW_ID));
    }
    let ts = parse::timestamp(&ts_raw).ok_or_else(|| malformed(H_SW_TIMESTAMP))?;
    fresh(ts, now)?;
    if sigs.is_empty() {
        return Err(malformed(H_SW_SIGNATURE));
    }
    let ts = ts.to_string();
    let expected = Hash::Sha256.mac(key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
    // Senders rotating secrets send several signatures; any v1 one may match.
    // Other versions (e.g. v1a, asymmetric) are not ours to check.
    let given = sigs.split_ascii_whitespace().filter_map(|entry| {
        let ("v1", encoded) = entry.split_once(',')? else {
            return None;
        };
        B64.decode(encoded).ok()
    });
    let given: Vec<Vec<u8>> = given.collect();
    ok_if(any_equal(&expected, given.iter().map(Vec::as_slice)))
}

fn stripe(key: &[u8], header: Headers<'_>, body: &[u8], now: i64) -> Checked {
    let value = required(header, H_STRIPE)?;
    let parsed = parse::stripe(&value).ok_or_else(|| malformed(H_STRIPE))?;
    fresh(parsed.timestamp, now)?;
    if parsed.v1.is_empty() {
        return Err(malformed(H_STRIPE));
    }
    let ts = parsed.timestamp.to_string();
    let expected = Hash::Sha256.mac(key, &[ts.as_bytes(), b".", body]);
    ok_if(any_equal(&expected, parsed.v1.iter().map(|s| s.as_slice())))
}

fn slack(key: &[u8], header: Headers<'_>, body: &[u8], now: i64) -> Checked {
    let ts_raw = required(header, H_SLACK_TS)?;
    let sig = required(header, H_SLACK_SIG)?;
    let ts = parse::timestamp(&ts_raw).ok_or_else(|| malformed(H_SLACK_TS))?;
    fresh(ts, now)?;
    let given = parse::slack(&sig).ok_or_else(|| malformed(H_SLACK_SIG))?;
    let expected = Hash::Sha256.mac(key, &[b"v0:", ts_raw.as_bytes(), b":", body]);
    ok_if(expected.ct_eq(&given))
}

fn discord(v: &Verifier, header: Headers<'_>, body: &[u8], now: i64) -> Checked {
    let key = v.public_key.as_ref().ok_or(VerifyError::BadSecret)?;
    let sig = required(header, H_DISCORD_SIG)?;
    let ts_raw = required(header, H_DISCORD_TS)?;
    let ts = parse::timestamp(&ts_raw).ok_or_else(|| malformed(H_DISCORD_TS))?;
    fresh(ts, now)?;
    let sig = parse::ed25519_signature(&sig).ok_or_else(|| malformed(H_DISCORD_SIG))?;
    let sig = ed25519_dalek::Signature::from_bytes(&sig);
    let mut message = Vec::with_capacity(ts_raw.len() + body.len());
    message.extend_from_slice(ts_raw.as_bytes());
    message.extend_from_slice(body);
    // Strict: refuses non-canonical signatures and small-order keys (no malleability).
    key.verify_strict(&message, &sig)
        .map_err(|_| VerifyError::Mismatch)
}

fn basic(v: &Verifier, header: Headers<'_>) -> Checked {
    let cred = v.basic.as_ref().ok_or(VerifyError::BadSecret)?;
    let value = required(header, H_AUTHORIZATION)?;
    let (user, password) =
        parse::basic_authorization(&value).ok_or_else(|| malformed(H_AUTHORIZATION))?;
    if cred.check(&user, &password) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

/// The `id` of a Stripe event body (`{"id": "evt_…", …}`), if it has one.
pub(super) fn stripe_event_id(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Event {
        id: Option<String>,
    }
    let id = object::<Event>(body)?.id?;
    (!id.is_empty()).then_some(id)
}

/// The `type` of a Discord interaction body.
pub(super) fn discord_interaction_type(body: &[u8]) -> Option<i64> {
    #[derive(Deserialize)]
    struct Interaction {
        #[serde(rename = "type")]
        kind: Option<i64>,
    }
    object::<Interaction>(body)?.kind
}

/// A JSON object body as `T`. serde also fills a struct from an array (`["evt_1"]`), which
/// no sender sends; only an object counts.
fn object<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Option<T> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    serde_json::from_slice(body).ok()
}

/// Whether any of `given` equals `expected`, looking at every one (no early exit).
fn any_equal<'a>(expected: &[u8], given: impl Iterator<Item = &'a [u8]>) -> Choice {
    // Slice ct_eq is false for a length mismatch without looking at contents.
    given.fold(Choice::from(0), |acc, g| acc | expected.ct_eq(g))
}

fn fresh(ts: i64, now: i64) -> Checked {
    // abs_diff cannot overflow, whatever the two values are.
    if now.abs_diff(ts) > TOLERANCE_SECS {
        Err(VerifyError::StaleTimestamp)
    } else {
        Ok(())
    }
}

fn required(header: Headers<'_>, name: &'static str) -> Result<String, VerifyError> {
    match header(name) {
        Some(value) => Ok(value.trim_ascii().to_owned()),
        None => Err(VerifyError::MissingHeader(name.to_owned())),
    }
}

fn malformed(name: &str) -> VerifyError {
    VerifyError::Malformed(name.to_owned())
}

fn ok_if(ok: Choice) -> Checked {
    if bool::from(ok) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}
