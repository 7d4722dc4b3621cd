//! Evaluates an expression tree against a JSON input with JSONata's sequence semantics: a
//! path maps over arrays and flattens, a result of one item is that item, nothing found is
//! *undefined* (`None`), never `null`. Bounded: every evaluation step and every call level
//! counts against the budget given, so a runaway expression fails instead of hanging.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::parse::{Expr, Op, Pred, Step};
use super::Error;

/// A value during evaluation.
#[derive(Clone, Debug)]
pub enum V {
    Json(Value),
    /// An array an array constructor built: path steps keep it whole.
    Cons(Vec<Value>),
    /// A sequence of results; `true` keeps a single item as an array (`[]`).
    Seq(Vec<Value>, bool),
    Func(Rc<Func>),
    Regex(Rc<regex::Regex>),
}

#[derive(Debug)]
pub enum Func {
    Lambda {
        params: Vec<String>,
        body: Rc<(Vec<String>, Expr)>,
        env: Env,
    },
    Builtin(&'static str),
}

/// Variable bindings, innermost first.
#[derive(Debug, Clone, Default)]
pub struct Env(Rc<Frame>);

#[derive(Debug, Default)]
pub struct Frame {
    vars: RefCell<HashMap<String, V>>,
    parent: Option<Env>,
}

impl Env {
    pub fn child(&self) -> Env {
        Env(Rc::new(Frame {
            vars: RefCell::new(HashMap::new()),
            parent: Some(self.clone()),
        }))
    }

    pub fn bind(&self, name: &str, v: V) {
        self.0.vars.borrow_mut().insert(name.to_owned(), v);
    }

    fn lookup(&self, name: &str) -> Option<V> {
        if let Some(v) = self.0.vars.borrow().get(name) {
            return Some(v.clone());
        }
        self.0.parent.as_ref()?.lookup(name)
    }
}

pub fn err(code: &'static str, message: impl Into<String>) -> Error {
    Error {
        code,
        message: message.into(),
    }
}

/// A JSON number for `f`: integral values (within 2^53) as integers, as JSONata prints them.
pub fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        let i = f as i64;
        return Value::from(if i == 0 { 0 } else { i });
    }
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

impl V {
    /// The JSON value (a sequence or constructed array as an array).
    pub fn into_json(self) -> Result<Value, Error> {
        match self {
            V::Json(v) => Ok(v),
            V::Cons(a) | V::Seq(a, _) => Ok(Value::Array(a)),
            V::Func(_) | V::Regex(_) => Err(err("T0410", "A function is not a JSON value")),
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            V::Json(Value::Number(n)) => n.as_f64(),
            _ => None,
        }
    }
}

/// Collapses a sequence: none is undefined, one is that item (unless kept).
fn collapse(items: Vec<Value>, keep: bool) -> Option<V> {
    match items.len() {
        0 => None,
        1 if !keep => items.into_iter().next().map(V::Json),
        _ => Some(V::Seq(items, keep)),
    }
}

/// The items of a value seen as a sequence.
pub fn items(v: Option<V>) -> Result<Vec<Value>, Error> {
    Ok(match v {
        None => Vec::new(),
        Some(V::Json(Value::Array(a))) | Some(V::Cons(a)) | Some(V::Seq(a, _)) => a,
        Some(other) => vec![other.into_json()?],
    })
}

/// JSONata truthiness.
pub fn truthy(v: &Option<V>) -> bool {
    fn json(v: &Value) -> bool {
        match v {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => a.iter().any(json),
            Value::Object(m) => !m.is_empty(),
        }
    }
    match v {
        None => false,
        Some(V::Json(j)) => json(j),
        Some(V::Cons(a)) | Some(V::Seq(a, _)) => a.iter().any(json),
        Some(V::Func(_)) | Some(V::Regex(_)) => false,
    }
}

/// The evaluator: its budget and the root input (`$$`).
pub struct Eval<'a> {
    pub steps_left: u64,
    pub depth: usize,
    pub max_depth: usize,
    pub root: &'a Value,
    pub entropy: &'a mut dyn FnMut() -> u64,
}

impl Eval<'_> {
    fn tick(&mut self) -> Result<(), Error> {
        if self.steps_left == 0 {
            return Err(err(
                "D1001",
                "The expression took too long to evaluate and was stopped",
            ));
        }
        self.steps_left -= 1;
        Ok(())
    }

    pub fn eval(&mut self, e: &Expr, ctx: &Option<V>, env: &Env) -> Result<Option<V>, Error> {
        self.tick()?;
        self.depth += 1;
        if self.depth > self.max_depth {
            self.depth -= 1;
            return Err(err("U1001", "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive."));
        }
        let r = self.eval_inner(e, ctx, env);
        self.depth -= 1;
        r
    }

    fn eval_inner(&mut self, e: &Expr, ctx: &Option<V>, env: &Env) -> Result<Option<V>, Error> {
        Ok(match e {
            Expr::Number(n) => Some(V::Json(number(*n))),
            Expr::String(s) => Some(V::Json(Value::String(s.clone()))),
            Expr::Bool(b) => Some(V::Json(Value::Bool(*b))),
            Expr::Null => Some(V::Json(Value::Null)),
            Expr::Regex(p, flags) => Some(regex(p, flags)?),
            Expr::Name(n) => lookup_field(ctx, n)?,
            Expr::Wildcard => {
                let mut out = Vec::new();
                for item in items(ctx.clone())? {
                    if let Value::Object(m) = item {
                        for (_, v) in m {
                            match v {
                                Value::Array(a) => out.extend(a),
                                other => out.push(other),
                            }
                        }
                    }
                }
                collapse(out, false)
            }
            Expr::Variable(name) => match name.as_str() {
                "" => ctx.clone(),
                "$" => Some(V::Json(self.root.clone())),
                _ => env.lookup(name).or_else(|| {
                    super::functions::builtin(name).map(|f| V::Func(Rc::new(Func::Builtin(f))))
                }),
            },
            Expr::Path(steps) => self.path(steps, ctx, env)?,
            Expr::Filter(inner, preds) => {
                let mut v = self.eval(inner, ctx, env)?;
                let mut keep = false;
                for p in preds {
                    match p {
                        Pred::Keep => keep = true,
                        Pred::Expr(pe) => v = self.filter(pe, v, env)?,
                    }
                }
                if keep {
                    return Ok(Some(V::Seq(items(v)?, true)));
                }
                v
            }
            Expr::Array(elems) => self.array(elems, ctx, env)?,
            Expr::Range(..) => return Err(err("S0201", "Syntax error: \"..\"")),
            Expr::Object(pairs) => self.object(pairs, ctx, env)?,
            Expr::Unary(inner) => match self.eval(inner, ctx, env)? {
                None => None,
                Some(v) => match v.as_f64() {
                    Some(f) => Some(V::Json(number(-f))),
                    None => return Err(err("D1002", "Cannot negate a non-numeric value")),
                },
            },
            Expr::Binary(op, a, b) => self.binary(*op, a, b, ctx, env)?,
            Expr::Condition(c, then, otherwise) => {
                let c = self.eval(c, ctx, env)?;
                if truthy(&c) {
                    self.eval(then, ctx, env)?
                } else if let Some(o) = otherwise {
                    self.eval(o, ctx, env)?
                } else {
                    None
                }
            }
            Expr::Block(items) => {
                let inner = env.child();
                let mut last = None;
                for item in items {
                    last = self.eval(item, ctx, &inner)?;
                }
                last
            }
            Expr::Bind(name, value) => {
                let v = self.eval(value, ctx, env)?;
                if let Some(v) = &v {
                    env.bind(name, v.clone());
                }
                v
            }
            Expr::Lambda(def) => Some(V::Func(Rc::new(Func::Lambda {
                params: def.0.clone(),
                body: def.clone(),
                env: env.clone(),
            }))),
            Expr::Call(f, args) => {
                let callee = self.eval(f, ctx, env)?;
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.eval(a, ctx, env)?);
                }
                self.apply(callee, values, ctx)?
            }
            Expr::Chain(a, b) => self.chain(a, b, ctx, env)?,
            Expr::Group(inner, pairs) => self.group(inner, pairs, ctx, env)?,
            Expr::Sort(inner, terms) => self.sort(inner, terms, ctx, env)?,
        })
    }

    #[inline(never)]
    fn array(&mut self, elems: &[Expr], ctx: &Option<V>, env: &Env) -> Result<Option<V>, Error> {
        Ok({
            let mut out = Vec::new();
            for el in elems {
                if let Expr::Range(a, b) = el {
                    let (a, b) = (self.eval(a, ctx, env)?, self.eval(b, ctx, env)?);
                    let (Some(a), Some(b)) = (a, b) else { continue };
                    let (Some(lo), Some(hi)) = (a.as_f64(), b.as_f64()) else {
                        return Err(err(
                            "T2003",
                            "The left side of the range operator (..) must evaluate to an integer",
                        ));
                    };
                    if lo.fract() != 0.0 || hi.fract() != 0.0 {
                        return Err(err(
                            "T2003",
                            "The left side of the range operator (..) must evaluate to an integer",
                        ));
                    }
                    if hi - lo > 10_000_000.0 {
                        return Err(err("D2014", format!("The size of the sequence allocated by the range operator (..) must not exceed 1e7.  Attempted to allocate {}.", hi - lo + 1.0)));
                    }
                    let mut i = lo;
                    while i <= hi {
                        self.tick()?;
                        out.push(number(i));
                        i += 1.0;
                    }
                    continue;
                }
                match self.eval(el, ctx, env)? {
                    None => {}
                    Some(V::Seq(a, _)) => out.extend(a),
                    Some(V::Json(Value::Array(a))) if matches!(el, Expr::Path(_)) => out.extend(a),
                    Some(V::Cons(a)) => out.push(Value::Array(a)),
                    Some(v) => out.push(v.into_json()?),
                }
            }
            Some(V::Cons(out))
        })
    }

    #[inline(never)]
    fn object(
        &mut self,
        pairs: &[(Expr, Expr)],
        ctx: &Option<V>,
        env: &Env,
    ) -> Result<Option<V>, Error> {
        Ok({
            let mut m = Map::new();
            for (k, v) in pairs {
                let key = match self.eval(k, ctx, env)? {
                    Some(V::Json(Value::String(s))) => s,
                    other => {
                        return Err(err(
                            "T1003",
                            format!(
                                "Key in object structure must evaluate to a string; got: {}",
                                other.map_or("undefined".into(), |v| v
                                    .into_json()
                                    .map(|j| j.to_string())
                                    .unwrap_or_default())
                            ),
                        ))
                    }
                };
                if let Some(val) = self.eval(v, ctx, env)? {
                    m.insert(key, val.into_json()?);
                }
            }
            Some(V::Json(Value::Object(m)))
        })
    }

    #[inline(never)]
    fn chain(
        &mut self,
        a: &Expr,
        b: &Expr,
        ctx: &Option<V>,
        env: &Env,
    ) -> Result<Option<V>, Error> {
        Ok({
            let lhs = self.eval(a, ctx, env)?;
            match b {
                Expr::Call(f, args) => {
                    let callee = self.eval(f, ctx, env)?;
                    let mut values = vec![lhs];
                    for a in args {
                        values.push(self.eval(a, ctx, env)?);
                    }
                    self.apply(callee, values, ctx)?
                }
                other => {
                    let callee = self.eval(other, ctx, env)?;
                    self.apply(callee, vec![lhs], ctx)?
                }
            }
        })
    }

    /// `a{key: value}`: each item of `a` goes to the group its key names; each value is then
    /// evaluated once per group, with the group's items (one item alone) as its context.
    #[inline(never)]
    fn group(
        &mut self,
        inner: &Expr,
        pairs: &[(Expr, Expr)],
        ctx: &Option<V>,
        env: &Env,
    ) -> Result<Option<V>, Error> {
        let list = items(self.eval(inner, ctx, env)?)?;
        let mut groups: Vec<(String, usize, Vec<Value>)> = Vec::new();
        for item in &list {
            let item_ctx = Some(V::Json(item.clone()));
            for (i, (k, _)) in pairs.iter().enumerate() {
                match self.eval(k, &item_ctx, env)? {
                    Some(V::Json(Value::String(key))) => {
                        match groups.iter_mut().find(|(g, _, _)| *g == key) {
                            Some((_, _, members)) => members.push(item.clone()),
                            None => groups.push((key, i, vec![item.clone()])),
                        }
                    }
                    None => {}
                    Some(other) => {
                        return Err(err(
                            "T1003",
                            format!(
                                "Key in object structure must evaluate to a string; got: {}",
                                other.into_json()?
                            ),
                        ))
                    }
                }
            }
        }
        let mut m = Map::new();
        for (key, i, members) in groups {
            let group_ctx = if members.len() == 1 {
                Some(V::Json(members.into_iter().next().unwrap_or(Value::Null)))
            } else {
                Some(V::Seq(members, false))
            };
            if let Some(v) = self.eval(&pairs[i].1, &group_ctx, env)? {
                m.insert(key, v.into_json()?);
            }
        }
        Ok(Some(V::Json(Value::Object(m))))
    }

    /// `a^(<x, >y)`: a stable sort of the items of `a` by each term in turn.
    #[inline(never)]
    fn sort(
        &mut self,
        inner: &Expr,
        terms: &[(Expr, bool)],
        ctx: &Option<V>,
        env: &Env,
    ) -> Result<Option<V>, Error> {
        let list = items(self.eval(inner, ctx, env)?)?;
        let mut keyed = Vec::with_capacity(list.len());
        for item in list {
            let item_ctx = Some(V::Json(item.clone()));
            let mut keys = Vec::with_capacity(terms.len());
            for (t, _) in terms {
                keys.push(
                    self.eval(t, &item_ctx, env)?
                        .map(V::into_json)
                        .transpose()?,
                );
            }
            keyed.push((keys, item));
        }
        let mut failed = None;
        keyed.sort_by(|(a, _), (b, _)| {
            for (i, (_, descending)) in terms.iter().enumerate() {
                let o = match (&a[i], &b[i]) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (Some(Value::Number(x)), Some(Value::Number(y))) => x
                        .as_f64()
                        .partial_cmp(&y.as_f64())
                        .unwrap_or(std::cmp::Ordering::Equal),
                    (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
                    _ => {
                        failed = Some(err("T2008", "The expressions within an order-by clause must evaluate to numeric or string values"));
                        std::cmp::Ordering::Equal
                    }
                };
                let o = if *descending { o.reverse() } else { o };
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
        if let Some(e) = failed {
            return Err(e);
        }
        Ok(collapse(keyed.into_iter().map(|(_, v)| v).collect(), false))
    }

    fn path(&mut self, steps: &[Step], ctx: &Option<V>, env: &Env) -> Result<Option<V>, Error> {
        let first_is_var = matches!(steps.first().map(|s| &s.expr), Some(Expr::Variable(_)));
        let mut seq: Vec<Option<V>> = if first_is_var {
            vec![ctx.clone()]
        } else {
            match ctx {
                Some(V::Json(Value::Array(a))) | Some(V::Seq(a, _)) => {
                    a.iter().cloned().map(|v| Some(V::Json(v))).collect()
                }
                other => vec![other.clone()],
            }
        };
        let mut keep = false;
        let last = steps.len().saturating_sub(1);
        for (i, step) in steps.iter().enumerate() {
            keep |= step.keep;
            let mut results: Vec<V> = Vec::new();
            for item in &seq {
                let mut r = self.eval(&step.expr, item, env)?;
                for p in &step.preds {
                    if let Pred::Expr(pe) = p {
                        r = self.filter(pe, r, env)?;
                    }
                }
                if let Some(r) = r {
                    results.push(r);
                }
            }
            let mut next: Vec<Value> = Vec::new();
            if i == last
                && results.len() == 1
                && matches!(results[0], V::Json(Value::Array(_)) | V::Cons(_))
            {
                let single = results.pop().map(V::into_json).transpose()?;
                if let Some(Value::Array(a)) = single {
                    if keep {
                        return Ok(Some(V::Seq(a, true)));
                    }
                    return Ok(Some(V::Json(Value::Array(a))));
                }
            }
            for r in results {
                match r {
                    V::Json(Value::Array(a)) | V::Seq(a, _) => next.extend(a),
                    V::Cons(a) => next.push(Value::Array(a)),
                    other => next.push(other.into_json()?),
                }
            }
            if i == last {
                return Ok(collapse(next, keep));
            }
            seq = next.into_iter().map(|v| Some(V::Json(v))).collect();
        }
        Ok(None)
    }

    /// `[pred]` on a value: a number picks by index (negative from the end), anything else
    /// keeps the items for which it is true.
    fn filter(&mut self, pred: &Expr, v: Option<V>, env: &Env) -> Result<Option<V>, Error> {
        let list = items(v)?;
        if let Expr::Number(n) = pred {
            return Ok(index(&list, *n).map(V::Json));
        }
        let mut out = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let ctx = Some(V::Json(item.clone()));
            let r = self.eval(pred, &ctx, env)?;
            let index_list = match &r {
                Some(V::Cons(a)) | Some(V::Seq(a, _)) | Some(V::Json(Value::Array(a)))
                    if !a.is_empty() && a.iter().all(Value::is_number) =>
                {
                    Some(a.clone())
                }
                _ => None,
            };
            if let Some(indexes) = index_list {
                let picked = indexes.iter().any(|n| {
                    let f = n.as_f64().unwrap_or(f64::NAN).floor();
                    let at = if f < 0.0 { list.len() as f64 + f } else { f };
                    at == i as f64
                });
                if picked {
                    out.push(item.clone());
                }
                continue;
            }
            match &r {
                Some(V::Json(Value::Number(n))) => {
                    let f = n.as_f64().unwrap_or(f64::NAN);
                    let at = if f < 0.0 {
                        list.len() as f64 + f.floor()
                    } else {
                        f.floor()
                    };
                    if at == i as f64 {
                        out.push(item.clone());
                    }
                }
                _ => {
                    if truthy(&r) {
                        out.push(item.clone());
                    }
                }
            }
        }
        Ok(collapse(out, false))
    }

    fn binary(
        &mut self,
        op: Op,
        a: &Expr,
        b: &Expr,
        ctx: &Option<V>,
        env: &Env,
    ) -> Result<Option<V>, Error> {
        let l = self.eval(a, ctx, env)?;
        if op == Op::And {
            return Ok(Some(V::Json(Value::Bool(
                truthy(&l) && truthy(&self.eval(b, ctx, env)?),
            ))));
        }
        if op == Op::Or {
            return Ok(Some(V::Json(Value::Bool(
                truthy(&l) || truthy(&self.eval(b, ctx, env)?),
            ))));
        }
        let r = self.eval(b, ctx, env)?;
        let sym = match op {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Mod => "%",
            Op::Concat => "&",
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::And => "and",
            Op::Or => "or",
            Op::In => "in",
        };
        match op {
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Mod => {
                let lf = match &l {
                    None => None,
                    Some(v) => Some(v.as_f64().ok_or_else(|| {
                        err(
                            "T2001",
                            format!(
                                "The left side of the \"{sym}\" operator must evaluate to a number"
                            ),
                        )
                    })?),
                };
                let rf = match &r {
                    None => None,
                    Some(v) => Some(v.as_f64().ok_or_else(|| {
                        err("T2002", format!("The right side of the \"{sym}\" operator must evaluate to a number"))
                    })?),
                };
                let (Some(x), Some(y)) = (lf, rf) else {
                    return Ok(None);
                };
                let z = match op {
                    Op::Add => x + y,
                    Op::Sub => x - y,
                    Op::Mul => x * y,
                    Op::Div => x / y,
                    _ => x % y,
                };
                if !z.is_finite() {
                    return Err(err("D1001", format!("Number out of range: {z}")));
                }
                Ok(Some(V::Json(number(z))))
            }
            Op::Concat => {
                let s = |v: Option<V>| -> Result<String, Error> {
                    match v {
                        None => Ok(String::new()),
                        Some(v) => super::functions::stringify(&v.into_json()?),
                    }
                };
                Ok(Some(V::Json(Value::String(s(l)? + &s(r)?))))
            }
            Op::Eq | Op::Ne => {
                let (Some(l), Some(r)) = (l, r) else {
                    return Ok(Some(V::Json(Value::Bool(false))));
                };
                let same = deep_equal(&l.into_json()?, &r.into_json()?);
                Ok(Some(V::Json(Value::Bool(if op == Op::Eq {
                    same
                } else {
                    !same
                }))))
            }
            Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                let check = |v: &Option<V>| -> Result<(), Error> {
                    match v {
                        None | Some(V::Json(Value::Number(_) | Value::String(_))) => Ok(()),
                        _ => Err(err("T2010", format!("The expressions either side of operator \"{sym}\" must evaluate to numeric or string values"))),
                    }
                };
                check(&l)?;
                check(&r)?;
                let (Some(V::Json(l)), Some(V::Json(r))) = (l, r) else {
                    return Ok(None);
                };
                let ord = match (&l, &r) {
                    (Value::Number(a), Value::Number(b)) => a
                        .as_f64()
                        .partial_cmp(&b.as_f64()),
                    (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
                    _ => {
                        return Err(err("T2009", format!("The values {l} and {r} either side of operator \"{sym}\" must be of the same data type")))
                    }
                };
                let Some(o) = ord else {
                    return Ok(Some(V::Json(Value::Bool(false))));
                };
                let b = match op {
                    Op::Lt => o.is_lt(),
                    Op::Le => o.is_le(),
                    Op::Gt => o.is_gt(),
                    _ => o.is_ge(),
                };
                Ok(Some(V::Json(Value::Bool(b))))
            }
            Op::In => {
                let Some(l) = l else {
                    return Ok(Some(V::Json(Value::Bool(false))));
                };
                let l = l.into_json()?;
                let found = items(r)?.iter().any(|v| deep_equal(v, &l));
                Ok(Some(V::Json(Value::Bool(found))))
            }
            Op::And | Op::Or => unreachable!("handled before evaluating the right side"),
        }
    }

    /// Calls a function value with arguments.
    pub fn apply(
        &mut self,
        callee: Option<V>,
        args: Vec<Option<V>>,
        ctx: &Option<V>,
    ) -> Result<Option<V>, Error> {
        let Some(V::Func(f)) = callee else {
            return Err(err("T1006", "Attempted to invoke a non-function"));
        };
        self.tick()?;
        match &*f {
            Func::Builtin(name) => super::functions::call(self, name, args, ctx),
            Func::Lambda { params, body, env } => {
                let frame = env.child();
                for (i, p) in params.iter().enumerate() {
                    if let Some(Some(v)) = args.get(i) {
                        frame.bind(p, v.clone());
                    }
                }
                self.eval(&body.1, ctx, &frame)
            }
        }
    }
}

#[inline(never)]
fn regex(p: &str, flags: &str) -> Result<V, Error> {
    Ok({
        let mut pattern = String::new();
        if flags.contains('i') {
            pattern.push_str("(?i)");
        }
        if flags.contains('m') {
            pattern.push_str("(?m)");
        }
        pattern.push_str(p);
        let re = regex::Regex::new(&pattern)
            .map_err(|e| err("S0303", format!("Invalid regular expression: {e}")))?;
        V::Regex(Rc::new(re))
    })
}

fn index(list: &[Value], n: f64) -> Option<Value> {
    let i = n.floor();
    let at = if i < 0.0 { list.len() as f64 + i } else { i };
    if at < 0.0 {
        return None;
    }
    list.get(at as usize).cloned()
}

/// A field of the context item; over an array, of each member, flattened.
fn lookup_field(ctx: &Option<V>, name: &str) -> Result<Option<V>, Error> {
    fn of(v: &Value, name: &str, out: &mut Vec<Value>) {
        match v {
            Value::Object(m) => {
                if let Some(x) = m.get(name) {
                    match x {
                        Value::Array(a) => out.extend(a.iter().cloned()),
                        other => out.push(other.clone()),
                    }
                }
            }
            Value::Array(a) => {
                for item in a {
                    of(item, name, out);
                }
            }
            _ => {}
        }
    }
    match ctx {
        Some(V::Json(Value::Object(m))) => Ok(m.get(name).cloned().map(V::Json)),
        Some(V::Json(v)) => {
            let mut out = Vec::new();
            of(v, name, &mut out);
            Ok(collapse(out, false))
        }
        Some(V::Cons(a)) | Some(V::Seq(a, _)) => {
            let mut out = Vec::new();
            for v in a {
                of(v, name, &mut out);
            }
            Ok(collapse(out, false))
        }
        _ => Ok(None),
    }
}

/// JSONata's `=`: numbers by value, arrays and objects member by member.
pub fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        _ => a == b,
    }
}
