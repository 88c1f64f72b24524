//! Basic-auth credentials of incoming hooks (`--verify basic --basic-auth USER:PASS`), kept as
//! a salted password hash, never as the password.
//!
//! Why PBKDF2-HMAC-SHA256: it is a standard KDF (RFC 8018, NIST SP 800-132) built from the HMAC
//! and SHA-256 hookd already ships, so the only new crate is the small `pbkdf2` (no C, nothing
//! further: its optional PHC-string helpers would bring a second `rand_core`, so the PHC string
//! is read and written here). Argon2 would resist GPUs better but brings three more crates, for
//! a password that, behind a 256-bit secret URL, is a second factor. 600,000 rounds is OWASP's
//! figure for PBKDF2-HMAC-SHA256 (about 65 ms here in a release build); the salt is 16 random
//! bytes.
//! The stored form is `USER:` followed by a PHC string,
//! `$pbkdf2-sha256$i=600000,l=32$<salt>$<hash>` (base64 without padding, as passlib and the
//! `pbkdf2` crate write it), so the cost can be raised later without breaking stored hooks.
//!
//! Invariants: the password is compared only through the KDF and `subtle`; a wrong guess always
//! pays the full KDF. A right one pays it once per credential and hook: the last accepted
//! credential's SHA-256 is kept in memory (never stored), so a sender calling every few seconds
//! does not cost hookd a KDF per call.
//!
//! A `--basic-auth` given as a reference (`@file:`, `@credential:`) is stored as the reference,
//! not the password, so there is nothing to hash: the daemon reads it at each call and compares
//! it with [`BasicCredential::read`]'s constant-time check (SHA-256 of both sides, so lengths do
//! not leak either).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use sha2::{Digest, Sha256};
use std::sync::Mutex;
use subtle::ConstantTimeEq;

const SCHEME: &str = "$pbkdf2-sha256$";
/// OWASP's recommendation (2023) for PBKDF2-HMAC-SHA256, also the `pbkdf2` crate's default.
pub const ITERATIONS: u32 = 600_000;
const SALT_BYTES: usize = 16;
/// A hand-edited row asking for more than this is refused, so it cannot stall calls.
const MAX_ITERATIONS: u32 = 10_000_000;

/// A parsed PHC string of the scheme above.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: u32,
    salt: Vec<u8>,
    hash: [u8; 32],
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PasswordHash(i={}, <redacted>)", self.iterations)
    }
}

impl PasswordHash {
    /// Parses `$pbkdf2-sha256$i=N,l=32$<salt>$<hash>` (base64 without padding); `None` for
    /// anything else, including iteration counts outside 1..=10,000,000.
    pub fn parse(phc: &str) -> Option<PasswordHash> {
        let rest = phc.strip_prefix(SCHEME)?;
        let mut parts = rest.split('$');
        let (params, salt, hash) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let mut iterations = None;
        for p in params.split(',') {
            match p.split_once('=')? {
                ("i", n) if n.bytes().all(|b| b.is_ascii_digit()) => {
                    iterations = n.parse::<u32>().ok()
                }
                ("l", "32") => {}
                _ => return None,
            }
        }
        let iterations = iterations.filter(|n| (1..=MAX_ITERATIONS).contains(n))?;
        let salt = B64
            .decode(salt)
            .ok()
            .filter(|s| (8..=64).contains(&s.len()))?;
        let hash = B64.decode(hash).ok()?.try_into().ok()?;
        Some(PasswordHash {
            iterations,
            salt,
            hash,
        })
    }

    /// A new hash of `password` with a fresh random salt.
    ///
    /// # Panics
    /// Only if the operating system cannot supply random bytes (as for generated secrets).
    pub fn new(password: &str) -> PasswordHash {
        let mut salt = vec![0u8; SALT_BYTES];
        getrandom::fill(&mut salt).expect("the operating system random number generator failed");
        let hash = derive(password, &salt, ITERATIONS);
        PasswordHash {
            iterations: ITERATIONS,
            salt,
            hash,
        }
    }

    /// The PHC string.
    pub fn to_phc(&self) -> String {
        format!(
            "{SCHEME}i={},l=32${}${}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(self.hash)
        )
    }

    /// Whether `password` is the one hashed; the comparison is constant-time.
    pub fn matches(&self, password: &str) -> bool {
        let got = derive(password, &self.salt, self.iterations);
        bool::from(got.ct_eq(&self.hash))
    }
}

fn derive(password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut out);
    out
}

/// Whether a `--basic-auth` value is already in the stored form (`USER:$pbkdf2-sha256$…`).
pub fn is_sealed(value: &str) -> bool {
    value
        .split_once(':')
        .is_some_and(|(_, p)| PasswordHash::parse(p).is_some())
}

/// `USER:PASS` → `USER:<PHC string>`; a value already sealed is returned unchanged. `None` when
/// it is not `USER:PASS`.
pub fn seal(value: &str) -> Option<String> {
    if is_sealed(value) {
        return Some(value.to_owned());
    }
    let (user, password) = value.split_once(':')?;
    Some(format!("{user}:{}", PasswordHash::new(password).to_phc()))
}

/// Whether the plain `USER:PASS` is what the sealed value holds (so re-applying the same file
/// keeps the stored hash instead of writing a new salt).
pub fn sealed_matches(sealed: &str, plain: &str) -> bool {
    match (BasicCredential::parse(sealed), plain.split_once(':')) {
        (Some(c), Some((user, password))) => c.check(user, password),
        _ => false,
    }
}

/// What `--verify basic` checks against: the user and the password hash, or the password
/// itself as just read from a reference.
pub struct BasicCredential {
    user: String,
    password: Password,
    /// SHA-256 of the last credential that passed the KDF (see the module comment).
    accepted: Mutex<Option<[u8; 32]>>,
}

enum Password {
    Hashed(PasswordHash),
    /// SHA-256 of the password read from a reference for this call; never stored.
    Read([u8; 32]),
}

impl std::fmt::Debug for BasicCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BasicCredential({}, <redacted>)", self.user)
    }
}

impl BasicCredential {
    /// From the stored form; `None` unless it is sealed.
    pub fn parse(sealed: &str) -> Option<BasicCredential> {
        let (user, phc) = sealed.split_once(':')?;
        Some(BasicCredential {
            user: user.to_owned(),
            password: Password::Hashed(PasswordHash::parse(phc)?),
            accepted: Mutex::new(None),
        })
    }

    /// From the plain `USER:PASS` a reference holds (read at this call); `None` unless it is
    /// `USER:PASS` with neither part empty.
    pub fn read(plain: &str) -> Option<BasicCredential> {
        let (user, password) = plain.split_once(':')?;
        if user.is_empty() || password.is_empty() {
            return None;
        }
        Some(BasicCredential {
            user: user.to_owned(),
            password: Password::Read(Sha256::digest(password.as_bytes()).into()),
            accepted: Mutex::new(None),
        })
    }

    /// Whether `user` and `password` are the stored ones.
    pub fn check(&self, user: &str, password: &str) -> bool {
        let user_ok = Sha256::digest(user.as_bytes()).ct_eq(&Sha256::digest(self.user.as_bytes()));
        let hash = match &self.password {
            Password::Hashed(hash) => hash,
            Password::Read(expected) => {
                let given: [u8; 32] = Sha256::digest(password.as_bytes()).into();
                return bool::from(given.ct_eq(expected) & user_ok);
            }
        };
        let fingerprint = fingerprint(user, password);
        let remembered = *self.accepted.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = remembered
            && bool::from(known.ct_eq(&fingerprint) & user_ok)
        {
            return true;
        }
        // Always run the KDF, also for a wrong user, so timing does not tell users apart.
        let ok = hash.matches(password) & bool::from(user_ok);
        if ok {
            *self.accepted.lock().unwrap_or_else(|e| e.into_inner()) = Some(fingerprint);
        }
        ok
    }
}

/// Length-prefixed, so `("ab", "c")` and `("a", "bc")` differ.
fn fingerprint(user: &str, password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((user.len() as u64).to_be_bytes());
    h.update(user.as_bytes());
    h.update(password.as_bytes());
    h.finalize().into()
}
