//! Payload templates for outgoing webhooks: JSON text with `${…}` placeholders
//! ("PackageFlow style"). Whatever an event carries (quotes, backslashes, newlines,
//! control characters, non-ASCII) must never break the JSON structure the template
//! author wrote, so the scanner tracks whether each placeholder stands inside a JSON
//! string literal (the value goes in JSON-escaped, without quotes; missing gives `""`)
//! or as a whole JSON value (the value goes in as JSON; missing gives `null`).
//! Expressions are deliberately tiny: variables, dotted paths into `data` (numeric
//! segments index arrays; `-` is allowed after a dot for names such as
//! `data.headers.x-github-event`), single-quoted strings (`\'` and `\\` escapes), JSON
//! numbers, `true`/`false`/`null`, `==`/`!=`, `cond ? a : b` and parentheses, nested
//! at most 64 deep. `$${` is the escape for a literal `${`; any other `$` is literal.
//! Unknown variable names are refused at parse time so typos surface when a hook is
//! created, not as silent `null`s at delivery. The module must not panic on any
//! input, must not look at anything beyond the `vars` it is given, and every error
//! carries a byte offset plus a 1-based line/column (in characters).

use serde_json::Value;

/// Bounds parser and evaluator recursion so hostile templates cannot overflow the stack.
const MAX_DEPTH: usize = 64;

/// Top-level names a template may reference; anything else is almost certainly a typo.
const VARIABLES: &str = "event_type event_id timestamp status hook_name workflow_name hook_id \
    workflow_id duration_ms exit_code message output project_name project_path data secret";

// Missing paths and comparison results borrow these, so evaluation never allocates.
static NULL: Value = Value::Null;
static TRUE: Value = Value::Bool(true);
static FALSE: Value = Value::Bool(false);

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

fn fail<T>(text: &str, offset: usize, message: impl Into<String>) -> Result<T, TemplateError> {
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

#[derive(Debug, Clone)]
enum Expr {
    Path(Vec<String>),
    Literal(Value),
    /// `==` when the flag is false, `!=` when true.
    Compare(bool, Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
}

/// `Op` holds operators, parentheses and the closing `}` of the placeholder.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Path(Vec<String>),
    Value(Value),
    Op(&'static str),
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Path(p) => format!("`{}`", p.join(".")),
            Tok::Value(v) => format!("`{v}`"),
            Tok::Op(op) => format!("`{op}`"),
        }
    }
}

/// Where a stretch of rendered output starts, where its template text starts, and whether
/// that text is literal (so offsets within it map one to one).
type Span = (usize, usize, bool);

fn char_at(text: &str, pos: usize) -> Option<char> {
    text.get(pos..)?.chars().next()
}

fn byte_at(text: &str, pos: usize) -> Option<u8> {
    text.as_bytes().get(pos).copied()
}

impl Template {
    /// Parses the template text. Errors carry the 1-based line/column of the problem.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut segments = Vec::new();
        let (mut lit, mut lit_src) = (String::new(), 0);
        let (mut in_string, mut escaped) = (false, false);
        // Hex digits still owed to a `\u` escape: a value spliced in there could complete the
        // escape for one value and break it for the next, so no placeholder may stand there.
        let mut hex_left = 0u8;
        let mut hex = String::new();
        // Just after a `\uD800`–`\uDBFF` escape: its low half must follow literally.
        let mut after_high_surrogate = false;
        let mut pos = 0;
        while let Some(c) = char_at(text, pos) {
            let rest = text.get(pos..).unwrap_or("");
            // An escaped character is part of a JSON escape, so `\${` is never a placeholder.
            if !escaped && (rest.starts_with("$${") || rest.starts_with("${")) {
                if hex_left > 0 {
                    return Err(TemplateError::at(
                        text,
                        pos,
                        "a placeholder cannot stand inside a \\u escape",
                    ));
                }
                if after_high_surrogate {
                    return Err(TemplateError::at(
                        text,
                        pos,
                        "a placeholder cannot split a \\u surrogate pair",
                    ));
                }
                if !lit.is_empty() {
                    segments.push(Segment::Literal(std::mem::take(&mut lit), lit_src));
                }
                if rest.starts_with("$${") {
                    segments.push(Segment::Literal("${".into(), pos));
                    pos += 3;
                } else {
                    let (expr, end) = parse_placeholder(text, pos)?;
                    segments.push(Segment::Placeholder(expr, in_string, pos));
                    pos = end;
                }
                continue;
            }
            after_high_surrogate = false;
            if hex_left > 0 && c.is_ascii_hexdigit() {
                hex_left -= 1;
                hex.push(c);
                if hex_left == 0 {
                    after_high_surrogate =
                        u16::from_str_radix(&hex, 16).is_ok_and(|u| (0xD800..=0xDBFF).contains(&u));
                }
            } else {
                hex_left = 0;
            }
            if escaped {
                escaped = false;
                if c == 'u' {
                    hex_left = 4;
                    hex.clear();
                }
            } else if c == '"' {
                in_string = !in_string;
            } else if c == '\\' && in_string {
                escaped = true;
            }
            if lit.is_empty() {
                lit_src = pos;
            }
            lit.push(c);
            pos += c.len_utf8();
        }
        if !lit.is_empty() {
            segments.push(Segment::Literal(lit, lit_src));
        }
        Ok(Template { segments })
    }

    /// Renders with `vars`: a serde_json::Value::Object whose top-level keys are the variables
    /// (event_type, event_id, ..., and `data` holding the event data object). The aliases
    /// workflow_name -> hook_name and workflow_id -> hook_id are resolved by the renderer.
    /// Returns the rendered text; it must be valid JSON, otherwise an error whose position
    /// points into the rendered output is returned (message says the result is not valid JSON).
    pub fn render(&self, vars: &Value) -> Result<String, TemplateError> {
        let (out, _) = self.render_spans(vars);
        match json_error(&out) {
            None => Ok(out),
            Some((offset, message)) => fail(&out, offset, message),
        }
    }

    /// Parse + render against `sample` and check the result is valid JSON: the create-time check.
    /// Unlike `render`, an invalid result is reported at the template position that produced
    /// the offending output, since that is the text the author can edit.
    pub fn check(text: &str, sample: &Value) -> Result<(), TemplateError> {
        let (out, spans) = Template::parse(text)?.render_spans(sample);
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

    fn render_spans(&self, vars: &Value) -> (String, Vec<Span>) {
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
        }
        (out, spans)
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

fn eval<'a>(expr: &'a Expr, vars: &'a Value) -> &'a Value {
    match expr {
        Expr::Path(path) => lookup(vars, path),
        Expr::Literal(v) => v,
        Expr::Compare(negate, l, r) if json_eq(eval(l, vars), eval(r, vars)) != *negate => &TRUE,
        Expr::Compare(..) => &FALSE,
        Expr::Cond(test, a, _) if truthy(eval(test, vars)) => eval(a, vars),
        Expr::Cond(_, _, b) => eval(b, vars),
    }
}

fn lookup<'a>(vars: &'a Value, path: &[String]) -> &'a Value {
    let Some((root, rest)) = path.split_first() else {
        return &NULL;
    };
    let canonical = match root.as_str() {
        "workflow_name" => "hook_name",
        "workflow_id" => "hook_id",
        other => other,
    };
    let mut cur = vars.get(canonical).or_else(|| vars.get(root.as_str()));
    for seg in rest {
        cur = match cur {
            Some(Value::Object(map)) => map.get(seg),
            Some(Value::Array(items)) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
    }
    cur.unwrap_or(&NULL)
}

/// False, null, `""`, `0` and missing (which evaluates to null) are false; all else is true.
fn truthy(v: &Value) -> bool {
    let falsy = matches!(v, Value::Null | Value::Bool(false));
    !falsy && v.as_str() != Some("") && v.as_f64() != Some(0.0)
}

/// JSON equality where numbers compare by value (`1 == 1.0`) rather than by representation.
fn json_eq(a: &Value, b: &Value) -> bool {
    let int = |n: &serde_json::Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (int(x), int(y)) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64().zip(y.as_f64()).is_some_and(|(f, g)| f == g),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Parses the placeholder whose `${` is at `open`; returns it and the offset past its `}`.
fn parse_placeholder(text: &str, open: usize) -> Result<(Expr, usize), TemplateError> {
    let (toks, end) = lex(text, open)?;
    if let Some((Tok::Op("}"), pos)) = toks.first() {
        return fail(text, *pos, "empty expression in `${}`");
    }
    let mut parser = Parser {
        text,
        toks: &toks,
        idx: 0,
    };
    let expr = parser.ternary(0)?;
    if let (Some(Tok::Op("}")), _) = parser.peek() {
        return Ok((expr, end));
    }
    let msg = format!("unexpected {}, expected `}}`", parser.found());
    fail(text, parser.peek().1, msg)
}

fn lex(text: &str, open: usize) -> Result<(Vec<(Tok, usize)>, usize), TemplateError> {
    let mut toks = Vec::new();
    let mut pos = open + 2;
    loop {
        let Some(c) = char_at(text, pos) else {
            return fail(text, open, "unterminated `${`: no closing `}`");
        };
        let (tok, end) = match c {
            '}' => {
                toks.push((Tok::Op("}"), pos));
                return Ok((toks, pos + 1));
            }
            c if c.is_whitespace() => {
                pos += c.len_utf8();
                continue;
            }
            '?' => (Tok::Op("?"), pos + 1),
            ':' => (Tok::Op(":"), pos + 1),
            '(' => (Tok::Op("("), pos + 1),
            ')' => (Tok::Op(")"), pos + 1),
            '=' if byte_at(text, pos + 1) == Some(b'=') => (Tok::Op("=="), pos + 2),
            '!' if byte_at(text, pos + 1) == Some(b'=') => (Tok::Op("!="), pos + 2),
            '=' | '!' => {
                let msg = format!("unexpected `{c}`; comparisons are written `==` and `!=`");
                return fail(text, pos, msg);
            }
            '\'' => lex_string(text, pos)?,
            '-' | '0'..='9' => lex_number(text, pos)?,
            c if c.is_ascii_alphabetic() || c == '_' => lex_path(text, pos)?,
            other => {
                return fail(text, pos, format!("unexpected character {other:?}"));
            }
        };
        toks.push((tok, pos));
        pos = end;
    }
}

fn lex_string(text: &str, quote: usize) -> Result<(Tok, usize), TemplateError> {
    let mut s = String::new();
    let mut pos = quote + 1;
    loop {
        match (char_at(text, pos), char_at(text, pos + 1)) {
            (None, _) | (Some('\\'), None) => {
                return fail(text, quote, "unterminated string literal");
            }
            (Some('\''), _) => return Ok((Tok::Value(Value::String(s)), pos + 1)),
            (Some('\\'), Some(c @ ('\'' | '\\'))) => {
                s.push(c);
                pos += 2;
            }
            (Some('\\'), Some(_)) => {
                let msg = "unknown escape in string literal; only `\\'` and `\\\\` are allowed";
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

fn lex_path(text: &str, start: usize) -> Result<(Tok, usize), TemplateError> {
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
    let tok = match segments.as_slice() {
        [w] if w == "true" => Tok::Value(Value::Bool(true)),
        [w] if w == "false" => Tok::Value(Value::Bool(false)),
        [w] if w == "null" => Tok::Value(Value::Null),
        [root, ..] if !VARIABLES.split_whitespace().any(|v| v == root) => {
            let known = VARIABLES.split_whitespace().collect::<Vec<_>>().join(", ");
            let msg = format!("unknown variable `{root}`; known: {known}");
            return fail(text, start, msg);
        }
        _ => Tok::Path(segments),
    };
    Ok((tok, end))
}

/// Recursive descent over one placeholder's tokens, which always end with `}`.
struct Parser<'t> {
    text: &'t str,
    toks: &'t [(Tok, usize)],
    idx: usize,
}

impl Parser<'_> {
    fn peek(&self) -> (Option<&Tok>, usize) {
        match self.toks.get(self.idx) {
            Some((tok, pos)) => (Some(tok), *pos),
            None => (None, self.text.len()),
        }
    }

    fn found(&self) -> String {
        self.peek()
            .0
            .map_or("end of expression".into(), Tok::describe)
    }

    fn eat(&mut self, want: &Tok) -> bool {
        let hit = self.peek().0 == Some(want);
        self.idx += usize::from(hit);
        hit
    }

    fn expect(&mut self, want: &Tok) -> Result<(), TemplateError> {
        if self.eat(want) {
            return Ok(());
        }
        let msg = format!("expected {}, found {}", want.describe(), self.found());
        fail(self.text, self.peek().1, msg)
    }

    fn ternary(&mut self, depth: usize) -> Result<Expr, TemplateError> {
        if depth >= MAX_DEPTH {
            let msg = format!("expression nested too deeply (limit {MAX_DEPTH})");
            return fail(self.text, self.peek().1, msg);
        }
        let test = self.equality(depth)?;
        if !self.eat(&Tok::Op("?")) {
            return Ok(test);
        }
        let then = self.ternary(depth + 1)?;
        self.expect(&Tok::Op(":"))?;
        let otherwise = self.ternary(depth + 1)?;
        let (then, otherwise) = (Box::new(then), Box::new(otherwise));
        Ok(Expr::Cond(Box::new(test), then, otherwise))
    }

    fn equality(&mut self, depth: usize) -> Result<Expr, TemplateError> {
        let left = self.primary(depth)?;
        let negate = match self.peek().0 {
            Some(Tok::Op("==")) => false,
            Some(Tok::Op("!=")) => true,
            _ => return Ok(left),
        };
        self.idx += 1;
        let right = self.primary(depth)?;
        Ok(Expr::Compare(negate, Box::new(left), Box::new(right)))
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, TemplateError> {
        let expr = match self.peek().0 {
            Some(Tok::Path(p)) => Expr::Path(p.clone()),
            Some(Tok::Value(v)) => Expr::Literal(v.clone()),
            Some(Tok::Op("(")) => {
                self.idx += 1;
                let inner = self.ternary(depth + 1)?;
                self.expect(&Tok::Op(")"))?;
                return Ok(inner);
            }
            _ => {
                let msg = format!("expected a value, found {}", self.found());
                return fail(self.text, self.peek().1, msg);
            }
        };
        self.idx += 1;
        Ok(expr)
    }
}

#[cfg(test)]
mod tests;
