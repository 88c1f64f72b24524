//! Many random and nearly-valid header values thrown at every parser and every kind: none may
//! panic, and none may verify (the same property the `signature_headers` fuzz target checks,
//! shown here where cargo-fuzz is not installed).

use super::*;
use proptest::prelude::*;

/// Every header any kind reads, so each value reaches every parser.
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

fn verifiers() -> Vec<Verifier> {
    // A cheap hash (1 round), so each case does not pay the real KDF.
    let phc = format!(
        "u:$pbkdf2-sha256$i=1,l=32${}${}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode([1u8; 16]),
        base64::engine::general_purpose::STANDARD_NO_PAD.encode([2u8; 32]),
    );
    VerifyKind::ALL
        .into_iter()
        .map(|kind| {
            let keys = Keys {
                secret: Some(if kind == VerifyKind::Standard {
                    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
                } else {
                    "s3cret-key"
                }),
                public_key: (kind == VerifyKind::Discord)
                    .then_some("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
                basic_auth: Some(phc.as_str()),
                signature_header: None,
            };
            Verifier::new(kind, keys).unwrap()
        })
        .collect()
}

fn values() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,80}",
        "t=[0-9]{0,12}(,v[01]=[0-9a-fA-F]{0,66})*",
        "t=[-+ 0-9a-z]{0,22},v1=[ -~]{0,70}",
        "((sha1|sha256|sha512)=)?[0-9a-fA-F]{0,130}(, ?[ -~]{0,20}){0,3}",
        "v0=[0-9a-f]{60,68}",
        "v1,[A-Za-z0-9+/=]{40,48}( v1a?,[ -~]{0,50}){0,3}",
        "(Basic|basic|Bearer) [A-Za-z0-9+/=:]{0,40}",
        "[0-9a-fA-F]{126,130}",
        "[A-Za-z0-9+/]{42,44}={0,2}",
        "[0-9]{0,25}",
        "\\$pbkdf2-sha256\\$[ -~]{0,60}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn garbage_headers_never_panic_and_never_verify(
        value in values(),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        now in prop_oneof![Just(1_614_265_330i64), any::<i64>()],
    ) {
        let _ = parse::timestamp(&value);
        let _ = parse::hex(&value, 32);
        let _ = parse::hex(&value, usize::MAX);
        let _ = parse::base64(&value, 32);
        for hash in [Hash::Sha1, Hash::Sha256, Hash::Sha512] {
            let _ = parse::hmac_list(&value, hash.prefix(), hash.digest_len());
        }
        let _ = parse::stripe(&value);
        let _ = parse::slack(&value);
        let _ = parse::ed25519_signature(&value);
        let _ = parse::ed25519_public_key(&value);
        let _ = parse::basic_authorization(&value);
        let _ = password::PasswordHash::parse(&value);
        let _ = password::is_sealed(&value);
        let _ = BasicCredential::parse(&value);
        let _ = is_discord_ping(value.as_bytes());
        let header = |name: &str| NAMES.contains(&name).then(|| value.clone());
        for v in verifiers() {
            let verdict = v.verify(&header, &body, now);
            prop_assert!(verdict.is_err(), "{} accepted {value:?}", v.kind());
            let _ = v.delivery_id(&header, value.as_bytes());
            let _ = v.delivery_id(&header, &body);
        }
        let keys = Keys {
            secret: Some(&value),
            signature_header: Some(&value),
            public_key: Some(&value),
            basic_auth: Some(&value),
        };
        for kind in VerifyKind::ALL {
            let _ = Verifier::new(kind, keys);
        }
    }
}
