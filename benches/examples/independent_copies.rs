//! The best an N-worker run can do on this machine: the engine with 1 worker alone,
//! then N independent 1-worker checks of the same model at once in one process (no
//! state crosses between them, but they share the caches, the memory bus and the
//! address space). The copies' slowdown is how much longer the last of them took than
//! the lone run; N divided by it bounds the speedup N workers can show, whatever the
//! engine does. On the 2-vCPU development VM the 2-copy ceiling was 1.97x; on a many-core
//! machine the ceiling at all cores says how much memory bandwidth leaves for scaling.
//! Alternating runs; medians over rounds. Every run uses glibc's default allocator policy
//! (the `checker` binary fixes the mmap threshold; this example does not), so their ratio
//! is fair. The copies together need N times the memory of one 1-worker check.
//!
//! ```text
//! cargo run --release -p benches --example independent_copies -- grid 8 7
//! cargo run --release -p benches --example independent_copies -- --copies 16 --rounds 3 twophase 9
//! ```
//!
//! Any bundled model works, named and parameterised as for `checker check`. Without
//! `--copies` it runs 2 copies (the 2-worker ceiling), 5 rounds.

use std::time::Instant;

use checker_core::{CheckOptions, Model};
use checker_numa::EngineConfig;
use fixtures::registry::{with_model, ModelVisitor};

/// What to measure, from the command line.
#[derive(Debug, PartialEq, clap::Parser)]
#[command(
    name = "independent_copies",
    about = "The machine's own N-worker ceiling: N independent 1-worker checks at once"
)]
struct Plan {
    /// Independent 1-worker checks run at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=1024))]
    copies: u16,
    /// Rounds (each one lone check, then the copies); medians over them are shown.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=1024))]
    rounds: u16,
    /// A bundled model and its parameters, as `checker check` takes them (see `checker list`).
    #[arg(required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true)]
    model: Vec<String>,
}

/// Reads `[--copies N] [--rounds N] MODEL [PARAMS...]` (`args` without the program
/// name). On `Err`, `use_stderr()` tells a usage error from the help text (`--help`).
fn parse(args: &[String]) -> Result<Plan, clap::Error> {
    use clap::Parser;
    Plan::try_parse_from(
        std::iter::once("independent_copies").chain(args.iter().map(String::as_str)),
    )
}

/// A usage error as one line, as the `checker` binary prints it: clap's first
/// paragraph with its lines joined (so a missing argument is named).
fn one_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let first: Vec<&str> = rendered
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim)
        .collect();
    first.join(" ")
}

/// Wall seconds of one 1-worker check of `model` (unpinned: the copies would otherwise
/// all pin to the first CPU).
fn one_check<M: Model>(model: &M) -> f64 {
    let config = EngineConfig {
        workers: 1,
        pin: false,
        ..Default::default()
    };
    let started = Instant::now();
    checker_numa::check(model, &CheckOptions::default(), &config).expect("check");
    started.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Measures the model it is handed.
struct Measure {
    copies: usize,
    rounds: usize,
}

impl ModelVisitor for Measure {
    type Output = ();

    fn visit<M: Model + 'static>(self, model: M) {
        measure(&model, self.copies, self.rounds);
    }
}

fn measure<M: Model>(model: &M, copies: usize, rounds: usize) {
    let (mut alone, mut together) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let a = one_check(model);
        let times: Vec<f64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..copies).map(|_| s.spawn(|| one_check(model))).collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("check"))
                .collect()
        });
        let shown: Vec<String> = times.iter().map(|t| format!("{t:.3}")).collect();
        println!(
            "round {round}: alone {a:.3} s, {copies} copies {} s",
            shown.join(", ")
        );
        alone.push(a);
        together.push(times.into_iter().fold(0.0, f64::max));
    }
    let (a, t) = (median(alone), median(together));
    println!(
        "median: alone {a:.3} s, {copies} copies {t:.3} s (the last to end); slowdown {:.3}, {copies}-worker ceiling {:.2}x",
        t / a,
        copies as f64 * a / t
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let plan = match parse(&args) {
        Ok(plan) => plan,
        Err(e) if !e.use_stderr() => {
            // --help: clap's text on stdout, success.
            let _ = e.print();
            return;
        }
        Err(e) => {
            eprintln!("{}", one_line(&e));
            std::process::exit(2);
        }
    };
    let (name, params) = plan.model.split_first().expect("clap requires a model");
    let measure = Measure {
        copies: usize::from(plan.copies),
        rounds: usize::from(plan.rounds),
    };
    if let Err(e) = with_model(name, params, measure) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn reads_copies_rounds_and_the_model() {
        assert_eq!(
            parse(&words("twophase 9")).unwrap(),
            Plan {
                copies: 2,
                rounds: 5,
                model: words("twophase 9")
            }
        );
        assert_eq!(
            parse(&words("--rounds 3 --copies 16 grid 8 7")).unwrap(),
            Plan {
                copies: 16,
                rounds: 3,
                model: words("grid 8 7")
            }
        );
        // Parameters that look like flags belong to the model.
        assert_eq!(
            parse(&words("synthetic states=100 --x")).unwrap().model,
            words("synthetic states=100 --x")
        );
    }

    #[test]
    fn refuses_bad_numbers_and_a_missing_model_in_one_line() {
        let refused = |line: &str| one_line(&parse(&words(line)).unwrap_err());
        assert_eq!(
            refused("--copies 0 grid 8 7"),
            "error: invalid value '0' for '--copies <COPIES>': 0 is not in 1..=1024"
        );
        assert_eq!(
            refused("--rounds x grid"),
            "error: invalid value 'x' for '--rounds <ROUNDS>': invalid digit found in string"
        );
        assert_eq!(
            refused("--copies"),
            "error: a value is required for '--copies <COPIES>' but none was supplied"
        );
        assert_eq!(
            refused("--copies 4"),
            "error: the following required arguments were not provided: <MODEL>..."
        );
        assert!(parse(&[]).is_err());
        assert!(parse(&words("--help")).is_err_and(|e| !e.use_stderr()));
    }
}
