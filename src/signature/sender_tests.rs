//! The senders' own published examples (Slack's documented request, RFC 2202/4231 HMAC
//! vectors, GitHub's documented vector for the GitHub-shaped senders, RFC 8032's first Ed25519
//! key, RFC 7617's basic-auth example) checked against each kind.

use super::VerifyError::{Malformed, Mismatch, MissingHeader, StaleTimestamp};
use super::*;
use std::collections::HashMap;

const NOW: i64 = 1_531_420_618;

fn headers(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

fn with(kind: VerifyKind, keys: Keys<'_>) -> Verifier {
    Verifier::new(kind, keys).unwrap()
}

fn secret(kind: VerifyKind, s: &str) -> Verifier {
    with(
        kind,
        Keys {
            secret: Some(s),
            ..Keys::default()
        },
    )
}

fn run(v: &Verifier, pairs: &[(&str, &str)], body: &[u8], now: i64) -> Checked {
    v.verify(&headers(pairs), body, now)
}

const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const SLACK_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const SLACK_SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

#[test]
fn slack_documented_example() {
    let v = secret(VerifyKind::Slack, SLACK_SECRET);
    let pairs = [
        ("X-Slack-Request-Timestamp", "1531420618"),
        ("X-Slack-Signature", SLACK_SIG),
    ];
    let body = SLACK_BODY.as_bytes();
    assert_eq!(run(&v, &pairs, body, NOW), Ok(()));
    assert_eq!(run(&v, &pairs, body, NOW + 300), Ok(()));
    assert_eq!(run(&v, &pairs, body, NOW + 301), Err(StaleTimestamp));
    assert_eq!(run(&v, &pairs, &body[1..], NOW), Err(Mismatch));
    let other = secret(VerifyKind::Slack, "8f742231b10e8888abcd99yyyzzz85a6");
    assert_eq!(run(&other, &pairs, body, NOW), Err(Mismatch));
    let bare = [pairs[0], ("X-Slack-Signature", &SLACK_SIG[3..])];
    let malformed = Malformed("x-slack-signature".into());
    assert_eq!(run(&v, &bare, body, NOW), Err(malformed));
    let missing = MissingHeader("x-slack-request-timestamp".into());
    assert_eq!(run(&v, &pairs[1..], body, NOW), Err(missing));
}

#[test]
fn stripe_header_forms() {
    let key = "whsec_test_secret";
    let body = br#"{"id":"evt_1","object":"event"}"#;
    let sign = |t: i64| {
        let mut signed = format!("{t}.").into_bytes();
        signed.extend_from_slice(body);
        hex_lower(&hmac_sha256(key.as_bytes(), &signed))
    };
    let v = secret(VerifyKind::Stripe, key);
    let good = format!("t={NOW},v1={}", sign(NOW));
    let check = |value: &str, now| run(&v, &[("Stripe-Signature", value)], body, now);
    assert_eq!(check(&good, NOW), Ok(()));
    // Rolled secrets: several v1, any one matches; v0 and unknown schemes are ignored.
    let rolled = format!("t={NOW}, v1={}, v1={}, v0=abc", "0".repeat(64), sign(NOW));
    assert_eq!(check(&rolled, NOW), Ok(()));
    assert_eq!(check(&good, NOW + 301), Err(StaleTimestamp));
    assert_eq!(check(&good, NOW - 301), Err(StaleTimestamp));
    let malformed = Err(Malformed("stripe-signature".into()));
    let twice = format!("t={NOW},t={NOW},v1={}", sign(NOW));
    for bad in [
        "",
        "v1=00",
        &twice,
        &format!("t={NOW}"),
        &format!("t={NOW},v0={}", sign(NOW)),
    ] {
        assert_eq!(check(bad, NOW), malformed, "{bad:?}");
    }
    let moved = format!("t={},v1={}", NOW + 1, sign(NOW));
    assert_eq!(check(&moved, NOW), Err(Mismatch), "the timestamp is signed");
    let h = headers(&[]);
    assert_eq!(v.delivery_id(&h, body).as_deref(), Some("evt_1"));
    assert_eq!(v.delivery_id(&h, b"not json"), None);
    assert_eq!(v.delivery_id(&h, br#"["evt_1"]"#), None);
    assert_eq!(v.delivery_id(&h, br#"{"id":""}"#), None);
    let api_key = Verifier::new(
        VerifyKind::Stripe,
        Keys {
            secret: Some("sk_live_x"),
            ..Keys::default()
        },
    );
    assert!(api_key.unwrap_err().contains("not an API key"));
}

#[test]
fn github_shaped_senders_with_githubs_documented_vector() {
    const SECRET: &str = "It's a Secret to Everybody";
    const HEX: &str = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    let body = b"Hello, World!";
    let prefixed = format!("sha256={HEX}");
    let gitea = secret(VerifyKind::Gitea, SECRET);
    assert_eq!(
        run(&gitea, &[("X-Gitea-Signature", HEX)], body, NOW),
        Ok(())
    );
    assert_eq!(
        run(&gitea, &[("X-Gitea-Signature", HEX)], b"Hello", NOW),
        Err(Mismatch)
    );
    let bb = secret(VerifyKind::Bitbucket, SECRET);
    assert_eq!(
        run(&bb, &[("X-Hub-Signature", &prefixed)], body, NOW),
        Ok(())
    );
    let bare = run(&bb, &[("X-Hub-Signature", HEX)], body, NOW);
    assert_eq!(bare, Err(Malformed("x-hub-signature".into())));
    // Shopify: the same digest, base64.
    let b64 = B64.encode(hmac_sha256(SECRET.as_bytes(), body));
    let shop = secret(VerifyKind::Shopify, SECRET);
    assert_eq!(
        run(&shop, &[("X-Shopify-Hmac-Sha256", &b64)], body, NOW),
        Ok(())
    );
    let hex_given = run(&shop, &[("X-Shopify-Hmac-Sha256", HEX)], body, NOW);
    assert_eq!(hex_given, Err(Malformed("x-shopify-hmac-sha256".into())));
    let ids = headers(&[
        ("X-Gitea-Delivery", "g-1"),
        ("X-Request-UUID", "b-1"),
        ("X-Shopify-Webhook-Id", "s-1"),
    ]);
    assert_eq!(gitea.delivery_id(&ids, body).as_deref(), Some("g-1"));
    assert_eq!(bb.delivery_id(&ids, body).as_deref(), Some("b-1"));
    assert_eq!(shop.delivery_id(&ids, body).as_deref(), Some("s-1"));
    let long = headers(&[("X-Gitea-Delivery", &"x".repeat(500))]);
    let bounded = gitea.delivery_id(&long, body).unwrap();
    assert!(
        bounded.starts_with("sha256:") && bounded.len() < 80,
        "{bounded}"
    );
}

#[test]
fn generic_hmac_rfc_vectors_headers_and_lists() {
    let body = b"what do ya want for nothing?";
    let sha1 = "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79";
    let sha512 = "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737";
    let keys = |h| Keys {
        secret: Some("Jefe"),
        signature_header: h,
        ..Keys::default()
    };
    let v1 = with(VerifyKind::HmacSha1, keys(Some("X-Hub-Signature")));
    for value in [
        sha1.to_string(),
        format!("sha1={sha1}"),
        format!("sha256=00, sha1={sha1}"),
    ] {
        assert_eq!(
            run(&v1, &[("X-Hub-Signature", &value)], body, NOW),
            Ok(()),
            "{value}"
        );
    }
    // The default header is not read when another is named.
    let elsewhere = run(&v1, &[("X-Signature", sha1)], body, NOW);
    assert_eq!(elsewhere, Err(MissingHeader("x-hub-signature".into())));
    let v512 = with(VerifyKind::HmacSha512, keys(None));
    let list = format!("{},{sha512}", "a".repeat(128));
    assert_eq!(run(&v512, &[("X-Signature", &list)], body, NOW), Ok(()));
    let named_sha1 = format!("sha1={}", &sha512[..40]);
    let wrong_hash = run(&v512, &[("X-Signature", &named_sha1)], body, NOW);
    assert_eq!(wrong_hash, Err(Malformed("x-signature".into())));
    assert_eq!(
        run(&v512, &[("X-Signature", sha512)], b"other", NOW),
        Err(Mismatch)
    );
    let bad = Verifier::new(VerifyKind::HmacSha1, keys(Some("X Sig")));
    assert!(bad.unwrap_err().contains("--signature-header"));
    let misplaced = Verifier::new(VerifyKind::Github, keys(Some("X-Sig")));
    assert!(
        misplaced
            .unwrap_err()
            .contains("--signature-header applies to")
    );
}

/// RFC 8032 section 7.1, test 1: the secret and public key.
const RFC8032_SECRET: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const RFC8032_PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

#[test]
fn discord_ed25519_with_rfc8032_key() {
    use ed25519_dalek::Signer;
    let seed: [u8; 32] = parse::hex(RFC8032_SECRET, 32).unwrap().try_into().unwrap();
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    assert_eq!(
        hex_lower(signing.verifying_key().as_bytes()),
        RFC8032_PUBLIC
    );
    // RFC 8032's signature of the empty message, checked through the same key.
    let empty = signing.sign(b"");
    assert!(hex_lower(&empty.to_bytes()).starts_with("e5564300c360ac72"));
    let v = with(
        VerifyKind::Discord,
        Keys {
            public_key: Some(RFC8032_PUBLIC),
            ..Keys::default()
        },
    );
    let body = br#"{"type":2,"id":"1"}"#;
    let ts = NOW.to_string();
    let sign = |ts: &str, body: &[u8]| {
        let mut m = ts.as_bytes().to_vec();
        m.extend_from_slice(body);
        hex_lower(&signing.sign(&m).to_bytes())
    };
    let sig = sign(&ts, body);
    let pairs = [
        ("X-Signature-Ed25519", sig.as_str()),
        ("X-Signature-Timestamp", ts.as_str()),
    ];
    assert_eq!(run(&v, &pairs, body, NOW), Ok(()));
    assert_eq!(
        run(&v, &pairs, br#"{"type":2,"id":"2"}"#, NOW),
        Err(Mismatch)
    );
    assert_eq!(run(&v, &pairs, body, NOW + 301), Err(StaleTimestamp));
    let short = [("X-Signature-Ed25519", &sig[2..]), pairs[1]];
    let malformed = Malformed("x-signature-ed25519".into());
    assert_eq!(run(&v, &short, body, NOW), Err(malformed));
    assert!(is_discord_ping(br#"{"type": 1, "id": "x"}"#));
    assert!(!is_discord_ping(body) && !is_discord_ping(b"") && !is_discord_ping(b"[1]"));
    for bad in ["", "zz", &RFC8032_PUBLIC[2..], &"0".repeat(63)] {
        let keys = Keys {
            public_key: Some(bad),
            ..Keys::default()
        };
        assert!(
            Verifier::new(VerifyKind::Discord, keys)
                .unwrap_err()
                .contains("--public-key")
        );
    }
    let none = Verifier::new(VerifyKind::Discord, Keys::default());
    assert!(none.unwrap_err().contains("--public-key"));
}

#[test]
fn basic_auth_with_rfc7617_example() {
    let sealed = password::seal("Aladdin:open sesame").unwrap();
    let v = with(
        VerifyKind::Basic,
        Keys {
            basic_auth: Some(&sealed),
            ..Keys::default()
        },
    );
    let ok = [("Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")];
    assert_eq!(run(&v, &ok, b"", NOW), Ok(()));
    assert_eq!(
        run(
            &v,
            &[("Authorization", "basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")],
            b"",
            NOW
        ),
        Ok(())
    );
    let wrong = B64.encode("Aladdin:open sesame!");
    let wrong = format!("Basic {wrong}");
    assert_eq!(
        run(&v, &[("Authorization", &wrong)], b"", NOW),
        Err(Mismatch)
    );
    let bearer = run(
        &v,
        &[("Authorization", "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==")],
        b"",
        NOW,
    );
    assert_eq!(bearer, Err(Malformed("authorization".into())));
    assert_eq!(
        run(&v, &[], b"", NOW),
        Err(MissingHeader("authorization".into()))
    );
    let plain = Keys {
        basic_auth: Some("Aladdin:open sesame"),
        ..Keys::default()
    };
    assert!(
        Verifier::new(VerifyKind::Basic, plain).is_err(),
        "only the sealed form is served"
    );
    assert!(!format!("{v:?}").contains("pbkdf2"));
}

#[test]
fn every_kind_names_its_keys() {
    for kind in VerifyKind::ALL {
        let err = Verifier::new(kind, Keys::default()).unwrap_err();
        let wanted = match kind {
            VerifyKind::Discord => "--public-key",
            VerifyKind::Basic => "--basic-auth",
            _ => "--secret",
        };
        assert!(err.contains(wanted), "{kind}: {err}");
        assert_eq!(kind.uses_secret(), wanted == "--secret");
    }
}
