use super::*;

#[test]
fn requests_round_trip_and_secrets_stay_out_of_debug() {
    let opts = HookOptions {
        secret: Some(Secret("whsec_abc".into())),
        ..Default::default()
    };
    let req = Request::Create(CreateHook {
        name: "x".into(),
        kind: HookKind::Script,
        options: Box::new(opts),
    });
    let line = encode(&req);
    assert!(line.ends_with(b"\n"));
    let back: Request = serde_json::from_slice(&line).unwrap();
    assert!(matches!(back, Request::Create(CreateHook { .. })));
    assert!(!format!("{req:?}").contains("whsec_abc"));
}
