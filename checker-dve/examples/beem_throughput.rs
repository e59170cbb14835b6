//! Throughput of the DVE front end on BEEM instances.
//!
//! ```text
//! cargo run --release -p checker-dve --example beem_throughput -- anderson.4 bakery.4 [DIR]
//! ```
//!
//! For each named instance (a file `<name>.dve` in the BEEM fixture directory, or in
//! the directory given as an argument containing a `/`), prints:
//!
//! * `check`: the sequential reference checker with deadlock detection off: states,
//!   transitions, deadlocks, BFS levels, wall time and distinct states per second;
//! * `model`: successor generation alone, timed over (up to a million of) the reachable
//!   states collected beforehand: states expanded per second and successors per second.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use checker_core::{sequential, CheckOptions, Model};
use checker_dve::{DveModel, StateVector};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures-beem");

/// The first `limit` reachable states in BFS order.
fn sample_states(model: &DveModel, limit: usize) -> Vec<StateVector> {
    let mut seen: HashSet<StateVector> = HashSet::new();
    let mut order = vec![StateVector::from_slice(model.initial_state())];
    seen.insert(order[0].clone());
    let mut i = 0;
    while i < order.len() && order.len() < limit {
        let s = order[i].clone();
        model.successors(&s, &mut |_, t| {
            if order.len() < limit && seen.insert(t.clone()) {
                order.push(t.clone());
            }
        });
        i += 1;
    }
    order
}

fn main() {
    let mut dir = PathBuf::from(FIXTURES);
    let mut names = Vec::new();
    for arg in std::env::args().skip(1) {
        if arg.contains('/') {
            dir = PathBuf::from(arg);
        } else {
            names.push(arg);
        }
    }
    if names.is_empty() {
        names = ["anderson.4", "bakery.4", "bakery.5", "peterson.4", "at.4"]
            .map(String::from)
            .to_vec();
    }
    for name in names {
        let path = dir.join(format!("{name}.dve"));
        let model = match DveModel::from_file(&path) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        };
        let options = CheckOptions {
            check_deadlock: false,
            ..CheckOptions::default()
        };
        let out = sequential::check(&model, &options).expect("no counterexample to replay");
        println!(
            "{name:<20} check: {:>9} states {:>10} transitions {:>6} deadlocks {:>4} levels {:>7.2} s {:>10.0} states/s",
            out.distinct,
            out.generated - 1,
            out.deadlocks,
            out.depth,
            out.elapsed.as_secs_f64(),
            out.distinct_per_second()
        );
        let states = sample_states(&model, 1_000_000);
        let start = Instant::now();
        let mut successors = 0u64;
        let mut checksum = 0u64;
        for s in &states {
            model.successors(s, &mut |_, t| {
                successors += 1;
                checksum = checksum.wrapping_add(u64::from(t[0]));
            });
        }
        let secs = start.elapsed().as_secs_f64().max(1e-9);
        println!(
            "{name:<20} model: {:>9} states {:>10} successors {:>6} (checksum {checksum}) {:>7.2} s {:>10.0} states/s {:>11.0} successors/s",
            states.len(),
            successors,
            "",
            secs,
            states.len() as f64 / secs,
            successors as f64 / secs
        );
    }
}
