//! Unit tests of the template engine: escaping, expressions, error positions, and a fuzz loop.
use super::*;
use serde_json::json;

fn vars() -> Value {
    json!({
        "event_type": "hook.finished", "status": "success", "hook_name": "deploy",
        "hook_id": "h1", "duration_ms": 42, "exit_code": 0, "message": "hi", "output": null,
        "data": {
            "request": { "body": { "ref": "refs/heads/main" } },
            "items": [{ "name": "a" }, { "name": "b" }], "headers": { "x-github-event": "push" },
            "flag": true, "obj": { "a": [1, "x\"y"] }, "zero": 0, "szero": "0", "empty": "",
            "one_f": 1.0, "big": 18446744073709551615u64, "quote": "x\"y\\z\n"
        }
    })
}

fn render(template: &str, vars: &Value) -> Value {
    let out = Template::parse(template).unwrap().render(vars).unwrap();
    serde_json::from_str(&out).unwrap()
}

fn err(template: &str) -> TemplateError {
    Template::parse(template).unwrap_err()
}

#[test]
fn renders_values_by_position() {
    let template = r#"{
        "in_str": "${duration_ms}|${data.flag}|${data.missing}|${output}|${data.obj}",
        "obj": ${data.obj}, "num": ${duration_ms}, "null": ${output}, "str": ${message},
        "big": ${data.big}, "quote": ${data.quote}, "quote_in": "${data.quote}",
        "missing_in": "${project_name}", "missing": ${project_path},
        "alias": ["${workflow_name}", ${workflow_id}, "${hook_name}"], "cond":
            "${status == 'success' ? 'good' : 'bad'}",
        "paths": ["${data.request.body.ref}", ${data.items.1.name}, ${data.headers.x-github-event}],
        "absent": [${data.items.9.name}, ${data.items.x}, ${data.flag.x}],
        "dollars": "cost $5 $${x} $", "escaped": "say \"${data.quote}\"", "back": "a\\",
        "after_back": ${data.flag}, "literals": [${-1.5e2 == -150}, ${'it\'s \\ ok'}, ${'}'}, ${ ( 'a' ) }]
    }"#;
    let want = json!({
        "in_str": r#"42|true|||{"a":[1,"x\"y"]}"#,
        "obj": { "a": [1, "x\"y"] }, "num": 42, "null": null, "str": "hi",
        "big": 18446744073709551615u64, "quote": "x\"y\\z\n", "quote_in": "x\"y\\z\n",
        "missing_in": "", "missing": null,
        "alias": ["deploy", "h1", "deploy"], "cond": "good",
        "paths": ["refs/heads/main", "b", "push"], "absent": [null, null, null],
        "dollars": "cost $5 ${x} $", "escaped": "say \"x\"y\\z\n\"", "back": "a\\",
        "after_back": true, "literals": [true, "it's \\ ok", "}", "a"]
    });
    assert_eq!(render(template, &vars()), want);
    let t = r#"{"r": "${status == 'success' ? 'good' : 'bad'}", "w": ${workflow_name}}"#;
    let legacy = json!({ "status": "failed", "workflow_name": "old" });
    assert_eq!(render(t, &legacy), json!({ "r": "bad", "w": "old" }));
    assert_eq!(render(t, &json!([1])), json!({ "r": "bad", "w": null }));
}

#[test]
fn equality_and_truthiness() {
    let truthy = "exit_code == 0; data.one_f == 1; data.szero == '0'; data.missing == null; \
        data.obj == data.obj; (exit_code == 0) == true; data.szero; data.obj; \
        false ? true : data.flag ? 1 : 0; data.big == 18446744073709551615";
    let falsy = "status != 'success'; data.szero == 0; data.zero; data.empty; data.missing; \
        output; data.big == 18446744073709551614; 'a' == 'A'";
    for (exprs, want) in [(truthy, true), (falsy, false)] {
        for expr in exprs.split("; ") {
            let got = render(&format!("[${{({expr}) ? true : false}}]"), &vars());
            assert_eq!(got, json!([want]), "{expr}");
        }
    }
}

#[test]
fn parse_errors_point_at_the_problem() {
    let e = err("{\n  \"a\": ${message");
    assert_eq!((e.offset, e.line, e.column), (9, 2, 8));
    assert!(e.message.contains("unterminated `${`"), "{e}");
    let cases = [
        ("[${status ==}]", 12, "expected a value"),
        ("[${status = 'x'}]", 10, "`==`"),
        ("[${#}]", 3, "unexpected character '#'"),
        ("[${  }]", 5, "empty expression"),
        ("[${'abc}]", 3, "unterminated string literal"),
        ("[${'a\\n'}]", 5, "unknown escape"),
        ("[${foo}]", 3, "unknown variable `foo`"),
        ("[${status ? 'a'}]", 15, "expected `:`"),
        ("[${data.}]", 8, "expected a name"),
        ("[${(status}]", 10, "expected `)`"),
        ("[${status status}]", 10, "unexpected `status`"),
        ("[${status == 'a' == 'b'}]", 17, "unexpected `==`"),
        ("[${-}]", 3, "invalid number"),
        ("[${exit_code == 1-2}]", 16, "invalid number `1-2`"),
        ("[${exit_code == 01}]", 16, "invalid number"),
        ("[\"é\", ${é}]", 9, "unexpected character 'é'"),
    ];
    for (template, offset, needle) in cases {
        let e = err(template);
        assert_eq!(e.offset, offset, "{template}: {e}");
        assert!(e.message.contains(needle), "{template}: {e}");
    }
    assert_eq!(err("[\"é\", ${é}]").column, 9);
    let shown = Template::check("[${x}]", &vars()).unwrap_err().to_string();
    assert!(shown.starts_with("template error at line 1, column 4: unknown"));
}

#[test]
fn nesting_depth_is_bounded() {
    let deep = |n: usize| format!("[${{{}status{}}}]", "(".repeat(n), ")".repeat(n));
    assert_eq!(render(&deep(60), &vars()), json!(["success"]));
    assert!(err(&deep(100)).message.contains("nested too deeply"));
    let chain = format!("[${{{} 1}}]", "data.flag ? 1 : ".repeat(100));
    assert!(err(&chain).message.contains("nested too deeply"));
}

#[test]
fn invalid_rendered_json_is_reported() {
    let template = r#"{"a": ${message} ${message}}"#;
    let parsed = Template::parse(template).unwrap();
    let e = parsed.render(&vars()).unwrap_err();
    assert!(e.message.contains("not valid JSON"), "{e}");
    // The output is `{"a": "hi" "hi"}`; `render` points there, `check` at the template.
    assert_eq!((e.offset, e.line, e.column), (11, 1, 12));
    let e = Template::check(template, &vars()).unwrap_err();
    assert_eq!((e.offset, e.column), (17, 18));
    let e = Template::check("{\"a\": [1,\n 2,]}", &vars()).unwrap_err();
    assert_eq!((e.offset, e.line, e.column), (13, 2, 4));
    assert_eq!(Template::check("{\"a\": ", &vars()).unwrap_err().offset, 6);
    assert!(Template::check("", &vars()).is_err());
    assert!(Template::check(r#"{"a": "${output"}"#, &vars()).is_err());
    assert!(Template::check(r#"{"a": ${data}, "b": "${data}"}"#, &vars()).is_ok());
}

/// Deterministic pseudo-random strings, so failures reproduce without extra crates.
struct Lcg(u64);

impl Lcg {
    fn string(&mut self, pool: &str, max_len: u64) -> String {
        let pool: Vec<char> = pool.chars().collect();
        let mut next = || {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1);
            self.0 >> 33
        };
        let len = next() % max_len;
        let mut pick = || pool.get((next() % pool.len() as u64) as usize).copied();
        (0..len).filter_map(|_| pick()).collect()
    }
}

#[test]
fn fuzz_values_render_valid_json_and_templates_never_panic() {
    let template = Template::parse(r#"{"t":"${message}","v":${message}}"#).unwrap();
    let roundtrip = |s: &str| {
        let out = template.render(&json!({ "message": s })).unwrap();
        let parsed: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed, json!({ "t": s, "v": s }));
    };
    roundtrip("q\"uote \\ \n\r\t \u{1}\u{8}\u{c}\u{1f}\u{7f} é ☃ 😀 \u{2028} ${x}");
    let mut rng = Lcg(7);
    for _ in 0..2000 {
        roundtrip(&rng.string("a\"\\\n\r\t\u{0}\u{1f}\u{7f}é☃😀\u{2028}${}'/ ", 24));
    }
    for _ in 0..5000 {
        let text = rng.string("${}()'\"\\?:=!.-_ 0a9eé😀\ndata status[],", 40);
        match Template::parse(&text) {
            Ok(t) => drop((t.render(&vars()), Template::check(&text, &vars()))),
            Err(e) => assert!(text.is_char_boundary(e.offset) && e.line >= 1, "{text:?}"),
        }
    }
}

/// Found by fuzzing: a placeholder inside a `\u` escape passed the sample check but broke
/// JSON for other values.
#[test]
fn placeholders_cannot_split_a_unicode_escape() {
    let e = Template::parse(r#"{"a":"\u0${hook_id}00"}"#).unwrap_err();
    assert!(e.message.contains("\\u escape"), "{e}");
    assert_eq!(e.column, 10);
    assert!(Template::parse(r#"{"a":"\u00e9${hook_id}"}"#).is_ok());
    assert!(
        Template::parse(r#"{"a":"\\u${hook_id}"}"#).is_ok(),
        "an escaped backslash starts no escape"
    );
}

/// Found by fuzzing: a placeholder between the halves of a surrogate pair.
#[test]
fn placeholders_cannot_split_a_surrogate_pair() {
    let e = Template::parse(r#"{"a":"\ud83d${data.request.query}\ude00"}"#).unwrap_err();
    assert!(e.message.contains("surrogate"), "{e}");
    assert!(Template::parse(r#"{"a":"\ud83d\ude00${message}"}"#).is_ok());
    assert!(Template::parse(r#"{"a":"\u00e9${message}"}"#).is_ok());
}

#[test]
fn placeholders_never_stand_in_key_position() {
    for bad in [
        r#"{"${hook_name}": 1}"#,
        r#"{${hook_name}: 1}"#,
        r#"{"a": "${status}", "x-${hook_name}": 2}"#,
        r#"{"k": [1, {"${event_id}": true}]}"#,
    ] {
        let e = Template::parse(bad).unwrap_err();
        assert!(e.message.contains("key position"), "{bad}: {e}");
    }
    for good in [
        r#"{"a": [${exit_code}, {"b": ${status}}], "c": "x${hook_name}"}"#,
        r#"[${event_id}, "${event_type}"]"#,
        r#"{"$${literal}": ${status}}"#,
    ] {
        Template::parse(good).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
}

#[test]
fn rendering_stops_once_past_the_cap() {
    let t = Template::parse(r#"{"a": "${message}", "b": "${message}"}"#).unwrap();
    let big = json!({"message": "x".repeat(1000)});
    assert!(t.render_at_most(&big, 1500).unwrap().is_none());
    assert!(t.render_at_most(&big, 5000).unwrap().is_some());
}

#[test]
fn a_condition_builds_only_the_request_values_it_reads() {
    use super::{Condition, RequestView};
    let req = RequestView {
        method: "POST",
        query: "a=1",
        remote_addr: "10.0.0.1:5",
        content_type: "application/json",
        headers: &[("X-Go".into(), "yes".into())],
        body: br#"{"ref": "refs/heads/main"}"#,
    };
    let c = Condition::parse("header('X-Go') == 'yes' && payload.ref =~ '^refs/heads/'").unwrap();
    assert!(c.reads("headers") && c.reads("payload"));
    assert!(!c.reads("query") && !c.reads("body") && !c.reads("method"));
    let vars = Condition::vars_of(&req, |r| c.reads(r));
    assert_eq!(vars.as_object().unwrap().len(), 2, "{vars}");
    assert!(c.holds(&vars));
    // The same answer as with every value built.
    assert!(c.holds(&Condition::vars(&req)));
    let q =
        Condition::parse("query('a') == '1' ? method == 'POST' : ip_in(remote_addr, '10.0.0.0/8')")
            .unwrap();
    for root in ["query", "method", "remote_addr"] {
        assert!(q.reads(root), "{root}");
    }
    assert!(!q.reads("payload"));
    assert!(q.holds(&Condition::vars_of(&req, |r| q.reads(r))));
}
