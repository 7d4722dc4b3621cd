//! The execution engine, growing toward issue 15's interpreter. What is here is its pure
//! core: the JSONPath data flow a state applies to its input (paths, payload templates,
//! intrinsic functions, ResultPath), as AWS evaluates them. No I/O and no clock: randomness
//! comes in through [`intrinsics::Entropy`], so everything here is decided by its arguments
//! and tested without HTTP or SQL.
//!
//! Knows the typed definition model of [`crate::asl`]; knows nothing of storage or HTTP.

pub mod choice;
pub mod dataflow;
pub mod intrinsics;
pub mod jsonpath;
pub mod order;
pub mod step;
