//! Parsers for the header values senders sign with: hex and base64 digests, Stripe's
//! `t=…,v1=…` list, comma-separated HMAC lists, unix timestamps, `Authorization: Basic`.
//!
//! Every input here comes from the network, so each parser is total: it returns `None` (or
//! skips an entry) for anything it does not understand and never panics, whatever the bytes
//! (the fuzz target `signature_headers` and the garbage-input property test hold it to that).
//! Decoding is data-dependent in time, which is fine: these values are what the caller sent,
//! not secrets. Comparisons against secrets happen in the caller, in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

/// Unix seconds as plain ASCII digits; signs, spaces and fractions are rejected so the value
/// we sign over is the value the sender meant.
pub fn timestamp(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Exactly `2 * len` hex digits, either case.
pub fn hex(s: &str, len: usize) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    if bytes.len() != len.checked_mul(2)? {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some((hex_value(pair[0])? << 4) | hex_value(pair[1])?))
        .collect()
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Standard padded base64 of exactly `len` bytes.
pub fn base64(s: &str, len: usize) -> Option<Vec<u8>> {
    B64.decode(s).ok().filter(|v| v.len() == len)
}

/// The hash names a generic HMAC signature may be prefixed with (`sha256=…`).
pub const HASH_PREFIXES: [&str; 3] = ["sha1=", "sha256=", "sha512="];

/// The digests in a generic HMAC header: comma-separated hex values of `len` bytes, each
/// optionally prefixed `prefix` (e.g. `sha256=`). An entry prefixed with another hash's name,
/// or not hex of the right length, is skipped; so is an empty one.
pub fn hmac_list(value: &str, prefix: &str, len: usize) -> Vec<Vec<u8>> {
    value
        .split(',')
        .filter_map(|entry| {
            let entry = entry.trim_ascii();
            let digits = match entry.strip_prefix(prefix) {
                Some(rest) => rest,
                None if HASH_PREFIXES.iter().any(|p| entry.starts_with(p)) => return None,
                None => entry,
            };
            hex(digits, len)
        })
        .collect()
}

/// A parsed `Stripe-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeHeader {
    pub timestamp: i64,
    /// The `v1` signatures that are 64 hex digits; others (`v0`, test-mode schemes, malformed
    /// ones) are left out, as Stripe's libraries ignore them.
    pub v1: Vec<[u8; 32]>,
}

/// `t=1492774577,v1=5257a8…,v0=6ffbb…`: exactly one `t` (digits), any number of `v1`.
/// Stripe's own parser splits on `,` then on `=`; so does this, trimming spaces around items.
pub fn stripe(value: &str) -> Option<StripeHeader> {
    let mut ts = None;
    let mut v1 = Vec::new();
    for item in value.split(',') {
        let Some((key, val)) = item.trim_ascii().split_once('=') else {
            continue;
        };
        match key {
            "t" if ts.is_some() => return None,
            "t" => ts = Some(timestamp(val)?),
            "v1" => {
                if let Some(sig) = hex(val, 32).and_then(|v| <[u8; 32]>::try_from(v).ok()) {
                    v1.push(sig);
                }
            }
            _ => {}
        }
    }
    Some(StripeHeader { timestamp: ts?, v1 })
}

/// Slack's `v0=<64 hex digits>`.
pub fn slack(value: &str) -> Option<[u8; 32]> {
    let digits = value.strip_prefix("v0=")?;
    hex(digits, 32).and_then(|v| v.try_into().ok())
}

/// Discord's `X-Signature-Ed25519`: 128 hex digits.
pub fn ed25519_signature(value: &str) -> Option<[u8; 64]> {
    hex(value, 64).and_then(|v| v.try_into().ok())
}

/// An Ed25519 public key as given to `--public-key`: 64 hex digits (Discord shows it so).
pub fn ed25519_public_key(value: &str) -> Option<[u8; 32]> {
    hex(value.trim_ascii(), 32).and_then(|v| v.try_into().ok())
}

/// `Authorization: Basic <base64 of user:password>` (RFC 7617) as (user, password). The scheme
/// name is case-insensitive; the credentials must be valid base64 and valid UTF-8, with a colon.
pub fn basic_authorization(value: &str) -> Option<(String, String)> {
    let (scheme, rest) = value.trim_ascii().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = B64.decode(rest.trim_ascii()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}
