//! The `genimport` binary: parse the command line, execute, exit.

use std::process::ExitCode;

use genimport::exit;
use genimport::{parse_args, ParseFailure};

fn main() -> ExitCode {
    match parse_args() {
        Ok(cli) => ExitCode::from(genimport::execute(cli)),
        Err(ParseFailure::Clap(e)) => {
            let _ = e.print();
            ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            })
        }
        Err(ParseFailure::Config(e)) => {
            eprintln!("genimport: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
