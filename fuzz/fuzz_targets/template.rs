//! Payload templates: `Template::parse` never panics on any UTF-8; every error points at a
//! char boundary inside the text with a line/column that matches its byte offset; a render
//! that returns `Ok` is valid JSON; `Template::check` agrees with parse + render; and a
//! template without comparisons or conditionals that renders valid JSON with the sample event
//! still renders valid JSON when every string the event carries is hostile (quotes,
//! backslashes, control characters, non-ASCII): event data must never break the structure the
//! template author wrote.
#![no_main]

use hookd::template::{Template, TemplateError};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::sync::LazyLock;

/// Appended to every string of the sample event; the map stays injective, so equal strings
/// stay equal and distinct ones distinct.
const HOSTILE: &str = "\"\\\n\t\r\u{0}\u{1f}\u{7f}\u{2028}\u{fffd}é😀</script>${x}\\u0000'";

static SAMPLE: LazyLock<Value> = LazyLock::new(hookd::event_catalogue::sample_vars);
static HOSTILE_VARS: LazyLock<Value> =
    LazyLock::new(|| hostile(hookd::event_catalogue::sample_vars()));

fn hostile(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(format!("{s}{HOSTILE}")),
        Value::Array(items) => Value::Array(items.into_iter().map(hostile).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, hostile(v))).collect())
        }
        other => other,
    }
}

/// A template error must name a real position of `text`, consistently.
fn check_position(text: &str, e: &TemplateError) {
    assert!(
        e.offset <= text.len(),
        "offset {} past the end: {e:?}",
        e.offset
    );
    assert!(
        text.is_char_boundary(e.offset),
        "offset inside a char: {e:?}"
    );
    let expected = hookd::config::line_column(text, e.offset);
    assert_eq!(
        (e.line, e.column),
        expected,
        "line/column disagree with the offset: {e:?}"
    );
}

fn rendered_json(t: &Template, vars: &Value) -> Result<String, TemplateError> {
    let out = t.render(vars)?;
    if let Err(e) = serde_json::from_str::<Value>(&out) {
        panic!("render returned Ok but the output is not JSON ({e}): {out:?}");
    }
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let template = match Template::parse(text) {
        Ok(t) => t,
        Err(e) => {
            check_position(text, &e);
            assert_eq!(Template::check(text, &SAMPLE).err(), Some(e));
            return;
        }
    };

    let sample = rendered_json(&template, &SAMPLE);
    if let Err(e) = &sample {
        assert!(
            e.message.starts_with("rendered output is not valid JSON"),
            "{e:?}"
        );
    }
    match Template::check(text, &SAMPLE) {
        Ok(()) => assert!(sample.is_ok(), "check passed but render failed: {sample:?}"),
        Err(e) => {
            assert!(sample.is_err(), "check failed but render passed: {e:?}");
            check_position(text, &e);
        }
    }

    let hostile = rendered_json(&template, &HOSTILE_VARS);
    // Comparisons and conditionals may pick a branch of another JSON type once the strings
    // change, and that can legitimately change the outcome; without them only content differs.
    let plain = !text.contains("==") && !text.contains("!=") && !text.contains('?');
    if plain && let (Ok(out), Err(e)) = (&sample, &hostile) {
        panic!(
            "valid with the sample event, broken by hostile strings: {e}\nsample output: {out:?}"
        );
    }
});
