//! The `checker` binary end to end: output, exit codes, JSON.

mod common;

use common::{assert_refused, checker, checker_command, read_json, scratch, stderr, stdout};

#[test]
fn diehard_exits_1_with_the_six_step_trace() {
    for engine in [&["--engine", "sequential"][..], &["--workers", "2"]] {
        let o = checker(&[&["check", "diehard"][..], engine].concat());
        assert_eq!(o.status.code(), Some(1), "{engine:?}");
        let out = stdout(&o);
        assert!(
            out.contains("Error: Invariant NotSolved is violated."),
            "{out}"
        );
        assert!(out.contains("Shortest counterexample (6 steps):"), "{out}");
        assert!(
            out.contains("State 7: <BigToSmall>\n  small = 3\n  big = 4\n"),
            "{out}"
        );
        assert!(!out.contains("State 8"), "{out}");
    }
}

#[test]
fn twophase_summary_and_json() {
    let dir = scratch("cli-json");
    let json = dir.join("out.json");
    let o = checker(&[
        "check",
        "twophase",
        "5",
        "--workers",
        "3",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("Model checking completed. No error has been found."),
        "{out}"
    );
    assert!(out.contains("distinct states:       8,832"), "{out}");
    assert!(out.contains("states generated:      58,146"), "{out}");
    assert!(out.contains("depth (BFS levels):    17"), "{out}");
    assert!(out.contains("collision probability:"), "{out}");
    assert!(
        out.contains("parallel, 3 workers, utilisation min/median/max"),
        "{out}"
    );
    let v = read_json(&json);
    assert_eq!(v["distinct"], 8_832);
    assert_eq!(v["generated"], 58_146);
    assert_eq!(v["depth"], 17);
    assert_eq!(v["verdict"]["verdict"], "holds");
    assert_eq!(v["workers"], 3);
    assert_eq!(v["telemetry"]["workers"].as_array().unwrap().len(), 3);
    let owned: u64 = v["telemetry"]["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["owned"].as_u64().unwrap())
        .sum();
    assert_eq!(owned, 8_832);
    // Each state is expanded once, by its owner or by a worker that took it over.
    let sum = |field: &str| -> u64 {
        v["telemetry"]["workers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w[field].as_u64().unwrap())
            .sum()
    };
    assert_eq!(sum("expanded"), 8_832);
    assert_eq!(sum("states_shared"), sum("states_taken"));
    assert!(out.contains("  shared expansion:      "), "{out}");
    assert!(
        out.contains("  idle:                  ")
            && out.contains("% waiting for end-of-level markers, "),
        "{out}"
    );
    // Each worker's idle time, split by what it waited for.
    for w in v["telemetry"]["workers"].as_array().unwrap() {
        let f = |k: &str| w[k].as_f64().unwrap();
        let waits = f("idle_share_answers_s") + f("idle_markers_s") + f("idle_summaries_s");
        assert!((waits - f("idle_s")).abs() < 1e-3, "{w}");
    }
    // One entry per level: the initial one, one per depth, and the last, which found
    // nothing new; between them they expand and store every state once.
    let levels = v["telemetry"]["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 18);
    let level_sum =
        |field: &str| -> u64 { levels.iter().map(|l| l[field].as_u64().unwrap()).sum() };
    assert_eq!(level_sum("expanded"), 8_832);
    assert_eq!(level_sum("new_states"), 8_832);
    assert_eq!(levels[17]["new_states"], 0);
    let level_idle: f64 = levels.iter().map(|l| l["idle_s"].as_f64().unwrap()).sum();
    assert_eq!(
        out.contains("  idle by level:         "),
        level_idle > 0.0,
        "{level_idle} s idle in levels: {out}"
    );
    let p = v["collision_probability"].as_f64().unwrap();
    let expected = 8_832.0 * (58_146.0 - 8_832.0) / 2f64.powi(64);
    assert!((p - expected).abs() < expected * 1e-9);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_share_keeps_every_expansion_with_the_owner() {
    let dir = scratch("cli-no-share");
    let report = dir.join("r.json");
    let o = checker(&[
        "check",
        "twophase",
        "5",
        "--workers",
        "3",
        "--no-share",
        "--json",
        report.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("distinct states:       8,832"), "{out}");
    assert!(
        out.contains("  shared expansion:      off: every state expanded by its owner\n"),
        "{out}"
    );
    // Asked for, so not explained as the oversubscribed default.
    assert!(!out.contains("`--share` turns it on"), "{out}");
    let json = read_json(&report);
    assert_eq!(json["expansion_shared"], false);
    for w in json["telemetry"]["workers"].as_array().unwrap() {
        assert_eq!(w["states_taken"], 0, "{w}");
        assert_eq!(w["shares_asked"], 0, "{w}");
    }
    assert!(
        checker(&["check", "twophase", "5", "--share", "--no-share"])
            .status
            .code()
            .is_some_and(|c| c == 2)
    );
}

#[test]
fn deadlock_and_no_deadlock() {
    let o = checker(&["check", "philosophers", "3"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("Error: Deadlock reached."));
    assert!(stdout(&o).contains("Shortest counterexample (3 steps):"));
    let o = checker(&["check", "philosophers", "3", "--no-deadlock"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("deadlock states:       1\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn limits_say_the_result_is_partial() {
    let o = checker(&[
        "check",
        "puzzle8",
        "--max-depth",
        "5",
        "--engine",
        "sequential",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("--max-depth was reached"), "{out}");
    assert!(out.contains("PARTIAL"), "{out}");
    assert!(out.contains("depth (BFS levels):    5\n"), "{out}");
    let o = checker(&["check", "puzzle8", "--max-states", "1000"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("--max-states was reached"));
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let cases: [(&[&str], &str); 17] = [
        (
            &[],
            "error: no command given: one of `list`, `check`, `topology`, `ceiling`, `bench` (see `checker --help`)",
        ),
        (
            &["check"],
            "error: the following required arguments were not provided: <MODEL>",
        ),
        (
            &["bench", "twophase", "3"],
            "error: the following required arguments were not provided: --out <DIR>",
        ),
        (
            &["check", "nosuch"],
            "error: unknown model `nosuch` (try `checker list`)",
        ),
        (
            &["check", "twophase"],
            "error: twophase: missing parameter N",
        ),
        (
            &["check", "twophase", "40"],
            "error: twophase: N must be between 1 and 15, got 40",
        ),
        (
            &["check", "twophase", "3", "--workers", "x"],
            "`x` is not a worker count",
        ),
        (
            &["check", "twophase", "3", "--workers", "70000"],
            "at most 65535 workers",
        ),
        (
            &["check", "twophase", "3", "--max-states", "0"],
            "--max-states",
        ),
        (
            &["check", "twophase", "3", "--ring-capacity", "0"],
            "--ring-capacity",
        ),
        (
            &["check", "twophase", "3", "--progress-every", "0"],
            "--progress-every",
        ),
        (
            &["check", "twophase", "3", "--progress-every", "1e308"],
            "--progress-every must be a positive number of seconds up to 1e9, got 1e308",
        ),
        (
            &[
                "check",
                "twophase",
                "3",
                "--engine",
                "sequential",
                "--workers",
                "2",
                "--memory",
                "1G",
            ],
            "error: --workers, --memory are only for the parallel engine, not with --engine sequential",
        ),
        (
            &["check", "--resume", "/nonexistent", "--workdir", "/tmp"],
            "'--resume <DIR>' cannot be used with '--workdir <DIR>'",
        ),
        (
            &["check", "diehard", "--json", "/nonexistent/dir/out.json"],
            "error: --json /nonexistent/dir/out.json: No such file or directory",
        ),
        (
            &["check", "diehard", "--workdir", "/dev/null"],
            "error: --workdir /dev/null: exists and is not a directory",
        ),
        (
            &["check", "twophase", "3", "--max-states", "18446744073709551616"],
            "too large (at most 18446744073709551615)",
        ),
    ];
    for (args, expected) in cases {
        let err = assert_refused(&checker(args));
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // Bad model parameters are refused before `bench` writes anything.
    let out = common::fresh_path("bench-bad-model");
    let err = assert_refused(&checker(&[
        "bench",
        "twophase",
        "99",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(err.contains("N must be between 1 and 15, got 99"), "{err}");
    assert!(!out.exists(), "{} was created", out.display());
}

#[test]
fn list_and_topology() {
    let o = checker(&["list"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for name in [
        "twophase",
        "diehard",
        "philosophers",
        "peterson",
        "bakery",
        "puzzle8",
        "grid",
        "synthetic",
    ] {
        assert!(out.contains(name), "{name}: {out}");
    }
    let o = checker(&["topology", "--workers", "3"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).to_lowercase().contains("node"), "{}", stdout(&o));
}

/// More workers than the CPUs (or CPU quota) this process may use: the summary says
/// the times mean nothing for scaling, and `--json` records it; a run that fits says
/// nothing. Expansion sharing is then off unless `--share` asks for it, and the
/// summary says so.
#[test]
fn an_oversubscribed_run_says_so() {
    let cpus = checker_numa::topology::detect().usable_cpus();
    let dir = scratch("cli-oversubscribed");
    for (workers, share) in [(1, false), (2, false), (64, false), (64, true)] {
        let report = dir.join(format!("w{workers}-{share}.json"));
        let workers_text = workers.to_string();
        let mut args = vec![
            "check",
            "twophase",
            "3",
            "--workers",
            &workers_text,
            "--no-pin",
            "--memory-log",
            "--json",
            report.to_str().unwrap(),
        ];
        if share {
            args.push("--share");
        }
        let o = checker(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let over = workers > cpus;
        let sharing_off = over && !share;
        let line = format!(
            "  oversubscribed:        {workers} workers shared {cpus} CPU{}: the times and utilisation say nothing about scaling{}\n",
            if cpus == 1 { "" } else { "s" },
            if sharing_off {
                "; expansion sharing was off (`--share` turns it on)"
            } else {
                ""
            }
        );
        let out = stdout(&o);
        assert_eq!(out.contains(&line), over, "{out}");
        assert_eq!(out.contains("oversubscribed"), over);
        if workers > 1 {
            assert_eq!(
                out.contains("  shared expansion:      off: every state expanded by its owner\n"),
                sharing_off,
                "{out}"
            );
        }
        let json = read_json(&report);
        assert_eq!(json["oversubscribed"], over);
        assert_eq!(json["expansion_shared"], workers > 1 && !sharing_off);
        assert_eq!(json["answered_from_checkpoint"], false);
        assert_eq!(json["distinct"], 288);
        if sharing_off {
            for w in json["telemetry"]["workers"].as_array().unwrap() {
                assert_eq!(w["shares_asked"], 0, "{w}");
            }
        }
    }
    let sequential = dir.join("seq.json");
    let o = checker(&[
        "check",
        "twophase",
        "3",
        "--engine",
        "sequential",
        "--json",
        sequential.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let json = read_json(&sequential);
    assert!(json.get("oversubscribed").is_none());
    assert!(json.get("expansion_shared").is_none());
    assert!(json.get("answered_from_checkpoint").is_none());
}

/// The acceptance run; only meaningful in release builds.
#[test]
fn twophase_9_prints_ten_million_states() {
    if cfg!(debug_assertions) {
        eprintln!("skipped: run with --release (10 million states)");
        return;
    }
    let o = checker(&["check", "twophase", "9", "--workers", "2"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("distinct states:       10,340,352"),
        "{}",
        stdout(&o)
    );
}

/// A reader that stops reading (`checker check ... | head`) costs the report, not the
/// run: no panic, the JSON file is written and the exit code is the verdict's, for
/// both engines and for a violation's trace.
#[test]
fn a_closed_stdout_is_no_panic_and_the_json_is_still_written() {
    let dir = scratch("cli-pipe");
    for (args, code, distinct) in [
        (
            &["check", "twophase", "7", "--workers", "2"][..],
            0,
            296_448,
        ),
        (
            &["check", "twophase", "7", "--engine", "sequential"],
            0,
            296_448,
        ),
        (&["check", "diehard", "--workers", "2"], 1, 14),
    ] {
        let json = dir.join("out.json");
        let _ = std::fs::remove_file(&json);
        let mut child = checker_command()
            .args(args)
            .arg("--json")
            .arg(&json)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the report is printed.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        let report = read_json(&json);
        assert_eq!(report["distinct"], distinct, "{args:?}: {report}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A closed stderr is no panic either: a usage error still exits 2, and a run still
/// writes its JSON and exits with its verdict's code.
#[test]
fn a_closed_stderr_is_no_panic() {
    let dir = scratch("cli-stderr");
    let json = dir.join("out.json");
    for (args, code) in [
        (&["check", "nosuchmodel"][..], 2),
        (&["check", "twophase", "3", "--max-states", "abc"], 2),
        (&["check", "diehard", "--workers", "2", "--json"], 1),
    ] {
        let mut command = checker_command();
        command.args(args);
        if args.last() == Some(&"--json") {
            command.arg(&json);
        }
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stderr.take());
        drop(child.stdout.take());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{args:?}");
    }
    let report = read_json(&json);
    assert_eq!(report["distinct"], 14);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs `checker args` with stdout on a terminal of its own (a pseudo-terminal, 200
/// columns wide), stderr discarded and `TERM` set to `term`; returns the exit code and
/// everything the terminal received.
fn on_a_terminal(args: &[&str], term: &str) -> (Option<i32>, String) {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize {
        ws_row: 50,
        ws_col: 200,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes the two descriptors it opens; the name may be null, and
    // the terminal settings and size are read only.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned by nothing else.
    let (master, slave) = unsafe {
        (
            std::fs::File::from_raw_fd(master),
            OwnedFd::from_raw_fd(slave),
        )
    };
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_checker"));
    command
        .args(args)
        .env("TERM", term)
        .stdin(std::process::Stdio::null())
        .stdout(slave)
        .stderr(std::process::Stdio::null());
    let mut child = command.spawn().expect("the checker runs");
    // Only the child holds the terminal now, so reading ends when it exits.
    drop(command);
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match (&master).read(&mut buf) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // EIO: the child closed the terminal.
            Err(_) => break,
        }
    }
    let code = child.wait().unwrap().code();
    (code, String::from_utf8_lossy(&received).into_owned())
}

#[test]
fn progress_reaches_a_terminal_stdout_whatever_stderr_is() {
    // The sequential checker reports after every 4,096 states gone through once the
    // interval (here a nanosecond) has passed: 12 times on `twophase 6`'s 50,816.
    let args = [
        "check",
        "twophase",
        "6",
        "--engine",
        "sequential",
        "--progress-every",
        "1e-9",
    ];
    let (code, text) = on_a_terminal(&args, "xterm");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("Progress(") && text.contains("distinct states found"),
        "{text:?}"
    );
    assert!(text.contains("distinct states:       50,816"), "{text:?}");
    // A terminal that cannot move its cursor gets the progress as plain lines.
    let (code, text) = on_a_terminal(&args, "dumb");
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains('\x1b'), "no escape sequences: {text:?}");
    let progress: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("Progress("))
        .collect();
    assert_eq!(progress.len(), 12, "{text:?}");
    assert!(text.contains("distinct states:       50,816"), "{text:?}");
}
