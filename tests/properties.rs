//! Property tests: template escaping always yields JSON; conditions print back to text that
//! parses to the same condition and evaluate without panicking on any request; the IP
//! classifier and CIDR matching agree with independent definitions.

use hookd::netaddr::{Cidr, is_blocked_target};
use hookd::template::{Condition, RequestView, Template};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever a value holds, inserted inside a string or standing alone, the result is JSON
    /// that gives the value back.
    #[test]
    fn any_value_renders_to_valid_json(value in any::<String>(), n in any::<i64>(), b in any::<bool>()) {
        let t = Template::parse(r#"{"in": "${message}", "alone": ${message}, "n": ${exit_code}, "b": ${data.flag}, "mixed": "a ${message} b"}"#).unwrap();
        let vars = serde_json::json!({"message": value, "exit_code": n, "data": {"flag": b}});
        let out = t.render(&vars).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        prop_assert_eq!(v["in"].as_str().unwrap(), value.as_str());
        prop_assert_eq!(v["alone"].as_str().unwrap(), value.as_str());
        prop_assert_eq!(v["n"].as_i64().unwrap(), n);
        prop_assert_eq!(v["b"].as_bool().unwrap(), b);
        prop_assert_eq!(v["mixed"].as_str().unwrap(), format!("a {value} b"));
    }

    /// Arbitrary template text never panics the parser, and whatever renders is JSON.
    #[test]
    fn arbitrary_templates_never_panic(text in "[{}\\[\\]\"$a-z:,. '?=!\\\\0-9]{0,64}") {
        if let Ok(t) = Template::parse(&text) {
            if let Ok(out) = t.render(&hookd::event_catalogue::sample_vars()) {
                prop_assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok(), "{out}");
            }
        }
    }

    /// IPv4 CIDR matching agrees with comparing masked integers.
    #[test]
    fn ipv4_cidr_matches_by_mask(net in any::<u32>(), len in 0u8..=32, ip in any::<u32>()) {
        let cidr: Cidr = format!("{}/{len}", Ipv4Addr::from(net)).parse().unwrap();
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len as u32) };
        prop_assert_eq!(cidr.contains(IpAddr::V4(Ipv4Addr::from(ip))), ip & mask == net & mask);
    }

    /// IPv6 likewise.
    #[test]
    fn ipv6_cidr_matches_by_mask(net in any::<u128>(), len in 0u8..=128, ip in any::<u128>()) {
        let net_ip = Ipv6Addr::from(net);
        prop_assume!(net_ip.to_ipv4_mapped().is_none());
        let cidr: Cidr = format!("{net_ip}/{len}").parse().unwrap();
        let mask = if len == 0 { 0 } else { u128::MAX << (128 - len as u32) };
        let target = Ipv6Addr::from(ip);
        prop_assume!(target.to_ipv4_mapped().is_none());
        prop_assert_eq!(cidr.contains(IpAddr::V6(target)), ip & mask == net & mask);
    }

    /// The SSRF classifier blocks every address in the ranges a delivery must never reach, in
    /// plain and IPv4-mapped form, and lets ordinary public unicast through.
    #[test]
    fn private_ranges_are_always_blocked(ip in any::<u32>()) {
        let v4 = Ipv4Addr::from(ip);
        let o = v4.octets();
        let private = o[0] == 10
            || o[0] == 127
            || o[0] == 0
            || (o[0] == 172 && (16..32).contains(&o[1]))
            || (o[0] == 192 && o[1] == 168)
            || (o[0] == 169 && o[1] == 254)
            || (o[0] == 100 && (64..128).contains(&o[1]))
            || o[0] >= 224;
        if private {
            prop_assert!(is_blocked_target(IpAddr::V4(v4)), "{v4} must be blocked");
            prop_assert!(is_blocked_target(IpAddr::V6(v4.to_ipv6_mapped())), "mapped {v4} must be blocked");
        }
        let public_sample = [Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(1, 1, 1, 1), Ipv4Addr::new(151, 101, 1, 69)];
        for p in public_sample {
            prop_assert!(!is_blocked_target(IpAddr::V4(p)));
        }
    }
}

/// Random condition text built from the grammar: values, paths, functions, every operator.
fn condition_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        "[a-z .'\\\"-]{0,8}"
            .prop_map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))),
        any::<i32>().prop_map(|n| n.to_string()),
        Just("true".to_string()),
        Just("null".to_string()),
        "payload(\\.[a-z0-9]{1,3}){0,3}",
        Just("method".to_string()),
        Just("remote_addr".to_string()),
        Just("body".to_string()),
        "header\\('[A-Za-z-]{1,6}'\\)",
        "query\\('[a-z]{1,4}'\\)",
        Just("ip_in(remote_addr, '10.0.0.0/8', '::1/128')".to_string()),
    ];
    leaf.prop_recursive(5, 48, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} == {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} != {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} || {b}")),
            inner.clone().prop_map(|a| format!("!{a}")),
            inner.clone().prop_map(|a| format!("{a} =~ \"^a.*\"")),
            inner.clone().prop_map(|a| format!("({a} !~ '[0-9]+')")),
            (inner.clone(), inner.clone(), inner).prop_map(|(a, b, c)| format!("{a} ? {b} : {c}")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A condition prints to text that parses back to a condition printing the same, and
    /// evaluating it on any request never panics and agrees with the reparsed one.
    #[test]
    fn conditions_round_trip_and_never_panic(
        text in condition_text(),
        body in "[ -~]{0,40}",
        json_body in any::<bool>(),
        header in "[ -~]{0,12}",
    ) {
        let Ok(c) = Condition::parse(&text) else { return Ok(()); };
        let printed = c.to_string();
        let again = Condition::parse(&printed)
            .unwrap_or_else(|e| panic!("{text} printed as {printed}, which does not parse: {e}"));
        prop_assert_eq!(again.to_string(), printed.clone());
        let body = if json_body { format!("{{\"a\": {{\"b\": {body:?}}}}}") } else { body };
        let headers = vec![("x-a".to_string(), header)];
        let vars = Condition::vars(&RequestView {
            method: "POST",
            query: "a=1&b",
            remote_addr: "10.1.2.3",
            content_type: if json_body { "application/json" } else { "text/plain" },
            headers: &headers,
            body: body.as_bytes(),
        });
        prop_assert_eq!(c.holds(&vars), again.holds(&vars));
    }

    /// Arbitrary text never panics the condition parser, and errors point inside the text.
    #[test]
    fn arbitrary_conditions_never_panic(text in "[()!=~&|?:,.'\"a-z_0-9 ]{0,48}") {
        match Condition::parse(&text) {
            Ok(c) => { let _ = c.holds(&serde_json::Value::Null); }
            Err(e) => prop_assert!(e.offset <= text.len() && e.column >= 1),
        }
    }
}

/// Every input the fuzzers ever found a problem with, replayed against its target's invariant.
/// New findings go in `fuzz/regressions/<target>/` and are covered from then on.
#[test]
fn fuzz_regressions_hold() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let files = |target: &str| -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(root.join(target))
            .map(|d| {
                d.map(|e| e.unwrap().path())
                    .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    };
    let mut seen = 0;
    for (name, bytes) in files("config") {
        seen += 1;
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(c) = hookd::config::parse(&text, std::path::Path::new("x.toml")) {
            let again = hookd::config::parse(&c.to_toml(), std::path::Path::new("x.toml"))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                again, c,
                "{name}: the printed config reads back differently"
            );
        }
    }
    for (name, bytes) in files("proto") {
        seen += 1;
        if let Ok(r) = serde_json::from_slice::<hookd::proto::Request>(&bytes) {
            let back: hookd::proto::Request = serde_json::from_slice(&hookd::proto::encode(&r))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(format!("{back:?}"), format!("{r:?}"), "{name}");
        }
    }
    for (name, bytes) in files("hooksfile") {
        seen += 1;
        if let Ok(specs) = hookd::cli::hooksfile::parse(&String::from_utf8_lossy(&bytes)) {
            let back = hookd::cli::hooksfile::parse(&hookd::cli::hooksfile::render(&specs))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(back, specs, "{name}");
        }
    }
    for (name, bytes) in files("template") {
        seen += 1;
        let text = String::from_utf8_lossy(&bytes);
        // A template that passes the create-time check renders JSON for any values.
        if Template::check(&text, &hookd::event_catalogue::sample_vars()).is_ok() {
            let t = Template::parse(&text).unwrap();
            for v in ["zz", "\"", "\\", "0", ""] {
                let vars = serde_json::json!({"hook_id": v, "message": v, "event_id": v, "status": v, "data": {"x": v}});
                if let Ok(out) = t.render(&vars) {
                    assert!(
                        serde_json::from_str::<serde_json::Value>(&out).is_ok(),
                        "{name} with {v:?}: {out}"
                    );
                } else {
                    panic!("{name}: passed the check but does not render with {v:?}");
                }
            }
        }
    }
    for (name, bytes) in files("condition") {
        seen += 1;
        let text = String::from_utf8_lossy(bytes.get(1..).unwrap_or_default());
        if let Ok(c) = Condition::parse(&text) {
            let printed = c.to_string();
            let again = Condition::parse(&printed).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(again.to_string(), printed, "{name}");
        }
    }
    assert!(
        seen > 0,
        "no regression inputs found under {}",
        root.display()
    );
}
