//! Hostile inputs to the `checker` binary: every external input is validated (a
//! one-line error and exit code 2), never a panic, a hang, a wrong answer or lost data.
//!
//! The tests in the first part document bugs found by an adversarial review and fail
//! until those are fixed; those in the second part pin down hostile inputs that are
//! handled correctly and that no other test covers.

mod common;

use common::{assert_refused, checker, checker_command, counts, scratch, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A child that is killed (and reaped) when dropped, so that a failed assertion does
/// not leave a run behind.
struct Running(Option<Child>);

impl Running {
    fn spawn(command: &mut Command) -> Running {
        Running(Some(command.spawn().expect("the checker starts")))
    }

    /// Waits up to `limit`; `None` (after killing the child) if it was still running.
    fn wait_at_most(mut self, limit: Duration) -> Option<Output> {
        let started = Instant::now();
        let child = self.0.as_mut().unwrap();
        while started.elapsed() < limit {
            if child.try_wait().unwrap().is_some() {
                return Some(self.0.take().unwrap().wait_with_output().unwrap());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs `command` with its output captured; fails the test if it has not ended within
/// `limit` (a hang).
fn output_within(command: &mut Command, limit: Duration, what: &str) -> Output {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Running::spawn(command)
        .wait_at_most(limit)
        .unwrap_or_else(|| panic!("{what}: still running after {limit:?} (a hang)"))
}

/// The path of the current checkpoint directory of `workdir` and its manifest.
fn current_manifest(workdir: &Path) -> (PathBuf, serde_json::Value) {
    let name = std::fs::read_to_string(workdir.join("CURRENT")).unwrap();
    let dir = workdir.join(name.trim());
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let (json, _sum) = text.trim_end().rsplit_once('\n').unwrap();
    (dir, serde_json::from_str(json).unwrap())
}

/// Writes `manifest` into checkpoint directory `dir` with a valid checksum line, as
/// the checker writes it.
fn write_manifest(dir: &Path, manifest: &serde_json::Value) {
    let json = serde_json::to_string_pretty(manifest).unwrap();
    let sum = xxhash_rust::xxh3::xxh3_64(json.as_bytes());
    std::fs::write(dir.join("manifest.json"), format!("{json}\n{sum:016x}\n")).unwrap();
}

fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

/// Runs `check <model> --workers 2 --no-pin <flags> --workdir <workdir>` and fails
/// unless it exits with `code`.
fn run_with_workdir(workdir: &Path, model: &[&str], flags: &[&str], code: i32) {
    let out = checker(
        &[
            &["check"][..],
            model,
            &["--workers", "2", "--no-pin"],
            flags,
            &["--workdir", workdir.to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
}

/// `dir/work`, holding the checkpoint that a 2-worker run of `model` keeps when a
/// 1-byte `--memory` budget stops it after its first level (exit 3).
fn checkpoint_of(dir: &Path, model: &[&str]) -> PathBuf {
    let workdir = dir.join("work");
    run_with_workdir(&workdir, model, &["--memory", "1"], 3);
    workdir
}

/// `checker check --no-pin --resume <workdir> <flags>`, not yet run.
fn resume_command(workdir: &Path, flags: &[&str]) -> Command {
    let mut command = checker_command();
    command
        .args(["check", "--no-pin", "--resume"])
        .arg(workdir)
        .args(flags);
    command
}

/// Resumes the checkpoint in `workdir` with `--no-pin` and `flags`, and waits for it.
fn resume(workdir: &Path, flags: &[&str]) -> Output {
    resume_command(workdir, flags)
        .output()
        .expect("the checker runs")
}

/// A small, valid DVE model: one process flipping a byte, 2 states.
const TINY_DVE: &str = "byte x = 0;\n\
process P {\n\
state a, b;\n\
init a;\n\
trans\n\
 a -> b { effect x = 1; },\n\
 b -> a { effect x = 0; };\n\
}\n\
system async;\n";

// ---------------------------------------------------------------------------------
// Bugs: these fail on the code they were written against.
// ---------------------------------------------------------------------------------

/// The default work directory is `checker-work-<pid>` in the current directory. A
/// directory of that name that already exists (a checkpoint kept by an earlier run
/// whose process had the same id, or the user's own) must never be taken over and
/// removed at the end of the run.
#[test]
fn the_default_work_directory_never_removes_an_existing_directory_of_that_name() {
    let dir = scratch("hostile-pid-workdir");
    // `exec` keeps the shell's process id, so `$$` is the checker's id.
    let script = "mkdir checker-work-$$ && echo mine > checker-work-$$/notes.txt && \
                  exec \"$0\" check diehard noinv --workers 2 --no-pin";
    let child = Command::new("sh")
        .args(["-c", script, env!("CARGO_BIN_EXE_checker")])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let notes = dir.join(format!("checker-work-{pid}")).join("notes.txt");
    assert!(
        notes.exists(),
        "{} was deleted by a run that did not create it",
        notes.display()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Two runs resuming the same checkpoint at once write the same parent logs and
/// checkpoint files: the second must be refused (the work directory is in use), not
/// allowed to corrupt the checkpoint.
#[test]
fn a_second_resume_of_a_checkpoint_in_use_is_refused() {
    let dir = scratch("hostile-double-resume");
    // A checkpoint after the first level (the budget stops the run at once).
    let workdir = checkpoint_of(&dir, &["synthetic", "states=200000", "work=20000"]);
    let json = dir.join("a.json");
    let a = Running::spawn(
        resume_command(
            &workdir,
            &["--progress-every", "100", "--json", json.to_str().unwrap()],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped()),
    );
    wait_for_a_lock_on(&workdir.join("LOCK"));
    let b = output_within(
        &mut resume_command(&workdir, &["--progress-every", "100"]),
        Duration::from_secs(60),
        "the second resume",
    );
    let err = assert_refused(&b);
    assert!(err.contains(workdir.to_str().unwrap()), "{err}");
    let a = a
        .wait_at_most(Duration::from_secs(60))
        .expect("the first resume ends");
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(counts(&json).0, 200_000);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Waits (a minute at most) until some process holds a lock on `file`, as
/// `/proc/locks` lists them by device and inode.
fn wait_for_a_lock_on(file: &Path) {
    use std::os::unix::fs::MetadataExt;
    let started = std::time::Instant::now();
    loop {
        if let Ok(meta) = std::fs::metadata(file) {
            let inode = format!(":{}", meta.ino());
            let locks = std::fs::read_to_string("/proc/locks").unwrap();
            if locks
                .lines()
                .any(|l| l.split_whitespace().any(|field| field.ends_with(&inode)))
            {
                return;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no lock on {} after a minute",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `dir/work`, holding a checkpoint of `bakery 3` with its first 4 levels (20 states,
/// frontier at depth 3).
fn bakery_checkpoint_at_depth_3(dir: &Path) -> PathBuf {
    let workdir = dir.join("work");
    run_with_workdir(
        &workdir,
        &["bakery", "3"],
        &["--checkpoint-every", "0s", "--max-depth", "5"],
        0,
    );
    let (_, manifest) = current_manifest(&workdir);
    assert_eq!(manifest["depth"], 3, "{manifest}");
    assert_eq!(manifest["totals"]["distinct"], 20, "{manifest}");
    workdir
}

/// The counts of a fresh sequential `bakery 3` run with `limit`.
fn fresh_bakery_3(dir: &Path, limit: &[&str]) -> (u64, u64, u64) {
    let json = dir.join("fresh.json");
    let out = checker(
        &[
            &["check", "bakery", "3", "--engine", "sequential"][..],
            limit,
            &["--json", json.to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    counts(&json)
}

/// `--max-depth` given again on resuming replaces the saved one (README); when the
/// checkpoint already holds that many levels the run must stop there, with exactly a
/// fresh run's counts, not expand one more level.
#[test]
fn resuming_with_a_depth_limit_the_checkpoint_already_reaches_keeps_to_it() {
    let dir = scratch("hostile-resume-max-depth");
    let workdir = bakery_checkpoint_at_depth_3(&dir);
    let fresh = fresh_bakery_3(&dir, &["--max-depth", "4"]);
    assert_eq!(fresh, (20, 31, 4));
    let json = dir.join("resumed.json");
    let out = resume(
        &workdir,
        &["--max-depth", "4", "--json", json.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("--max-depth was reached"));
    assert_eq!(counts(&json), fresh, "resumed vs fresh --max-depth 4");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A limit given on resuming that a fresh run would have stopped at before the
/// checkpoint cannot be answered from it: refused in one line, and the checkpoint is
/// left to resume.
#[test]
fn resuming_with_a_depth_limit_the_checkpoint_is_past_is_refused() {
    let dir = scratch("hostile-resume-past-max-depth");
    let workdir = bakery_checkpoint_at_depth_3(&dir);
    let out = resume(&workdir, &["--max-depth", "2"]);
    let err = assert_refused(&out);
    assert_eq!(
        err.trim_end(),
        format!(
            "error: the checkpoint in {} already holds 4 levels (20 states), past where --max-depth 2 stops a run (after 2 levels); resume with a larger limit or none",
            workdir.display()
        )
    );
    let json = dir.join("resumed.json");
    let out = resume(&workdir, &["--json", json.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(counts(&json), fresh_bakery_3(&dir, &["--max-depth", "5"]));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// As above for `--max-states`: a fresh run stops after the first level with at
/// least 20 states, which the checkpoint already holds.
#[test]
fn resuming_with_a_state_limit_the_checkpoint_already_reaches_keeps_to_it() {
    let dir = scratch("hostile-resume-max-states");
    let workdir = bakery_checkpoint_at_depth_3(&dir);
    let fresh = fresh_bakery_3(&dir, &["--max-states", "20"]);
    assert_eq!(fresh, (20, 31, 4));
    let json = dir.join("resumed.json");
    let out = resume(
        &workdir,
        &["--max-states", "20", "--json", json.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(counts(&json), fresh, "resumed vs fresh --max-states 20");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--json /dev/null` (or a pipe, e.g. `--json >(jq .)`) is a valid place to write
/// to: the run's exit code (1, a violation) must not turn into an input error after
/// the run because the "file" cannot be truncated.
#[test]
fn json_to_dev_null_keeps_the_exit_code() {
    for engine in ["sequential", "parallel"] {
        let out = checker(&[
            "check",
            "diehard",
            "--engine",
            engine,
            "--json",
            "/dev/null",
        ]);
        assert_eq!(out.status.code(), Some(1), "{engine}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{engine}");
        assert!(stdout(&out).contains("Shortest counterexample (6 steps)"));
    }
}

/// `--json` naming a FIFO that nobody reads must not hang the checker (a DVE path
/// that is a FIFO is refused for the same reason).
#[test]
fn check_json_to_a_fifo_without_a_reader_does_not_hang() {
    assert_json_to_a_fifo_is_refused(
        "hostile-json-fifo-check",
        &["check", "diehard", "--engine", "sequential"],
        "check --json FIFO",
    );
}

/// The same for `checker ceiling --json`.
#[test]
fn ceiling_json_to_a_fifo_without_a_reader_does_not_hang() {
    assert_json_to_a_fifo_is_refused(
        "hostile-json-fifo-ceiling",
        &["ceiling", "twophase", "2", "--copies", "1", "--rounds", "1"],
        "ceiling --json FIFO",
    );
}

/// Fails unless `checker <args> --json <a FIFO nobody reads>` (in scratch directory
/// `name`) is refused within 20 s in one line naming the FIFO.
fn assert_json_to_a_fifo_is_refused(name: &str, args: &[&str], what: &str) {
    let dir = scratch(name);
    let fifo = dir.join("out.json");
    mkfifo(&fifo);
    let out = output_within(
        checker_command().args(args).arg("--json").arg(&fifo),
        Duration::from_secs(20),
        what,
    );
    let err = assert_refused(&out);
    assert!(err.contains(fifo.to_str().unwrap()), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A `--workdir` that already exists may hold the user's files; a checkpoint commit
/// removes older checkpoint directories, but must not remove entries the checker did
/// not write just because their names start with `checkpoint-`.
#[test]
fn user_entries_named_checkpoint_in_a_given_workdir_survive() {
    let dir = scratch("hostile-workdir-user-files");
    let workdir = dir.join("work");
    for name in ["checkpoint-notes", "checkpoint-7"] {
        std::fs::create_dir_all(workdir.join(name)).unwrap();
        std::fs::write(workdir.join(name).join("mine.txt"), "mine").unwrap();
    }
    std::fs::write(workdir.join("notes.txt"), "mine").unwrap();
    run_with_workdir(
        &workdir,
        &["twophase", "3"],
        &["--checkpoint-every", "0s"],
        0,
    );
    assert!(workdir.join("notes.txt").exists());
    for name in ["checkpoint-notes", "checkpoint-7"] {
        let kept = workdir.join(name).join("mine.txt");
        assert!(kept.exists(), "{} was deleted", kept.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Overwrites the bytes of every frontier state in worker file `path` with `fill`,
/// then fixes its trailing checksum; returns its new size and whole-file checksum.
fn forge_frontier(path: &Path, fill: u8) -> (u64, String) {
    let file = std::fs::read(path).unwrap();
    let mut body = file[..file.len() - 8].to_vec();
    let word = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    // Magic, then version, worker, generated, expanded, log entries.
    let mut at = 8 + 5 * 8;
    let table_len = word(&body, at) as usize;
    at += 8 + 8 * table_len;
    at += 8; // the frontier's first index
    at += 8; // the frontier's length
    loop {
        let count = word(&body, at);
        at += 8;
        if count == u64::MAX {
            break;
        }
        at += 8; // layout
        let bytes = word(&body, at) as usize;
        at += 8;
        body[at..at + bytes].fill(fill);
        at += bytes;
    }
    let trailer = xxhash_rust::xxh3::xxh3_64(&body);
    body.extend_from_slice(&trailer.to_le_bytes());
    std::fs::write(path, &body).unwrap();
    (
        body.len() as u64,
        format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&body)),
    )
}

/// A checkpoint whose frontier states were replaced (checksums made to match) holds
/// states that are not the ones its table and parent log record: resuming it must be
/// refused, not report more states than the model has.
#[test]
fn a_checkpoint_whose_frontier_states_do_not_match_its_table_is_refused() {
    let dir = scratch("hostile-forged-frontier");
    let workdir = dir.join("work");
    run_with_workdir(
        &workdir,
        &["grid", "3", "5"],
        &["--checkpoint-every", "0s", "--max-depth", "4"],
        0,
    );
    let (cp, mut manifest) = current_manifest(&workdir);
    for entry in manifest["worker_files"].as_array_mut().unwrap() {
        let (bytes, checksum) = forge_frontier(&cp.join(entry["file"].as_str().unwrap()), 0xff);
        entry["bytes"] = bytes.into();
        entry["checksum"] = checksum.into();
    }
    write_manifest(&cp, &manifest);
    let json = dir.join("resumed.json");
    let out = resume(
        &workdir,
        &["--max-depth", "100", "--json", json.to_str().unwrap()],
    );
    // grid 3 5 has 125 states; the forged run reports hundreds more, with exit 0.
    let reported = json.exists().then(|| counts(&json).0);
    let err = assert_refused(&out);
    assert!(err.contains("worker-"), "{err} (reported {reported:?})");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `bench` hands the model words to child `checker check` runs: a DVE file whose name
/// starts with `-` (accepted by `check` after `--`) must reach them as a path, not be
/// taken for a flag.
#[test]
fn bench_takes_a_dve_path_that_starts_with_a_dash() {
    let dir = scratch("hostile-bench-dash-path");
    std::fs::write(dir.join("-m.dve"), TINY_DVE).unwrap();
    let check = output_within(
        checker_command()
            .args(["check", "--engine", "sequential", "--", "-m.dve"])
            .current_dir(&dir),
        Duration::from_secs(60),
        "check -- -m.dve",
    );
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let out = output_within(
        checker_command()
            .args([
                "bench",
                "--workers",
                "1",
                "--repeat",
                "1",
                "--out",
                "out",
                "--",
                "-m.dve",
            ])
            .current_dir(&dir),
        Duration::from_secs(120),
        "bench -- -m.dve",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(dir.join("out").join("results.json").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------
// Handled correctly now; pinned down here.
// ---------------------------------------------------------------------------------

/// Malformed and extreme numbers for every numeric flag: one line, exit 2, naming the
/// value, and no run.
#[test]
fn malformed_and_extreme_numbers_are_refused_in_one_line() {
    let cases: [(&[&str], &str); 20] = [
        (
            &["--workers", "18446744073709551616"],
            "`18446744073709551616` is not a worker count",
        ),
        (&["--workers", "1e9"], "`1e9` is not a worker count"),
        (&["--workers", "\u{661}"], "is not a worker count"),
        (&["--workers", ""], "`` is not a worker count"),
        (
            &["--workers", "65536"],
            "at most 65535 workers are supported",
        ),
        (
            &["--batch-bytes", "1073741825"],
            "1073741825 is not in 1..=1073741824",
        ),
        (&["--batch-bytes", "0"], "0 is not in 1..=1073741824"),
        (&["--ring-capacity", "65537"], "65537 is not in 1..=65536"),
        (&["--max-depth", "0"], "must be at least 1"),
        (
            &["--max-depth", "4294967296"],
            "too large (at most 4294967295)",
        ),
        (&["--max-states", "1.5"], "`1.5` is not a whole number"),
        (
            &["--memory", "8X"],
            "`8X`: unknown unit `X` (use K, M, G or T)",
        ),
        (
            &["--memory", "99999999999T"],
            "`99999999999T` is not a usable memory size",
        ),
        (&["--memory", "0.5"], "`0.5` is not a usable memory size"),
        (&["--memory", ""], "`` is not a size (try 512M or 8G)"),
        (
            &["--checkpoint-every", "1y"],
            "`1y`: unknown unit `y` (use ms, s, m or h)",
        ),
        (
            &["--checkpoint-every", "1000000001"],
            "`1000000001` is not a usable duration",
        ),
        (
            &["--checkpoint-every", ""],
            "`` is not a duration (try 30s, 10m, 2h)",
        ),
        (
            &["--progress-every", "NaN"],
            "--progress-every must be a positive number of seconds up to 1e9, got NaN",
        ),
        (
            &["--progress-every", "-1"],
            "unexpected argument '-1' found",
        ),
    ];
    for (flags, expected) in cases {
        let args = [&["check", "twophase", "3"][..], flags].concat();
        let out = checker(&args);
        let err = assert_refused(&out);
        assert!(err.contains(expected), "{flags:?}: {err}");
        assert_eq!(stdout(&out), "", "{flags:?}: no run");
    }
    let err = assert_refused(&checker(&["topology", "--workers", "65536"]));
    assert!(err.contains("at most 65535 workers are supported"), "{err}");
}

/// Model parameters out of range, malformed, duplicated or unknown, through the CLI.
#[test]
fn bad_model_parameters_are_refused_in_one_line() {
    let cases: [(&[&str], &str); 12] = [
        (
            &["twophase", "\u{ff13}"],
            "error: twophase: N must be a whole number, got `\u{ff13}`",
        ),
        (
            &["twophase", "18446744073709551616"],
            "error: twophase: `18446744073709551616` is too large for N (at most 15)",
        ),
        (
            &["twophase", "3", "3"],
            "error: twophase: unexpected parameter `3`",
        ),
        (
            &["diehard", "inv"],
            "error: diehard: unexpected parameter `inv` (usage: diehard [noinv])",
        ),
        (
            &["philosophers", "33"],
            "error: philosophers: N must be between 2 and 32, got 33",
        ),
        (
            &["bakery", "2", "16"],
            "error: bakery: MAXTICKET must be between 1 and 15, got 16",
        ),
        (
            &["grid", "32", "4"],
            "error: grid: 4^32 states do not fit the state encoding",
        ),
        (
            &["grid", "1", "18446744073709551616"],
            "error: grid: `18446744073709551616` is too large for D",
        ),
        (
            &["synthetic", "states=5", "states=6"],
            "error: synthetic: parameter `states` given twice",
        ),
        (
            &["synthetic", "=5"],
            "error: synthetic: unknown parameter ``",
        ),
        (
            &["synthetic", "states=1e6"],
            "error: synthetic: states must be a whole number, got `1e6`",
        ),
        (
            &["synthetic", "depth=18446744073709551615"],
            "error: synthetic: 1000000 states cannot fill 18446744073709551615 levels",
        ),
    ];
    for (model, expected) in cases {
        let args = [&["check"][..], model, &["--engine", "sequential"]].concat();
        let err = assert_refused(&checker(&args));
        assert!(err.starts_with(expected), "{model:?}: {err}");
    }
}

/// DVE paths that are not readable models: one line naming the path, exit 2, never a
/// hang (a FIFO) or a stack overflow (deep nesting).
#[test]
fn hostile_dve_files_are_refused_in_one_line() {
    let dir = scratch("hostile-dve-files");
    let p = |name: &str| dir.join(name);
    std::fs::create_dir_all(p("dir.dve")).unwrap();
    mkfifo(&p("fifo.dve"));
    std::fs::write(p("empty.dve"), "").unwrap();
    std::fs::write(p("latin1.dve"), b"byte \xff\xfe x;\n").unwrap();
    std::fs::write(p("nul.dve"), "byte x = 1;\0\n").unwrap();
    std::os::unix::fs::symlink("loop2.dve", p("loop1.dve")).unwrap();
    std::os::unix::fs::symlink("loop1.dve", p("loop2.dve")).unwrap();
    let nested = format!(
        "byte x = 0;\nprocess P {{ state a; init a; trans a -> a {{ guard {}1{}; }}; }}\nsystem async;\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    std::fs::write(p("nested.dve"), nested).unwrap();
    std::fs::File::create(p("huge.dve"))
        .unwrap()
        .set_len(65 << 20)
        .unwrap();
    let cases = [
        (
            "dir.dve",
            "cannot read the model: not a regular file (a directory)",
        ),
        (
            "fifo.dve",
            "cannot read the model: not a regular file (a FIFO)",
        ),
        ("empty.dve", "missing `system async;` line"),
        ("latin1.dve", "the file is not valid UTF-8"),
        ("nul.dve", "unknown character `\\0`"),
        ("loop1.dve", "Too many levels of symbolic links"),
        ("nested.dve", "expression nested too deeply"),
        ("huge.dve", "the file is larger than 64 MiB"),
    ];
    for (name, expected) in cases {
        let out = output_within(
            checker_command()
                .args(["check", "--engine", "sequential"])
                .arg(p(name)),
            Duration::from_secs(30),
            name,
        );
        let err = assert_refused(&out);
        assert!(err.contains(name), "{name}: {err}");
        assert!(err.contains(expected), "{name}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A checkpoint whose manifest was edited (checksum line left as it was) is refused
/// and left in place; resume flags that cannot fit it are refused by name.
#[test]
fn damaged_or_mismatched_checkpoints_are_refused_and_kept() {
    let dir = scratch("hostile-checkpoint-refusals");
    let workdir = checkpoint_of(&dir, &["twophase", "3"]);
    let cases: [(&[&str], &str); 5] = [
        (
            &["--workers", "3"],
            "the checkpoint was written by 2 workers; resume with --workers 2",
        ),
        (&["twophase", "4"], "is for `twophase 3`, not `twophase 4`"),
        (&["--no-deadlock"], "was taken with deadlock checking on"),
        (
            &["--memory-log"],
            "'--resume <DIR>' cannot be used with '--memory-log'",
        ),
        (
            &["--engine", "sequential"],
            "--no-pin, --resume are only for the parallel engine",
        ),
    ];
    for (extra, expected) in cases {
        let err = assert_refused(&resume(&workdir, extra));
        assert!(err.contains(expected), "{extra:?}: {err}");
    }
    // A manifest edited without its checksum line.
    let (cp, _) = current_manifest(&workdir);
    let manifest = cp.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let edited = text.replacen("\"workers\": 2", "\"workers\": 1", 1);
    assert_ne!(text, edited);
    std::fs::write(&manifest, &edited).unwrap();
    let err = assert_refused(&resume(&workdir, &[]));
    assert!(err.contains("checksum mismatch"), "{err}");
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), edited);
    // A resume of a plain file, or of a directory whose CURRENT names no checkpoint.
    let file = dir.join("file");
    std::fs::write(&file, "x").unwrap();
    let err = assert_refused(&checker(&["check", "--resume", file.to_str().unwrap()]));
    assert!(err.contains("CURRENT: Not a directory"), "{err}");
    std::fs::write(workdir.join("CURRENT"), "../../etc\n").unwrap();
    let err = assert_refused(&checker(&["check", "--resume", workdir.to_str().unwrap()]));
    assert!(
        err.contains("does not name a checkpoint directory"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run refused before it starts leaves an existing `--json` file as it was and
/// creates none.
#[test]
fn refused_runs_leave_json_files_as_they_were() {
    let dir = scratch("hostile-json-untouched");
    let kept = dir.join("kept.json");
    std::fs::write(&kept, "{\"mine\": 1}\n").unwrap();
    let not_a_dir = dir.join("file");
    std::fs::write(&not_a_dir, "x").unwrap();
    let new = dir.join("new.json");
    for json in [&kept, &new] {
        let err = assert_refused(&checker(&[
            "check",
            "twophase",
            "2",
            "--workdir",
            not_a_dir.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ]));
        assert!(err.contains("exists and is not a directory"), "{err}");
        let err = assert_refused(&checker(&[
            "check",
            "twophase",
            "99",
            "--json",
            json.to_str().unwrap(),
        ]));
        assert!(err.contains("N must be between 1 and 15"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "{\"mine\": 1}\n");
    assert!(!new.exists(), "{} was left behind", new.display());
    // `--json` and `--workdir` naming the same new path: refused, nothing left.
    let same = dir.join("same");
    let err = assert_refused(&checker(&[
        "check",
        "twophase",
        "2",
        "--workdir",
        same.to_str().unwrap(),
        "--json",
        same.to_str().unwrap(),
    ]));
    assert!(err.contains("exists and is not a directory"), "{err}");
    assert!(!same.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `bench --out` whose `runs` is a file, and `ceiling`'s bad counts: one line, exit 2.
#[test]
fn bench_and_ceiling_bad_values_are_refused_in_one_line() {
    let dir = scratch("hostile-bench-ceiling-values");
    std::fs::create_dir_all(dir.join("out")).unwrap();
    std::fs::write(dir.join("out").join("runs"), "mine").unwrap();
    let out = dir.join("out");
    let err = assert_refused(&checker(&[
        "bench",
        "twophase",
        "2",
        "--workers",
        "1",
        "--repeat",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(err.contains(out.to_str().unwrap()), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("out").join("runs")).unwrap(),
        "mine"
    );
    let err = assert_refused(&checker(&[
        "bench",
        "twophase",
        "2",
        "--workers",
        "1,,2",
        "--out",
        "x",
    ]));
    assert!(err.contains("has an empty entry"), "{err}");
    let err = assert_refused(&checker(&[
        "ceiling",
        "twophase",
        "2",
        "--copies",
        "99999999999999999999",
    ]));
    assert!(err.contains("--copies"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A bundled model given again on resuming with its parameters written another way
/// (in another order, with leading zeros) is the same model: the run resumes.
#[test]
fn a_bundled_model_given_again_in_other_words_resumes() {
    let dir = scratch("hostile-same-model-other-words");
    let workdir = checkpoint_of(&dir, &["synthetic", "states=20000", "branching=3"]);
    let json = dir.join("resumed.json");
    let out = resume(
        &workdir,
        &[
            "synthetic",
            "branching=3",
            "states=020000",
            "--json",
            json.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(counts(&json).0, 20_000);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A DVE file whose name has no `.dve` suffix and no `/` is taken for a bundled model's
/// name: the refusal says that a file of that name exists and how to name it.
#[test]
fn a_dve_file_without_its_suffix_is_named_in_the_refusal() {
    let dir = scratch("hostile-no-suffix");
    std::fs::write(
        dir.join("plain"),
        "process P { state a; init a; } system async;",
    )
    .unwrap();
    let out = checker_command()
        .current_dir(&dir)
        .args(["check", "plain"])
        .output()
        .unwrap();
    let err = assert_refused(&out);
    assert_eq!(
        err.trim_end(),
        "error: unknown model `plain` (try `checker list`); a file of that name exists: to check it as a DVE model, give its name a `.dve` suffix or its path a `/`"
    );
    let out = checker_command()
        .current_dir(&dir)
        .args(["check", "./plain", "--no-deadlock"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}
