//! Paths of the States Language, parsed once: JSONPath (`$.a[0].b`, `$..x`, `$.a[*]`,
//! `$.a[1:3]`, `$.a[?(@.x > 1)]`), the context object (`$$.Execution.Id`) and workflow
//! variables (`$name.field`). Reference paths — ResultPath and Choice `Variable` — admit
//! only definite steps (names and indexes). What a path selects is decided later, by the
//! interpreter; this module only knows what a path *is*.

use std::fmt;

/// What a path starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// `$`: the state's input (or result, where the field says so).
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(String),
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `.name` or `['name']`.
    Field(String),
    /// `[n]` (negative counts from the end).
    Index(i64),
    /// `.*` or `[*]`.
    Wildcard,
    /// `..name` or `..*` (None).
    Descendants(Option<String>),
    /// `[a:b:c]`.
    Slice(Option<i64>, Option<i64>, Option<i64>),
    /// `[i, j, …]` or `['a', 'b']`.
    Union(Vec<Step>),
    /// `[?( … )]`, kept as written.
    Filter(String),
}

/// A parsed path, with the text it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub text: String,
    pub root: Root,
    pub steps: Vec<Step>,
}

impl Path {
    /// Whether the path names at most one value (no wildcard, slice, union, filter or
    /// descent): a definite path fails when it matches nothing, an indefinite one gives `[]`.
    pub fn is_definite(&self) -> bool {
        self.steps
            .iter()
            .all(|s| matches!(s, Step::Field(_) | Step::Index(_)))
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a text is not a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError;

/// Parses a JSONPath, context or variable path.
pub fn parse(text: &str) -> Result<Path, PathError> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let root = p.root()?;
    let mut steps = Vec::new();
    while p.i < p.s.len() {
        steps.push(p.step()?);
    }
    Ok(Path {
        text: text.to_owned(),
        root,
        steps,
    })
}

/// Parses a reference path: a path of definite steps only (ResultPath, Choice `Variable`).
pub fn parse_reference(text: &str) -> Result<Path, PathError> {
    let path = parse(text)?;
    if path.is_definite() {
        Ok(path)
    } else {
        Err(PathError)
    }
}

/// Whether `c` may appear in a dot-notation name.
fn name_char(c: u8) -> bool {
    !matches!(
        c,
        b'.' | b'[' | b']' | b'(' | b')' | b'\'' | b'"' | b'*' | b',' | b' ' | b'\t' | b'\n'
    )
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn root(&mut self) -> Result<Root, PathError> {
        if !self.eat(b'$') {
            return Err(PathError);
        }
        if self.eat(b'$') {
            return Ok(Root::Context);
        }
        // `$name`: a variable; names start with a letter or underscore.
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    self.i += 1;
                }
                let name = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| PathError)?;
                Ok(Root::Variable(name.to_owned()))
            }
            _ => Ok(Root::Input),
        }
    }

    fn name(&mut self) -> Result<String, PathError> {
        let start = self.i;
        while self.peek().is_some_and(name_char) {
            self.i += 1;
        }
        if self.i == start {
            return Err(PathError);
        }
        String::from_utf8(self.s[start..self.i].to_vec()).map_err(|_| PathError)
    }

    fn step(&mut self) -> Result<Step, PathError> {
        if self.eat(b'.') {
            if self.eat(b'.') {
                if self.eat(b'*') {
                    return Ok(Step::Descendants(None));
                }
                if self.peek() == Some(b'[') {
                    // `$..[0]`: descend, then index; modelled as descent to everything.
                    return Ok(Step::Descendants(None));
                }
                return Ok(Step::Descendants(Some(self.name()?)));
            }
            if self.eat(b'*') {
                return Ok(Step::Wildcard);
            }
            return Ok(Step::Field(self.name()?));
        }
        if self.eat(b'[') {
            let step = self.bracket()?;
            if !self.eat(b']') {
                return Err(PathError);
            }
            return Ok(step);
        }
        Err(PathError)
    }

    fn bracket(&mut self) -> Result<Step, PathError> {
        self.spaces();
        if self.eat(b'*') {
            self.spaces();
            return Ok(Step::Wildcard);
        }
        if self.peek() == Some(b'?') {
            return self.filter();
        }
        if self.peek() == Some(b':') {
            return self.slice(None);
        }
        let mut items = vec![self.bracket_item()?];
        self.spaces();
        if self.peek() == Some(b':') {
            let start = match items.pop() {
                Some(Step::Index(n)) => Some(n),
                _ => return Err(PathError),
            };
            return self.slice(start);
        }
        while self.eat(b',') {
            self.spaces();
            items.push(self.bracket_item()?);
            self.spaces();
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Step::Union(items)
        })
    }

    fn bracket_item(&mut self) -> Result<Step, PathError> {
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => {
                self.i += 1;
                let mut out = Vec::new();
                loop {
                    match self.peek() {
                        None => return Err(PathError),
                        Some(b'\\') => {
                            self.i += 1;
                            out.push(self.peek().ok_or(PathError)?);
                            self.i += 1;
                        }
                        Some(c) if c == q => {
                            self.i += 1;
                            break;
                        }
                        Some(c) => {
                            out.push(c);
                            self.i += 1;
                        }
                    }
                }
                Ok(Step::Field(String::from_utf8(out).map_err(|_| PathError)?))
            }
            Some(b':') => Err(PathError),
            _ => Ok(Step::Index(self.integer()?)),
        }
    }

    fn slice(&mut self, start: Option<i64>) -> Result<Step, PathError> {
        let mut parts = [start, None, None];
        for part in parts.iter_mut().skip(1) {
            if !self.eat(b':') {
                break;
            }
            self.spaces();
            if self.peek().is_some_and(|c| c == b'-' || c.is_ascii_digit()) {
                *part = Some(self.integer()?);
            }
            self.spaces();
        }
        Ok(Step::Slice(parts[0], parts[1], parts[2]))
    }

    fn filter(&mut self) -> Result<Step, PathError> {
        // `?(` … `)` with balanced parentheses; the expression is kept as text.
        self.i += 1;
        if !self.eat(b'(') {
            return Err(PathError);
        }
        let start = self.i;
        let mut depth = 1;
        while let Some(c) = self.peek() {
            match c {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            self.i += 1;
        }
        if depth != 0 || self.i == start {
            return Err(PathError);
        }
        let text = String::from_utf8(self.s[start..self.i].to_vec()).map_err(|_| PathError)?;
        self.i += 1;
        self.spaces();
        Ok(Step::Filter(text))
    }

    fn integer(&mut self) -> Result<i64, PathError> {
        let start = self.i;
        self.eat(b'-');
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or(PathError)
    }

    fn spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_every_root_and_step_parse() {
        for ok in [
            "$",
            "$.a.b",
            "$['a b']",
            "$.a[0]",
            "$.a[-1]",
            "$.a[*]",
            "$..x",
            "$.a[1:3]",
            "$.a[::2]",
            "$.a[0,1]",
            "$.a[?(@.x > 1)]",
            "$$.Execution.Id",
            "$$",
            "$myVar",
            "$myVar.field[2]",
            "$.détail",
        ] {
            assert!(parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a.b",
            "$.",
            "$.a.",
            "$[",
            "$.a[0",
            "$.a[?(@.x]",
            "$ .a",
            "$a-b",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reference_paths_are_definite() {
        assert!(parse_reference("$.a.b[0]").is_ok());
        assert!(parse_reference("$.a[*]").is_err());
        assert!(parse_reference("$..a").is_err());
        assert_eq!(parse("$v.a").unwrap().root, Root::Variable("v".into()));
    }
}
