//! One check by one tool, run in its own process so that its peak RSS (`VmHWM`) is
//! that tool's alone: `peer --child TOOL THREADS MODEL PARAMS...` prints one JSON line.

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

use benches::rss::peak_rss_bytes;
use checker_core::{CheckOptions, Model};
use checker_numa::EngineConfig;
use fixtures::{with_model, ModelVisitor};
use stateright::Checker;

use crate::grid::GridSr;
use crate::twophase::TwoPhaseSr;

/// The two tools compared.
pub const TOOLS: [&str; 2] = ["checker", "stateright"];

/// What one child measured.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Measurement {
    /// Distinct states found.
    pub distinct: u64,
    /// States generated (initial states plus successors, duplicates included).
    pub generated: u64,
    /// Wall time of the search alone.
    pub elapsed_s: f64,
    /// Peak RSS of the child process.
    pub peak_rss_bytes: u64,
}

/// Runs the check the arguments name and prints its [`Measurement`] as JSON.
pub fn run(args: &[String]) {
    let [tool, threads, model, params @ ..] = args else {
        panic!("usage: peer --child TOOL THREADS MODEL PARAMS...");
    };
    let threads: usize = threads.parse().expect("THREADS is a number");
    let (distinct, generated, elapsed) = match tool.as_str() {
        "checker" => with_model(model, params, Engine { threads }).expect("a bundled model"),
        "stateright" => stateright_check(model, params, threads),
        other => panic!("unknown tool {other}"),
    };
    let measurement = Measurement {
        distinct,
        generated,
        elapsed_s: elapsed.as_secs_f64(),
        peak_rss_bytes: peak_rss_bytes().unwrap_or(0),
    };
    println!(
        "{}",
        serde_json::to_string(&measurement).expect("serialises")
    );
}

/// Our parallel engine at `threads` workers, on the bundled model.
struct Engine {
    threads: usize,
}

impl ModelVisitor for Engine {
    type Output = (u64, u64, Duration);

    fn visit<M: Model + 'static>(self, model: M) -> Self::Output {
        let config = EngineConfig {
            workers: self.threads,
            ..EngineConfig::default()
        };
        let started = Instant::now();
        let result =
            checker_numa::check(&model, &CheckOptions::default(), &config).expect("the check runs");
        let elapsed = started.elapsed();
        (result.outcome.distinct, result.outcome.generated, elapsed)
    }
}

fn stateright_check(model: &str, params: &[String], threads: usize) -> (u64, u64, Duration) {
    let number = |i: usize| -> u64 { params[i].parse().expect("numeric model parameters") };
    match model {
        "twophase" => stateright_bfs(TwoPhaseSr::new(number(0) as u32), threads),
        "grid" => stateright_bfs(GridSr::new(number(0) as u32, number(1)), threads),
        other => panic!("no Stateright version of {other}"),
    }
}

/// Stateright's breadth-first checker with `threads` threads.
fn stateright_bfs<M>(model: M, threads: usize) -> (u64, u64, Duration)
where
    M: stateright::Model + Send + Sync + 'static,
    M::State: Clone + std::fmt::Debug + std::hash::Hash + PartialEq + Send + Sync + 'static,
    M::Action: Clone + std::fmt::Debug + PartialEq,
{
    let started = Instant::now();
    let checker = model.checker().threads(threads).spawn_bfs().join();
    let elapsed = started.elapsed();
    assert!(
        checker.discoveries().is_empty(),
        "the property must hold, or Stateright stops early"
    );
    (
        checker.unique_state_count() as u64,
        checker.state_count() as u64,
        elapsed,
    )
}
