//! Helpers the CLI test files share (each uses some of them).
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A `Command` for the `checker` binary, to be given arguments and run.
pub fn checker_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_checker"))
}

/// Runs the `checker` binary with `args` and waits for it.
pub fn checker(args: &[&str]) -> Output {
    checker_command()
        .args(args)
        .output()
        .expect("the checker runs")
}

/// What `output` wrote to stdout, as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What `output` wrote to stderr, as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A path for one test's files that does not exist yet (emptied from an earlier run).
pub fn fresh_path(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&path);
    path
}

/// An empty scratch directory for one test's files.
pub fn scratch(name: &str) -> PathBuf {
    let dir = fresh_path(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The JSON document in the file at `path`.
pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// (distinct, generated, depth) of a `--json` report.
pub fn counts(path: &Path) -> (u64, u64, u64) {
    let v = read_json(path);
    (
        v["distinct"].as_u64().unwrap(),
        v["generated"].as_u64().unwrap(),
        v["depth"].as_u64().unwrap(),
    )
}

/// `value` as a number; fails the test otherwise.
pub fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number"))
}

/// Fails unless `output` exited with code 2 and wrote exactly one line, an error, to
/// stderr; returns that line.
pub fn assert_refused(output: &Output) -> String {
    let stderr = stderr(output);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error:"), "{stderr}");
    stderr
}
