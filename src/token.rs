//! Hook tokens: the secret part of an incoming hook's URL.
//!
//! A token is `hkd_` followed by 256 random bits in unpadded base64url. Only its SHA-256 is
//! stored; the token itself exists in memory for the one response that shows it to the admin.
//! Lookups compare hashes, never tokens, and the final comparison is constant-time. Paths that
//! carry a token are redacted with [`redact_path`] before anything logs them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::fmt;

pub const PREFIX: &str = "hkd_";
/// Characters of the token shown in listings so a leaked URL can be matched to its hook.
pub const SHOWN_PREFIX_LEN: usize = 8;
/// Longest token-shaped path segment worth hashing; anything longer cannot be a token.
pub const MAX_LEN: usize = 128;

/// A freshly generated token. `Debug` never shows it.
pub struct Token(String);

impl Token {
    pub fn generate() -> Token {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        Token(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn hash(&self) -> [u8; 32] {
        hash(&self.0)
    }
    pub fn shown_prefix(&self) -> String {
        self.0.chars().take(SHOWN_PREFIX_LEN).collect()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({}…)", self.shown_prefix())
    }
}

pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// `/webhook/hkd_AbCdEf…` → `/webhook/hkd_AbCd…`: keeps what listings show, drops the secret.
pub fn redact_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len().min(64));
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if seg.starts_with(PREFIX) || seg.len() > 24 {
            out.extend(seg.chars().take(SHOWN_PREFIX_LEN));
            out.push('…');
        } else {
            out.push_str(seg);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_256_bit_and_distinct() {
        let a = Token::generate();
        let b = Token::generate();
        assert!(a.as_str().starts_with("hkd_"));
        assert_eq!(a.as_str().len(), 4 + 43);
        assert_ne!(a.as_str(), b.as_str());
        assert!(!format!("{a:?}").contains(&a.as_str()[8..]));
    }

    #[test]
    fn redaction_keeps_only_the_shown_prefix() {
        let t = Token::generate();
        let p = format!("/api/webhook/{}", t.as_str());
        let r = redact_path(&p);
        assert!(!r.contains(&t.as_str()[8..]));
        assert!(r.starts_with("/api/webhook/hkd_"));
        assert_eq!(redact_path("/healthz"), "/healthz");
    }
}
