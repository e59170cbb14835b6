//! Crash and resume through the CLI: `kill -9` at random moments, SIGINT, and every
//! resumed run ends with exactly the uninterrupted counts.

mod common;

use common::{checker_command, counts, read_json, scratch, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MODEL: [&str; 2] = ["twophase", "7"];

fn reference(dir: &Path) -> ((u64, u64, u64), Duration) {
    let json = dir.join("reference.json");
    let started = Instant::now();
    let status = checker_command()
        .args(["check", MODEL[0], MODEL[1], "--workers", "2", "--json"])
        .arg(&json)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    (counts(&json), started.elapsed())
}

/// A small deterministic generator, so that failures can be replayed.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn kill_9_at_random_moments_then_resume_gives_the_uninterrupted_counts() {
    let dir = scratch("resume-kill9");
    let (expected, runtime) = reference(&dir);
    assert_eq!(expected, (296_448, 2_744_706, 23));
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut resumed = 0;
    for trial in 0..12 {
        let workdir = dir.join(format!("work-{trial}"));
        let json = dir.join(format!("out-{trial}.json"));
        let mut child = checker_command()
            .args([
                "check",
                MODEL[0],
                MODEL[1],
                "--workers",
                "2",
                "--checkpoint-every",
                "0s",
            ])
            .arg("--workdir")
            .arg(&workdir)
            .arg("--json")
            .arg(&json)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        // Somewhere in the first 90% of an uninterrupted run (checkpoints slow it).
        let at = Duration::from_micros(next(&mut seed) % (runtime.as_micros() as u64 * 9 / 10 + 1));
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        if status.code() == Some(0) {
            assert_eq!(
                counts(&json),
                expected,
                "trial {trial} finished before the kill"
            );
            continue;
        }
        let mut again = checker_command();
        if workdir.join("CURRENT").exists() {
            resumed += 1;
            again
                .args(["check", "--resume"])
                .arg(&workdir)
                .args(["--workers", "2"]);
        } else {
            // Killed before the first checkpoint: nothing to resume, start over.
            again
                .args(["check", MODEL[0], MODEL[1], "--workers", "2", "--workdir"])
                .arg(&workdir);
        }
        let status = again
            .arg("--json")
            .arg(&json)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert_eq!(
            status.code(),
            Some(0),
            "trial {trial} (killed after {at:?})"
        );
        assert_eq!(
            counts(&json),
            expected,
            "trial {trial} (killed after {at:?})"
        );
    }
    assert!(
        resumed >= 4,
        "only {resumed} of 12 kills left a checkpoint to resume"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A 2-worker `twophase 9` run in `workdir`, sent `signal` (as `kill` spells it) after
/// 0.7 s, waited for.
fn signalled_run(workdir: &Path, signal: &str) -> std::process::Output {
    let child = checker_command()
        .args(["check", "twophase", "9", "--workers", "2", "--workdir"])
        .arg(workdir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let kill = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    child.wait_with_output().unwrap()
}

#[test]
fn sigint_writes_a_checkpoint_and_exits_3() {
    let dir = scratch("resume-sigint");
    let (expected, _) = reference(&dir);
    let workdir = dir.join("work");
    let out = signalled_run(&workdir, "-INT");
    let stdout = stdout(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("the run was interrupted"), "{stdout}");
    assert!(
        stdout.contains("continue with: checker check --resume"),
        "{stdout}"
    );
    assert!(workdir.join("CURRENT").exists());
    // A resumed run must be given the same model if it names one.
    let out = checker_command()
        .args(["check", "twophase", "8", "--resume"])
        .arg(&workdir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("is for `twophase 9`, not `twophase 8`"),
        "{err}"
    );
    // A fresh run may not overwrite the checkpoint.
    let out = checker_command()
        .args(["check", "twophase", "9", "--workdir"])
        .arg(&workdir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("holds a checkpoint"));
    let _ = expected;
    // The interrupt stopped part-way through a level; resuming finishes the run with
    // exactly the uninterrupted counts.
    let json = dir.join("resumed.json");
    let status = checker_command()
        .args(["check", "--resume"])
        .arg(&workdir)
        .arg("--json")
        .arg(&json)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(counts(&json), (10_340_352, 123_558_402, 29));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resume_errors_are_one_line_exit_2() {
    let dir = scratch("resume-errors");
    let out = checker_command()
        .args(["check", "--resume"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("no checkpoint here (no CURRENT file)"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let out = checker_command()
        .args([
            "check",
            "twophase",
            "3",
            "--engine",
            "sequential",
            "--checkpoint-every",
            "1m",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = checker_command()
        .args(["check", "twophase", "3", "--memory", "lots"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a size"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// (distinct, generated, depth, exit code) of a `checker check` run with `args`.
fn run_counts(args: &[&str], workdir: Option<&Path>) -> (u64, u64, u64, i32) {
    // A file per call: tests run in parallel, and one that shared the file with another
    // found it removed before it read it.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let json = std::env::temp_dir().join(format!(
        "checker-resume-{}-{call}-counts.json",
        std::process::id()
    ));
    let mut command = checker_command();
    command
        .args(args)
        .arg("--json")
        .arg(&json)
        .stdout(Stdio::null());
    if let Some(dir) = workdir {
        command.arg("--resume").arg(dir);
    }
    let status = command.status().unwrap();
    let (distinct, generated, depth) = counts(&json);
    std::fs::remove_file(&json).unwrap();
    (distinct, generated, depth, status.code().unwrap())
}

/// Runs `check philosophers 8 <flags> --workers 2 --memory 1 --workdir <workdir>` and
/// fails unless the 1-byte budget stopped it with a checkpoint (exit 3).
fn philosophers_8_stopped_by_memory(workdir: &Path, flags: &[&str]) {
    let stopped = checker_command()
        .args(["check", "philosophers", "8"])
        .args(flags)
        .args(["--workers", "2", "--memory", "1", "--workdir"])
        .arg(workdir)
        .output()
        .unwrap();
    assert_eq!(stopped.status.code(), Some(3));
}

#[test]
fn a_resumed_run_keeps_its_deadlock_setting_and_limits() {
    let dir = scratch("resume-settings");
    // Philosophers deadlock; with `--no-deadlock` all 1,154 states are explored.
    let reference = run_counts(
        &[
            "check",
            "philosophers",
            "8",
            "--no-deadlock",
            "--workers",
            "2",
        ],
        None,
    );
    assert_eq!(reference, (1_154, 5_969, 9, 0));
    let work = dir.join("no-deadlock");
    philosophers_8_stopped_by_memory(&work, &["--no-deadlock"]);
    // Resumed as the hint says (no `--no-deadlock`): deadlocks stay unreported.
    assert_eq!(run_counts(&["check"], Some(&work)), reference);

    // Checked for deadlocks when stopped: `--no-deadlock` on resume is refused.
    let work = dir.join("deadlock");
    philosophers_8_stopped_by_memory(&work, &[]);
    let out = checker_command()
        .args(["check", "--no-deadlock", "--resume"])
        .arg(&work)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("was taken with deadlock checking on; resume it with the same setting, not off (`--no-deadlock`)"),
        "{err}"
    );
    // A `--max-depth` given at the start holds after a resume too.
    let work = dir.join("depth");
    philosophers_8_stopped_by_memory(&work, &["--no-deadlock", "--max-depth", "5"]);
    let (_, _, depth, code) = run_counts(&["check"], Some(&work));
    assert_eq!((depth, code), (5, 0));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A limit that the checkpoint already reaches is answered from the checkpoint: the
/// counts of its levels, exit 0, and the checkpoint kept for a resume without it.
#[test]
fn a_limit_the_checkpoint_reaches_is_answered_from_it() {
    let dir = scratch("resume-reached");
    let work = dir.join("work");
    // The 1-byte budget stops the run after the initial level.
    philosophers_8_stopped_by_memory(&work, &["--no-deadlock"]);
    let json = dir.join("answered.json");
    let out = checker_command()
        .args(["check", "--max-depth", "1", "--json"])
        .arg(&json)
        .arg("--resume")
        .arg(&work)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = read_json(&json);
    assert_eq!(report["answered_from_checkpoint"], true);
    assert_eq!(
        (&report["distinct"], &report["depth"]),
        (&1.into(), &1.into())
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    for line in [
        "Search stopped early: --max-depth was reached.",
        "  distinct states:       1\n",
        "  depth (BFS levels):    1\n",
        "  engine:                parallel, 2 workers; no level expanded in this process (the checkpoint already reaches the limit)\n",
    ] {
        assert!(stdout.contains(line), "{line:?} in {stdout}");
    }
    assert!(!stdout.contains("utilisation"), "{stdout}");
    assert_eq!(
        run_counts(&["check"], Some(&work)),
        (1_154, 5_969, 9, 0),
        "resumed without the limit"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_dve_run_resumes_from_any_directory_under_any_name_of_its_file() {
    let dir = scratch("resume-dve-paths");
    let model = dir.join("ring.dve");
    std::fs::write(
        &model,
        "byte x = 0;\nprocess P {\n  state s;\n  init s;\n  trans s -> s { guard x < 200; effect x = x + 1; };\n}\nsystem async;\n",
    )
    .unwrap();
    let work = dir.join("work");
    // Started from `dir` with a relative path.
    let stopped = checker_command()
        .current_dir(&dir)
        .args([
            "check",
            "ring.dve",
            "--no-deadlock",
            "--workers",
            "2",
            "--memory",
            "1",
            "--workdir",
            "work",
        ])
        .output()
        .unwrap();
    assert_eq!(stopped.status.code(), Some(3), "{}", stderr(&stopped));
    // Resumed from elsewhere, naming the file by its absolute path.
    let out = checker_command()
        .current_dir(std::env::temp_dir())
        .arg("check")
        .arg(&model)
        .arg("--resume")
        .arg(&work)
        .output()
        .unwrap();
    let stdout = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", stderr(&out));
    assert!(stdout.contains("distinct states:       201"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A closed terminal (SIGHUP) stops the run with a checkpoint, as SIGINT does.
#[test]
fn sighup_writes_a_checkpoint_and_exits_3() {
    let dir = scratch("resume-sighup");
    let workdir = dir.join("work");
    let out = signalled_run(&workdir, "-HUP");
    let stdout = stdout(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("the run was interrupted"), "{stdout}");
    assert!(workdir.join("CURRENT").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Under `ulimit -v` the budget is lowered to fit what the address-space limit leaves,
/// so the run stops with a checkpoint at a level end instead of aborting when an
/// allocation fails (which lost the whole run); resumed without the limit, it ends
/// with the full counts. A `--memory` the limit lowered is named beside it.
#[test]
fn an_address_space_limit_stops_the_run_with_a_checkpoint_instead_of_an_abort() {
    let dir = scratch("resume-ulimit");
    let work = dir.join("work");
    let json = dir.join("stopped.json");
    // 180 MiB: the two workers' stacks and malloc arenas reserve about 136 MiB of
    // address space, and this model needs more than the rest (its last levels hold
    // millions of states: before the budget fitted the limit and was looked at
    // part-way through a level, the run aborted with "memory allocation of 50331648
    // bytes failed").
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -v 184320 && exec "$@""#)
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_checker"))
        .args(["check", "synthetic", "states=6000000", "branching=3"])
        .args(["--workers", "2", "--no-pin", "--workdir"])
        .arg(&work)
        .arg("--json")
        .arg(&json)
        .args(["--memory", "64G"])
        .output()
        .unwrap();
    let stdout = stdout(&out);
    let stderr = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "of the address space `ulimit -v` leaves, below the 64.0 GiB given) is reached. Checkpoint written to"
        )
            && stdout.contains(", after raising `ulimit -v`"),
        "{stdout}"
    );
    let report = read_json(&json);
    assert_eq!(
        report["memory_budget"]["source"], "address_space",
        "{report}"
    );
    assert_eq!(
        report["memory_budget"]["given_bytes"],
        64u64 << 30,
        "{report}"
    );
    let budget = report["memory_budget"]["bytes"].as_u64().unwrap();
    assert!(budget > 0 && budget < 180 << 20, "{budget}");
    let stopped_at = report["distinct"].as_u64().unwrap();
    assert!(stopped_at < 6_000_000, "{stopped_at}");
    assert_eq!(
        run_counts(&["check", "--no-pin"], Some(&work)),
        (6_000_000, 18_000_001, 15, 0)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs `checker check <args> --json <json>` and sends it SIGINT as soon as it has
/// printed a progress line, if `interrupt`; returns its exit code and stdout.
fn run_sigint_after_progress(args: &[&str], json: &Path, interrupt: bool) -> (i32, String) {
    use std::io::{BufRead, BufReader};
    let mut child = checker_command()
        .args(args)
        .args(["--progress-every", "0.02", "--json"])
        .arg(json)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = String::new();
    let mut signalled = !interrupt;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if !signalled && line.starts_with("Progress(") {
            signalled = true;
            let kill = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(kill.success());
        }
        stdout.push_str(&line);
        stdout.push('\n');
    }
    (child.wait().unwrap().code().unwrap(), stdout)
}

/// The report's counterexample: from its `Error:` line to the `Model:` line.
fn counterexample(stdout: &str) -> &str {
    let start = stdout.find("Error:").expect("an error is reported");
    let end = start + stdout[start..].find("Model:").expect("a summary");
    &stdout[start..end]
}

/// SIGINT at the first progress line of a run and of each of three runs resumed
/// after it: each stops with a checkpoint (exit 3, the resume hint), the next takes
/// its model and settings from it, and the run that ends reports the uninterrupted
/// run's counts and counterexample (exit 1).
#[test]
fn sigint_after_progress_again_and_again_then_the_uninterrupted_counterexample() {
    let dir = scratch("resume-sigint-chain");
    let work = dir.join("work");
    let json = dir.join("out.json");
    let model = ["check", "philosophers", "15", "--workers", "2", "--no-pin"];
    let (code, reference) = run_sigint_after_progress(&model, &json, false);
    assert_eq!(code, 1, "{reference}");
    let expected = counts(&json);
    let work_arg = work.to_str().unwrap();
    let (mut code, mut stdout) = run_sigint_after_progress(
        &[&model[..], &["--workdir", work_arg]].concat(),
        &json,
        true,
    );
    let mut stops = 0;
    while code == 3 {
        stops += 1;
        assert!(
            stdout.contains(&format!(
                "Stopped because the run was interrupted. Checkpoint written to {work_arg}; continue with: checker check --resume {work_arg}\n"
            )),
            "{stdout}"
        );
        let (distinct, _, depth) = counts(&json);
        assert!(distinct < expected.0 && depth < expected.2, "{stdout}");
        (code, stdout) =
            run_sigint_after_progress(&["check", "--resume", work_arg], &json, stops < 4);
    }
    assert!(stops >= 1, "no run was interrupted: {stdout}");
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(counts(&json), expected, "{stdout}");
    assert_eq!(counterexample(&stdout), counterexample(&reference));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Sends `signals` (as `kill` spells them) to `checker check synthetic ... work=0.2s`
/// at 1 worker once it reports progress in level `level` (4^level states of 0.2 s
/// each: level 3 cannot end for 12 s), waiting `gap` between the signals; returns the
/// exit code, stderr and the scratch directory (the work directory is `work` in it).
fn slow_run_signalled(
    name: &str,
    level: u32,
    signals: &[&str],
    gap: Duration,
) -> (i32, String, PathBuf) {
    use std::io::{BufRead, BufReader};
    let dir = scratch(name);
    let workdir = dir.join("work");
    let mut child = checker_command()
        .args([
            "check",
            "synthetic",
            "states=1000",
            "work=200000000",
            "--workers",
            "1",
        ])
        .args(["--progress-every", "0.05", "--workdir"])
        .arg(&workdir)
        .arg("--json")
        .arg(dir.join("run.json"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().starts_with(&format!("Progress({level})")) {
            break;
        }
    }
    for (i, signal) in signals.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(gap);
        }
        let kill = Command::new("kill")
            .args([*signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
    }
    lines.for_each(drop);
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap(), stderr(&out), dir)
}

/// `timeout` sends its signal to the checker and then to its process group: signals
/// within a second of the first are taken for it, and the run stops with its
/// checkpoint and `--json` report, as after one signal. (A second signal used to end
/// the process at once: exit 130, no checkpoint, an empty `--json` file.)
#[test]
fn signals_repeated_at_once_stop_the_run_once_with_its_checkpoint() {
    let (code, err, dir) = slow_run_signalled(
        "resume-signals-at-once",
        1,
        &["-INT", "-TERM", "-INT"],
        Duration::ZERO,
    );
    assert_eq!(code, 3, "{err}");
    assert!(dir.join("work").join("CURRENT").exists());
    let verdict = &read_json(&dir.join("run.json"))["verdict"];
    assert_eq!(
        (&verdict["verdict"], &verdict["reason"]),
        (&"partial".into(), &"interrupted".into())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A second signal a second or more after the first ends the process at once: one
/// line on stderr, exit 130, no checkpoint, and the `--json` file it created removed
/// rather than left empty.
///
/// Level 3 is 64 states of 0.2 s, but `synthetic` calibrates its busy work once, in
/// about a millisecond that a loaded machine may preempt, so the level can be much
/// shorter: a run that ended (exit 3, with its checkpoint) before the second signal
/// came is tried again, up to three times.
#[test]
fn a_second_signal_later_stops_at_once_and_says_so() {
    let (code, err, dir) = (0..3)
        .map(|attempt| {
            slow_run_signalled(
                &format!("resume-second-signal-{attempt}"),
                3,
                &["-INT", "-INT"],
                Duration::from_millis(1500),
            )
        })
        .find(|(code, err, _)| *code != 3 || !err.is_empty())
        .expect("three runs ended before their second signal");
    assert_eq!(code, 130, "{err}");
    assert_eq!(
        err,
        "error: stopped at once by a second signal, without writing a checkpoint (one written before, if any, can still be resumed)\n"
    );
    assert!(!dir.join("run.json").exists());
    assert!(!dir.join("work").join("CURRENT").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
