//! Every kind of bad input gives one error naming the problem, with `file:line:col`
//! and the offending text, never a panic.

use checker_dve::DveModel;

/// The first line of the error `src` gives.
fn error(src: &str) -> String {
    match DveModel::from_source("t.dve", src) {
        Ok(_) => panic!("accepted: {src}"),
        Err(e) => e.to_string().lines().next().unwrap().to_string(),
    }
}

/// Wraps `body` (transitions of process P) into a model with globals `globals`.
fn with(globals: &str, body: &str) -> String {
    format!("{globals}\nprocess P {{ state s; init s; trans s -> s {{ {body} }}; }}\nsystem async;")
}

#[test]
fn the_display_has_position_message_source_line_and_caret() {
    let e = DveModel::from_source("m.dve", &with("byte x;", "guard y > 0;")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "m.dve:2:51: unknown identifier `y`\n    \
         process P { state s; init s; trans s -> s { guard y > 0; }; }\n    \
         \x20                                                 ^"
    );
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
    assert_eq!(
        error(&with("byte a[3];", "effect a[3] = 1;")),
        "t.dve:2:54: index 3 is out of range for array `a` of 3 elements"
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
        "t.dve:1:9: cannot compute the initial value of `x`: division by zero"
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
    let e = DveModel::from_file(std::path::Path::new("/nonexistent/x.dve")).unwrap_err();
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
