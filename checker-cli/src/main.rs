//! `checker`: explicit-state model checking of bundled models and DVE files.
//!
//! Exit codes: 0 every property holds (or the partial search found no error), 1 a
//! violation or deadlock was found, 2 a usage or input error, 3 the run (or one of
//! `bench`'s) stopped early, on a signal or at its memory budget.

mod allocator;
mod args;
mod bench;
mod ceiling;
mod check;
mod error;
mod json_sink;
mod model_arg;
mod output;
mod owned_workdir;
mod progress;
mod report;
mod signals;

use clap::Parser;
use std::process::ExitCode;

use args::{Cli, Command};
use error::CliError;
use output::{errln, out, outln};

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
            errln!("{}", usage_error_line(&e));
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            errln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// clap's error as one line: its first paragraph with the lines joined, so that "the
/// following required arguments were not provided:" keeps the names listed under it.
fn usage_error_line(e: &clap::Error) -> String {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand
    ) {
        // clap renders the whole help here, whose first paragraph is only the tool's
        // description.
        let commands: Vec<String> = <Cli as clap::CommandFactory>::command()
            .get_subcommands()
            .filter(|c| c.get_name() != "help")
            .map(|c| format!("`{}`", c.get_name()))
            .collect();
        return format!(
            "error: no command given: one of {} (see `checker --help`)",
            commands.join(", ")
        );
    }
    let rendered = e.render().to_string();
    let first: Vec<&str> = rendered
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim)
        .collect();
    if first.is_empty() {
        "error: bad arguments".to_string()
    } else {
        first.join(" ")
    }
}

fn run(cli: Cli) -> Result<u8, CliError> {
    match cli.command {
        Command::List => {
            out!("{}", report::catalogue_table());
            Ok(0)
        }
        Command::Topology { workers } => {
            let topology = checker_numa::topology::detect();
            let plan = checker_numa::placement::plan(&topology, workers);
            outln!("{topology}");
            outln!("{plan}");
            Ok(0)
        }
        Command::Check(args) => check::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Ceiling(args) => ceiling::run(&args),
    }
}
