//! Every kind of bad input gives one error naming the problem, with `file:line:col`
//! and the offending text, in one line, never a panic.

mod common;
use common::error;

use std::path::{Path, PathBuf};

use checker_dve::{read_source, DveModel, MAX_QUOTED_CHARS, MAX_SOURCE_BYTES};

/// Wraps `body` (transitions of process P) into a model with globals `globals`.
fn with(globals: &str, body: &str) -> String {
    format!("{globals}\nprocess P {{ state s; init s; trans s -> s {{ {body} }}; }}\nsystem async;")
}

#[test]
fn the_display_is_one_line_with_position_and_message() {
    let e = DveModel::from_source("m.dve", &with("byte x;", "guard y > 0;")).unwrap_err();
    assert_eq!(e.to_string(), "m.dve:2:51: unknown identifier `y`");
    assert_eq!(
        (e.file(), e.line(), e.column()),
        ("m.dve", Some(2), Some(51))
    );
    assert_eq!(e.message(), "unknown identifier `y`");
}

#[test]
fn unknown_names() {
    assert_eq!(
        error(&with("", "guard y > 0;")),
        "t.dve:2:51: unknown identifier `y`"
    );
    assert_eq!(
        error(&with("", "sync c!;")),
        "t.dve:2:50: unknown channel `c`"
    );
    assert_eq!(
        error(&with("", "guard Q.s;")),
        "t.dve:2:51: unknown process `Q`"
    );
    assert_eq!(
        error(&with("", "guard P.t;")),
        "t.dve:2:53: process `P` has no state `t`"
    );
    assert_eq!(
        error(&with("", "guard P->v;")),
        "t.dve:2:54: process `P` has no variable `v`"
    );
    assert_eq!(
        error("process P { state s; init s; trans s -> t { }; } system async;"),
        "t.dve:1:41: process `P` has no state `t`"
    );
    assert_eq!(
        error("process P { state s; init t; } system async;"),
        "t.dve:1:27: process `P` has no state `t`"
    );
    assert_eq!(
        error("process P { state s; init s; } system async property Q;"),
        "t.dve:1:54: unknown property process `Q`"
    );
}

#[test]
fn names_of_the_wrong_kind() {
    assert_eq!(
        error(&with("", "guard s;")),
        "t.dve:2:51: `s` is a control state, not a variable (test it with `P.s`)"
    );
    assert_eq!(
        error(&with("", "guard P;")),
        "t.dve:2:51: `P` is a process, not a variable (test its state with `P.state`)"
    );
    assert_eq!(
        error(&with("channel c;", "guard c;")),
        "t.dve:2:51: `c` is a channel, not a variable"
    );
    assert_eq!(
        error(&with("byte c;", "sync c!;")),
        "t.dve:2:50: `c` is not a channel"
    );
    assert_eq!(
        error(
            "process P { state s; init s; trans s -> s { guard L.q; }; }
             process L { state q; init q; } system async property L;"
        ),
        "t.dve:1:51: `L` is the property process, which is not part of the checked system"
    );
}

#[test]
fn duplicate_names() {
    assert_eq!(
        error("channel c; byte c; process P { state s; init s; } system async;"),
        "t.dve:1:17: `c` is already declared (at line 1, column 9)"
    );
    assert_eq!(
        error("byte x;\nint x;\nprocess P { state s; init s; } system async;"),
        "t.dve:2:5: `x` is already declared (at line 1, column 6)"
    );
    assert_eq!(
        error("process P { state a, a; init a; } system async;"),
        "t.dve:1:22: `a` is already declared (at line 1, column 19)"
    );
    assert_eq!(
        error("process P { byte a; state a; init a; } system async;"),
        "t.dve:1:27: `a` is already declared (at line 1, column 18)"
    );
    assert_eq!(
        error("byte P; process P { state s; init s; } system async;"),
        "t.dve:1:17: `P` is already declared (at line 1, column 6)"
    );
    assert_eq!(
        error("process P { state s; init s; } process P { state s; init s; } system async;"),
        "t.dve:1:40: `P` is already declared (at line 1, column 9)"
    );
}

#[test]
fn wrong_array_sizes_indices_and_initialisers() {
    assert_eq!(
        error(&with("byte a[0];", "")),
        "t.dve:1:7: array `a` must have between 1 and 65535 elements, not 0"
    );
    assert_eq!(
        error(&with("int a[70000];", "")),
        "t.dve:1:6: array `a` must have between 1 and 65535 elements, not 70000"
    );
    // A constant index out of range in a transition is a run-time error state with a
    // notice (tests/hostile_semantics.rs); where a value is needed at load it is refused.
    assert_eq!(
        error(&with("byte a[3]; byte x = a[3];", "")),
        "t.dve:1:21: cannot compute the initial value of variable `x`: an array index out of range"
    );
    assert_eq!(
        error(&with("byte x;", "guard x[1] == 0;")),
        "t.dve:2:51: `x` is not an array"
    );
    assert_eq!(
        error(&with("byte x = {1, 2};", "")),
        "t.dve:1:10: scalar variable `x` cannot be initialised with a list"
    );
    assert_eq!(
        error(&with("byte a[2] = 1;", "")),
        "t.dve:1:13: array `a` must be initialised with a list `{...}`"
    );
    assert_eq!(
        error(&with("byte x = 256;", "")),
        "t.dve:1:10: initial value 256 is out of range for `byte` variable `x`"
    );
    assert_eq!(
        error(&with("int x = 1 / 0;", "")),
        "t.dve:1:9: cannot compute the initial value of variable `x`: division by zero"
    );
}

#[test]
fn constants_and_assignments() {
    assert_eq!(
        error(&with("const byte N;", "")),
        "t.dve:1:12: constant `N` has no value"
    );
    assert_eq!(
        error(&with("byte x; const byte N = x;", "")),
        "t.dve:1:24: the value of constant `N` must be computable from numbers and constants"
    );
    assert_eq!(
        error(&with("const byte T[2] = {1, 2}; const byte N = T[2];", "")),
        "t.dve:1:42: cannot compute the value of constant `N`: an array index out of range"
    );
    assert_eq!(
        error(&with("const int N = 7 / (1 - 1);", "")),
        "t.dve:1:15: cannot compute the value of constant `N`: division by zero"
    );
    // `and` does not evaluate its right side when the left is false: N is 0.
    let short = DveModel::from_source(
        "t.dve",
        &with(
            "const byte T[1] = {1}; const byte N = 0 and T[1] / 0; byte x = N + 1;",
            "",
        ),
    )
    .unwrap();
    assert_eq!(short.initial_state()[0], 1);
    assert_eq!(
        error(&with("const byte N = 300;", "")),
        "t.dve:1:16: value 300 is out of range for `byte` constant `N`"
    );
    assert_eq!(
        error(&with("const byte N = 3;", "effect N = 1;")),
        "t.dve:2:52: cannot assign to constant `N`"
    );
    assert_eq!(
        error(&with("byte x;", "effect x + 1 = 1;")),
        "t.dve:2:52: the left side of an assignment must be a variable or an array element, not `x + 1`"
    );
    assert_eq!(
        error(
            "process P { state s; init s; trans s -> s { effect Q->x = 1; }; }
             process Q { byte x; state s; init s; } system async;"
        ),
        "t.dve:1:52: cannot assign to `Q->x`, a variable of another process"
    );
}

#[test]
fn channel_misuse() {
    assert_eq!(
        error(
            "channel c; process P { state s; init s;
             trans s -> s { sync c!1; }, s -> s { sync c?; }; } system async;"
        ),
        "t.dve:2:56: channel `c` carries 1 value(s) at line 2, but 0 here"
    );
    assert_eq!(
        error(&with("channel {byte, int} c[0];", "sync c!1;")),
        "t.dve:2:50: channel `c` carries 2 value(s) per message, but this synchronisation has 1"
    );
    assert_eq!(
        error(&with("channel c;", "sync c?1;")),
        "t.dve:2:52: a received value's destination must be a variable or an array element, not `1`"
    );
    assert_eq!(
        error(&with("channel {byte} c[300];", "")),
        "t.dve:1:16: channel `c` has a buffer of 300 messages; at most 255 are supported"
    );
}

#[test]
fn syntax_errors_and_unsupported_constructs() {
    assert_eq!(
        error("process P { state s; init s; }"),
        "t.dve:1:31: missing `system async;` line at the end of the model"
    );
    assert_eq!(
        error("process P { state s; init s; } system async"),
        "t.dve:1:44: expected `;` after the `system` line, found end of file"
    );
    assert_eq!(
        error(&with("byte x = ;", "")),
        "t.dve:1:10: expected an expression, found `;`"
    );
    assert_eq!(
        error("process P { state s; init s; } system sync;"),
        "t.dve:1:39: `system sync` (synchronous systems) is not supported; only `system async` is"
    );
    assert_eq!(
        error("process P { state s; init s; trans s => { s: 1 }; } system async;"),
        "t.dve:1:38: probabilistic transitions (`=>`) are not supported"
    );
    assert_eq!(
        error(&with("byte x @", "")),
        "t.dve:1:8: unknown character `@`"
    );
    assert_eq!(error("/* open"), "t.dve:1:1: unclosed comment `/*`");
}

#[test]
fn unreadable_files() {
    let e = DveModel::from_file(Path::new("/nonexistent/x.dve")).unwrap_err();
    assert!(e
        .to_string()
        .starts_with("/nonexistent/x.dve: cannot read the model: "));
    assert_eq!(e.line(), None);
    let path = std::env::temp_dir().join(format!("checker-dve-{}-bad.dve", std::process::id()));
    std::fs::write(&path, b"byte x;\nbyte \xff y;").unwrap();
    let e = DveModel::from_file(&path).unwrap_err();
    std::fs::remove_file(&path).ok();
    assert_eq!(e.message(), "the file is not valid UTF-8");
    assert_eq!((e.line(), e.column()), (Some(2), Some(6)));
}

#[test]
fn the_longest_accepted_expressions_compile_without_exhausting_the_stack() {
    // 2000 operators in a left-deep chain, walked recursively by the later stages,
    // on a test thread's default 2 MiB stack, in a debug build too.
    let guard = format!("guard x{};", " + x".repeat(1000) + &" - x".repeat(999));
    let src = with("byte x;", &guard);
    let m = DveModel::from_source("t.dve", &src).unwrap();
    let out = checker_core::sequential::check(&m, &checker_core::CheckOptions::default()).unwrap();
    // x = 0 makes the guard 0: the initial state is a deadlock.
    assert_eq!((out.distinct, out.deadlocks), (1, 1));
    let too_long = with("byte x;", &format!("guard x{};", " + x".repeat(2001)));
    assert_eq!(
        error(&too_long),
        "t.dve:2:8053: expression too long (more than 2000 operators)"
    );
}

/// `x` repeated `n` times, then `…`: how a long name is quoted.
fn cut(x: &str) -> String {
    format!("{}…", x.repeat(MAX_QUOTED_CHARS))
}

#[test]
fn long_names_are_quoted_with_their_first_64_characters() {
    let long = "x".repeat(1_000_000);
    let e = error(&with("", &format!("guard {long} > 0;")));
    assert_eq!(e, format!("t.dve:2:51: unknown identifier `{}`", cut("x")));
    // Every kind of message quotes names the same way.
    assert_eq!(
        error(&with(&format!("byte {long}; int {long};"), "")),
        format!(
            "t.dve:1:1000012: `{}` is already declared (at line 1, column 6)",
            cut("x")
        )
    );
    assert_eq!(
        error(&with("", &format!("sync {long}!;"))),
        format!("t.dve:2:50: unknown channel `{}`", cut("x"))
    );
    assert_eq!(
        error(&with("", &format!("guard P.{long};"))),
        format!("t.dve:2:53: process `P` has no state `{}`", cut("x"))
    );
    assert_eq!(
        error(&format!(
            "process {long} {{ state s; init s; trans s -> s {{ guard s; }}; }} system async;"
        )),
        format!(
            "t.dve:1:1000050: `s` is a control state, not a variable (test it with `{}.s`)",
            cut("x")
        )
    );
    assert_eq!(
        error(&format!("byte x {long};")),
        format!(
            "t.dve:1:8: expected `;` after the declaration, found identifier `{}`",
            cut("x")
        )
    );
    // Quoted source text is cut the same way.
    assert_eq!(
        error(&with("byte x;", &format!("effect x + {long} = 1;"))),
        format!(
            "t.dve:2:52: the left side of an assignment must be a variable or an array \
             element, not `x + {}…`",
            "x".repeat(MAX_QUOTED_CHARS - 4)
        )
    );
}

#[test]
fn quoted_source_spanning_lines_is_shown_on_one_line() {
    let e = error(&with("byte x;", "effect x\n  +\n  1 = 1;"));
    assert_eq!(
        e,
        "t.dve:2:52: the left side of an assignment must be a variable or an array element, \
         not `x + 1`"
    );
    let long_expression = format!("x{}", " +\n x".repeat(100));
    let e = error(&with("byte x;", &format!("effect {long_expression} = 1;")));
    assert_eq!(
        e,
        format!(
            "t.dve:2:52: the left side of an assignment must be a variable or an array element, \
             not `{}…`",
            &format!("x{}", " + x".repeat(20))[..MAX_QUOTED_CHARS]
        )
    );
}

#[test]
fn no_error_of_the_error_tests_spans_lines() {
    // A sample over every stage; `error` itself checks for line breaks.
    for src in [
        "byte x @",
        "/* open",
        "byte x = 99999999999;",
        "process P { state s; init s; }",
        "byte x;\nbyte x;\nprocess P { state s; init s; } system async;",
        "process P { state s; init s; trans s -> s { guard\n\n y; }; } system async;",
    ] {
        let e = error(src);
        assert!(e.starts_with("t.dve:"), "{e}");
    }
}

/// A fresh path in the temporary directory for this test process.
fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("checker-dve-errors-{}-{name}", std::process::id()))
}

#[test]
fn read_source_returns_the_bytes_as_stored() {
    let path = temp("bytes.dve");
    let bytes = b"byte x;\r\nbyte \xff y;";
    std::fs::write(&path, bytes).unwrap();
    let read = read_source(&path);
    std::fs::remove_file(&path).ok();
    assert_eq!(read.unwrap(), bytes);
}

#[test]
fn directories_are_not_model_files() {
    let dir = temp("dir.dve");
    std::fs::create_dir_all(&dir).unwrap();
    let e = DveModel::from_file(&dir).unwrap_err();
    let read = read_source(&dir).unwrap_err();
    std::fs::remove_dir(&dir).ok();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: cannot read the model: not a regular file (a directory)",
            dir.display()
        )
    );
    assert_eq!(read, e);
    assert_eq!(e.line(), None);
}

#[test]
fn devices_are_refused_without_being_read() {
    let zero = Path::new("/dev/zero");
    if !zero.exists() {
        eprintln!("skipped: no /dev/zero");
        return;
    }
    assert_eq!(
        DveModel::from_file(zero).unwrap_err().to_string(),
        "/dev/zero: cannot read the model: not a regular file (a character device)"
    );
    // Through a symbolic link too, which is followed: the path is shown as given.
    let link = temp("zero.dve");
    std::fs::remove_file(&link).ok();
    std::os::unix::fs::symlink(zero, &link).unwrap();
    let e = DveModel::from_file(&link).unwrap_err();
    std::fs::remove_file(&link).ok();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: cannot read the model: not a regular file (a character device)",
            link.display()
        )
    );
}

#[test]
fn a_link_to_a_model_file_is_read() {
    let target = temp("target.dve");
    let link = temp("link.dve");
    std::fs::write(
        &target,
        "byte x; process P { state s; init s; } system async;",
    )
    .unwrap();
    std::fs::remove_file(&link).ok();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let model = DveModel::from_file(&link);
    std::fs::remove_file(&link).ok();
    std::fs::remove_file(&target).ok();
    // The model is named after the link, as given.
    assert_eq!(
        checker_core::Model::name(&model.unwrap()),
        format!("checker-dve-errors-{}-link", std::process::id())
    );
}

#[test]
fn fifos_are_refused_without_being_opened() {
    let fifo = temp("fifo.dve");
    std::fs::remove_file(&fifo).ok();
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    // Opening a FIFO with no writer would block: read it on another thread, so that
    // a regression fails the test instead of hanging it.
    let (send, receive) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || send.send(DveModel::from_file(&path).map(|_| ())));
    let outcome = receive.recv_timeout(std::time::Duration::from_secs(10));
    std::fs::remove_file(&fifo).ok();
    let e = outcome.expect("reading a FIFO blocked").unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: cannot read the model: not a regular file (a FIFO)",
            fifo.display()
        )
    );
}

#[test]
fn files_over_the_limit_are_refused() {
    assert_eq!(MAX_SOURCE_BYTES, 64 * 1024 * 1024);
    // A sparse file: its size is over the limit, but no data is written or read.
    let path = temp("huge.dve");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(MAX_SOURCE_BYTES + 1).unwrap();
    drop(file);
    let e = DveModel::from_file(&path).unwrap_err();
    let at_limit = {
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(MAX_SOURCE_BYTES).unwrap();
        drop(file);
        read_source(&path).map(|bytes| bytes.len())
    };
    std::fs::remove_file(&path).ok();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: cannot read the model: the file is larger than 64 MiB (67108864 bytes)",
            path.display()
        )
    );
    assert_eq!(at_limit.unwrap() as u64, MAX_SOURCE_BYTES);
}
