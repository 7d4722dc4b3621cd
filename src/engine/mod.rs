//! The execution engine: the States Language interpreter and the runner that drives it.
//!
//! - The pure core: [`step`] runs one state from its Entered to its Exited event (or one
//!   step of a Parallel's branches or a Map's iterations, or a Task attempt) and says what
//!   comes next; [`dataflow`],
//!   [`jsonpath`], [`intrinsics`], [`choice`] and [`order`] are the JSONPath data flow it
//!   applies. No I/O and no clock: time and randomness ([`intrinsics::Entropy`]) come in as
//!   arguments, so all of it is tested without HTTP or SQL.
//! - [`runner`]: takes the executions that are due from the store, runs their steps and
//!   commits the events with the new positions in one write; with [`definitions`] (the
//!   parsed-definition cache) the only part that reads the clock or touches storage.
//! - A Distributed Map's runs: [`map_runs`] (their life in the store), [`items`] (pure: items
//!   from S3 objects, result files) and [`map_io`] (the S3 reads and writes the runner makes).
//!
//! Knows the definition model of [`crate::asl`] and the store's repositories; nothing of HTTP.

pub mod calls;
pub mod choice;
pub mod dataflow;
pub mod definitions;
pub mod express;
pub mod intrinsics;
pub mod items;
pub mod jsonpath;
pub mod map_io;
pub mod map_runs;
pub mod mocks;
pub mod order;
pub mod outside;
pub mod query;
pub mod runner;
pub mod step;
pub mod tasks;
pub mod testing;
