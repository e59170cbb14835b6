//! Side by side with Stateright (crates.io's best-known Rust model checker): the same
//! `twophase N` and `grid K D` models, checked by both tools in the same run at 1 and
//! 2 threads, each check in its own child process so that its peak RSS is its own.
//! Prints distinct states per second and peak memory of both, with the ratios.
//!
//! `cargo bench -p benches --bench peer [-- FILTER]`; FILTER keeps the cases whose
//! name contains it. `PEER_REPEATS` (default 3) sets runs per tool and case,
//! `PEER_TIMEOUT_S` (default 600) the longest a child may run before it is killed and
//! reported as unfinished.

mod child;
mod grid;
mod twophase;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use child::{Measurement, TOOLS};

/// The cases: model words, and the throughput ratio over Stateright aimed for.
const CASES: &[(&[&str], f64)] = &[
    (&["twophase", "8"], 5.0),
    (&["twophase", "9"], 5.0),
    (&["grid", "7", "8"], 3.0),
];
const THREADS: [usize; 2] = [1, 2];
/// Our peak memory over Stateright's aimed for: under a quarter.
const MEMORY_GOAL: f64 = 0.25;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        child::run(&args[1..]);
        return;
    }
    // Cargo passes `--bench`; anything else not starting with `-` is a filter.
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned();
    let repeats: usize = env_number("PEER_REPEATS", 3);
    let timeout = Duration::from_secs(env_number("PEER_TIMEOUT_S", 600));
    println!(
        "peer comparison: {repeats} runs per tool and case, medians; timeout {timeout:?} per run"
    );
    println!(
        "{:<12} {:>7} {:>12} {:>16} {:>16} {:>8} {:>12} {:>14} {:>8}",
        "model",
        "threads",
        "distinct",
        "checker st/s",
        "stateright st/s",
        "ratio",
        "checker MiB",
        "stateright MiB",
        "memory"
    );
    for (words, goal) in CASES {
        let label = words.join(" ");
        if filter.as_ref().is_some_and(|f| !label.contains(f.as_str())) {
            continue;
        }
        for threads in THREADS {
            compare(words, threads, *goal, repeats, timeout);
        }
    }
}

/// Runs both tools `repeats` times on `words` at `threads`, alternating, and prints a line.
fn compare(words: &[&str], threads: usize, goal: f64, repeats: usize, timeout: Duration) {
    let label = words.join(" ");
    let mut results: [Vec<Measurement>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..repeats {
        for (tool, out) in TOOLS.iter().zip(results.iter_mut()) {
            match run_child(tool, threads, words, timeout) {
                Ok(m) => out.push(m),
                Err(why) => {
                    println!("{label:<12} {threads:>7}  {tool}: {why}");
                    return;
                }
            }
        }
    }
    let all: Vec<&Measurement> = results.iter().flatten().collect();
    assert!(
        all.iter()
            .all(|m| (m.distinct, m.generated) == (all[0].distinct, all[0].generated)),
        "{label}: the tools disagree on the counts: {all:?}"
    );
    let rate = |ms: &[Measurement]| median(ms.iter().map(|m| m.distinct as f64 / m.elapsed_s));
    let memory = |ms: &[Measurement]| median(ms.iter().map(|m| m.peak_rss_bytes as f64));
    let (ours, theirs) = (rate(&results[0]), rate(&results[1]));
    let (our_memory, their_memory) = (memory(&results[0]), memory(&results[1]));
    let mib = |b: f64| b / 1048576.0;
    let verdict = if threads == 1 {
        format!(
            "  goal {goal}x throughput: {}; memory under {MEMORY_GOAL}: {}",
            yes_no(ours / theirs >= goal),
            yes_no(our_memory / their_memory < MEMORY_GOAL)
        )
    } else {
        String::new()
    };
    println!(
        "{label:<12} {threads:>7} {:>12} {ours:>16.0} {theirs:>16.0} {:>7.2}x {:>12.1} {:>14.1} {:>8.3}{verdict}",
        all[0].distinct,
        ours / theirs,
        mib(our_memory),
        mib(their_memory),
        our_memory / their_memory,
    );
}

fn yes_no(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

/// Runs `peer --child tool threads words...` and reads its measurement, killing it
/// after `timeout`.
fn run_child(
    tool: &str,
    threads: usize,
    words: &[&str],
    timeout: Duration,
) -> Result<Measurement, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .arg("--child")
        .arg(tool)
        .arg(threads.to_string())
        .args(words)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("did not finish within {} s", timeout.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut out).map_err(|e| e.to_string())?;
    }
    if !status.success() {
        return Err(format!("failed ({status})"));
    }
    serde_json::from_str(out.trim()).map_err(|e| format!("unreadable result {out:?}: {e}"))
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text} is not a number")),
        Err(_) => default,
    }
}
