//! Recursive descent over the tokens of one placeholder or condition.
//!
//! Precedence, loosest first: `cond ? a : b`, `||`, `&&`, the comparisons (`==`, `!=`, `=~`,
//! `!~`, not chainable), `!`, then values, function calls and parentheses. Whatever can be
//! checked before a call arrives is checked here: regular expressions are compiled, CIDRs
//! parsed, so a hook with a broken condition is refused when it is created, and evaluation
//! has nothing left that can fail. Recursion is bounded by [`MAX_DEPTH`].

use super::expr::{Expr, Func};
use super::lex::{Dialect, Tok, lex};
use super::{TemplateError, fail};
use crate::netaddr::Cidr;
use serde_json::Value;

/// Bounds parser and evaluator recursion so hostile text cannot overflow the stack.
const MAX_DEPTH: usize = 64;

/// Parses the placeholder whose `${` is at `open`; returns it and the offset past its `}`.
pub(crate) fn parse_placeholder(text: &str, open: usize) -> Result<(Expr, usize), TemplateError> {
    let (toks, end) = lex(text, Dialect::Template, open)?;
    if let Some((Tok::Op("}"), pos)) = toks.first() {
        return fail(text, *pos, "empty expression in `${}`");
    }
    let expr = parse_all(text, &toks, Tok::Op("}"))?;
    Ok((expr, end))
}

/// Parses a whole condition.
pub(crate) fn parse_condition(text: &str) -> Result<Expr, TemplateError> {
    let (toks, _) = lex(text, Dialect::Condition, 0)?;
    if let Some((Tok::End, pos)) = toks.first() {
        return fail(text, *pos, "empty condition");
    }
    parse_all(text, &toks, Tok::End)
}

fn parse_all(text: &str, toks: &[(Tok, usize)], end: Tok) -> Result<Expr, TemplateError> {
    let mut parser = Parser { text, toks, idx: 0 };
    let expr = parser.ternary(0)?;
    if parser.peek().0 == Some(&end) {
        return Ok(expr);
    }
    let msg = format!("unexpected {}, expected {}", parser.found(), end.describe());
    fail(text, parser.peek().1, msg)
}

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

    fn deeper(&self, depth: usize) -> Result<usize, TemplateError> {
        if depth >= MAX_DEPTH {
            let msg = format!("expression nested too deeply (limit {MAX_DEPTH})");
            return fail(self.text, self.peek().1, msg);
        }
        Ok(depth + 1)
    }

    fn ternary(&mut self, depth: usize) -> Result<Expr, TemplateError> {
        let depth = self.deeper(depth)?;
        let test = self.or(depth)?;
        if !self.eat(&Tok::Op("?")) {
            return Ok(test);
        }
        let then = self.ternary(depth)?;
        self.expect(&Tok::Op(":"))?;
        let otherwise = self.ternary(depth)?;
        let (then, otherwise) = (Box::new(then), Box::new(otherwise));
        Ok(Expr::Cond(Box::new(test), then, otherwise))
    }

    fn or(&mut self, depth: usize) -> Result<Expr, TemplateError> {
        let mut left = self.and(depth)?;
        let mut depth = depth;
        while self.eat(&Tok::Op("||")) {
            // A chain nests as deep as it is long once parsed: bound it like nesting.
            depth = self.deeper(depth)?;
            let right = self.and(depth)?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Expr, TemplateError> {
        let mut left = self.comparison(depth)?;
        let mut depth = depth;
        while self.eat(&Tok::Op("&&")) {
            depth = self.deeper(depth)?;
            let right = self.comparison(depth)?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn comparison(&mut self, depth: usize) -> Result<Expr, TemplateError> {
        let left = self.unary(depth)?;
        let op = match self.peek().0 {
            Some(Tok::Op(op @ ("==" | "!=" | "=~" | "!~"))) => *op,
            _ => return Ok(left),
        };
        self.idx += 1;
        if matches!(op, "==" | "!=") {
            let right = self.unary(depth)?;
            return Ok(Expr::Compare(op == "!=", Box::new(left), Box::new(right)));
        }
        let (pattern, at) = self.string_literal(op)?;
        let re = regex::Regex::new(&pattern).map_err(|e| {
            let msg = format!("invalid regular expression: {}", one_line(&e.to_string()));
            super::TemplateError::at(self.text, at, msg)
        })?;
        Ok(Expr::Match(op == "!~", Box::new(left), Box::new(re)))
    }

    /// The string literal an operator or function needs as written, and where it stands.
    fn string_literal(&mut self, what: &str) -> Result<(String, usize), TemplateError> {
        let (tok, at) = self.peek();
        if let Some(Tok::Value(Value::String(s))) = tok {
            let s = s.clone();
            self.idx += 1;
            return Ok((s, at));
        }
        let msg = format!(
            "`{what}` needs a quoted string here, found {}",
            self.found()
        );
        fail(self.text, at, msg)
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, TemplateError> {
        if self.eat(&Tok::Op("!")) {
            let depth = self.deeper(depth)?;
            return Ok(Expr::Not(Box::new(self.unary(depth)?)));
        }
        self.primary(depth)
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, TemplateError> {
        let expr = match self.peek().0 {
            Some(Tok::Path(p)) => Expr::Path(p.clone()),
            Some(Tok::Value(v)) => Expr::Literal(v.clone()),
            Some(Tok::Func(f)) => {
                let f = *f;
                self.idx += 1;
                return self.call(f, depth);
            }
            Some(Tok::Op("(")) => {
                self.idx += 1;
                let inner = self.ternary(depth)?;
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

    /// `header('X')`, `query('x')`, `ip_in(EXPR, 'CIDR', …)`.
    fn call(&mut self, name: &'static str, depth: usize) -> Result<Expr, TemplateError> {
        self.expect(&Tok::Op("("))?;
        if name == "ip_in" {
            let addr = self.ternary(depth)?;
            let mut nets = Vec::new();
            while self.eat(&Tok::Op(",")) {
                let (cidr, at) = self.string_literal("ip_in")?;
                let net = cidr
                    .parse::<Cidr>()
                    .map_err(|e| super::TemplateError::at(self.text, at, format!("ip_in: {e}")))?;
                nets.push((cidr, net));
            }
            if nets.is_empty() {
                let msg = "ip_in needs at least one network after the address, e.g. ip_in(remote_addr, '10.0.0.0/8')";
                return fail(self.text, self.peek().1, msg);
            }
            self.expect(&Tok::Op(")"))?;
            return Ok(Expr::IpIn(Box::new(addr), nets));
        }
        let (arg, _) = self.string_literal(name)?;
        self.expect(&Tok::Op(")"))?;
        let func = match name {
            "header" => Func::Header(arg.to_ascii_lowercase()),
            _ => Func::Query(arg),
        };
        Ok(Expr::Lookup(func))
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
