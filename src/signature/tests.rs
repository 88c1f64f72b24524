use super::VerifyError::{BadSecret, Malformed, Mismatch, MissingHeader, StaleTimestamp};
use super::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;

const H_GITHUB_SIG: &str = "x-hub-signature-256";
const H_GITHUB_DELIVERY: &str = "x-github-delivery";
const H_GITLAB_TOKEN: &str = "x-gitlab-token";
const H_SW_ID: &str = "webhook-id";
const H_SW_TIMESTAMP: &str = "webhook-timestamp";
const H_SW_SIGNATURE: &str = "webhook-signature";
const H_SIGNATURE: &str = "x-signature";

const SW_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SW_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SW_TS: i64 = 1_614_265_330;
const TS: &str = "1614265330";
const SW_BODY: &[u8] = br#"{"test": 2432232314}"#;
const SW_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

const GH_SECRET: &str = "It's a Secret to Everybody";
const GH_BODY: &[u8] = b"Hello, World!";
const GH_HEX: &str = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

fn headers(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

fn check(kind: VerifyKind, secret: &str, pairs: &[(&str, &str)], body: &[u8]) -> Checked {
    verify(kind, secret, &headers(pairs), body, SW_TS)
}

/// The GitHub vector's secret and body, with one header set.
fn gh(kind: VerifyKind, name: &str, value: &str) -> Checked {
    check(kind, GH_SECRET, &[(name, value)], GH_BODY)
}

/// The Standard Webhooks vector with the given signature header,
/// timestamp header and clock.
fn sw(sig: &str, ts: &str, now: i64) -> Checked {
    let h = headers(&[
        (H_SW_ID, SW_ID),
        (H_SW_TIMESTAMP, ts),
        (H_SW_SIGNATURE, sig),
    ]);
    verify(VerifyKind::Standard, SW_SECRET, &h, SW_BODY, now)
}

#[test]
fn kind_names_round_trip() {
    for kind in VerifyKind::ALL {
        assert_eq!(VerifyKind::parse(kind.as_str()), Some(kind));
        assert_eq!(kind.to_string(), kind.as_str());
    }
    assert_eq!(VerifyKind::parse("GitHub"), None);
    assert_eq!(VerifyKind::parse(""), None);
}

#[test]
fn github_documented_vector() {
    let mac = hmac_sha256(GH_SECRET.as_bytes(), GH_BODY);
    assert_eq!(hex_lower(&mac), GH_HEX);
    let value = format!("sha256={GH_HEX}");
    assert_eq!(gh(VerifyKind::Github, H_GITHUB_SIG, &value), Ok(()));
    let upper = format!("sha256={}", GH_HEX.to_ascii_uppercase());
    assert_eq!(gh(VerifyKind::Github, H_GITHUB_SIG, &upper), Ok(()));
    assert_eq!(hex_lower(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
}

#[test]
fn github_failures() {
    let good = format!("sha256={GH_HEX}");
    let pairs = [(H_GITHUB_SIG, good.as_str())];
    let github = |secret, pairs: &[_], body| check(VerifyKind::Github, secret, pairs, body);
    assert_eq!(github(GH_SECRET, &pairs, b"Hello, World?"), Err(Mismatch));
    assert_eq!(github("other", &pairs, GH_BODY), Err(Mismatch));
    let missing = MissingHeader(H_GITHUB_SIG.into());
    assert_eq!(github(GH_SECRET, &[], GH_BODY), Err(missing));
    // The prefix is mandatory for GitHub.
    let bare = [(H_GITHUB_SIG, GH_HEX)];
    assert_eq!(
        github(GH_SECRET, &bare, GH_BODY),
        Err(Malformed(H_GITHUB_SIG.into()))
    );
}

#[test]
fn hmac_sha256_with_and_without_prefix() {
    let prefixed = format!("sha256={GH_HEX}");
    let upper = GH_HEX.to_ascii_uppercase();
    let padded = format!(" \t{prefixed} ");
    for value in [GH_HEX, &prefixed, &upper, &padded] {
        assert_eq!(
            gh(VerifyKind::HmacSha256, H_SIGNATURE, value),
            Ok(()),
            "{value}"
        );
    }
    let wrong = format!("8{}", &GH_HEX[1..]);
    assert_eq!(
        gh(VerifyKind::HmacSha256, H_SIGNATURE, &wrong),
        Err(Mismatch)
    );
    let missing = check(VerifyKind::HmacSha256, GH_SECRET, &[], GH_BODY);
    assert_eq!(missing, Err(MissingHeader(H_SIGNATURE.into())));
}

#[test]
fn malformed_hex_is_rejected() {
    let too_long = format!("{GH_HEX}00");
    let non_hex = format!("{}zz", &GH_HEX[..62]);
    let multibyte = format!("{}é", &GH_HEX[..62]);
    let sha1 = format!("sha1={GH_HEX}");
    let short = [&GH_HEX[..63], &GH_HEX[..62]];
    for bad in [
        "", "sha256=", short[0], short[1], &too_long, &non_hex, &multibyte, &sha1,
    ] {
        let got = gh(VerifyKind::HmacSha256, H_SIGNATURE, bad);
        assert_eq!(got, Err(Malformed(H_SIGNATURE.into())), "{bad:?}");
    }
}

#[test]
fn gitlab_token() {
    let pairs = [(H_GITLAB_TOKEN, "s3cret")];
    assert_eq!(check(VerifyKind::Gitlab, "s3cret", &pairs, b""), Ok(()));
    assert_eq!(
        check(VerifyKind::Gitlab, "s3cret!", &pairs, b""),
        Err(Mismatch)
    );
    let missing = check(VerifyKind::Gitlab, "s3cret", &[], b"");
    assert_eq!(missing, Err(MissingHeader(H_GITLAB_TOKEN.into())));
}

#[test]
fn empty_secret_never_verifies() {
    // An empty secret cannot even build a verifier: no kind accepts anything with one.
    let pairs = [(H_GITLAB_TOKEN, "")];
    assert_eq!(check(VerifyKind::Gitlab, "", &pairs, b""), Err(BadSecret));
    let sig = hex_lower(&hmac_sha256(b"", b"body"));
    let pairs = [(H_SIGNATURE, sig.as_str())];
    assert_eq!(
        check(VerifyKind::HmacSha256, "", &pairs, b"body"),
        Err(BadSecret)
    );
    assert_eq!(check(VerifyKind::Standard, "", &[], b""), Err(BadSecret));
}

#[test]
fn standard_published_vector() {
    let signed = sign_standard(SW_SECRET, SW_ID, SW_TS, SW_BODY);
    assert_eq!(signed.as_deref(), Ok(SW_SIG));
    assert_eq!(sw(SW_SIG, TS, SW_TS), Ok(()));
}

#[test]
fn standard_matches_an_independent_computation() {
    // Built straight from the spec text with the hmac crate, sharing no
    // code with the module: key is the base64 after `whsec_`, content is
    // `id.timestamp.body`.
    let key = B64.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}");
    let expected = format!("v1,{}", B64.encode(mac.finalize().into_bytes()));
    assert_eq!(expected, SW_SIG);
}

#[test]
fn standard_round_trip_with_generated_secret() {
    let secret = generate_whsec();
    assert!(is_valid_whsec(&secret));
    assert_ne!(secret, generate_whsec());
    let sig = sign_standard(&secret, "msg_1", SW_TS, b"payload").unwrap();
    let pairs = [
        (H_SW_ID, "msg_1"),
        (H_SW_TIMESTAMP, TS),
        (H_SW_SIGNATURE, &sig),
    ];
    assert_eq!(
        check(VerifyKind::Standard, &secret, &pairs, b"payload"),
        Ok(())
    );
    assert_eq!(
        check(VerifyKind::Standard, SW_SECRET, &pairs, b"payload"),
        Err(Mismatch)
    );
    assert_eq!(
        check(VerifyKind::Standard, &secret, &pairs, b"payloaD"),
        Err(Mismatch)
    );
}

#[test]
fn standard_timestamp_tolerance() {
    assert_eq!(sw(SW_SIG, TS, SW_TS + 300), Ok(()));
    assert_eq!(sw(SW_SIG, TS, SW_TS - 300), Ok(()));
    // Stale (clock ahead of the sender) and future (clock behind) alike.
    assert_eq!(sw(SW_SIG, TS, SW_TS + 301), Err(StaleTimestamp));
    assert_eq!(sw(SW_SIG, TS, SW_TS - 301), Err(StaleTimestamp));
    assert_eq!(sw(SW_SIG, TS, i64::MIN), Err(StaleTimestamp));
    assert_eq!(
        sw(SW_SIG, "9223372036854775807", i64::MIN),
        Err(StaleTimestamp)
    );
}

#[test]
fn standard_multiple_signatures() {
    let bogus = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let one_good = format!("{bogus} {SW_SIG}  v1,not-base64!");
    assert_eq!(sw(&one_good, TS, SW_TS), Ok(()));
    // The right bytes under another version label do not count.
    let others = format!("v2,{0} v1a,{0} nocomma ,{0}", &SW_SIG[3..]);
    assert_eq!(sw(&others, TS, SW_TS), Err(Mismatch));
    assert_eq!(sw(&format!("{others} {SW_SIG}"), TS, SW_TS), Ok(()));
    assert_eq!(sw(bogus, TS, SW_TS), Err(Mismatch));
    // Right prefix, wrong length.
    assert_eq!(sw("v1,g0hM9SsE", TS, SW_TS), Err(Mismatch));
}

#[test]
fn standard_missing_and_malformed_headers() {
    let full = [
        (H_SW_ID, SW_ID),
        (H_SW_TIMESTAMP, TS),
        (H_SW_SIGNATURE, SW_SIG),
    ];
    for skip in 0..full.len() {
        let mut partial = full.to_vec();
        let (name, _) = partial.remove(skip);
        let got = check(VerifyKind::Standard, SW_SECRET, &partial, SW_BODY);
        assert_eq!(got, Err(MissingHeader(name.into())));
    }
    let max = "99999999999999999999";
    for ts in ["", "abc", "-1614265330", "+1614265330", "1614265330.5", max] {
        assert_eq!(
            sw(SW_SIG, ts, SW_TS),
            Err(Malformed(H_SW_TIMESTAMP.into())),
            "{ts:?}"
        );
    }
    assert_eq!(sw("  ", TS, SW_TS), Err(Malformed(H_SW_SIGNATURE.into())));
    let pairs = [
        (H_SW_ID, " "),
        (H_SW_TIMESTAMP, TS),
        (H_SW_SIGNATURE, SW_SIG),
    ];
    let got = check(VerifyKind::Standard, SW_SECRET, &pairs, SW_BODY);
    assert_eq!(got, Err(Malformed(H_SW_ID.into())));
}

#[test]
fn standard_rejects_bad_secrets() {
    let unprefixed = &SW_SECRET[WHSEC_PREFIX.len()..];
    let unpadded = &SW_SECRET[..SW_SECRET.len() - 1];
    for bad in [
        "",
        unprefixed,
        unpadded,
        "whsec_",
        "whsec_not base64",
        "whsec_AAAA",
    ] {
        assert!(!is_valid_whsec(bad), "{bad:?}");
        let pairs = [(H_SW_ID, SW_ID)];
        assert_eq!(
            check(VerifyKind::Standard, bad, &pairs, SW_BODY),
            Err(BadSecret)
        );
        assert_eq!(sign_standard(bad, SW_ID, SW_TS, SW_BODY), Err(BadSecret));
    }
    let of_len = |n: usize| format!("whsec_{}", B64.encode(vec![7u8; n]));
    assert!(is_valid_whsec(&of_len(16)) && is_valid_whsec(&of_len(64)));
    assert!(!is_valid_whsec(&of_len(15)) && !is_valid_whsec(&of_len(65)));
    assert!(is_valid_whsec(SW_SECRET));
}

#[test]
fn delivery_ids() {
    let uuid = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
    let padded = format!(" {uuid} ");
    let h = headers(&[(H_GITHUB_DELIVERY, &padded), (H_SW_ID, "msg_1")]);
    assert_eq!(
        delivery_id(VerifyKind::Github, &h, b"").as_deref(),
        Some(uuid)
    );
    assert_eq!(
        delivery_id(VerifyKind::Standard, &h, b"").as_deref(),
        Some("msg_1")
    );
    assert_eq!(delivery_id(VerifyKind::Gitlab, &h, b""), None);
    assert_eq!(delivery_id(VerifyKind::HmacSha256, &h, b""), None);
    let empty = headers(&[(H_SW_ID, "")]);
    assert_eq!(delivery_id(VerifyKind::Standard, &empty, b""), None);
    assert_eq!(delivery_id(VerifyKind::Github, &empty, b""), None);
}

#[test]
fn password_hashes_round_trip_and_never_hold_the_password() {
    let started = std::time::Instant::now();
    let sealed = password::seal("deploy:open sesame").unwrap();
    eprintln!("one seal: {:?}", started.elapsed());
    assert!(
        sealed.starts_with("deploy:$pbkdf2-sha256$i=600000,l=32$"),
        "{sealed}"
    );
    assert!(!sealed.contains("open sesame"));
    assert!(password::is_sealed(&sealed));
    assert_eq!(password::seal(&sealed).as_deref(), Some(sealed.as_str()));
    assert!(password::sealed_matches(&sealed, "deploy:open sesame"));
    assert!(!password::sealed_matches(&sealed, "deploy:open sesame!"));
    assert!(!password::sealed_matches(&sealed, "deploi:open sesame"));
    // A fresh salt every time.
    assert_ne!(password::seal("deploy:open sesame").unwrap(), sealed);
    assert_eq!(password::seal("no colon"), None);
    let cred = BasicCredential::parse(&sealed).unwrap();
    assert!(cred.check("deploy", "open sesame"));
    // The second check is answered from memory, and a wrong one still is not accepted.
    assert!(cred.check("deploy", "open sesame"));
    assert!(!cred.check("deploy", "open sesamE"));
    assert!(!cred.check("Deploy", "open sesame"));
    assert!(!format!("{cred:?}").contains("pbkdf2"));
}
