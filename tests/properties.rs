//! Property tests: template escaping always yields JSON; the IP classifier and CIDR matching
//! agree with independent definitions.

use hookd::netaddr::{Cidr, is_blocked_target};
use hookd::template::Template;
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
    assert!(
        seen > 0,
        "no regression inputs found under {}",
        root.display()
    );
}
