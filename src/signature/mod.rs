//! Webhook signatures: checking the ones senders attach to incoming requests
//! (`--verify`) and producing the Standard Webhooks one attached to outgoing
//! deliveries.
//!
//! Invariants: every comparison of a secret or a signature goes through
//! `subtle::ConstantTimeEq`, so response timing says nothing about how close a
//! forgery came; nothing in here panics on request data (headers, bodies and
//! secrets are all untrusted or operator-typed); an empty secret never
//! verifies anything. This module must not decide HTTP responses or log:
//! [`VerifyError`] is for the operator's log only, and the caller answers every
//! failure the same way so that a sender cannot learn which check failed.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

/// How far `webhook-timestamp` may be from our clock, either way, in seconds.
const TOLERANCE_SECS: u64 = 300;
const WHSEC_PREFIX: &str = "whsec_";
/// Shorter keys are too weak to accept; longer ones are almost certainly a
/// pasted mistake (the Standard Webhooks spec allows 24 to 64 bytes).
const WHSEC_MIN_BYTES: usize = 16;
const WHSEC_MAX_BYTES: usize = 64;

const H_GITHUB_SIG: &str = "x-hub-signature-256";
const H_GITHUB_DELIVERY: &str = "x-github-delivery";
const H_GITLAB_TOKEN: &str = "x-gitlab-token";
const H_SW_ID: &str = "webhook-id";
const H_SW_TIMESTAMP: &str = "webhook-timestamp";
const H_SW_SIGNATURE: &str = "webhook-signature";
const H_SIGNATURE: &str = "x-signature";

type Headers<'a> = &'a dyn Fn(&str) -> Option<String>;
type Checked = Result<(), VerifyError>;

/// Which sender convention an endpoint expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyKind {
    /// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`.
    Github,
    /// `X-Gitlab-Token` carries the secret itself.
    Gitlab,
    /// Standard Webhooks (also what Svix sends): `webhook-id`,
    /// `webhook-timestamp`, `webhook-signature: v1,<base64>`.
    Standard,
    /// `X-Signature: [sha256=]<hex HMAC-SHA256 of the body>`.
    HmacSha256,
}

impl VerifyKind {
    /// Every kind, in the order help texts list them.
    pub const ALL: [VerifyKind; 4] = [Self::Github, Self::Gitlab, Self::Standard, Self::HmacSha256];

    /// Parses the `--verify` value; names are exact and lower-case.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The name accepted by [`VerifyKind::parse`].
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Github => "github",
            Self::Gitlab => "gitlab",
            Self::Standard => "standard",
            Self::HmacSha256 => "hmac-sha256",
        }
    }
}

impl fmt::Display for VerifyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request failed verification: goes to the log, never to the HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("malformed header {0}")]
    Malformed(&'static str),
    #[error("signature mismatch")]
    Mismatch,
    #[error("timestamp outside the 5 minute tolerance")]
    StaleTimestamp,
    #[error("secret is not a valid whsec_ secret")]
    BadSecret,
}

/// Checks a request against `secret` using the `kind` convention.
///
/// `header(name)` returns the value of a request header by lower-case name
/// (case-insensitive lookup is the caller's job: it passes lower-case names).
/// `now_secs` is the current unix time. Header values are trimmed of ASCII
/// whitespace before use. An empty secret fails with [`VerifyError::Mismatch`]
/// for every kind, because otherwise an unconfigured secret would let an empty
/// token (gitlab) or a keyless HMAC through; configuration should reject it
/// before it gets here.
pub fn verify(
    kind: VerifyKind,
    secret: &str,
    header: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
    now_secs: i64,
) -> Result<(), VerifyError> {
    match kind {
        VerifyKind::Github => {
            let value = required(header, H_GITHUB_SIG)?;
            let hex = value
                .strip_prefix("sha256=")
                .ok_or(VerifyError::Malformed(H_GITHUB_SIG))?;
            verify_hex_hmac(secret, hex, H_GITHUB_SIG, body)
        }
        VerifyKind::HmacSha256 => {
            let value = required(header, H_SIGNATURE)?;
            let hex = value.strip_prefix("sha256=").unwrap_or(&value);
            verify_hex_hmac(secret, hex, H_SIGNATURE, body)
        }
        VerifyKind::Gitlab => {
            let token = required(header, H_GITLAB_TOKEN)?;
            // Comparing digests rather than the strings keeps the comparison
            // fixed-length, so not even the secret's length leaks.
            let given = Sha256::digest(token.as_bytes());
            let wanted = Sha256::digest(secret.as_bytes());
            let equal = given.as_slice().ct_eq(wanted.as_slice());
            ok_if(equal & non_empty(secret))
        }
        VerifyKind::Standard => verify_standard(secret, header, body, now_secs),
    }
}

/// The delivery id used for replay protection, if the request carries one:
/// X-GitHub-Delivery for github, webhook-id for standard; None otherwise.
///
/// Only meaningful after [`verify`] succeeded. The Standard Webhooks id is
/// covered by the signature; GitHub's delivery header is not, so for github a
/// replayer can change it and replay protection is best effort only.
pub fn delivery_id(kind: VerifyKind, header: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let name = match kind {
        VerifyKind::Github => H_GITHUB_DELIVERY,
        VerifyKind::Standard => H_SW_ID,
        VerifyKind::Gitlab | VerifyKind::HmacSha256 => return None,
    };
    let value = header(name)?;
    let value = value.trim_ascii();
    (!value.is_empty()).then(|| value.to_owned())
}

/// Signs an outgoing message per Standard Webhooks: returns the
/// `webhook-signature` header value (`"v1,<b64>"`).
///
/// `timestamp` must be the value sent in `webhook-timestamp`; a fresh one (and
/// so a fresh signature) belongs on every attempt, while `msg_id` stays the same.
pub fn sign_standard(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, VerifyError> {
    let key = decode_whsec(secret).ok_or(VerifyError::BadSecret)?;
    let mac = standard_mac(&key, msg_id, timestamp, body);
    Ok(format!("v1,{}", B64.encode(mac)))
}

/// A new `whsec_` secret with 32 random bytes from the operating system.
///
/// # Panics
/// Only if the operating system cannot supply random bytes; there is no safe
/// fallback for generating a secret, so this is treated as fatal.
pub fn generate_whsec() -> String {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("the operating system random number generator failed");
    format!("{WHSEC_PREFIX}{}", B64.encode(key))
}

/// Whether `s` is a valid whsec_ secret (prefix + standard padded base64
/// decoding to 16..=64 bytes).
pub fn is_valid_whsec(s: &str) -> bool {
    decode_whsec(s).is_some()
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    hmac_parts(key, &[data])
}

/// Lower-case hex of `bytes`.
pub fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn verify_standard(secret: &str, header: Headers<'_>, body: &[u8], now_secs: i64) -> Checked {
    // A bad secret is a configuration problem; report it before blaming the request.
    let key = decode_whsec(secret).ok_or(VerifyError::BadSecret)?;
    let id = required(header, H_SW_ID)?;
    let ts_raw = required(header, H_SW_TIMESTAMP)?;
    let sigs = required(header, H_SW_SIGNATURE)?;
    if id.is_empty() {
        return Err(VerifyError::Malformed(H_SW_ID));
    }
    let ts = parse_timestamp(&ts_raw).ok_or(VerifyError::Malformed(H_SW_TIMESTAMP))?;
    // abs_diff cannot overflow, whatever the two values are.
    if now_secs.abs_diff(ts) > TOLERANCE_SECS {
        return Err(VerifyError::StaleTimestamp);
    }
    if sigs.is_empty() {
        return Err(VerifyError::Malformed(H_SW_SIGNATURE));
    }

    let expected = standard_mac(&key, &id, ts, body);
    // Senders rotating secrets send several signatures; any v1 one may match.
    // Other versions (e.g. v1a, asymmetric) are not ours to check.
    let mut matched = Choice::from(0);
    for entry in sigs.split_ascii_whitespace() {
        let Some(("v1", encoded)) = entry.split_once(',') else {
            continue;
        };
        let Ok(given) = B64.decode(encoded) else {
            continue;
        };
        // Slice ct_eq is false for a length mismatch without looking at contents.
        matched |= expected.as_slice().ct_eq(&given);
    }
    ok_if(matched)
}

fn verify_hex_hmac(secret: &str, hex: &str, name: &'static str, body: &[u8]) -> Checked {
    let given = decode_hex_32(hex).ok_or(VerifyError::Malformed(name))?;
    let expected = hmac_sha256(secret.as_bytes(), body);
    ok_if(expected.ct_eq(&given) & non_empty(secret))
}

/// Signed content is `{msg_id}.{timestamp}.{body}`, fed in parts so a large
/// body is not copied.
fn standard_mac(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
    let ts = timestamp.to_string();
    hmac_parts(key, &[msg_id.as_bytes(), b".", ts.as_bytes(), b".", body])
}

fn hmac_parts(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC pads or hashes keys of any length, so this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn decode_whsec(secret: &str) -> Option<Vec<u8>> {
    let key = B64.decode(secret.strip_prefix(WHSEC_PREFIX)?).ok()?;
    let sized = (WHSEC_MIN_BYTES..=WHSEC_MAX_BYTES).contains(&key.len());
    sized.then_some(key)
}

fn required(header: Headers<'_>, name: &'static str) -> Result<String, VerifyError> {
    match header(name) {
        Some(value) => Ok(value.trim_ascii().to_owned()),
        None => Err(VerifyError::MissingHeader(name)),
    }
}

/// Unix seconds as plain ASCII digits; signs, spaces and fractions are rejected
/// so the value we sign over is the value the sender meant.
fn parse_timestamp(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Exactly 64 hex digits, either case. The input is attacker-supplied, not
/// secret, so a data-dependent decode is fine here.
fn decode_hex_32(s: &str) -> Option<[u8; 32]> {
    let bytes = s.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *slot = (hex_value(pair[0])? << 4) | hex_value(pair[1])?;
    }
    Some(out)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn non_empty(secret: &str) -> Choice {
    Choice::from(u8::from(!secret.is_empty()))
}

fn ok_if(ok: Choice) -> Checked {
    if bool::from(ok) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

#[cfg(test)]
mod tests;
