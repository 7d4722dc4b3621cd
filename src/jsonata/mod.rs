//! JSONata, the query language of `"QueryLanguage": "JSONata"` states: a parser
//! ([`parse`]), an evaluator with JSONata's sequence semantics ([`eval`]) and the built-in
//! functions with AWS's additions ([`functions`]). Its own implementation, checked against the
//! reference JavaScript package by the differential corpus in `tests/jsonata/`, because the
//! Rust crate available (jsonata-rs 0.3) reorders object keys and formats numbers its own
//! way, both of which show in AWS's outputs.
//!
//! Knows JSON values only: nothing of states, histories or the store. Evaluation is bounded
//! (a step budget and a call depth), so a runaway expression fails with an error instead of
//! hanging its caller.

pub mod eval;
pub mod functions;
pub mod parse;

use serde_json::Value;

/// A JSONata error: its code (`T1006`, `S0201`, …) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: &'static str,
    pub message: String,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Evaluation steps one expression may take.
pub const MAX_STEPS: u64 = 2_000_000;

/// Nested evaluation levels (calls, subexpressions) one expression may reach, within the
/// 2 MiB stacks of the runtime's threads: about 2 KiB a level in an optimised build, about 10
/// KiB in a debug build (hence the lower bound there, which tests see).
pub const MAX_DEPTH: usize = if cfg!(debug_assertions) { 100 } else { 1000 };

/// A parsed expression.
#[derive(Debug, Clone)]
pub struct Compiled(parse::Expr);

/// Parses `text`.
pub fn compile(text: &str) -> Result<Compiled, Error> {
    parse::parse(text).map(Compiled)
}

/// Parsed expressions kept per thread (an expression is parsed once, not at every state).
const MAX_CACHED: usize = 4096;

thread_local! {
    static CACHE: std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<Compiled>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// [`compile`], through this thread's cache of parsed expressions.
pub fn compile_cached(text: &str) -> Result<std::rc::Rc<Compiled>, Error> {
    if let Some(c) = CACHE.with(|c| c.borrow().get(text).cloned()) {
        return Ok(c);
    }
    let compiled = std::rc::Rc::new(compile(text)?);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= MAX_CACHED {
            c.clear();
        }
        c.insert(text.to_owned(), compiled.clone());
    });
    Ok(compiled)
}

/// Evaluates `expr` with `input` as its context (`$`) and `vars` bound as `$name`;
/// `entropy` feeds `$random`, `$uuid` and `$shuffle`. `Ok(None)` is *undefined*.
pub fn evaluate(
    expr: &Compiled,
    input: &Value,
    vars: &[(&str, Value)],
    entropy: &mut dyn FnMut() -> u64,
) -> Result<Option<Value>, Error> {
    let env = eval::Env::default();
    for (name, v) in vars {
        env.bind(name, eval::V::Json(v.clone()));
    }
    let mut ev = eval::Eval {
        steps_left: MAX_STEPS,
        depth: 0,
        max_depth: MAX_DEPTH,
        root: input,
        entropy,
    };
    let ctx = Some(eval::V::Json(input.clone()));
    match ev.eval(&expr.0, &ctx, &env)? {
        None => Ok(None),
        Some(v) => v.into_json().map(Some),
    }
}

#[cfg(test)]
mod tests;
