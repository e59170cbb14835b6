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

const USAGE: &str =
    "usage: independent_copies [--copies N] [--rounds N] MODEL [PARAMS...] (see `checker list`)";

/// What to measure, from the command line.
#[derive(Debug, PartialEq)]
struct Plan {
    copies: usize,
    rounds: usize,
    model: Vec<String>,
}

/// Reads `[--copies N] [--rounds N] MODEL [PARAMS...]`.
fn parse(args: &[String]) -> Result<Plan, String> {
    let mut plan = Plan {
        copies: 2,
        rounds: 5,
        model: Vec::new(),
    };
    let mut rest = args;
    while let Some((flag, tail)) = rest.split_first() {
        let field = match flag.as_str() {
            "--copies" => &mut plan.copies,
            "--rounds" => &mut plan.rounds,
            _ => break,
        };
        let value = tail
            .first()
            .ok_or_else(|| format!("{flag} needs a number"))?;
        *field = match value.parse::<usize>() {
            Ok(n @ 1..=1024) => n,
            _ => return Err(format!("{flag} {value}: expected a number from 1 to 1024")),
        };
        rest = &tail[1..];
    }
    if rest.is_empty() {
        return Err(USAGE.to_string());
    }
    plan.model = rest.to_vec();
    Ok(plan)
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
        Err(e) => {
            eprintln!("independent_copies: {e}");
            std::process::exit(2);
        }
    };
    let (name, params) = plan
        .model
        .split_first()
        .expect("parse checks a model is named");
    let measure = Measure {
        copies: plan.copies,
        rounds: plan.rounds,
    };
    if let Err(e) = with_model(name, params, measure) {
        eprintln!("independent_copies: {e}");
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
            parse(&words("twophase 9")),
            Ok(Plan {
                copies: 2,
                rounds: 5,
                model: words("twophase 9")
            })
        );
        assert_eq!(
            parse(&words("--rounds 3 --copies 16 grid 8 7")),
            Ok(Plan {
                copies: 16,
                rounds: 3,
                model: words("grid 8 7")
            })
        );
    }

    #[test]
    fn refuses_bad_numbers_and_a_missing_model() {
        assert_eq!(
            parse(&words("--copies 0 grid 8 7")),
            Err("--copies 0: expected a number from 1 to 1024".into())
        );
        assert_eq!(
            parse(&words("--rounds x grid")),
            Err("--rounds x: expected a number from 1 to 1024".into())
        );
        assert_eq!(
            parse(&words("--copies")),
            Err("--copies needs a number".into())
        );
        assert_eq!(parse(&words("--copies 4")), Err(USAGE.to_string()));
        assert_eq!(parse(&[]), Err(USAGE.to_string()));
    }
}
