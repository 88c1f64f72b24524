//! Placeholder expressions: lexing, parsing and evaluating what stands inside `${…}`.
//!
//! Deliberately tiny: variables, dotted paths into `data` (numeric segments index arrays; `-` is
//! allowed after a dot for names such as `data.headers.x-github-event`), single-quoted strings
//! (`\'` and `\\` escapes), JSON numbers, `true`/`false`/`null`, `==`/`!=`, `cond ? a : b` and
//! parentheses, nested at most [`MAX_DEPTH`] deep. Unknown variable names are refused when
//! parsed. Evaluation never fails and never allocates: a missing path is `null`.

use super::{TemplateError, fail};
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

#[derive(Debug, Clone)]
pub(super) enum Expr {
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

pub(super) fn char_at(text: &str, pos: usize) -> Option<char> {
    text.get(pos..)?.chars().next()
}

fn byte_at(text: &str, pos: usize) -> Option<u8> {
    text.as_bytes().get(pos).copied()
}

pub(super) fn eval<'a>(expr: &'a Expr, vars: &'a Value) -> &'a Value {
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
pub(super) fn parse_placeholder(text: &str, open: usize) -> Result<(Expr, usize), TemplateError> {
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
