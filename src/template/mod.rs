//! Payload templates for outgoing webhooks: JSON text with `${…}` placeholders
//! ("PackageFlow style"). Whatever an event carries (quotes, backslashes, newlines,
//! control characters, non-ASCII) must never break the JSON structure the template
//! author wrote, so the scanner tracks whether each placeholder stands inside a JSON
//! string literal (the value goes in JSON-escaped, without quotes; missing gives `""`)
//! or as a whole JSON value (the value goes in as JSON; missing gives `null`).
//! The expressions inside placeholders are [`expr`]'s, the language hook conditions
//! ([`Condition`]) use too. `$${` is the escape for a literal `${`; any other `$` is literal.
//! Unknown variable names are refused at parse time so typos surface when a hook is
//! created, not as silent `null`s at delivery. The module must not panic on any
//! input, must not look at anything beyond the `vars` it is given, and every error
//! carries a byte offset plus a 1-based line/column (in characters).

mod condition;
mod expr;
mod lex;
mod parse;

pub use condition::{Condition, RequestView};
use expr::{Expr, eval};
use lex::char_at;
use parse::parse_placeholder;
use serde_json::Value;

/// A template problem with the position it refers to: the template text for
/// parse errors and `check`, the rendered output for `render`.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[error("template error at line {line}, column {column}: {message}")]
pub struct TemplateError {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl TemplateError {
    fn at(text: &str, offset: usize, message: impl Into<String>) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let message = message.into();
        TemplateError {
            offset,
            line,
            column,
            message,
        }
    }
}

pub(crate) fn fail<T>(
    text: &str,
    offset: usize,
    message: impl Into<String>,
) -> Result<T, TemplateError> {
    Err(TemplateError::at(text, offset, message))
}

/// A parsed template, ready to render against any number of events.
#[derive(Debug, Clone)]
pub struct Template {
    segments: Vec<Segment>,
}

/// Each segment keeps its byte offset in the template so output errors can be mapped back.
#[derive(Debug, Clone)]
enum Segment {
    /// Text copied verbatim; it equals the template bytes at the offset (except `$${`).
    Literal(String, usize),
    /// An expression and whether it stands inside a JSON string literal.
    Placeholder(Expr, bool, usize),
}

/// Where the scan of a template stands in the JSON text around its placeholders.
#[derive(Default)]
struct Scanner {
    segments: Vec<Segment>,
    /// Literal text since the last placeholder, and where it started.
    lit: String,
    lit_src: usize,
    in_string: bool,
    escaped: bool,
    /// Hex digits still owed to a `\u` escape: a value spliced in there could complete the
    /// escape for one value and break it for the next, so no placeholder may stand there.
    hex_left: u8,
    hex: String,
    /// Just after a `\uD800`–`\uDBFF` escape: its low half must follow literally.
    after_high_surrogate: bool,
    /// The objects and arrays open around this point, innermost last.
    open: Vec<char>,
    /// In an object, where a key (not a value) comes next.
    expect_key: bool,
    /// The string being scanned is an object key.
    in_key: bool,
}

impl Scanner {
    /// Why a placeholder may not start here, if it may not.
    fn no_placeholder_here(&self) -> Option<&'static str> {
        if self.hex_left > 0 {
            return Some("a placeholder cannot stand inside a \\u escape");
        }
        if self.after_high_surrogate {
            return Some("a placeholder cannot split a \\u surrogate pair");
        }
        None
    }

    /// Whether a placeholder here would be (part of) an object key: a key must be a string
    /// whatever the event holds, so keys are the template's own.
    fn in_key_position(&self) -> bool {
        self.in_key || (!self.in_string && self.expect_key && self.open.last() == Some(&'{'))
    }

    /// Follows the JSON structure outside strings: which container is open, key or value next.
    fn structure(&mut self, c: char) {
        match c {
            '{' => {
                self.open.push('{');
                self.expect_key = true;
            }
            '[' => {
                self.open.push('[');
                self.expect_key = false;
            }
            '}' | ']' => {
                self.open.pop();
                self.expect_key = false;
            }
            ':' => self.expect_key = false,
            ',' => self.expect_key = self.open.last() == Some(&'{'),
            _ => {}
        }
    }

    /// Ends the literal text so far as a segment.
    fn flush(&mut self) {
        if !self.lit.is_empty() {
            let lit = std::mem::take(&mut self.lit);
            self.segments.push(Segment::Literal(lit, self.lit_src));
        }
    }

    /// Takes one literal character at `pos`, following JSON strings and escapes.
    fn literal(&mut self, c: char, pos: usize) {
        self.after_high_surrogate = false;
        if self.hex_left > 0 && c.is_ascii_hexdigit() {
            self.hex_left -= 1;
            self.hex.push(c);
            if self.hex_left == 0 {
                self.after_high_surrogate = u16::from_str_radix(&self.hex, 16)
                    .is_ok_and(|u| (0xD800..=0xDBFF).contains(&u));
            }
        } else {
            self.hex_left = 0;
        }
        if self.escaped {
            self.escaped = false;
            if c == 'u' {
                self.hex_left = 4;
                self.hex.clear();
            }
        } else if c == '"' {
            self.in_string = !self.in_string;
            self.in_key = self.in_string && self.expect_key && self.open.last() == Some(&'{');
        } else if c == '\\' && self.in_string {
            self.escaped = true;
        } else if !self.in_string {
            self.structure(c);
        }
        if self.lit.is_empty() {
            self.lit_src = pos;
        }
        self.lit.push(c);
    }
}

/// Where a stretch of rendered output starts, where its template text starts, and whether
/// that text is literal (so offsets within it map one to one).
type Span = (usize, usize, bool);

impl Template {
    /// Parses the template text. Errors carry the 1-based line/column of the problem.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut scan = Scanner::default();
        let mut pos = 0;
        while let Some(c) = char_at(text, pos) {
            let rest = text.get(pos..).unwrap_or("");
            // An escaped character is part of a JSON escape, so `\${` is never a placeholder.
            if !scan.escaped && (rest.starts_with("$${") || rest.starts_with("${")) {
                if let Some(why) = scan.no_placeholder_here() {
                    return fail(text, pos, why);
                }
                scan.flush();
                if rest.starts_with("$${") {
                    scan.segments.push(Segment::Literal("${".into(), pos));
                    pos += 3;
                } else {
                    if scan.in_key_position() {
                        let why = "a placeholder cannot stand in key position; use it as a value";
                        return fail(text, pos, why);
                    }
                    let (expr, end) = parse_placeholder(text, pos)?;
                    scan.segments
                        .push(Segment::Placeholder(expr, scan.in_string, pos));
                    pos = end;
                }
                continue;
            }
            scan.literal(c, pos);
            pos += c.len_utf8();
        }
        scan.flush();
        Ok(Template {
            segments: scan.segments,
        })
    }

    /// Renders with `vars`: a serde_json::Value::Object whose top-level keys are the variables
    /// (event_type, event_id, ..., and `data` holding the event data object). The aliases
    /// workflow_name -> hook_name and workflow_id -> hook_id are resolved by the renderer.
    /// Returns the rendered text; it must be valid JSON, otherwise an error whose position
    /// points into the rendered output is returned (message says the result is not valid JSON).
    pub fn render(&self, vars: &Value) -> Result<String, TemplateError> {
        self.render_at_most(vars, usize::MAX)
            .map(|out| out.unwrap_or_default())
    }

    /// [`Template::render`], giving up (`Ok(None)`) as soon as the output passes `max` bytes, so
    /// a hostile event cannot make it build a huge string first.
    pub fn render_at_most(
        &self,
        vars: &Value,
        max: usize,
    ) -> Result<Option<String>, TemplateError> {
        let Some((out, _)) = self.render_spans(vars, max) else {
            return Ok(None);
        };
        match json_error(&out) {
            None => Ok(Some(out)),
            Some((offset, message)) => fail(&out, offset, message),
        }
    }

    /// Parse + render against `sample` and check the result is valid JSON: the create-time check.
    /// Unlike `render`, an invalid result is reported at the template position that produced
    /// the offending output, since that is the text the author can edit.
    pub fn check(text: &str, sample: &Value) -> Result<(), TemplateError> {
        let Some((out, spans)) = Template::parse(text)?.render_spans(sample, usize::MAX) else {
            return Ok(());
        };
        let Some((offset, message)) = json_error(&out) else {
            return Ok(());
        };
        let idx = spans.partition_point(|&(out, _, _)| out <= offset);
        let src = match idx.checked_sub(1).and_then(|i| spans.get(i)) {
            Some(&(out, src, true)) => src + (offset - out),
            Some(&(_, src, false)) => src,
            None => 0,
        };
        let message = format!("{message} (rendered with the sample event)");
        fail(text, src, message)
    }

    /// The output with where each stretch came from; `None` once it passes `max` bytes.
    fn render_spans(&self, vars: &Value, max: usize) -> Option<(String, Vec<Span>)> {
        let mut out = String::new();
        let mut spans = Vec::with_capacity(self.segments.len());
        for seg in &self.segments {
            let start = out.len();
            let (src, literal) = match seg {
                Segment::Literal(text, src) => {
                    out.push_str(text);
                    (*src, true)
                }
                Segment::Placeholder(expr, in_string, src) => {
                    let value = eval(expr, vars);
                    if *in_string {
                        write_in_string(&mut out, value);
                    } else {
                        out.push_str(&value.to_string());
                    }
                    (*src, false)
                }
            };
            spans.push((start, src, literal));
            if out.len() > max {
                return None;
            }
        }
        Some((out, spans))
    }
}

/// Returns the byte offset and message of the first JSON syntax error in `out`, if any.
fn json_error(out: &str) -> Option<(usize, String)> {
    let err = serde_json::from_str::<Value>(out).err()?;
    let offset = if err.is_eof() {
        out.len()
    } else {
        // serde_json reports a 1-based byte column pointing at the offending character.
        let lines_before = out.split_inclusive('\n').take(err.line().saturating_sub(1));
        lines_before.map(str::len).sum::<usize>() + err.column().saturating_sub(1)
    };
    let full = err.to_string();
    let reason = full.split(" at line ").next().unwrap_or(&full);
    let message = format!("rendered output is not valid JSON: {reason}");
    Some((offset, message))
}

fn write_in_string(out: &mut String, value: &Value) {
    let quoted = match value {
        Value::Null => return,
        Value::Bool(_) | Value::Number(_) => return out.push_str(&value.to_string()),
        Value::String(_) => value.to_string(),
        Value::Array(_) | Value::Object(_) => Value::String(value.to_string()).to_string(),
    };
    // serde_json's own string encoding is the escaping; only the surrounding quotes go.
    out.push_str(quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or(""));
}

#[cfg(test)]
mod tests;
