//! genimport: bulk-create Genesys Cloud users from a CSV file.
//!
//! Data flows one way: argv/env -> `Config` -> rows -> plans -> client ->
//! outcomes -> results file -> `Summary` -> exit code. `run` is the whole
//! program minus argument parsing, so tests and benchmarks can call it.
//! The library exposes only what the binary, the benchmark and the tests
//! call; everything else is crate-private, so the compiler finds dead code.

mod access;
mod cli;
mod commands;

pub use cli::Cli;
pub use commands::{execute, export};
pub use config::{parse_args, Command, Config, ParseFailure};
pub use error::exit;
pub use error::Error;
pub use output::{Status, Summary};
pub use progress::Progress;
pub use stop::Stop;

mod config;
mod engine;
mod error;
mod escape;
mod genesys;
mod input;
mod logging;
mod output;
mod pacing;
mod plan;
mod progress;
mod queues;
mod region;
mod resolve;
mod resource;
mod stats;
mod stop;
mod text;
mod users;

use std::sync::Arc;

/// Runs one import (or dry run) to the end and returns its summary. An
/// `Err` means the input or the configuration could not be used at all.
pub async fn run(config: Config, stop: Stop, progress: Arc<Progress>) -> Result<Summary, Error> {
    commands::import::run(config, stop, progress).await
}
