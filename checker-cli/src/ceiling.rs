//! `checker ceiling`: the best speedup N workers can show on this machine, measured
//! without the engine's cooperation.
//!
//! Each round runs one 1-worker check of the model alone, then N independent 1-worker
//! checks of it at once in this one process. No state crosses between the copies, but
//! they share what the engine's N workers would share: the caches, the memory bus, the
//! address space (and so the kernel's page-fault locks). Copy `i` is pinned to the CPU
//! the engine's worker `i` gets (the same placement plan), the lone check to worker 0's.
//! The copies' slowdown is how much longer the last of them took than the lone check;
//! N divided by it bounds what N workers can show, whatever the engine does. On a
//! many-core machine the ceiling at all cores says how much the memory system leaves
//! for scaling; `checker bench --ceiling` puts it beside the engine's speedup.
//!
//! Every check keeps its parent log in memory (no work directory), so the figure is
//! the search's own, not the disk's. The copies together need N times the memory of
//! one 1-worker check: each check gets an Nth of the budget a `checker check` would
//! get, and one that reaches it ends the measurement with an error.

use crate::output::outln;
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Barrier;
use std::time::Instant;

use checker_core::{CheckOptions, Model, StopReason, Verdict};
use checker_numa::placement::{self, Placement};
use checker_numa::process_limits::{Headroom, MemoryBudget, MemoryLimits, Reserved};
use checker_numa::topology::{NumaNode, Topology, TopologySource};
use checker_numa::{EngineConfig, Spread};
use fixtures::ModelVisitor;

use crate::error::CliError;
use crate::json_sink::JsonSink;
use crate::model_arg::with_any_model;

/// Arguments of `checker ceiling`.
#[derive(Debug, Args)]
pub struct CeilingArgs {
    /// A bundled model name (see `checker list`) or a path to a `.dve` file.
    pub model: String,
    /// The model's parameters, as `checker check` takes them.
    pub params: Vec<String>,
    /// Independent 1-worker checks run at once (at most one per CPU).
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub copies: u32,
    /// Rounds, each a lone check and then the copies; medians over rounds are shown.
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rounds: u32,
    /// Do not report states without successors as errors.
    #[arg(long)]
    pub no_deadlock: bool,
    /// Stop each check after the first level with at least N distinct states.
    #[arg(long, value_name = "N", value_parser = crate::args::parse_positive::<u64>)]
    pub max_states: Option<u64>,
    /// Also write every time and the result as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// One round: the lone check's wall seconds, then each copy's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Round {
    /// Wall seconds of the lone 1-worker check.
    pub alone_s: f64,
    /// Wall seconds of each copy, in copy order.
    pub copies_s: Vec<f64>,
}

impl Round {
    /// When the last copy ended, in seconds after they started.
    pub fn last_s(&self) -> f64 {
        self.copies_s.iter().copied().fold(0.0, f64::max)
    }

    /// When the first copy ended.
    pub fn first_s(&self) -> f64 {
        self.copies_s.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

/// Medians over rounds and what they bound.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ceiling {
    /// Median of the lone checks' wall seconds.
    pub median_alone_s: f64,
    /// Median over rounds of the last copy's wall seconds.
    pub median_last_s: f64,
    /// Median over rounds of the first copy's wall seconds. Far below
    /// `median_last_s`, the CPUs are not equally fast (the same work took longer on
    /// some), which a level-synchronous search waits for at every level.
    pub median_first_s: f64,
    /// `median_last_s / median_alone_s`: how much longer N copies take than one.
    pub slowdown: f64,
    /// `copies / slowdown`: the most an N-worker run can gain over 1 worker here.
    pub ceiling: f64,
}

impl Ceiling {
    /// The medians of `rounds` (at least one) of `copies` copies.
    pub fn of(rounds: &[Round], copies: usize) -> Ceiling {
        let median = |values: Vec<f64>| Spread::of(values).median;
        let median_alone_s = median(rounds.iter().map(|r| r.alone_s).collect());
        let median_last_s = median(rounds.iter().map(Round::last_s).collect());
        let median_first_s = median(rounds.iter().map(Round::first_s).collect());
        let slowdown = median_last_s / median_alone_s;
        Ceiling {
            median_alone_s,
            median_last_s,
            median_first_s,
            slowdown,
            ceiling: copies as f64 / slowdown,
        }
    }
}

/// What `--json` writes.
#[derive(Debug, Serialize)]
struct Report<'a> {
    model: String,
    model_args: Vec<String>,
    distinct: u64,
    copies: usize,
    cpus: Vec<Option<usize>>,
    rounds: &'a [Round],
    #[serde(flatten)]
    result: &'a Ceiling,
}

/// Runs `checker ceiling`; returns the exit code.
pub fn run(args: &CeilingArgs) -> Result<u8, CliError> {
    let topology = checker_numa::topology::detect();
    let copies = args.copies as usize;
    let cpus = topology.usable_cpus();
    if copies > cpus {
        return Err(CliError::Input(format!(
            "--copies {copies}: this machine has {cpus} usable CPU{}{}, and copies sharing a CPU measure nothing",
            if cpus == 1 { "" } else { "s" },
            if topology.cpu_quota.is_some() { " (its CPU quota)" } else { "" }
        )));
    }
    let plan = placement::plan(&topology, copies);
    // The copies run in this one process, so each check gets an equal share of what
    // the limits leave (the lone one too, so that every check does the same search):
    // a budget each check worked out alone would let every copy take all of it, and
    // together they would fail an allocation and abort.
    let memory = Headroom::read(&Reserved::default())
        .budget(None, MemoryLimits::ProcessAndAvailable)
        .map(|total| Memory {
            total,
            per_check: total.bytes / copies as u64,
        });
    let spec: Vec<String> = std::iter::once(args.model.clone())
        .chain(args.params.iter().cloned())
        .collect();
    // Opened (and so checked) before measuring, without truncating it; written after.
    let json = args.json.as_deref().map(JsonSink::open).transpose()?;
    let measure = Measure {
        args,
        places: plan.workers,
        source: topology.source,
        memory,
        spec: &spec,
        json: json.as_ref(),
    };
    let result = with_any_model(&spec, measure).and_then(|measured| measured);
    // Dropped without a report, the sink leaves no empty file behind.
    drop(json);
    result
}

/// The memory budget of the copies together, and each check's share of it.
#[derive(Clone, Copy, Debug)]
struct Memory {
    total: MemoryBudget,
    per_check: u64,
}

/// Measures the model it is handed.
struct Measure<'a> {
    args: &'a CeilingArgs,
    places: Vec<Placement>,
    source: TopologySource,
    memory: Option<Memory>,
    spec: &'a [String],
    /// Where `--json` goes, opened.
    json: Option<&'a JsonSink>,
}

impl ModelVisitor for Measure<'_> {
    type Output = Result<u8, CliError>;

    fn visit<M: Model + 'static>(self, model: M) -> Self::Output {
        let options = CheckOptions {
            max_states: self.args.max_states,
            check_deadlock: !self.args.no_deadlock,
            ..CheckOptions::default()
        };
        let copies = self.places.len();
        let mut rounds = Vec::new();
        let mut distinct = None;
        let check = Check {
            options: &options,
            source: self.source,
            memory: self.memory,
            copies,
        };
        for round in 1..=self.args.rounds {
            let alone = timed_check(&model, &check, &self.places[0])?;
            let together = together(&model, &check, &self.places)?;
            // Every check must do the same search, or the times compare nothing.
            for &(_, states) in std::iter::once(&alone).chain(&together) {
                if *distinct.get_or_insert(states) != states {
                    return Err(CliError::Input(format!(
                        "checks of {} disagree: {states} distinct states against {}",
                        model.name(),
                        distinct.unwrap_or_default()
                    )));
                }
            }
            let this = Round {
                alone_s: alone.0,
                copies_s: together.iter().map(|&(s, _)| s).collect(),
            };
            let shown: Vec<String> = this.copies_s.iter().map(|t| format!("{t:.3}")).collect();
            outln!(
                "round {round}: alone {:.3} s, {copies} cop{} {} s",
                this.alone_s,
                if copies == 1 { "y" } else { "ies" },
                shown.join(", ")
            );
            rounds.push(this);
        }
        let result = Ceiling::of(&rounds, copies);
        outln!(
            "{}: {} distinct states; median of {} round{}: alone {:.3} s, {copies} at once {:.3} s (the last to end; the first {:.3} s); slowdown {:.3}, {copies}-worker ceiling {:.2}x",
            model.name(),
            crate::report::thousands(distinct.unwrap_or_default()),
            rounds.len(),
            if rounds.len() == 1 { "" } else { "s" },
            result.median_alone_s,
            result.median_last_s,
            result.median_first_s,
            result.slowdown,
            result.ceiling
        );
        if let Some(sink) = self.json {
            let report = Report {
                model: model.name(),
                model_args: self.spec.to_vec(),
                distinct: distinct.unwrap_or_default(),
                copies,
                cpus: self.places.iter().map(|p| p.cpu).collect(),
                rounds: &rounds,
                result: &result,
            };
            let text = serde_json::to_string_pretty(&report).expect("the report serialises") + "\n";
            sink.write(&text)?;
        }
        Ok(0)
    }
}

/// The copies, started together (a barrier), each on its own CPU; each one's wall
/// seconds and distinct count, in copy order.
fn together<M: Model>(
    model: &M,
    check: &Check,
    places: &[Placement],
) -> Result<Vec<(f64, u64)>, CliError> {
    let start = Barrier::new(places.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = places
            .iter()
            .map(|place| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    timed_check(model, check, place)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a copy's thread does not panic"))
            .collect()
    })
}

/// What every check of a measurement shares.
struct Check<'a> {
    options: &'a CheckOptions<'a>,
    source: TopologySource,
    memory: Option<Memory>,
    copies: usize,
}

/// One 1-worker check pinned to `place`'s CPU: its wall seconds and distinct count.
/// A check that stops at its memory budget is an error: its time measures a search
/// cut short.
fn timed_check<M: Model>(
    model: &M,
    check: &Check,
    place: &Placement,
) -> Result<(f64, u64), CliError> {
    let Check {
        options,
        source,
        memory,
        copies,
    } = *check;
    let config = EngineConfig {
        workers: 1,
        pin: place.cpu.is_some(),
        topology: Some(Topology {
            nodes: vec![NumaNode {
                id: place.node,
                cpus: place.cpu.into_iter().collect(),
            }],
            source,
            cpu_quota: None,
        }),
        memory_budget: memory.map(|m| m.per_check),
        memory_limits: MemoryLimits::ProcessAndAvailable,
        ..EngineConfig::default()
    };
    let started = Instant::now();
    let result = checker_numa::check(model, options, &config)?;
    let elapsed = started.elapsed().as_secs_f64();
    if let Verdict::Partial {
        reason: StopReason::MemoryBudget,
    } = result.outcome.verdict
    {
        let budget = result.memory_budget.map_or(0, |b| b.bytes);
        let shared = match memory {
            Some(m) if copies > 1 => format!("; {copies} checks at once share {}", m.total),
            Some(m) => format!(", {}", m.total.source),
            None => String::new(),
        };
        return Err(CliError::Input(format!(
            "a check of {} stopped at its memory budget ({:.1} MiB{shared}) after {} distinct states: use --max-states{}",
            model.name(),
            budget as f64 / 1048576.0,
            crate::report::thousands(result.outcome.distinct),
            if copies > 1 { " or fewer --copies" } else { "" }
        )));
    }
    Ok((elapsed, result.outcome.distinct))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(alone_s: f64, copies_s: &[f64]) -> Round {
        Round {
            alone_s,
            copies_s: copies_s.to_vec(),
        }
    }

    #[test]
    fn the_ceiling_is_copies_over_the_median_slowdown_of_the_last_copy() {
        let rounds = [
            round(2.0, &[2.1, 2.5]),
            round(1.0, &[2.0, 1.9]),
            round(2.2, &[2.4, 2.3]),
        ];
        let c = Ceiling::of(&rounds, 2);
        assert_eq!(c.median_alone_s, 2.0);
        // Last copies 2.5, 2.0, 2.4: median 2.4.
        assert_eq!(c.median_last_s, 2.4);
        // First copies 2.1, 1.9, 2.3: median 2.1.
        assert_eq!(c.median_first_s, 2.1);
        assert!((c.slowdown - 1.2).abs() < 1e-12, "{}", c.slowdown);
        assert!((c.ceiling - 2.0 / 1.2).abs() < 1e-12, "{}", c.ceiling);
    }

    #[test]
    fn one_copy_as_fast_as_alone_has_ceiling_one() {
        let c = Ceiling::of(&[round(3.0, &[3.0])], 1);
        assert_eq!((c.slowdown, c.ceiling), (1.0, 1.0));
    }
}
