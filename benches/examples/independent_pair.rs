//! The best a 2-worker run can do on this machine: the engine with 1 worker alone,
//! then two independent 1-worker checks of the same model at once in one process
//! (no state crosses between them, but they share the caches, the memory bus and the
//! address space). `pair slowdown` is how much longer each of the pair took than the
//! lone run; 2 divided by it bounds the speedup 2 workers can show. Alternating runs;
//! medians over repeats. Both runs use glibc's default allocator policy (the `checker`
//! binary fixes the mmap threshold; this example does not), so their ratio is fair.
//!
//! ```text
//! cargo run --release -p benches --example independent_pair -- grid 8 7
//! cargo run --release -p benches --example independent_pair -- twophase 9
//! ```
//!
//! Any bundled model works, named and parameterised as for `checker check`.

use std::time::Instant;

use checker_core::{CheckOptions, Model};
use checker_numa::EngineConfig;
use fixtures::registry::{with_model, ModelVisitor};

const REPEATS: usize = 5;

/// Wall seconds of one 1-worker check of `model` (unpinned: the pair's two checks
/// would otherwise both pin to the first CPU).
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
struct Measure;

impl ModelVisitor for Measure {
    type Output = ();

    fn visit<M: Model + 'static>(self, model: M) {
        measure(&model);
    }
}

fn measure<M: Model>(model: &M) {
    let (mut alone, mut pair) = (Vec::new(), Vec::new());
    for round in 1..=REPEATS {
        let a = one_check(model);
        let (p, q) = std::thread::scope(|s| {
            let p = s.spawn(|| one_check(model));
            let q = s.spawn(|| one_check(model));
            (p.join().expect("check"), q.join().expect("check"))
        });
        println!("round {round}: alone {a:.3} s, pair {p:.3} s and {q:.3} s");
        alone.push(a);
        pair.push(p.max(q));
    }
    let (a, p) = (median(alone), median(pair));
    println!(
        "median: alone {a:.3} s, pair {p:.3} s; pair slowdown {:.3}, 2-worker ceiling {:.2}x",
        p / a,
        2.0 * a / p
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((name, params)) = args.split_first() else {
        eprintln!("usage: independent_pair MODEL [PARAMS...] (see `checker list`)");
        std::process::exit(2);
    };
    if let Err(e) = with_model(name, params, Measure) {
        eprintln!("independent_pair: {e}");
        std::process::exit(2);
    }
}
