//! genimport: bulk-create Genesys Cloud users from a CSV file.
//!
//! Data flows one way: argv/env -> `Config` -> rows -> plans -> client ->
//! outcomes -> results file -> `Summary` -> exit code. `run` is the whole
//! program minus argument parsing, so tests and benchmarks can call it.

mod access;
pub mod cli;
mod commands;

pub use commands::{execute, export};

pub mod config;
mod engine;
pub mod error;
mod escape;
mod genesys;
mod input;
pub mod logging;
pub mod output;
mod pacing;
mod plan;
pub mod progress;
mod queues;
mod region;
mod resolve;
mod resource;
mod stats;
pub mod stop;
mod text;
mod users;

use std::sync::Arc;

use config::Config;
use error::Error;
use output::Summary;
use progress::Progress;
use stop::Stop;

/// Runs one import (or dry run) to the end and returns its summary. An
/// `Err` means the input or the configuration could not be used at all.
pub async fn run(config: Config, stop: Stop, progress: Arc<Progress>) -> Result<Summary, Error> {
    commands::import::run(config, stop, progress).await
}
