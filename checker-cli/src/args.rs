//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Explicit-state model checker with a NUMA-partitioned parallel engine.
#[derive(Debug, Parser)]
#[command(name = "checker", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the bundled models and their parameters.
    List,
    /// Check a bundled model, or a DVE file given by path.
    Check(CheckArgs),
    /// Print the NUMA nodes, CPUs and the placement plan for N workers.
    Topology {
        /// Workers to plan for (0 = one per CPU).
        #[arg(long, default_value_t = 0, value_parser = parse_workers)]
        workers: usize,
    },
}

/// Which engine runs the check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// The partitioned parallel engine.
    Parallel,
    /// The sequential reference checker.
    Sequential,
}

/// Arguments of `checker check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A bundled model name (see `checker list`) or a path to a `.dve` file.
    pub model: String,
    /// The model's parameters, e.g. `7` for `twophase 7`, `states=1000000` for synthetic.
    pub params: Vec<String>,
    /// Stop at the end of the first level after which at least N distinct states are stored.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_states: Option<u64>,
    /// Explore at most D BFS levels.
    #[arg(long, value_name = "D", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_depth: Option<u32>,
    /// Do not report states without successors as errors.
    #[arg(long)]
    pub no_deadlock: bool,
    /// Also write the summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Worker threads for the parallel engine (0 = one per CPU).
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = parse_workers)]
    pub workers: usize,
    /// Which engine to run.
    #[arg(long, value_enum, default_value_t = Engine::Parallel)]
    pub engine: Engine,
    /// Bytes per batch of states sent between workers.
    #[arg(long, default_value_t = 16 * 1024, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..=(1 << 30)))]
    pub batch_bytes: u64,
    /// Batches each (sender, receiver) ring holds.
    #[arg(long, default_value_t = 16, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub ring_capacity: u64,
    /// Do not pin worker threads to CPUs.
    #[arg(long)]
    pub no_pin: bool,
    /// Seconds between progress reports.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub progress_every: f64,
}

/// A worker count: 0 (one per CPU) up to the engine's limit.
pub fn parse_workers(text: &str) -> Result<usize, String> {
    let n: usize = text
        .parse()
        .map_err(|_| format!("`{text}` is not a worker count"))?;
    if n > checker_numa::partition::MAX_WORKERS {
        return Err(format!(
            "at most {} workers are supported",
            checker_numa::partition::MAX_WORKERS
        ));
    }
    Ok(n)
}
