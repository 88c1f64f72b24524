//! Expressions of the template language, as parsed by [`super::parse`], and their evaluation.
//!
//! Values: variables and dotted paths (numeric segments index arrays; at each step a key that
//! literally holds the rest of the path, dots included, wins over descending), string and
//! number literals, `true`/`false`/`null`. Operators: `==`/`!=` (JSON equality, numbers by
//! value), `=~`/`!~` (a regex compiled when parsed), `&&`, `||`, `!`, `cond ? a : b`; for
//! conditions also `header('X')`, `query('x')` and `ip_in(addr, 'CIDR', …)`. Evaluation never
//! fails and never panics: a missing value is `null`, a comparison of mismatched types is
//! false. `Display` prints an expression back as text that parses to the same expression.

use crate::netaddr::Cidr;
use serde_json::Value;
use std::fmt;

// Missing paths and comparison results borrow these, so evaluation never allocates a value.
static NULL: Value = Value::Null;
static TRUE: Value = Value::Bool(true);
static FALSE: Value = Value::Bool(false);

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Path(Vec<String>),
    Literal(Value),
    /// `==` when the flag is false, `!=` when true.
    Compare(bool, Box<Expr>, Box<Expr>),
    /// `=~` when the flag is false, `!~` when true.
    Match(bool, Box<Expr>, Box<regex::Regex>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Lookup(Func),
    /// The networks as written, and parsed.
    IpIn(Box<Expr>, Vec<(String, Cidr)>),
}

/// Request lookups by a name fixed when parsed.
#[derive(Debug, Clone)]
pub(crate) enum Func {
    /// Lower-cased; headers are looked up in `vars.headers`, whose keys are lower case.
    Header(String),
    Query(String),
}

impl Expr {
    /// Adds the top-level variable names this expression reads to `out` (once each).
    pub(crate) fn roots(&self, out: &mut Vec<String>) {
        let mut add = |name: &str| {
            if !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        };
        match self {
            Expr::Path(path) => {
                if let Some(first) = path.first() {
                    add(first);
                }
            }
            Expr::Literal(_) => {}
            Expr::Lookup(Func::Header(_)) => add("headers"),
            Expr::Lookup(Func::Query(_)) => add("query"),
            Expr::Compare(_, l, r) | Expr::And(l, r) | Expr::Or(l, r) => {
                l.roots(out);
                r.roots(out);
            }
            Expr::Match(_, e, _) | Expr::Not(e) | Expr::IpIn(e, _) => e.roots(out),
            Expr::Cond(t, a, b) => {
                t.roots(out);
                a.roots(out);
                b.roots(out);
            }
        }
    }
}

fn bool_value(b: bool) -> &'static Value {
    if b { &TRUE } else { &FALSE }
}

pub(crate) fn eval<'a>(expr: &'a Expr, vars: &'a Value) -> &'a Value {
    match expr {
        Expr::Path(path) => lookup(vars, path),
        Expr::Literal(v) => v,
        Expr::Compare(negate, l, r) => bool_value(json_eq(eval(l, vars), eval(r, vars)) != *negate),
        Expr::Match(negate, l, re) => bool_value(matches(re, eval(l, vars)) != *negate),
        Expr::And(l, r) => bool_value(truthy(eval(l, vars)) && truthy(eval(r, vars))),
        Expr::Or(l, r) => bool_value(truthy(eval(l, vars)) || truthy(eval(r, vars))),
        Expr::Not(e) => bool_value(!truthy(eval(e, vars))),
        Expr::Cond(test, a, _) if truthy(eval(test, vars)) => eval(a, vars),
        Expr::Cond(_, _, b) => eval(b, vars),
        Expr::Lookup(Func::Header(name)) => vars
            .get("headers")
            .and_then(|h| h.get(name.as_str()))
            .unwrap_or(&NULL),
        Expr::Lookup(Func::Query(name)) => vars
            .get("query")
            .and_then(|q| q.get(name.as_str()))
            .unwrap_or(&NULL),
        Expr::IpIn(addr, nets) => {
            let ip = eval(addr, vars).as_str().and_then(parse_ip);
            bool_value(ip.is_some_and(|ip| nets.iter().any(|(_, n)| n.contains(ip))))
        }
    }
}

/// An address as `IP`, `IP:port` or `[IPv6]:port`.
fn parse_ip(s: &str) -> Option<std::net::IpAddr> {
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    s.parse::<std::net::SocketAddr>().ok().map(|a| a.ip())
}

/// Strings match as they are; numbers and booleans as their JSON text; null, arrays and
/// objects never.
fn matches(re: &regex::Regex, v: &Value) -> bool {
    match v {
        Value::String(s) => re.is_match(s),
        Value::Number(_) | Value::Bool(_) => re.is_match(&v.to_string()),
        _ => false,
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
    match vars.get(canonical).or_else(|| vars.get(root.as_str())) {
        Some(v) => descend(v, rest),
        None => &NULL,
    }
}

/// Follows `path` into `v`. In an object a key equal to the rest of the path joined with dots
/// wins over descending by its first segment.
fn descend<'a>(mut v: &'a Value, mut path: &[String]) -> &'a Value {
    while let Some((first, rest)) = path.split_first() {
        let next = match v {
            Value::Object(map) if !rest.is_empty() => {
                if let Some(whole) = map.get(&path.join(".")) {
                    return whole;
                }
                map.get(first)
            }
            Value::Object(map) => map.get(first),
            Value::Array(items) => first.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(n) => v = n,
            None => return &NULL,
        }
        path = rest;
    }
    v
}

/// False, null, `""`, `0` and missing (which evaluates to null) are false; all else is true.
pub(crate) fn truthy(v: &Value) -> bool {
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

/// A single-quoted literal that lexes back to `s`.
fn quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for c in s.chars() {
        if matches!(c, '\'' | '\\') {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("'")
}

/// Fully parenthesised, so printing and parsing again gives the same tree.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Path(p) => f.write_str(&p.join(".")),
            Expr::Literal(Value::String(s)) => quoted(f, s),
            Expr::Literal(v) => write!(f, "{v}"),
            Expr::Compare(neg, l, r) => {
                let op = if *neg { "!=" } else { "==" };
                write!(f, "({l} {op} {r})")
            }
            Expr::Match(neg, l, re) => {
                write!(f, "({l} {} ", if *neg { "!~" } else { "=~" })?;
                quoted(f, re.as_str())?;
                f.write_str(")")
            }
            Expr::And(l, r) => write!(f, "({l} && {r})"),
            Expr::Or(l, r) => write!(f, "({l} || {r})"),
            Expr::Not(e) => write!(f, "!{e}"),
            Expr::Cond(t, a, b) => write!(f, "({t} ? {a} : {b})"),
            Expr::Lookup(Func::Header(h)) => {
                f.write_str("header(")?;
                quoted(f, h)?;
                f.write_str(")")
            }
            Expr::Lookup(Func::Query(q)) => {
                f.write_str("query(")?;
                quoted(f, q)?;
                f.write_str(")")
            }
            Expr::IpIn(addr, nets) => {
                write!(f, "ip_in({addr}")?;
                for (text, _) in nets {
                    f.write_str(", ")?;
                    quoted(f, text)?;
                }
                f.write_str(")")
            }
        }
    }
}
