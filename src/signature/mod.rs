//! Webhook signatures: checking the ones senders attach to incoming requests
//! (`--verify`) and producing the Standard Webhooks one attached to outgoing
//! deliveries.
//!
//! A hook's `--verify` kind and its keys (`--secret`, `--signature-header`,
//! `--public-key`, `--basic-auth`) are parsed once into a [`Verifier`], which the
//! registry holds; each call is then one [`Verifier::verify`] and, for replay
//! protection, one [`Verifier::delivery_id`]. The per-sender rules live in
//! `senders.rs`, the header parsers in [`parse`], basic-auth hashing in
//! [`password`].
//!
//! Invariants: every comparison of a secret or a signature goes through
//! `subtle::ConstantTimeEq`, so response timing says nothing about how close a
//! forgery came; nothing in here panics on request data (headers, bodies and
//! secrets are all untrusted or operator-typed); an empty secret never
//! verifies anything (a [`Verifier`] cannot be built with one). This module must
//! not decide HTTP responses or log: [`VerifyError`] is for the operator's log
//! only, and the caller answers every failure the same way so that a sender
//! cannot learn which check failed.

pub mod parse;
pub mod password;
mod senders;

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub use password::BasicCredential;

/// How far a sender's timestamp may be from our clock, either way, in seconds.
pub const TOLERANCE_SECS: u64 = 300;
const WHSEC_PREFIX: &str = "whsec_";
/// Shorter keys are too weak to accept; longer ones are almost certainly a
/// pasted mistake (the Standard Webhooks spec allows 24 to 64 bytes).
const WHSEC_MIN_BYTES: usize = 16;
const WHSEC_MAX_BYTES: usize = 64;
/// Delivery ids longer than this are remembered by their SHA-256 instead, so a
/// caller cannot make the replay table hold large values.
const MAX_DELIVERY_ID: usize = 200;

/// The header `hmac-sha1|sha256|sha512` read when no `--signature-header` is given.
pub const DEFAULT_SIGNATURE_HEADER: &str = "x-signature";

type Headers<'a> = &'a dyn Fn(&str) -> Option<String>;
pub type Checked = Result<(), VerifyError>;

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
    /// `--signature-header` (default `X-Signature`): `[sha1=]<hex HMAC-SHA1>`, comma-separated.
    HmacSha1,
    /// As `HmacSha1`, with HMAC-SHA256 (`sha256=` prefix).
    HmacSha256,
    /// As `HmacSha1`, with HMAC-SHA512 (`sha512=` prefix).
    HmacSha512,
    /// `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` (any v1).
    Stripe,
    /// `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>`.
    Shopify,
    /// `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:ts:body">`, `X-Slack-Request-Timestamp`.
    Slack,
    /// `X-Gitea-Signature: <hex HMAC-SHA256 of the body>`.
    Gitea,
    /// `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>` (Bitbucket Cloud).
    Bitbucket,
    /// `X-Signature-Ed25519` over `X-Signature-Timestamp` + body, checked with `--public-key`.
    Discord,
    /// `Authorization: Basic`, checked against `--basic-auth` (stored hashed).
    Basic,
}

/// The HMAC hash of a generic `hmac-*` kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha512,
}

impl Hash {
    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
            Hash::Sha512 => 64,
        }
    }
    /// The prefix naming it in a signature header (`sha256=`).
    pub fn prefix(self) -> &'static str {
        match self {
            Hash::Sha1 => "sha1=",
            Hash::Sha256 => "sha256=",
            Hash::Sha512 => "sha512=",
        }
    }
    /// HMAC of the concatenated `parts` under `key`.
    pub fn mac(self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        match self {
            Hash::Sha1 => mac_with::<Hmac<sha1::Sha1>>(key, parts),
            Hash::Sha256 => mac_with::<Hmac<Sha256>>(key, parts),
            Hash::Sha512 => mac_with::<Hmac<sha2::Sha512>>(key, parts),
        }
    }
}

fn mac_with<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC pads or hashes keys of any length, so this cannot fail.
    let mut mac = <M as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

impl VerifyKind {
    /// Every kind, in the order help texts list them.
    pub const ALL: [VerifyKind; 13] = [
        Self::Github,
        Self::Gitlab,
        Self::Standard,
        Self::HmacSha1,
        Self::HmacSha256,
        Self::HmacSha512,
        Self::Stripe,
        Self::Shopify,
        Self::Slack,
        Self::Gitea,
        Self::Bitbucket,
        Self::Discord,
        Self::Basic,
    ];

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
            Self::HmacSha1 => "hmac-sha1",
            Self::HmacSha256 => "hmac-sha256",
            Self::HmacSha512 => "hmac-sha512",
            Self::Stripe => "stripe",
            Self::Shopify => "shopify",
            Self::Slack => "slack",
            Self::Gitea => "gitea",
            Self::Bitbucket => "bitbucket",
            Self::Discord => "discord",
            Self::Basic => "basic",
        }
    }

    /// The hash of a generic `hmac-*` kind; `None` for the senders' own conventions.
    pub fn hmac_hash(self) -> Option<Hash> {
        match self {
            Self::HmacSha1 => Some(Hash::Sha1),
            Self::HmacSha256 => Some(Hash::Sha256),
            Self::HmacSha512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    /// Whether the kind checks against `--secret` (all but discord and basic).
    pub fn uses_secret(self) -> bool {
        !matches!(self, Self::Discord | Self::Basic)
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
    MissingHeader(String),
    #[error("malformed header {0}")]
    Malformed(String),
    #[error("signature mismatch")]
    Mismatch,
    #[error("timestamp outside the 5 minute tolerance")]
    StaleTimestamp,
    #[error("the hook's verification key is not usable")]
    BadSecret,
}

/// What a hook verifies with, as its options hold them (all operator-typed text).
#[derive(Clone, Copy, Default)]
pub struct Keys<'a> {
    pub secret: Option<&'a str>,
    pub signature_header: Option<&'a str>,
    pub public_key: Option<&'a str>,
    /// The stored (sealed) `--basic-auth` value, `USER:$pbkdf2-sha256$…`.
    pub basic_auth: Option<&'a str>,
}

/// A hook's `--verify` kind with its keys parsed: built once, used for every call.
pub struct Verifier {
    kind: VerifyKind,
    /// The HMAC key (for standard, the decoded `whsec_` bytes; for gitlab, the token).
    key: Vec<u8>,
    /// Lower-case name of the signature header of the `hmac-*` kinds.
    header: String,
    public_key: Option<ed25519_dalek::VerifyingKey>,
    basic: Option<BasicCredential>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Verifier({}, <keys redacted>)", self.kind)
    }
}

impl Verifier {
    /// Parses the keys `kind` needs; the error names the option at fault, for create/edit.
    pub fn new(kind: VerifyKind, keys: Keys<'_>) -> Result<Verifier, String> {
        let mut v = Verifier {
            kind,
            key: Vec::new(),
            header: String::new(),
            public_key: None,
            basic: None,
        };
        if keys.signature_header.is_some() && kind.hmac_hash().is_none() {
            return Err(format!(
                "--signature-header applies to --verify hmac-sha1, hmac-sha256 or hmac-sha512, not {kind}"
            ));
        }
        if keys.public_key.is_some() && kind != VerifyKind::Discord {
            return Err(format!(
                "--public-key applies to --verify discord, not {kind}"
            ));
        }
        if kind.hmac_hash().is_some() {
            let name = keys.signature_header.unwrap_or(DEFAULT_SIGNATURE_HEADER);
            if !is_header_name(name) {
                return Err(format!(
                    "--signature-header {name:?} is not a valid header name"
                ));
            }
            v.header = name.to_ascii_lowercase();
        }
        match kind {
            VerifyKind::Discord => {
                let hex = keys.public_key.ok_or(
                    "--verify discord needs --public-key HEX (the application's public key)",
                )?;
                v.public_key = Some(public_key(hex)?);
            }
            VerifyKind::Basic => {
                let sealed = keys
                    .basic_auth
                    .ok_or("--verify basic needs --basic-auth USER:PASS")?;
                v.basic = Some(
                    BasicCredential::parse(sealed)
                        .ok_or("--basic-auth is not in its stored (hashed) form")?,
                );
            }
            _ => v.key = secret_key(kind, keys.secret)?,
        }
        Ok(v)
    }

    /// A `--verify basic` verifier for the `USER:PASS` a `--basic-auth` reference held when it
    /// was read, for this call (the reference is not hashed: the value is not stored).
    pub fn basic_read(plain: &str) -> Result<Verifier, String> {
        let basic = BasicCredential::read(plain)
            .ok_or("--basic-auth takes USER:PASS with neither part empty")?;
        Ok(Verifier {
            kind: VerifyKind::Basic,
            key: Vec::new(),
            header: String::new(),
            public_key: None,
            basic: Some(basic),
        })
    }

    pub fn kind(&self) -> VerifyKind {
        self.kind
    }

    /// Checks a request. `header(name)` returns a request header by lower-case name; values
    /// are trimmed of ASCII whitespace before use. `now_secs` is the current unix time.
    pub fn verify(&self, header: Headers<'_>, body: &[u8], now_secs: i64) -> Checked {
        senders::check(self, header, body, now_secs)
    }

    /// The delivery id used for replay protection, if the request carries one (see
    /// [`delivery_id`]). Only meaningful after [`Verifier::verify`] succeeded.
    pub fn delivery_id(&self, header: Headers<'_>, body: &[u8]) -> Option<String> {
        delivery_id(self.kind, header, body)
    }
}

fn secret_key(kind: VerifyKind, secret: Option<&str>) -> Result<Vec<u8>, String> {
    let secret = secret
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("--verify {kind} needs --secret"))?;
    match kind {
        VerifyKind::Standard => decode_whsec(secret).ok_or_else(|| {
            "--verify standard needs a whsec_ secret (whsec_ followed by base64)".to_string()
        }),
        VerifyKind::Stripe if ["sk_", "rk_", "pk_"].iter().any(|p| secret.starts_with(p)) => {
            Err("--secret for --verify stripe is the endpoint's signing secret (whsec_…), not an API key".into())
        }
        _ => Ok(secret.as_bytes().to_vec()),
    }
}

fn public_key(hex: &str) -> Result<ed25519_dalek::VerifyingKey, String> {
    let bytes = parse::ed25519_public_key(hex)
        .ok_or("--public-key: expected 64 hex digits (an Ed25519 public key)")?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|_| "--public-key is not a valid Ed25519 public key".to_string())
}

/// An HTTP header name (RFC 9110 token).
pub fn is_header_name(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Checks a request against `secret` using the `kind` convention, for the kinds that verify
/// with a secret alone (`hmac-*` read `X-Signature`). A secret the kind cannot use (empty, or
/// not `whsec_` for standard), and the kinds that need other keys, give [`VerifyError::BadSecret`].
pub fn verify(
    kind: VerifyKind,
    secret: &str,
    header: Headers<'_>,
    body: &[u8],
    now: i64,
) -> Checked {
    let keys = Keys {
        secret: Some(secret),
        ..Keys::default()
    };
    match Verifier::new(kind, keys) {
        Ok(v) => v.verify(header, body, now),
        Err(_) => Err(VerifyError::BadSecret),
    }
}

/// The delivery id used for replay protection, if the request carries one:
/// `X-GitHub-Delivery` (github), `webhook-id` (standard), `X-Gitea-Delivery`,
/// `X-Request-UUID` (bitbucket), `X-Shopify-Webhook-Id`, and the event's `id` in a Stripe
/// body; `None` for the other kinds. Ids over 200 bytes are given as their SHA-256.
///
/// Only meaningful after verification succeeded. Standard Webhooks' id and Stripe's body are
/// covered by the signature; the other senders' delivery headers are not, so for them a
/// replayer can change the id and replay protection is best effort only.
pub fn delivery_id(kind: VerifyKind, header: Headers<'_>, body: &[u8]) -> Option<String> {
    let name = match kind {
        VerifyKind::Github => "x-github-delivery",
        VerifyKind::Standard => "webhook-id",
        VerifyKind::Gitea => "x-gitea-delivery",
        VerifyKind::Bitbucket => "x-request-uuid",
        VerifyKind::Shopify => "x-shopify-webhook-id",
        VerifyKind::Stripe => return senders::stripe_event_id(body).map(|id| bounded(&id)),
        _ => return None,
    };
    let value = header(name)?;
    let value = value.trim_ascii();
    (!value.is_empty()).then(|| bounded(value))
}

fn bounded(id: &str) -> String {
    if id.len() <= MAX_DELIVERY_ID {
        id.to_owned()
    } else {
        format!("sha256:{}", hex_lower(&Sha256::digest(id.as_bytes())))
    }
}

/// Whether a (verified) Discord request is a PING interaction (`"type": 1`), which hookd
/// answers itself with `{"type":1}`.
pub fn is_discord_ping(body: &[u8]) -> bool {
    senders::discord_interaction_type(body) == Some(1)
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

/// Signed content is `{msg_id}.{timestamp}.{body}`, fed in parts so a large
/// body is not copied.
fn standard_mac(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
    let ts = timestamp.to_string();
    hmac_parts(key, &[msg_id.as_bytes(), b".", ts.as_bytes(), b".", body])
}

fn hmac_parts(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&Hash::Sha256.mac(key, parts));
    out
}

fn decode_whsec(secret: &str) -> Option<Vec<u8>> {
    let key = B64.decode(secret.strip_prefix(WHSEC_PREFIX)?).ok()?;
    let sized = (WHSEC_MIN_BYTES..=WHSEC_MAX_BYTES).contains(&key.len());
    sized.then_some(key)
}

#[cfg(test)]
mod garbage_tests;
#[cfg(test)]
mod sender_tests;
#[cfg(test)]
mod tests;
