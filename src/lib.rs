//! sfnlite: the AWS Step Functions API for state machines, revisions, versions, aliases and
//! executions, durable in SQLite.
//!
//! # Layout
//!
//! Requests flow one way: `http → api → {domain, asl, engine, store}`; `engine → {asl,
//! domain, store}`; `store → domain`.
//!
//! - [`http`]: the AWS JSON 1.0 protocol (routing on `X-Amz-Target`, caller scope from SigV4,
//!   body limits, error rendering). Knows HTTP, nothing about SQL.
//! - [`api`]: one async fn per AWS operation, typed inputs and outputs, [`api::ApiError`] (the
//!   service's error vocabulary) and model-constraint checks. No HTTP types.
//! - [`domain`]: ARNs, names, scopes, pagination tokens, configurations and the records the
//!   store hands out. Pure: no I/O, no HTTP, no SQL.
//! - [`asl`]: the Amazon States Language — a definition parsed into a typed model, or AWS's
//!   diagnostics. Pure.
//! - [`engine`]: the execution engine — a pure core (one state's step with its history
//!   events, Parallel/Map forks, Retry/Catch, the JSONPath data flow, intrinsic functions,
//!   Choice rules) and the runner that commits steps with the executions' new positions.
//! - [`store`]: the repositories of [`store::repo`] in domain terms, inside closure
//!   transactions; the SQLite backend (`store::sqlite`: r2d2 pool, refinery migrations from
//!   `migrations/sqlite/`, group commit) owns all SQL (`store::postgres`, with
//!   `migrations/postgres/`, is the PostgreSQL backend in the making).
//! - [`config`] and [`app`]: start-up — layered configuration, then open, bind and serve.
//! - [`transfer`] (`sfnlite export` / `import`) and [`test_server`] (an in-process server for
//!   Rust test suites).

#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod asl;
pub mod config;
pub mod domain;
pub mod engine;
pub mod http;
pub mod integrations;
pub mod jsonata;
pub mod store;
pub mod test_server;
pub mod transfer;

pub use app::App;
pub use config::Config;
pub use test_server::TestServer;

// The README's Rust examples are compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
