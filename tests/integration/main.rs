//! The integration tests: one binary that drives the real `genimport`
//! binary against the stateful fake Genesys server (`tests/common`), a
//! module per feature.

#[path = "../common/mod.rs"]
mod common;

mod bigorg;
mod commands;
mod endings;
mod export;
mod hardening;
mod help;
mod import;
mod input_errors;
mod input_files;
mod licences;
mod movers;
mod permissions;
mod phones;
mod preflight_safety;
mod progress;
mod provisioning;
mod queues;
mod roundtrip;
mod undo;
mod update;
mod write_safety;
