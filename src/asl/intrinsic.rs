//! Intrinsic function calls (`States.Format('{}', $.a)`), parsed once with their arguments:
//! string literals in single quotes (escapes `\'`, `\{`, `\}`, `\\` only), numbers,
//! `true`/`false`/`null`, paths and nested calls. Names and argument counts are checked
//! here; argument values are the interpreter's business.

use super::path::{self, Path};

/// An intrinsic function of the States Language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

/// Every function: its name after `States.`, and how many arguments it takes.
const FUNCTIONS: &[(&str, Function, usize, usize)] = &[
    ("Format", Function::Format, 1, usize::MAX),
    ("StringToJson", Function::StringToJson, 1, 1),
    ("JsonToString", Function::JsonToString, 1, 1),
    ("Array", Function::Array, 0, usize::MAX),
    ("ArrayPartition", Function::ArrayPartition, 2, 2),
    ("ArrayContains", Function::ArrayContains, 2, 2),
    ("ArrayRange", Function::ArrayRange, 3, 3),
    ("ArrayGetItem", Function::ArrayGetItem, 2, 2),
    ("ArrayLength", Function::ArrayLength, 1, 1),
    ("ArrayUnique", Function::ArrayUnique, 1, 1),
    ("Base64Encode", Function::Base64Encode, 1, 1),
    ("Base64Decode", Function::Base64Decode, 1, 1),
    ("Hash", Function::Hash, 2, 2),
    ("JsonMerge", Function::JsonMerge, 3, 3),
    ("MathRandom", Function::MathRandom, 2, 3),
    ("MathAdd", Function::MathAdd, 2, 2),
    ("StringSplit", Function::StringSplit, 2, 2),
    ("UUID", Function::Uuid, 0, 0),
];

/// Calls nest at most this deep (AWS's limit).
const MAX_NESTING: usize = 10;

impl Function {
    /// The name as written, `States.Format`.
    pub fn name(self) -> String {
        let short = FUNCTIONS
            .iter()
            .find(|(_, f, _, _)| *f == self)
            .map_or("", |(n, _, _, _)| n);
        format!("States.{short}")
    }
}

/// One argument of a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    String(String),
    Number(serde_json::Number),
    Bool(bool),
    Null,
    Path(Path),
    Call(Call),
}

/// A parsed call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub function: Function,
    pub args: Vec<Arg>,
}

/// Why a text is not a valid call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError;

/// Whether `text` looks like an attempt at a call (so that it is judged as one).
pub fn looks_like_call(text: &str) -> bool {
    text.trim_start().starts_with("States.")
}

/// Parses a whole call; nothing may follow its closing parenthesis.
pub fn parse(text: &str) -> Result<Call, CallError> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    p.spaces();
    let call = p.call(0)?;
    p.spaces();
    if p.i != p.s.len() {
        return Err(CallError);
    }
    Ok(call)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn spaces(&mut self) {
        while self.peek().is_some_and(|c| c == b' ') {
            self.i += 1;
        }
    }

    fn call(&mut self, depth: usize) -> Result<Call, CallError> {
        if depth >= MAX_NESTING || !self.s[self.i..].starts_with(b"States.") {
            return Err(CallError);
        }
        self.i += "States.".len();
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
            self.i += 1;
        }
        let name = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| CallError)?;
        let &(_, function, min, max) = FUNCTIONS
            .iter()
            .find(|(n, _, _, _)| *n == name)
            .ok_or(CallError)?;
        if self.peek() != Some(b'(') {
            return Err(CallError);
        }
        self.i += 1;
        let mut args = Vec::new();
        self.spaces();
        if self.peek() == Some(b')') {
            self.i += 1;
        } else {
            loop {
                self.spaces();
                args.push(self.arg(depth)?);
                self.spaces();
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b')') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(CallError),
                }
            }
        }
        if args.len() < min || args.len() > max {
            return Err(CallError);
        }
        Ok(Call { function, args })
    }

    fn arg(&mut self, depth: usize) -> Result<Arg, CallError> {
        match self.peek().ok_or(CallError)? {
            b'\'' => self.string(),
            b'$' => self.path(),
            b'S' => Ok(Arg::Call(self.call(depth + 1)?)),
            c if c == b'-' || c.is_ascii_digit() => self.number(),
            _ => self.keyword(),
        }
    }

    fn string(&mut self) -> Result<Arg, CallError> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek().ok_or(CallError)? {
                b'\\' => {
                    let next = self.s.get(self.i + 1).copied().ok_or(CallError)?;
                    if !matches!(next, b'\'' | b'{' | b'}' | b'\\') {
                        return Err(CallError);
                    }
                    // `\{` and `\}` stay escaped: Format tells them from placeholders.
                    if matches!(next, b'{' | b'}') {
                        out.push(b'\\');
                    }
                    out.push(next);
                    self.i += 2;
                }
                b'\'' => {
                    self.i += 1;
                    break;
                }
                c => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
        Ok(Arg::String(String::from_utf8(out).map_err(|_| CallError)?))
    }

    fn path(&mut self) -> Result<Arg, CallError> {
        // A path runs to the next top-level `,` or `)` (brackets may hold either).
        let start = self.i;
        let mut depth = 0i32;
        let mut quote = None;
        while let Some(c) = self.peek() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, b'\'' | b'"') => quote = Some(c),
                (None, b'[' | b'(') => depth += 1,
                (None, b']') => depth -= 1,
                (None, b')') if depth > 0 => depth -= 1,
                (None, b',' | b')' | b' ') if depth == 0 => break,
                _ => {}
            }
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| CallError)?;
        path::parse(text).map(Arg::Path).map_err(|_| CallError)
    }

    fn number(&mut self) -> Result<Arg, CallError> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| CallError)?;
        serde_json::from_str::<serde_json::Number>(text)
            .map(Arg::Number)
            .map_err(|_| CallError)
    }

    fn keyword(&mut self) -> Result<Arg, CallError> {
        for (word, arg) in [
            ("true", Arg::Bool(true)),
            ("false", Arg::Bool(false)),
            ("null", Arg::Null),
        ] {
            if self.s[self.i..].starts_with(word.as_bytes()) {
                self.i += word.len();
                return Ok(arg);
            }
        }
        Err(CallError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_with_every_kind_of_argument_parse() {
        let c = parse("States.Format('Hello {} from {}', $.name, $$.Execution.Id)").unwrap();
        assert_eq!(c.function, Function::Format);
        assert_eq!(c.args.len(), 3);
        let nested = parse("States.JsonToString(States.Array(1, -2.5, true, null, 'x', $v))");
        assert!(nested.is_ok());
        assert!(parse("States.UUID()").is_ok());
        assert!(parse("States.ArrayGetItem($.a[1], 0)").is_ok());
        assert!(parse("States.StringSplit($.s, 'a\\'b\\\\c')").is_ok());
    }

    #[test]
    fn unknown_names_wrong_arity_and_illegal_escapes_are_refused() {
        for bad in [
            "States.NoSuch(1)",
            "States.UUID(1)",
            "States.ArrayRange(1, 2)",
            "States.MathAdd(1)",
            "States.Format()",
            "States.Format('a \\\" b')",
            "States.Format('unterminated)",
            "States.Format('x') trailing",
            "States.Format('x',)",
            "States.Format",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = format!("{}1{}", "States.Array(".repeat(11), ")".repeat(11));
        assert!(parse(&deep).is_err());
    }
}
