//! Hook conditions (`--if EXPR`): the template language's expressions over a request.
//!
//! A condition is parsed once, when its hook is created, edited or loaded, so a call only
//! evaluates it; evaluation cannot fail. What it sees of the request is built by
//! [`Condition::vars`] with the rules adnanh/webhook users rely on: the payload is the body
//! decoded as JSON (content type containing `json`) or as a form (`x-www-form-urlencoded`),
//! else `null`; headers are matched case-insensitively; a header, query or form field given
//! several times counts with its first value.

use super::TemplateError;
use super::expr::{Expr, eval, truthy};
use serde_json::{Map, Value};

/// A parsed condition, printable back as the text it was parsed from would normalise to.
#[derive(Debug, Clone)]
pub struct Condition {
    expr: Expr,
    /// The top-level names the expression reads (`payload`, `headers`, …): a call builds
    /// only these.
    roots: Vec<String>,
}

/// The parts of a request a condition can look at.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    pub method: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    pub remote_addr: &'a str,
    /// The type the body is read as (the request's, or the hook's override).
    pub content_type: &'a str,
    /// Names in lower case, in arrival order.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl Condition {
    /// Parses a condition; the error carries the column of the problem.
    pub fn parse(text: &str) -> Result<Condition, TemplateError> {
        super::parse::parse_condition(text).map(|expr| {
            let mut roots = Vec::new();
            expr.roots(&mut roots);
            Condition { expr, roots }
        })
    }

    /// Whether evaluating the condition can read the request value `root` (a top-level name
    /// of [`Condition::vars`]).
    pub fn reads(&self, root: &str) -> bool {
        self.roots.iter().any(|r| r == root)
    }

    /// Whether the condition holds for a request whose [`Condition::vars`] these are.
    pub fn holds(&self, vars: &Value) -> bool {
        truthy(eval(&self.expr, vars))
    }

    /// The value the condition evaluates to (for tests and diagnostics).
    pub fn value<'a>(&'a self, vars: &'a Value) -> &'a Value {
        eval(&self.expr, vars)
    }

    /// What a condition sees of this request.
    pub fn vars(req: &RequestView<'_>) -> Value {
        Condition::vars_of(req, |_| true)
    }

    /// [`Condition::vars`] with only the top-level names `wanted` accepts (the others are
    /// missing, so they read as `null`): decoding a body nobody looks at costs more than the
    /// rest of a call.
    pub fn vars_of(req: &RequestView<'_>, wanted: impl Fn(&str) -> bool) -> Value {
        let mut vars = Map::new();
        let mut put = |name: &str, value: &dyn Fn() -> Value| {
            if wanted(name) {
                vars.insert(name.to_string(), value());
            }
        };
        put("payload", &|| payload(req.content_type, req.body));
        put("method", &|| Value::String(req.method.to_string()));
        put("remote_addr", &|| {
            Value::String(req.remote_addr.to_string())
        });
        put("body", &|| {
            Value::String(String::from_utf8_lossy(req.body).into_owned())
        });
        put("content_type", &|| {
            Value::String(req.content_type.to_string())
        });
        put("headers", &|| {
            let mut headers = Map::new();
            for (k, v) in req.headers {
                headers
                    .entry(k.to_ascii_lowercase())
                    .or_insert_with(|| Value::String(v.clone()));
            }
            Value::Object(headers)
        });
        put("query", &|| form(req.query.as_bytes()));
        Value::Object(vars)
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.expr.fmt(f)
    }
}

/// The body as a value: JSON or form fields by content type, else `null`.
pub fn payload(content_type: &str, body: &[u8]) -> Value {
    let ct = content_type.to_ascii_lowercase();
    if ct.contains("json") {
        return serde_json::from_slice(body).unwrap_or(Value::Null);
    }
    if ct.contains("x-www-form-urlencoded") {
        return form(body);
    }
    Value::Null
}

/// Form or query fields, each with its first value.
fn form(text: &[u8]) -> Value {
    let mut map = Map::new();
    for (k, v) in form_urlencoded::parse(text) {
        map.entry(k.into_owned())
            .or_insert_with(|| Value::String(v.into_owned()));
    }
    Value::Object(map)
}
