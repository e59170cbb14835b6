//! `checker`: explicit-state model checking of bundled models and DVE files.
//!
//! Exit codes: 0 every property holds (or the partial search found no error), 1 a
//! violation or deadlock was found, 2 a usage or input error.

mod allocator;
mod args;
mod bench;
mod check;
mod error;
mod progress;
mod report;

use clap::Parser;
use std::process::ExitCode;

use args::{Cli, Command};
use error::CliError;

fn main() -> ExitCode {
    allocator::apply();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with code 0; usage errors are one line
            // on stderr with code 2.
            if !e.use_stderr() {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            let rendered = e.render().to_string();
            eprintln!(
                "{}",
                rendered.lines().next().unwrap_or("error: bad arguments")
            );
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<u8, CliError> {
    match cli.command {
        Command::List => {
            print!("{}", report::catalogue_table());
            Ok(0)
        }
        Command::Topology { workers } => {
            let topology = checker_numa::topology::detect();
            let plan = checker_numa::placement::plan(&topology, workers);
            println!("{topology}");
            println!("{plan}");
            Ok(0)
        }
        Command::Check(args) => check::run(&args),
        Command::Bench(args) => bench::run(&args),
    }
}
