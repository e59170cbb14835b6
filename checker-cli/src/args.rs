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
    /// The machine's own ceiling for N workers: N independent 1-worker checks of a
    /// model at once, against one alone.
    Ceiling(crate::ceiling::CeilingArgs),
    /// Time a model with the sequential checker and the parallel engine at several
    /// worker counts; write results.csv/.json, scaling.svg and workers.svg.
    Bench(crate::bench::BenchArgs),
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
    /// A bundled model name (see `checker list`) or a path to a `.dve` file; may be
    /// left out with `--resume`, which knows the model.
    #[arg(required_unless_present = "resume")]
    pub model: Option<String>,
    /// The model's parameters, e.g. `7` for `twophase 7`, `states=1000000` for synthetic.
    pub params: Vec<String>,
    /// Stop at the end of the first level after which at least N distinct states are stored.
    #[arg(long, value_name = "N", value_parser = crate::args::parse_positive::<u64>)]
    pub max_states: Option<u64>,
    /// Explore at most D BFS levels.
    #[arg(long, value_name = "D", value_parser = crate::args::parse_positive::<u32>)]
    pub max_depth: Option<u32>,
    /// Do not report states without successors as errors.
    #[arg(long)]
    pub no_deadlock: bool,
    /// Also write the summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Worker threads for the parallel engine (0 = one per CPU) [default: 0].
    #[arg(long, value_name = "N", value_parser = parse_workers)]
    pub workers: Option<usize>,
    /// Which engine to run.
    #[arg(long, value_enum, default_value_t = Engine::Parallel)]
    pub engine: Engine,
    /// Bytes per batch of states sent between workers [default: 8192].
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..=(1 << 30)))]
    pub batch_bytes: Option<u64>,
    /// Batches each (sender, receiver) ring holds [default: 16].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub ring_capacity: Option<u64>,
    /// Do not pin worker threads to CPUs.
    #[arg(long)]
    pub no_pin: bool,
    /// Each worker expands only its own frontier: a worker that is done does not take
    /// over part of a slower worker's (for measuring what that sharing brings).
    #[arg(long)]
    pub no_share: bool,
    /// Share expansion even when the workers outnumber the CPUs (by default a run
    /// shares only when each worker has a CPU; with more workers than CPUs the
    /// scheduler evens them out, and sharing only adds waits).
    #[arg(long, conflicts_with = "no_share")]
    pub share: bool,
    /// Work directory for parent logs, spilled frontiers and checkpoints (default: a
    /// fresh directory under the current one, removed after a run that needs no resume).
    #[arg(long, value_name = "DIR", conflicts_with = "resume")]
    pub workdir: Option<PathBuf>,
    /// Write a checkpoint at the first level end after each DURATION (e.g. `10m`, `30s`).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub checkpoint_every: Option<std::time::Duration>,
    /// Keep parent logs and frontiers in memory, with no work directory (and so no
    /// checkpoints): faster for runs that fit in memory many times over.
    #[arg(long, conflicts_with_all = ["workdir", "checkpoint_every", "resume"])]
    pub memory_log: bool,
    /// Continue the run whose checkpoint is in DIR, with the settings it was started
    /// with (deadlock checking, and `--max-states`/`--max-depth` unless given again).
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
    /// Memory the run may use, e.g. `8G`, `512M` (default: 75% of MemAvailable),
    /// lowered to fit `ulimit -v`, `ulimit -d`, a cgroup memory limit and strict
    /// overcommit. Past it the run writes a checkpoint and stops.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory: Option<u64>,
    /// Seconds between progress reports.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub progress_every: f64,
}

/// A whole number from 1 up to `T`'s largest.
pub fn parse_positive<T>(text: &str) -> Result<T, String>
where
    T: std::str::FromStr + Default + PartialEq + std::fmt::Display + Bounded,
{
    let n: T = text.parse().map_err(|_| {
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            format!("too large (at most {})", T::MAX)
        } else {
            format!("`{text}` is not a whole number")
        }
    })?;
    if n == T::default() {
        return Err("must be at least 1".into());
    }
    Ok(n)
}

/// The largest value of an unsigned integer type, for [`parse_positive`]'s message.
pub trait Bounded {
    /// The largest value.
    const MAX: Self;
}

impl Bounded for u64 {
    const MAX: u64 = u64::MAX;
}

impl Bounded for u32 {
    const MAX: u32 = u32::MAX;
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

/// Splits `12.5G` into `12.5` and `G`; `None` if it does not start with a number.
fn number_and_unit(text: &str) -> Option<(f64, &str)> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    Some((number.parse().ok()?, unit))
}

/// A duration such as `90s`, `10m`, `2h`, `500ms` or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let (value, unit) = number_and_unit(text)
        .ok_or_else(|| format!("`{text}` is not a duration (try 30s, 10m, 2h)"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}` (use ms, s, m or h)"
            ))
        }
    };
    if !seconds.is_finite() || seconds > 1e9 {
        return Err(format!("`{text}` is not a usable duration"));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

/// A size in bytes such as `512M`, `8G`, `1.5T` or a plain number of bytes (binary
/// multiples: K = 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let (value, unit) =
        number_and_unit(text).ok_or_else(|| format!("`{text}` is not a size (try 512M or 8G)"))?;
    let scale = match unit.trim_end_matches(['B', 'b', 'i']) {
        "" => 1u64,
        "K" | "k" => 1 << 10,
        "M" | "m" => 1 << 20,
        "G" | "g" => 1 << 30,
        "T" | "t" => 1 << 40,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}` (use K, M, G or T)"
            ))
        }
    };
    let bytes = value * scale as f64;
    if !(1.0..1.8e19).contains(&bytes) {
        return Err(format!("`{text}` is not a usable memory size"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("ten")
            .unwrap_err()
            .contains("not a duration"));
        assert!(parse_duration("5y")
            .unwrap_err()
            .contains("unknown unit `y`"));
    }

    #[test]
    fn positive_numbers() {
        assert_eq!(parse_positive::<u64>("7"), Ok(7));
        assert_eq!(parse_positive::<u64>("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            parse_positive::<u64>("0"),
            Err("must be at least 1".to_string())
        );
        assert_eq!(
            parse_positive::<u64>("18446744073709551616"),
            Err("too large (at most 18446744073709551615)".to_string())
        );
        assert_eq!(
            parse_positive::<u32>("4294967296"),
            Err("too large (at most 4294967295)".to_string())
        );
        assert_eq!(
            parse_positive::<u32>("-3"),
            Err("`-3` is not a whole number".to_string())
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("8G"), Ok(8 << 30));
        assert_eq!(parse_size("8GiB"), Ok(8 << 30));
        assert_eq!(parse_size("1.5K"), Ok(1536));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("0")
            .unwrap_err()
            .contains("not a usable memory size"));
        assert!(parse_size("lots").unwrap_err().contains("not a size"));
        assert!(parse_size("3Q").unwrap_err().contains("unknown unit"));
    }
}
