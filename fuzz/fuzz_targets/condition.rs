//! Hook conditions: `Condition::parse` never panics on any UTF-8 and every error points at a
//! char boundary inside the text with a line/column matching its offset; a condition that
//! parses prints back to text that parses to the same condition; evaluating it never panics,
//! whatever the request holds.
#![no_main]

use hookd::template::{Condition, RequestView};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the body's shape; the rest is the condition text.
    let Some((&shape, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let c = match Condition::parse(text) {
        Ok(c) => c,
        Err(e) => {
            assert!(e.offset <= text.len(), "offset past the end: {e:?}");
            assert!(text.is_char_boundary(e.offset), "offset inside a char: {e:?}");
            assert_eq!((e.line, e.column), hookd::config::line_column(text, e.offset));
            return;
        }
    };
    let printed = c.to_string();
    let again = Condition::parse(&printed)
        .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which does not parse: {e}"));
    assert_eq!(again.to_string(), printed);
    let (content_type, body): (&str, &[u8]) = match shape % 3 {
        0 => ("application/json", br#"{"a":{"b":[1,"x",null]},"a.b":true}"#),
        1 => ("application/x-www-form-urlencoded", b"a=1&a=2&b=%ff"),
        _ => ("text/plain", rest),
    };
    let headers = vec![("x-a".to_string(), text.to_string())];
    let vars = Condition::vars(&RequestView {
        method: "POST",
        query: text,
        remote_addr: "[::1]:8080",
        content_type,
        headers: &headers,
        body,
    });
    assert_eq!(c.holds(&vars), again.holds(&vars));
});
