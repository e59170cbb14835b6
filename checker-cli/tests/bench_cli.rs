//! `checker bench`: the files a sweep writes (CSV header and rows, JSON fields, both
//! SVGs, the raw child reports) and its refusals of bad input.

mod common;

use common::{
    assert_refused, checker, checker_command, fresh_path, number, read_json, stderr, stdout,
};
use std::path::Path;

const CSV_HEADER: &str = "engine,workers,repeat,wall_s,distinct,generated,distinct_per_s,generated_per_s,speedup,efficiency,speedup_vs_sequential,utilisation_min,utilisation_median,utilisation_max,idle_share,idle_markers_share,idle_summaries_share,idle_share_answers_share,idle_small_levels_share,shared_expansion,batches_sent,mean_batch_fill,peak_rss_bytes,baseline_rss_bytes,bytes_per_state";

fn cpus() -> usize {
    checker_numa::topology::detect().total_cpus()
}

/// Runs `checker bench twophase 3 --workers 1,2` with `extra` flags into `out`
/// (oversubscribed where there is only one CPU), fails unless it succeeded, and returns
/// its stdout.
fn sweep_twophase_3(out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "bench",
        "twophase",
        "3",
        "--workers",
        "1,2",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    if cpus() < 2 {
        args.push("--oversubscribe");
    }
    let output = checker(&args);
    let stdout = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        stderr(&output)
    );
    stdout
}

#[test]
fn a_sweep_writes_csv_json_and_both_plots() {
    let out = fresh_path("bench-sweep");
    let stdout = sweep_twophase_3(&out, &["--repeat", "1"]);
    // The terminal table: a header and one line per configuration.
    assert!(
        stdout.contains("twophase 3: 288 distinct, 1,146 generated"),
        "{stdout}"
    );
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("engine"))
        .take(4)
        .collect();
    assert!(table[1].starts_with("sequential"), "{stdout}");
    assert!(table[2].starts_with("parallel") && table[3].starts_with("parallel"));
    assert!(
        stdout.contains("\nidle at 2 workers: ")
            && stdout.contains("% waiting for end-of-level markers, "),
        "{stdout}"
    );

    // results.csv: the header, then one row per run (3 configurations x 1 repeat).
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], CSV_HEADER);
    assert_eq!(lines.len(), 4, "{csv}");
    let columns: Vec<&str> = CSV_HEADER.split(',').collect();
    let field = |row: &str, name: &str| -> String {
        let i = columns.iter().position(|c| *c == name).unwrap();
        row.split(',').nth(i).unwrap().to_string()
    };
    let mut seen = Vec::new();
    for row in &lines[1..] {
        assert_eq!(row.split(',').count(), columns.len(), "{row}");
        assert_eq!(field(row, "distinct"), "288");
        assert_eq!(field(row, "generated"), "1146");
        let wall: f64 = field(row, "wall_s").parse().unwrap();
        let rate: f64 = field(row, "distinct_per_s").parse().unwrap();
        assert!(
            wall > 0.0 && (rate * wall - 288.0).abs() < 1e-6 * 288.0,
            "{row}"
        );
        let workers: f64 = field(row, "workers").parse().unwrap();
        let speedup: f64 = field(row, "speedup").parse().unwrap();
        let efficiency: f64 = field(row, "efficiency").parse().unwrap();
        assert!((efficiency - speedup / workers).abs() < 1e-9, "{row}");
        assert!(field(row, "peak_rss_bytes").parse::<u64>().unwrap() > 0);
        let engine = field(row, "engine");
        if engine == "sequential" {
            assert_eq!(field(row, "utilisation_median"), "", "{row}");
        } else {
            let u: f64 = field(row, "utilisation_median").parse().unwrap();
            assert!((0.0..=1.0).contains(&u), "{row}");
        }
        if (engine.as_str(), workers) == ("parallel", 1.0) {
            // One repeat: the 1-worker run is its own reference.
            assert_eq!(speedup, 1.0);
        }
        seen.push((engine, field(row, "workers")));
    }
    let expected: Vec<(String, String)> =
        [("sequential", "1"), ("parallel", "1"), ("parallel", "2")]
            .iter()
            .map(|(e, w)| (e.to_string(), w.to_string()))
            .collect();
    assert_eq!(seen, expected);

    // results.json: the same runs, the summary, the machine and the command.
    let json = read_json(&out.join("results.json"));
    assert_eq!(json["schema"], "checker-bench/1");
    assert_eq!(json["model"], "twophase 3");
    assert!(json["command"]
        .as_str()
        .unwrap()
        .contains("bench twophase 3 --workers 1,2"));
    assert_eq!(json["workers"], serde_json::json!([1, 2]));
    assert_eq!(json["repeats"], 1);
    assert_eq!(json["oversubscribed"], cpus() < 2);
    let machine = &json["machine"];
    assert_eq!(machine["cpus"], cpus());
    assert!(machine["numa_nodes"].as_u64().unwrap() >= 1);
    assert!(!machine["cpu_model"].as_str().unwrap().is_empty());
    assert!(["hwloc", "sysfs", "single node fallback"]
        .contains(&machine["topology_source"].as_str().unwrap()));
    assert_eq!(json["counts"]["distinct"], 288);
    assert_eq!(json["counts"]["verdict"], "holds");
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    for (run, line) in runs.iter().zip(&lines[1..]) {
        assert_eq!(run["engine"].as_str().unwrap(), field(line, "engine"));
        assert!(run["command"]
            .as_str()
            .unwrap()
            .starts_with("checker check twophase 3"));
        for name in &columns {
            assert!(run.get(*name).is_some(), "runs[] lacks {name}");
        }
    }
    let summary = json["summary"].as_array().unwrap();
    assert_eq!(summary.len(), 3);
    for row in summary {
        let wall = &row["wall_s"];
        assert!(number(&wall["min"]) <= number(&wall["median"]));
        assert!(number(&wall["median"]) <= number(&wall["max"]));
        assert_eq!(row["repeats"], 1);
    }
    assert!(summary[0]["utilisation"].is_null());
    // No ceiling without --ceiling, and no line for it in the plot.
    assert!(
        summary.iter().all(|r| r["ceiling"].is_null()),
        "{summary:?}"
    );
    assert!(number(&summary[2]["utilisation"]["max"]) <= 1.0);
    let split = &json["worker_split"];
    assert_eq!(split["workers"], 2);
    let per_worker = split["per_worker"].as_array().unwrap();
    assert_eq!(per_worker.len(), 2);
    for w in per_worker {
        let parts: f64 = ["expanding_s", "receiving_s", "sending_s", "idle_s"]
            .iter()
            .map(|k| number(&w[*k]))
            .sum();
        assert!(parts <= number(&w["wall_s"]) * 1.01 + 1e-3, "{w}");
    }

    // Both plots, and the raw report of every child.
    for (name, text) in [
        ("scaling.svg", "speedup"),
        ("workers.svg", "expanding"),
        ("workers.svg", "idle, waiting for "),
    ] {
        let svg = std::fs::read_to_string(out.join(name)).unwrap();
        assert!(svg.contains("<svg") && svg.contains(text), "{name}");
    }
    assert!(!std::fs::read_to_string(out.join("scaling.svg"))
        .unwrap()
        .contains("machine ceiling"));
    let raw = json_files(&out.join("runs")).len();
    assert_eq!(raw, 6, "3 timed runs and 3 fixed-memory runs");
}

#[test]
fn a_sweep_with_ceiling_shows_the_machine_ceiling_beside_the_speedup() {
    let out = fresh_path("bench-ceiling");
    let measured = cpus() >= 2;
    let stdout = sweep_twophase_3(&out, &["--repeat", "2", "--ceiling"]);
    let json = read_json(&out.join("results.json"));
    let summary = json["summary"].as_array().unwrap();
    assert!(summary[0]["ceiling"].is_null() && summary[1]["ceiling"].is_null());
    let raw = out.join("runs").join("ceiling-w2.json");
    if !measured {
        // 2 copies on 1 CPU would measure nothing: no ceiling is taken.
        assert!(summary[2]["ceiling"].is_null());
        assert!(!raw.exists());
        return;
    }
    let ceiling = number(&summary[2]["ceiling"]);
    let report = read_json(&raw);
    assert_eq!(report["distinct"], 288);
    assert_eq!(report["copies"], 2);
    assert_eq!(
        report["rounds"].as_array().unwrap().len(),
        2,
        "--repeat rounds"
    );
    assert_eq!(number(&report["ceiling"]), ceiling);
    // The table's 2-worker line shows it after the efficiency.
    let two = stdout
        .lines()
        .find(|l| l.starts_with("parallel         2"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(two.contains(&format!(" {ceiling:.2} ")), "{ceiling}: {two}");
    let svg = std::fs::read_to_string(out.join("scaling.svg")).unwrap();
    assert!(svg.contains("machine ceiling"), "the plot draws it");
}

#[test]
fn more_workers_than_cpus_are_refused_without_oversubscribe() {
    let out = fresh_path("bench-refused");
    let too_many = (cpus() + 1).to_string();
    let output = checker(&[
        "bench",
        "twophase",
        "2",
        "--workers",
        &too_many,
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = assert_refused(&output);
    assert!(
        stderr.contains(&format!("--workers {too_many}")),
        "{stderr}"
    );
    assert!(stderr.contains("--oversubscribe"), "{stderr}");
    assert!(!out.exists(), "nothing is written before the refusal");
}

#[test]
fn oversubscribed_runs_say_their_times_mean_nothing() {
    let out = fresh_path("bench-oversubscribed");
    let too_many = (cpus() + 1).to_string();
    let output = checker(&[
        "bench",
        "twophase",
        "2",
        "--workers",
        &too_many,
        "--repeat",
        "1",
        "--oversubscribe",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stderr(&output).contains("mean nothing"));
    assert!(stdout(&output).contains("mean nothing"));
    let json = read_json(&out.join("results.json"));
    assert_eq!(json["oversubscribed"], true);
}

#[test]
fn bad_worker_lists_are_refused() {
    let out = fresh_path("bench-bad-list");
    for (list, names) in [("1,x", "`x`"), ("0", "at least 1"), ("1,,2", "empty")] {
        let output = checker(&[
            "bench",
            "twophase",
            "2",
            "--workers",
            list,
            "--out",
            out.to_str().unwrap(),
        ]);
        let stderr = assert_refused(&output);
        assert!(stderr.contains(names), "{list}: {stderr}");
    }
}

#[test]
fn bad_models_repeats_and_output_paths_are_refused() {
    let out = fresh_path("bench-bad-input");
    let out_text = out.to_str().unwrap();
    let stderr = assert_refused(&checker(&[
        "bench",
        "nosuch",
        "--workers",
        "1",
        "--repeat",
        "1",
        "--out",
        out_text,
    ]));
    assert!(stderr.contains("nosuch"), "{stderr}");
    let stderr = assert_refused(&checker(&["bench", "twophase", "99", "--out", out_text]));
    assert!(stderr.contains("twophase"), "{stderr}");
    assert_refused(&checker(&[
        "bench", "twophase", "2", "--repeat", "0", "--out", out_text,
    ]));
    let file = out.join("results.csv");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(&file, "not a directory").unwrap();
    let stderr = assert_refused(&checker(&[
        "bench",
        "twophase",
        "2",
        "--out",
        file.to_str().unwrap(),
    ]));
    assert!(stderr.contains("not a directory"), "{stderr}");
}

/// The `.json` files in `dir`, sorted.
fn json_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

#[test]
fn an_out_dir_whose_name_starts_with_a_dash_reaches_the_children_as_a_path() {
    let cwd = fresh_path("bench-dash-cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let mut args = vec![
        "bench",
        "twophase",
        "3",
        "--workers",
        "1,2",
        "--repeat",
        "1",
        "--ceiling",
        "--out=-results",
    ];
    if cpus() < 2 {
        args.push("--oversubscribe");
    }
    let output = checker_command()
        .args(&args)
        .current_dir(&cwd)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let runs = cwd.join("-results").join("runs");
    let mut expected = vec![
        "parallel-w1-r1.json",
        "parallel-w1-trivial.json",
        "parallel-w2-r1.json",
        "parallel-w2-trivial.json",
        "sequential-r1.json",
        "sequential-trivial.json",
    ];
    if cpus() >= 2 {
        expected.insert(0, "ceiling-w2.json");
    }
    assert_eq!(json_files(&runs), expected);
    let report = read_json(&runs.join("parallel-w2-r1.json"));
    assert_eq!(report["distinct"], 288);
}

#[test]
fn reports_an_earlier_sweep_left_in_runs_are_removed_and_other_files_kept() {
    let out = fresh_path("bench-stale-runs");
    let runs = out.join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    // What a sweep with more workers, repeats and --ceiling left, and a person's files.
    let stale = [
        "sequential-r3.json",
        "parallel-w2-r1.json",
        "parallel-w16-r2.json",
        "parallel-w16-trivial.json",
        "ceiling-w4.json",
    ];
    let kept = [
        "notes.txt",
        "my.json",
        "parallel-w2-r1.json.bak",
        "parallel-wx-r1.json",
        "sequential-r.json",
    ];
    for name in stale.iter().chain(&kept) {
        std::fs::write(runs.join(name), "{\"model\": \"an earlier sweep\"}").unwrap();
    }
    let output = bench_twophase_3_once(&out);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let mut expected = vec![
        "my.json",
        "parallel-w1-r1.json",
        "parallel-w1-trivial.json",
        "parallel-wx-r1.json",
        "sequential-r.json",
        "sequential-r1.json",
        "sequential-trivial.json",
    ];
    expected.sort();
    assert_eq!(json_files(&runs), expected);
    for name in kept {
        assert_eq!(
            std::fs::read_to_string(runs.join(name)).unwrap(),
            "{\"model\": \"an earlier sweep\"}",
            "{name}"
        );
    }
}

#[test]
fn a_second_sweep_into_an_out_dir_in_use_is_refused() {
    let out = fresh_path("bench-locked");
    let runs = out.join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    std::fs::write(runs.join("sequential-r1.json"), "another sweep's").unwrap();
    // The lock a running sweep holds.
    let lock = std::fs::File::create(runs.join("LOCK")).unwrap();
    lock.try_lock().unwrap();
    let stderr = assert_refused(&bench_twophase_3_once(&out));
    assert!(stderr.contains("in use by another"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(runs.join("sequential-r1.json")).unwrap(),
        "another sweep's",
        "the running sweep's files are left alone"
    );
    assert!(!out.join("results.csv").exists());
}

/// `checker bench twophase 3 --workers 1 --repeat 1 --out OUT`, the smallest sweep.
fn bench_twophase_3_once(out: &Path) -> std::process::Output {
    checker(&[
        "bench",
        "twophase",
        "3",
        "--workers",
        "1",
        "--repeat",
        "1",
        "--out",
        out.to_str().unwrap(),
    ])
}

/// A child run that stops early (here its sequential baseline, sent SIGTERM as an
/// administrator or a batch system's time limit would) ends the sweep with the child's
/// own exit code 3 and its "Stopped because ..." reason, not as an input error (2).
#[test]
fn a_child_stopped_by_a_signal_ends_the_sweep_with_exit_code_3() {
    let out = fresh_path("bench-child-stopped");
    let bench = checker_command()
        .args([
            "bench",
            "synthetic",
            "states=1000000000",
            "--workers",
            "1",
            "--repeat",
            "1",
            "--out",
        ])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let children = format!("/proc/{0}/task/{0}/children", bench.id());
    let started = std::time::Instant::now();
    // The first child, once it has its SIGTERM handler (bit 14 of `SigCgt`): before
    // that the signal would kill it outright, which the sweep reports otherwise.
    let child = loop {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no child run with a SIGTERM handler within 60 s"
        );
        let listed = std::fs::read_to_string(&children).unwrap_or_default();
        if let Some(pid) = listed.split_whitespace().next() {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let caught = status
                .lines()
                .find_map(|l| l.strip_prefix("SigCgt:"))
                .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
                .unwrap_or(0);
            if caught & (1 << 14) != 0 {
                break pid.to_string();
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = bench.wait_with_output().unwrap();
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let line = stderr.lines().last().unwrap_or("");
    assert!(
        line.starts_with("error: `checker check synthetic states=1000000000 --engine sequential ")
            && line.ends_with(
                "` stopped (exit code 3) because the run was interrupted. No checkpoint: the sequential checker writes none"
            ),
        "{stderr}"
    );
    assert!(!out.join("results.csv").exists());
}
