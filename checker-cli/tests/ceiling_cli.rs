//! `checker ceiling`: what it prints and writes, and its refusals of bad input.

mod common;

use common::{assert_refused, checker, number, read_json, scratch, stderr, stdout};
use serde_json::Value;

#[test]
fn copies_and_rounds_are_timed_and_the_ceiling_follows_from_the_medians() {
    let cpus = checker_numa::topology::detect().total_cpus();
    let copies = cpus.min(2);
    let copies_text = copies.to_string();
    let json_path = scratch("ceiling-run").join("ceiling.json");
    let output = checker(&[
        "ceiling",
        "twophase",
        "5",
        "--copies",
        &copies_text,
        "--rounds",
        "3",
        "--json",
        json_path.to_str().unwrap(),
    ]);
    let stdout = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        stderr(&output)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "three rounds and the result: {stdout}");
    for (i, line) in lines[..3].iter().enumerate() {
        assert!(
            line.starts_with(&format!("round {}: alone ", i + 1)),
            "{line}"
        );
    }
    assert!(
        lines[3].starts_with("twophase 5: 8,832 distinct states; median of 3 rounds: alone "),
        "{}",
        lines[3]
    );
    assert!(
        lines[3].contains(&format!("{copies}-worker ceiling ")),
        "{}",
        lines[3]
    );

    let report = read_json(&json_path);
    assert_eq!(report["model"], "twophase 5");
    assert_eq!(report["model_args"], serde_json::json!(["twophase", "5"]));
    assert_eq!(report["distinct"], 8832);
    assert_eq!(report["copies"], copies);
    // Each copy on a CPU of its own, as the engine's workers would be placed.
    let used = report["cpus"].as_array().unwrap();
    assert_eq!(used.len(), copies);
    if copies == 2 {
        assert_ne!(used[0], used[1]);
    }
    let rounds = report["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 3);
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[1]
    };
    let alone: Vec<f64> = rounds.iter().map(|r| number(&r["alone_s"])).collect();
    let copy_times = |r: &Value| -> Vec<f64> {
        let times = r["copies_s"].as_array().unwrap();
        assert_eq!(times.len(), copies);
        times.iter().map(number).collect()
    };
    let last: Vec<f64> = rounds
        .iter()
        .map(|r| copy_times(r).into_iter().fold(0.0, f64::max))
        .collect();
    let first: Vec<f64> = rounds
        .iter()
        .map(|r| copy_times(r).into_iter().fold(f64::INFINITY, f64::min))
        .collect();
    assert!(alone.iter().chain(&last).all(|&t| t > 0.0));
    assert_eq!(number(&report["median_alone_s"]), median(alone));
    assert_eq!(number(&report["median_last_s"]), median(last));
    assert_eq!(number(&report["median_first_s"]), median(first));
    assert!(number(&report["median_first_s"]) <= number(&report["median_last_s"]));
    let slowdown = number(&report["median_last_s"]) / number(&report["median_alone_s"]);
    assert!((number(&report["slowdown"]) - slowdown).abs() < 1e-12);
    assert!((number(&report["ceiling"]) - copies as f64 / slowdown).abs() < 1e-9);
}

#[test]
fn bad_input_is_refused_in_one_line_with_exit_2() {
    let dir = scratch("ceiling-bad");
    let dir_text = dir.to_str().unwrap();
    let cases: [(&[&str], &str); 8] = [
        (
            &["ceiling"],
            "error: the following required arguments were not provided: <MODEL>",
        ),
        (
            &["ceiling", "twophase", "3", "--copies", "0"],
            "error: invalid value '0' for '--copies <N>': 0 is not in 1..=4096",
        ),
        (
            &["ceiling", "twophase", "3", "--copies", "x"],
            "error: invalid value 'x' for '--copies <N>'",
        ),
        (
            &["ceiling", "twophase", "3", "--rounds", "0"],
            "error: invalid value '0' for '--rounds <N>': 0 is not in 1..=1000",
        ),
        (
            &["ceiling", "twophase", "3", "--copies", "4096"],
            "error: --copies 4096: this machine has ",
        ),
        (
            &["ceiling", "nosuch"],
            "error: unknown model `nosuch` (try `checker list`)",
        ),
        (
            &["ceiling", "model.dve", "3"],
            "error: model.dve: a DVE model takes no parameters, got `3`",
        ),
        (
            &["ceiling", "twophase", "3", "--json", dir_text],
            "is a directory",
        ),
    ];
    for (args, expected) in cases {
        let o = checker(args);
        let err = assert_refused(&o);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

/// A model that does not fit what `ulimit -v` leaves stops each check at its memory
/// budget, which is an error in one line, not an abort when an allocation fails (nor
/// a ceiling measured on searches cut short).
#[test]
fn a_model_too_big_for_the_memory_limits_is_refused_not_aborted() {
    let dir = scratch("ulimit");
    let json = dir.join("c.json");
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -v 184320 && exec "$@""#)
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_checker"))
        .args(["ceiling", "synthetic", "states=6000000", "branching=3"])
        .args(["--copies", "1", "--rounds", "1", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let stderr = assert_refused(&o);
    assert!(
        stderr.contains("stopped at its memory budget")
            && stderr.contains("of the address space `ulimit -v` leaves"),
        "{stderr}"
    );
    assert!(
        !json.exists(),
        "no report of a measurement that did not finish"
    );
}
