//! The harness's integration tests, one binary: each module was a test file of its own; one
//! binary links once (instead of twenty times ~200 MB) and its tests share the two test threads.

mod architecture;
mod batch;
mod bench;
mod browser;
mod captures;
mod causes;
mod causes_under_load;
mod cli;
mod common;
mod container;
mod docs;
mod early_verdicts;
mod expected;
mod first_line;
mod fixtures;
mod formats;
mod hostile;
mod html;
mod internet;
mod isolation;
mod leftovers;
mod loader;
mod manifests;
mod mysql_real;
mod packages;
mod privilege;
mod questions;
mod repeat;
mod report;
mod scenario_schema;
mod settings;
mod shared_loopback;
mod short_calls;
mod simulation;
mod spec;
