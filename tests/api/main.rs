//! The integration suite: one test binary (one link of aws-sdk-sfn) whose tests each start
//! the real server on a random loopback port with a fresh temporary database, and drive it
//! with `aws-sdk-sfn` or, for what SDKs never send, raw HTTP.

mod activities;
mod aliases;
mod compat;
mod concurrency;
mod crash;
mod definitions;
mod durability;
mod executions;
mod express;
mod fuzz;
mod helpers;
mod jsonata;
mod map_runs;
mod mocks;
mod moto;
mod nested;
mod operations;
mod outside;
mod peer;
mod postgres;
mod protocol;
mod redrive;
mod security;
mod startup;
mod state_machines;
mod tags;
mod test_state;
mod versions;
