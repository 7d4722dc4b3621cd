//! JSONata text to an expression tree: a tokenizer and a Pratt parser with JSONata's binding
//! powers (`.` and `[` bind tightest, then `*` `/` `%`, `+` `-` `&`, comparisons, `and`,
//! `or`, `?:`, `:=`).

use super::Error;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Number(f64),
    String(String),
    Bool(bool),
    Null,
    /// A field name (`name` or `` `a name` ``), looked up in the context item.
    Name(String),
    /// `$name`; `$` alone is the context (`""`), `$$` the input root.
    Variable(String),
    /// `*`: every value of the context object.
    Wildcard,
    /// `a.b.c`: each step evaluated against every item of the previous step's results.
    Path(Vec<Step>),
    /// An expression with `[predicate]`s (not inside a path).
    Filter(Box<Expr>, Vec<Pred>),
    Array(Vec<Expr>),
    Object(Vec<(Expr, Expr)>),
    /// `[a..b]` inside an array constructor.
    Range(Box<Expr>, Box<Expr>),
    Unary(Box<Expr>),
    Binary(Op, Box<Expr>, Box<Expr>),
    Condition(Box<Expr>, Box<Expr>, Option<Box<Expr>>),
    Block(Vec<Expr>),
    Bind(String, Box<Expr>),
    Call(Box<Expr>, Vec<Expr>),
    /// `function($a, $b) { body }`.
    Lambda(std::rc::Rc<(Vec<String>, Expr)>),
    /// `a ~> f(b)`: `f(a, b)`.
    Chain(Box<Expr>, Box<Expr>),
    /// `a{key: value, …}`: the items of `a` grouped by key.
    Group(Box<Expr>, Vec<(Expr, Expr)>),
    /// `a^(<x, >y)`: the items of `a` sorted by the terms (`true` = descending).
    Sort(Box<Expr>, Vec<(Expr, bool)>),
    Regex(String, String),
}

/// One path step and its predicates; `keep` for a `[]` suffix (keep a singleton array).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub expr: Expr,
    pub preds: Vec<Pred>,
    pub keep: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Pred {
    Expr(Expr),
    /// `[]`.
    Keep,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    In,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Name(String),
    Var(String),
    Regex(String, String),
    Sym(&'static str),
    End,
}

const SYMBOLS: &[&str] = &[
    ":=", "!=", "<=", ">=", "~>", "..", "**", ".", "[", "]", "{", "}", "(", ")", ",", ";", ":",
    "?", "+", "-", "*", "/", "%", "=", "<", ">", "&", "|", "^", "@", "#",
];

fn err(code: &'static str, message: impl Into<String>) -> Error {
    Error {
        code,
        message: message.into(),
    }
}

fn tokenize(src: &str) -> Result<Vec<Tok>, Error> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            let mut j = i + 2;
            while j + 1 < chars.len() && !(chars[j] == '*' && chars[j + 1] == '/') {
                j += 1;
            }
            if j + 1 >= chars.len() {
                return Err(err("S0106", "Comment has no closing tag"));
            }
            i = j + 2;
            continue;
        }
        // A `/` where an operand is expected starts a regular expression.
        if c == '/' && expects_operand(out.last()) {
            let mut j = i + 1;
            let mut pattern = String::new();
            while j < chars.len() && chars[j] != '/' {
                if chars[j] == '\\' && j + 1 < chars.len() {
                    pattern.push(chars[j]);
                    j += 1;
                }
                pattern.push(chars[j]);
                j += 1;
            }
            if j >= chars.len() {
                return Err(err("S0302", "No terminating / in regular expression"));
            }
            j += 1;
            let mut flags = String::new();
            while j < chars.len() && chars[j].is_ascii_alphabetic() {
                flags.push(chars[j]);
                j += 1;
            }
            if pattern.is_empty() {
                return Err(err("S0301", "Empty regular expressions are not allowed"));
            }
            out.push(Tok::Regex(pattern, flags));
            i = j;
            continue;
        }
        if c == '"' || c == '\'' {
            let (s, next) = string(&chars, i)?;
            out.push(Tok::Str(s));
            i = next;
            continue;
        }
        if c.is_ascii_digit() {
            let mut j = i;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            if j + 1 < chars.len() && chars[j] == '.' && chars[j + 1].is_ascii_digit() {
                j += 1;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
            }
            if j < chars.len() && (chars[j] == 'e' || chars[j] == 'E') {
                let mut k = j + 1;
                if k < chars.len() && (chars[k] == '+' || chars[k] == '-') {
                    k += 1;
                }
                if k < chars.len() && chars[k].is_ascii_digit() {
                    while k < chars.len() && chars[k].is_ascii_digit() {
                        k += 1;
                    }
                    j = k;
                }
            }
            let text: String = chars[i..j].iter().collect();
            let n: f64 = text
                .parse()
                .map_err(|_| err("S0102", format!("Number out of range: {text}")))?;
            if !n.is_finite() {
                return Err(err("S0102", format!("Number out of range: {text}")));
            }
            out.push(Tok::Num(n));
            i = j;
            continue;
        }
        if c == '`' {
            let end = chars[i + 1..]
                .iter()
                .position(|&d| d == '`')
                .ok_or_else(|| {
                    err(
                        "S0105",
                        "Quoted property name must be terminated with a backquote (`)",
                    )
                })?;
            out.push(Tok::Name(chars[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
            continue;
        }
        if let Some(sym) = SYMBOLS.iter().find(|s| {
            let s: Vec<char> = s.chars().collect();
            chars[i..].starts_with(&s)
        }) {
            out.push(Tok::Sym(sym));
            i += sym.chars().count();
            continue;
        }
        if c == '$' {
            let mut j = i + 1;
            if chars.get(j) == Some(&'$') {
                out.push(Tok::Var("$".into()));
                i = j + 1;
                continue;
            }
            while j < chars.len() && is_name_char(chars[j]) {
                j += 1;
            }
            out.push(Tok::Var(chars[i + 1..j].iter().collect()));
            i = j;
            continue;
        }
        if is_name_char(c) {
            let mut j = i;
            while j < chars.len() && is_name_char(chars[j]) {
                j += 1;
            }
            out.push(Tok::Name(chars[i..j].iter().collect()));
            i = j;
            continue;
        }
        return Err(err("S0204", format!("Unknown operator: \"{c}\"")));
    }
    out.push(Tok::End);
    Ok(out)
}

fn is_name_char(c: char) -> bool {
    !c.is_whitespace() && !"\"'`.[]{}(),;:?+-*/%=<>&|^@#!~$".contains(c)
}

/// Whether the next token starts an operand (so `/` is a regular expression, not division).
fn expects_operand(last: Option<&Tok>) -> bool {
    match last {
        None => true,
        Some(Tok::Sym(s)) => !matches!(*s, ")" | "]" | "}"),
        Some(Tok::Name(n)) => matches!(n.as_str(), "and" | "or" | "in"),
        _ => false,
    }
}

fn string(chars: &[char], start: usize) -> Result<(String, usize), Error> {
    let quote = chars[start];
    let mut s = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        let c = chars[i];
        if c == quote {
            return Ok((s, i + 1));
        }
        if c == '\\' {
            i += 1;
            let e = *chars.get(i).ok_or_else(|| {
                err(
                    "S0101",
                    "String literal must be terminated by a matching quote",
                )
            })?;
            match e {
                '"' | '\\' | '/' => s.push(e),
                'b' => s.push('\u{8}'),
                'f' => s.push('\u{c}'),
                'n' => s.push('\n'),
                'r' => s.push('\r'),
                't' => s.push('\t'),
                'u' => {
                    let hex: String = chars.get(i + 1..i + 5).unwrap_or(&[]).iter().collect();
                    let code = u32::from_str_radix(&hex, 16).map_err(|_| {
                        err(
                            "S0104",
                            "The escape sequence \\u must be followed by 4 hex digits",
                        )
                    })?;
                    i += 4;
                    // A surrogate pair spells one character.
                    if (0xD800..0xDC00).contains(&code)
                        && chars.get(i + 1) == Some(&'\\')
                        && chars.get(i + 2) == Some(&'u')
                    {
                        let low: String = chars.get(i + 3..i + 7).unwrap_or(&[]).iter().collect();
                        if let Ok(l) = u32::from_str_radix(&low, 16) {
                            let c = 0x10000 + ((code - 0xD800) << 10) + (l - 0xDC00);
                            s.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                            i += 6;
                            i += 1;
                            continue;
                        }
                    }
                    s.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                other => {
                    return Err(err(
                        "S0103",
                        format!("Unsupported escape sequence: \\{other}"),
                    ))
                }
            }
            i += 1;
            continue;
        }
        s.push(c);
        i += 1;
    }
    Err(err(
        "S0101",
        "String literal must be terminated by a matching quote",
    ))
}

/// Deepest nesting the parser follows (a runaway text fails instead of overflowing the stack).
const MAX_DEPTH: usize = 200;

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    depth: usize,
}

fn bp(t: &Tok) -> u8 {
    match t {
        Tok::Sym(s) => match *s {
            "." => 75,
            "[" | "(" => 80,
            "{" => 70,
            "^" => 80,
            "*" | "/" | "%" => 60,
            "+" | "-" | "&" => 50,
            "=" | "!=" | "<" | "<=" | ">" | ">=" | "~>" => 40,
            "?" => 20,
            ":=" => 10,
            _ => 0,
        },
        Tok::Name(n) => match n.as_str() {
            "and" => 30,
            "or" => 25,
            "in" => 40,
            _ => 0,
        },
        _ => 0,
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.at]
    }

    fn next(&mut self) -> Tok {
        let t = self.toks[self.at].clone();
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        t
    }

    fn expect(&mut self, sym: &'static str) -> Result<(), Error> {
        match self.next() {
            Tok::Sym(s) if s == sym => Ok(()),
            Tok::End => Err(err(
                "S0203",
                format!("Expected \"{sym}\" before end of expression"),
            )),
            other => Err(err(
                "S0202",
                format!("Expected \"{sym}\", got \"{}\"", show(&other)),
            )),
        }
    }

    fn expression(&mut self, rbp: u8) -> Result<Expr, Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err("U1001", "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive."));
        }
        let t = self.next();
        let mut left = self.nud(t)?;
        while rbp < bp(self.peek()) {
            let t = self.next();
            left = self.led(t, left)?;
        }
        self.depth -= 1;
        Ok(left)
    }

    fn nud(&mut self, t: Tok) -> Result<Expr, Error> {
        Ok(match t {
            Tok::Num(n) => Expr::Number(n),
            Tok::Str(s) => Expr::String(s),
            Tok::Regex(p, f) => Expr::Regex(p, f),
            Tok::Var(v) => Expr::Variable(v),
            Tok::Name(n) => match n.as_str() {
                "true" => Expr::Bool(true),
                "false" => Expr::Bool(false),
                "null" => Expr::Null,
                "function" | "λ" if self.peek() == &Tok::Sym("(") => self.lambda()?,
                _ => Expr::Name(n),
            },
            Tok::Sym("*") => Expr::Wildcard,
            Tok::Sym("-") => {
                let operand = self.expression(70)?;
                match operand {
                    Expr::Number(n) => Expr::Number(-n),
                    other => Expr::Unary(Box::new(other)),
                }
            }
            Tok::Sym("(") => {
                let mut items = Vec::new();
                while self.peek() != &Tok::Sym(")") {
                    items.push(self.expression(0)?);
                    if self.peek() != &Tok::Sym(";") {
                        break;
                    }
                    self.next();
                }
                self.expect(")")?;
                Expr::Block(items)
            }
            Tok::Sym("[") => {
                let mut items = Vec::new();
                if self.peek() != &Tok::Sym("]") {
                    loop {
                        let item = self.expression(0)?;
                        let item = if self.peek() == &Tok::Sym("..") {
                            self.next();
                            Expr::Range(Box::new(item), Box::new(self.expression(0)?))
                        } else {
                            item
                        };
                        items.push(item);
                        if self.peek() != &Tok::Sym(",") {
                            break;
                        }
                        self.next();
                    }
                }
                self.expect("]")?;
                Expr::Array(items)
            }
            Tok::Sym("{") => Expr::Object(self.object()?),
            Tok::End => return Err(err("S0207", "Unexpected end of expression")),
            other => {
                return Err(err(
                    "S0211",
                    format!(
                        "The symbol {} cannot be used as a unary operator",
                        show(&other)
                    ),
                ))
            }
        })
    }

    fn object(&mut self) -> Result<Vec<(Expr, Expr)>, Error> {
        let mut pairs = Vec::new();
        if self.peek() != &Tok::Sym("}") {
            loop {
                let k = self.expression(0)?;
                self.expect(":")?;
                let v = self.expression(0)?;
                pairs.push((k, v));
                if self.peek() != &Tok::Sym(",") {
                    break;
                }
                self.next();
            }
        }
        self.expect("}")?;
        Ok(pairs)
    }

    fn lambda(&mut self) -> Result<Expr, Error> {
        self.expect("(")?;
        let mut params = Vec::new();
        while let Tok::Var(v) = self.peek().clone() {
            self.next();
            params.push(v);
            if self.peek() == &Tok::Sym(",") {
                self.next();
            }
        }
        self.expect(")")?;
        self.expect("{")?;
        let body = if self.peek() == &Tok::Sym("}") {
            Expr::Block(Vec::new())
        } else {
            let mut items = vec![self.expression(0)?];
            while self.peek() == &Tok::Sym(";") {
                self.next();
                items.push(self.expression(0)?);
            }
            if items.len() == 1 {
                items.pop().unwrap_or(Expr::Null)
            } else {
                Expr::Block(items)
            }
        };
        self.expect("}")?;
        Ok(Expr::Lambda(std::rc::Rc::new((params, body))))
    }

    fn led(&mut self, t: Tok, left: Expr) -> Result<Expr, Error> {
        let binary = |op: Op, p: &mut Parser, power: u8| -> Result<Expr, Error> {
            let right = p.expression(power)?;
            Ok(Expr::Binary(op, Box::new(left.clone()), Box::new(right)))
        };
        match t {
            Tok::Sym(".") => {
                let right = self.expression(75)?;
                let mut steps = into_steps(left);
                steps.extend(into_steps(right));
                Ok(Expr::Path(steps))
            }
            Tok::Sym("[") => {
                let pred = if self.peek() == &Tok::Sym("]") {
                    Pred::Keep
                } else {
                    Pred::Expr(self.expression(0)?)
                };
                self.expect("]")?;
                Ok(match left {
                    Expr::Path(mut steps) => {
                        if let Some(last) = steps.last_mut() {
                            if pred == Pred::Keep {
                                last.keep = true;
                            } else {
                                last.preds.push(pred);
                            }
                        }
                        Expr::Path(steps)
                    }
                    Expr::Filter(e, mut preds) => {
                        preds.push(pred);
                        Expr::Filter(e, preds)
                    }
                    other => Expr::Filter(Box::new(other), vec![pred]),
                })
            }
            Tok::Sym("(") => {
                let mut args = Vec::new();
                if self.peek() != &Tok::Sym(")") {
                    loop {
                        args.push(self.expression(0)?);
                        if self.peek() != &Tok::Sym(",") {
                            break;
                        }
                        self.next();
                    }
                }
                self.expect(")")?;
                Ok(Expr::Call(Box::new(left), args))
            }
            Tok::Sym("{") => {
                let pairs = self.object()?;
                Ok(Expr::Group(Box::new(left), pairs))
            }
            Tok::Sym("^") => {
                self.expect("(")?;
                let mut terms = Vec::new();
                loop {
                    let descending = match self.peek() {
                        Tok::Sym(">") => {
                            self.next();
                            true
                        }
                        Tok::Sym("<") => {
                            self.next();
                            false
                        }
                        _ => false,
                    };
                    terms.push((self.expression(0)?, descending));
                    if self.peek() != &Tok::Sym(",") {
                        break;
                    }
                    self.next();
                }
                self.expect(")")?;
                Ok(Expr::Sort(Box::new(left), terms))
            }
            Tok::Sym("?") => {
                let then = self.expression(0)?;
                let otherwise = if self.peek() == &Tok::Sym(":") {
                    self.next();
                    Some(Box::new(self.expression(0)?))
                } else {
                    None
                };
                Ok(Expr::Condition(Box::new(left), Box::new(then), otherwise))
            }
            Tok::Sym(":=") => {
                let Expr::Variable(name) = left else {
                    return Err(err(
                        "S0212",
                        "The left side of := must be a variable name (start with $)",
                    ));
                };
                let value = self.expression(9)?;
                Ok(Expr::Bind(name, Box::new(value)))
            }
            Tok::Sym("~>") => {
                let right = self.expression(40)?;
                Ok(Expr::Chain(Box::new(left), Box::new(right)))
            }
            Tok::Sym("+") => binary(Op::Add, self, 50),
            Tok::Sym("-") => binary(Op::Sub, self, 50),
            Tok::Sym("&") => binary(Op::Concat, self, 50),
            Tok::Sym("*") => binary(Op::Mul, self, 60),
            Tok::Sym("/") => binary(Op::Div, self, 60),
            Tok::Sym("%") => binary(Op::Mod, self, 60),
            Tok::Sym("=") => binary(Op::Eq, self, 40),
            Tok::Sym("!=") => binary(Op::Ne, self, 40),
            Tok::Sym("<") => binary(Op::Lt, self, 40),
            Tok::Sym("<=") => binary(Op::Le, self, 40),
            Tok::Sym(">") => binary(Op::Gt, self, 40),
            Tok::Sym(">=") => binary(Op::Ge, self, 40),
            Tok::Name(n) if n == "and" => binary(Op::And, self, 30),
            Tok::Name(n) if n == "or" => binary(Op::Or, self, 25),
            Tok::Name(n) if n == "in" => binary(Op::In, self, 40),
            other => Err(err("S0201", format!("Syntax error: \"{}\"", show(&other)))),
        }
    }
}

fn into_steps(e: Expr) -> Vec<Step> {
    match e {
        Expr::Path(steps) => steps,
        Expr::Filter(inner, preds) if matches!(*inner, Expr::Name(_) | Expr::Wildcard) => {
            let keep = preds.contains(&Pred::Keep);
            vec![Step {
                expr: *inner,
                preds: preds.into_iter().filter(|p| p != &Pred::Keep).collect(),
                keep,
            }]
        }
        other => vec![Step {
            expr: other,
            preds: Vec::new(),
            keep: false,
        }],
    }
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Num(n) => n.to_string(),
        Tok::Str(s) => s.clone(),
        Tok::Name(n) => n.clone(),
        Tok::Var(v) => format!("${v}"),
        Tok::Regex(p, _) => format!("/{p}/"),
        Tok::Sym(s) => (*s).to_owned(),
        Tok::End => "(end)".into(),
    }
}

/// Parses a JSONata expression.
pub fn parse(src: &str) -> Result<Expr, Error> {
    let toks = tokenize(src)?;
    let mut p = Parser {
        toks,
        at: 0,
        depth: 0,
    };
    let e = p.expression(0)?;
    if p.peek() != &Tok::End {
        let t = p.peek().clone();
        return Err(err("S0201", format!("Syntax error: \"{}\"", show(&t))));
    }
    Ok(e)
}
