//! Tokens of the expression language, for `${…}` placeholders and `--if` conditions alike.
//!
//! A placeholder's tokens end with its closing `}`; a condition's end with [`Tok::End`] at the
//! end of its text, where a `}` is just an unexpected character. Every token carries the byte
//! offset it starts at, so parse errors point at the column the author typed. Which names are
//! variables and which are functions is the [`Dialect`]'s business: an unknown name is refused
//! here, when the text is first read.

use super::{TemplateError, fail};
use serde_json::Value;

/// What a piece of expression text is part of: a payload template or a hook's condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Template,
    Condition,
}

/// Top-level names a template may reference; anything else is almost certainly a typo.
const TEMPLATE_VARIABLES: &str = "event_type event_id timestamp status hook_name workflow_name \
    hook_id workflow_id duration_ms exit_code message output project_name project_path data \
    secret";

/// What a condition can see of the request.
const CONDITION_VARIABLES: &str = "payload method remote_addr body content_type";

/// Functions a condition may call.
pub(crate) const CONDITION_FUNCTIONS: &str = "header query ip_in";

impl Dialect {
    fn variables(self) -> &'static str {
        match self {
            Dialect::Template => TEMPLATE_VARIABLES,
            Dialect::Condition => CONDITION_VARIABLES,
        }
    }
    fn functions(self) -> &'static str {
        match self {
            Dialect::Template => "",
            Dialect::Condition => CONDITION_FUNCTIONS,
        }
    }
}

/// `Op` holds operators, parentheses, commas and the closing `}` of a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Path(Vec<String>),
    Value(Value),
    /// A function name; the `(` that follows it is the next token.
    Func(&'static str),
    Op(&'static str),
    /// The end of a condition's text.
    End,
}

impl Tok {
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Path(p) => format!("`{}`", p.join(".")),
            Tok::Value(v) => format!("`{v}`"),
            Tok::Func(f) => format!("`{f}`"),
            Tok::Op(op) => format!("`{op}`"),
            Tok::End => "end of expression".into(),
        }
    }
}

pub(crate) fn char_at(text: &str, pos: usize) -> Option<char> {
    text.get(pos..)?.chars().next()
}

fn byte_at(text: &str, pos: usize) -> Option<u8> {
    text.as_bytes().get(pos).copied()
}

/// The operator starting at `pos`, longest first.
fn operator(text: &str, pos: usize) -> Option<&'static str> {
    const OPS: [&str; 13] = [
        "==", "!=", "=~", "!~", "&&", "||", "?", ":", "(", ")", ",", "!", "}",
    ];
    let rest = text.get(pos..)?;
    OPS.into_iter().find(|op| rest.starts_with(op))
}

/// Lexes from `start` to the end of the text (conditions) or past the `}` closing the
/// placeholder whose `${` is at `open` (templates); returns the tokens and where lexing ended.
pub(crate) fn lex(
    text: &str,
    dialect: Dialect,
    open: usize,
) -> Result<(Vec<(Tok, usize)>, usize), TemplateError> {
    let mut toks = Vec::new();
    let mut pos = match dialect {
        Dialect::Template => open + 2,
        Dialect::Condition => open,
    };
    loop {
        let Some(c) = char_at(text, pos) else {
            if dialect == Dialect::Condition {
                toks.push((Tok::End, pos));
                return Ok((toks, pos));
            }
            return fail(text, open, "unterminated `${`: no closing `}`");
        };
        if c.is_whitespace() {
            pos += c.len_utf8();
            continue;
        }
        let (tok, end) = match (c, operator(text, pos)) {
            ('}', _) if dialect == Dialect::Template => {
                toks.push((Tok::Op("}"), pos));
                return Ok((toks, pos + 1));
            }
            ('}', _) => return fail(text, pos, "unexpected character '}'"),
            ('=', None) => {
                let msg = "unexpected `=`; comparisons are written `==`, `!=`, `=~` and `!~`";
                return fail(text, pos, msg);
            }
            ('&' | '|', None) => {
                let msg = format!("unexpected `{c}`; write `&&` or `||`");
                return fail(text, pos, msg);
            }
            (_, Some(op)) => (Tok::Op(op), pos + op.len()),
            ('\'' | '"', _) => lex_string(text, pos, c)?,
            ('-' | '0'..='9', _) => lex_number(text, pos)?,
            (c, _) if c.is_ascii_alphabetic() || c == '_' => lex_name(text, dialect, pos)?,
            (other, _) => {
                return fail(text, pos, format!("unexpected character {other:?}"));
            }
        };
        toks.push((tok, pos));
        pos = end;
    }
}

fn lex_string(text: &str, open: usize, quote: char) -> Result<(Tok, usize), TemplateError> {
    let mut s = String::new();
    let mut pos = open + 1;
    loop {
        match (char_at(text, pos), char_at(text, pos + 1)) {
            (None, _) | (Some('\\'), None) => {
                return fail(text, open, "unterminated string literal");
            }
            (Some(c), _) if c == quote => return Ok((Tok::Value(Value::String(s)), pos + 1)),
            (Some('\\'), Some(c)) if c == quote || c == '\\' => {
                s.push(c);
                pos += 2;
            }
            (Some('\\'), Some(_)) => {
                let msg = format!(
                    "unknown escape in string literal; only `\\{quote}` and `\\\\` are allowed"
                );
                return fail(text, pos, msg);
            }
            (Some(c), _) => {
                s.push(c);
                pos += c.len_utf8();
            }
        }
    }
}

fn lex_number(text: &str, start: usize) -> Result<(Tok, usize), TemplateError> {
    // Take the longest run that could belong to a number and let serde_json judge it, so
    // the accepted syntax is exactly JSON's and `1-2` is reported rather than misread.
    let numeric = |b: u8| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-');
    let mut pos = start + 1;
    while byte_at(text, pos).is_some_and(numeric) {
        pos += 1;
    }
    let raw = text.get(start..pos).unwrap_or("");
    match serde_json::from_str::<Value>(raw) {
        Ok(v @ Value::Number(_)) => Ok((Tok::Value(v), pos)),
        _ => fail(text, start, format!("invalid number `{raw}`")),
    }
}

/// A variable path, a function name or a keyword literal.
fn lex_name(text: &str, dialect: Dialect, start: usize) -> Result<(Tok, usize), TemplateError> {
    // Segments after a dot may contain `-` (header names); there is no subtraction to confuse.
    let word = |mut end: usize, extra: u8| {
        let ok = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == extra;
        while byte_at(text, end).is_some_and(ok) {
            end += 1;
        }
        end
    };
    let mut end = word(start, b'_');
    let mut segments = vec![text.get(start..end).unwrap_or("").to_string()];
    while byte_at(text, end) == Some(b'.') {
        let seg_end = word(end + 1, b'-');
        if seg_end == end + 1 {
            return fail(text, end + 1, "expected a name after `.`");
        }
        segments.push(text.get(end + 1..seg_end).unwrap_or("").to_string());
        end = seg_end;
    }
    let function = dialect
        .functions()
        .split_whitespace()
        .find(|f| segments.len() == 1 && segments[0] == *f);
    let tok = match (segments.as_slice(), function) {
        (_, Some(f)) => Tok::Func(f),
        ([w], _) if w == "true" => Tok::Value(Value::Bool(true)),
        ([w], _) if w == "false" => Tok::Value(Value::Bool(false)),
        ([w], _) if w == "null" => Tok::Value(Value::Null),
        ([root, ..], _) if !dialect.variables().split_whitespace().any(|v| v == root) => {
            let mut known: Vec<&str> = dialect.variables().split_whitespace().collect();
            known.extend(dialect.functions().split_whitespace());
            let msg = format!("unknown variable `{root}`; known: {}", known.join(", "));
            return fail(text, start, msg);
        }
        _ => Tok::Path(segments),
    };
    Ok((tok, end))
}
