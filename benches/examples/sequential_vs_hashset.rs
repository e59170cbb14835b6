//! The sequential checker against a plain `HashSet<State>` breadth-first search over
//! the same model, in the same process, alternating runs: prints distinct states per
//! second of each and their ratio (medians over repeats).
//!
//! ```text
//! cargo run --release -p benches --example sequential_vs_hashset -- twophase 8
//! cargo run --release -p benches --example sequential_vs_hashset -- grid 7 8
//! ```

use std::collections::{HashSet, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

use checker_core::{sequential, CheckOptions, Model};
use fixtures::grid::Grid;
use fixtures::twophase::TwoPhase;

const REPEATS: usize = 3;

/// A plain BFS: a `HashSet` of typed states (std's hasher), a queue, and the same
/// invariant and deadlock checks. Returns (distinct, generated).
fn hashset_bfs<M>(model: &M) -> (u64, u64)
where
    M: Model,
    M::State: Clone + Eq + Hash,
{
    let invariants = model.invariant_names().len();
    let mut seen: HashSet<M::State> = HashSet::new();
    let mut queue: VecDeque<M::State> = VecDeque::new();
    let mut generated = 0u64;
    model.initial_states(&mut |s| {
        generated += 1;
        if seen.insert(s.clone()) {
            queue.push_back(s.clone());
        }
    });
    while let Some(s) = queue.pop_front() {
        let mut any = false;
        model.successors(&s, &mut |_, t| {
            any = true;
            generated += 1;
            if !seen.contains(t) {
                assert!((0..invariants).all(|i| model.check_invariant(i, t)));
                seen.insert(t.clone());
                queue.push_back(t.clone());
            }
        });
        assert!(any, "deadlock");
    }
    (seen.len() as u64, generated)
}

/// The same BFS keeping each state's parent (`HashMap<State, State>`), as a checker
/// must to print counterexamples. Returns (distinct, generated).
fn hashmap_bfs_with_parents<M>(model: &M) -> (u64, u64)
where
    M: Model,
    M::State: Clone + Eq + Hash,
{
    let mut parent: std::collections::HashMap<M::State, Option<M::State>> = Default::default();
    let mut queue: VecDeque<M::State> = VecDeque::new();
    let mut generated = 0u64;
    model.initial_states(&mut |s| {
        generated += 1;
        if !parent.contains_key(s) {
            parent.insert(s.clone(), None);
            queue.push_back(s.clone());
        }
    });
    while let Some(s) = queue.pop_front() {
        model.successors(&s, &mut |_, t| {
            generated += 1;
            if !parent.contains_key(t) {
                parent.insert(t.clone(), Some(s.clone()));
                queue.push_back(t.clone());
            }
        });
    }
    (parent.len() as u64, generated)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn compare<M>(model: &M)
where
    M: Model,
    M::State: Clone + Eq + Hash,
{
    let mut ours = Vec::new();
    let mut plain = Vec::new();
    let mut with_parents = Vec::new();
    let mut distinct = 0;
    for _ in 0..REPEATS {
        let t = Instant::now();
        let out = sequential::check(model, &CheckOptions::default()).unwrap();
        ours.push(t.elapsed());
        distinct = out.distinct;
        let t = Instant::now();
        let (d, g) = hashset_bfs(model);
        plain.push(t.elapsed());
        assert_eq!((d, g), (out.distinct, out.generated), "both searches agree");
        let t = Instant::now();
        let (d, g) = hashmap_bfs_with_parents(model);
        with_parents.push(t.elapsed());
        assert_eq!((d, g), (out.distinct, out.generated), "both searches agree");
    }
    let (ours, plain, with_parents) = (median(ours), median(plain), median(with_parents));
    let rate = |d: Duration| distinct as f64 / d.as_secs_f64();
    println!(
        "{}: {} distinct; sequential checker {:.0} states/s ({:.2?}), HashSet<State> BFS {:.0} states/s ({:.2?}); ratio {:.2}x (medians of {REPEATS})",
        model.name(),
        distinct,
        rate(ours),
        ours,
        rate(plain),
        plain,
        plain.as_secs_f64() / ours.as_secs_f64()
    );
    println!(
        "{}: HashMap<State, parent> BFS {:.0} states/s ({:.2?}); ratio {:.2}x",
        model.name(),
        rate(with_parents),
        with_parents,
        with_parents.as_secs_f64() / ours.as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["twophase", n] => compare(&TwoPhase::new(n.parse().expect("N")).expect("twophase N")),
        ["grid", k, d] => {
            compare(&Grid::new(k.parse().expect("K"), d.parse().expect("D")).expect("grid K D"))
        }
        _ => {
            eprintln!("usage: sequential_vs_hashset twophase N | grid K D");
            std::process::exit(2);
        }
    }
}
