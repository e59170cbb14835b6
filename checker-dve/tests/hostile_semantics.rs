//! Hostile probes of the DVE semantics of `../shared/fixtures-beem/README.md` on tiny
//! models whose state spaces are counted by hand (the count is in a comment next to
//! each model): precedence, faults that are run-time errors, committed states,
//! shadowing, rendezvous and buffered channel effect order, the error state, and
//! agreement of the sequential checker with the parallel engine at 2 and 3 workers.

mod common;
use common::{error, fixtures, reachable};

use checker_core::{sequential, CheckOptions, Model, Outcome};
use checker_dve::{DveModel, StateVector};
use checker_numa::EngineConfig;

fn model(src: &str) -> DveModel {
    DveModel::from_source("t.dve", src).unwrap_or_else(|e| panic!("{e}"))
}

fn no_deadlock_check() -> CheckOptions<'static> {
    CheckOptions {
        check_deadlock: false,
        ..CheckOptions::default()
    }
}

/// (states, transitions, deadlocks, BFS levels) of one outcome.
fn tuple(out: &Outcome) -> (u64, u64, u64, u32) {
    (out.distinct, out.generated - 1, out.deadlocks, out.depth)
}

/// (states, transitions, deadlocks, BFS levels) by the sequential checker, checked to
/// be the same with the parallel engine at 2 and 3 workers.
fn counts(src: &str) -> (u64, u64, u64, u32) {
    let m = model(src);
    let options = no_deadlock_check();
    let seq = tuple(&sequential::check(&m, &options).unwrap());
    for workers in [2, 3] {
        let config = EngineConfig {
            workers,
            pin: false,
            ..EngineConfig::default()
        };
        let par = checker_numa::check(&m, &options, &config)
            .expect("parallel engine")
            .outcome;
        assert_eq!(
            tuple(&par),
            seq,
            "{workers} workers disagree with sequential"
        );
    }
    seq
}

/// The rendering of every reachable state, in BFS order, each on one line.
fn rendered(src: &str) -> Vec<String> {
    let m = model(src);
    reachable(&m)
        .iter()
        .map(|s| m.render(&StateVector::from_slice(s)).replace('\n', " | "))
        .collect()
}

#[test]
fn effects_are_sequential_and_the_next_guard_sees_them() {
    // s -> t sets x = 1 then y = x = 1; t -> u needs y == 1 (0 with simultaneous
    // assignment, which would leave 2 states). Hand count: 3 states, 2 transitions,
    // 1 deadlock (u), 3 levels.
    let src = "byte x, y;
        process P { state s, t, u; init s;
          trans s -> t { effect x = x + 1, y = x; }, t -> u { guard y == 1; }; }
        system async;";
    assert_eq!(counts(src), (3, 2, 1, 3));
    // The index of an element written later in the same effect list sees the new value.
    let src = "byte x, a[3];
        process P { state s, t; init s; trans s -> t { effect x = x + 1, a[x] = 5, x = a[1] + 1; }; }
        system async;";
    assert_eq!(
        rendered(src),
        [
            "x = 0 | a = [0, 0, 0] | P = s",
            "x = 6 | a = [0, 5, 0] | P = t"
        ]
    );
}

#[test]
fn comparisons_chain_left_to_right_and_bit_operators_share_one_level() {
    // a < b < c is (3 < 2) < 1 = 0 < 1 = 1: enabled. Hand count: 2 states.
    let chain = "byte a = 3, b = 2, c = 1;
        process P { state s, t; init s; trans s -> t { guard a < b < c; }; }
        system async;";
    assert_eq!(counts(chain), (2, 1, 1, 2));
    // `a | b & c` is (1 | 2) & 2 = 2 in DVE (C would give 3); `a | b & c == 2` is
    // (a | b) & (c == 2) = 3 & 1 = 1. Both enabled: 3 states.
    let bits = "byte a = 1, b = 2, c = 2;
        process P { state s, t, u; init s;
          trans s -> t { guard (a | b & c) == 2; }, t -> u { guard a | b & c == 2; }; }
        system async;";
    assert_eq!(counts(bits), (3, 2, 1, 3));
    // `==` binds looser than `<`: a == b < c is 3 == (2 < 1) = 0: disabled, 1 state.
    let eq = "byte a = 3, b = 2, c = 1;
        process P { state s, t; init s; trans s -> t { guard a == b < c; }; }
        system async;";
    assert_eq!(counts(eq), (1, 0, 1, 1));
}

#[test]
fn imply_groups_left_and_short_circuits() {
    // s -> t: z = 0, so `z imply 1 / z` never divides. t -> u: `1 imply 0` = 0.
    // t -> v: (0 imply 0) imply 0 = 1 imply 0 = 0 (right grouping would give 1).
    // Hand count: 2 states (s, t), t a deadlock.
    let src = "byte z;
        process P { state s, t, u, v; init s;
          trans s -> t { guard z imply (1 / z); }, t -> u { guard 1 imply 0; },
                t -> v { guard 0 imply 0 imply 0; }; }
        system async;";
    assert_eq!(counts(src), (2, 1, 1, 2));
}

#[test]
fn shifts_signed_division_and_remainder_follow_c() {
    // Every conjunct holds (shift binds looser than +; >> is arithmetic; unary minus
    // binds tighter than %; / truncates toward zero; % takes the dividend's sign).
    let src = "byte a = 1; int m = -8;
        process P { state s, t; init s; trans s -> t { guard
          (1 << 2 + 1) == 8 and (m >> 1) == -4 and (a << 8) == 256 and -m % 3 == 2
          and -7 / 2 == -3 and 7 % -3 == 1 and -7 % -3 == -1 and - - m == -8
          and ~a == -2 and !a == 0 and not a == 0 and !(a == 0); }; }
        system async;";
    assert_eq!(counts(src), (2, 1, 1, 2));
}

#[test]
fn negating_the_smallest_int_and_complementing_a_byte_are_out_of_range() {
    // -(-32768) and -32768 / -1 are 32768, ~0 is -1: all three steps lead to the
    // error state. Hand count: init + error = 2 states, 3 transitions, 1 deadlock.
    let src = "int x = -32768; byte b;
        process P { state s, t, u, v; init s;
          trans s -> t { effect x = -x; }, s -> u { effect x = x / -1; }, s -> v { effect b = ~b; }; }
        system async;";
    assert_eq!(counts(src), (2, 3, 1, 2));
    let m = model(src);
    assert!(m.is_error_state(&reachable(&m)[1]));
    // Intermediate values are 32-bit: 200 * 200 / 200 is 200, not a fault.
    let wide = "byte b = 200;
        process P { state s, t; init s; trans s -> t { effect b = b * b / 200; }; }
        system async;";
    assert_eq!(rendered(wide), ["b = 200 | P = s", "b = 200 | P = t"]);
}

#[test]
fn constant_faults_are_run_time_errors_not_compile_errors() {
    // `1 / 0` in a guard: enabled, into the error state (P's control = 3). `300 - 45`
    // is 255, in range. Hand count: init, error, (255, u) = 3 states; error and u are
    // deadlocks; 2 levels.
    let src = "byte x;
        process P { state s, t, u; init s;
          trans s -> t { guard 1 / 0; }, s -> u { effect x = 300 - 45; }; }
        system async;";
    assert_eq!(counts(src), (3, 2, 2, 2));
    // A constant out of range assigned: init + error.
    let oor = "byte x;
        process P { state s, t; init s; trans s -> t { effect x = 256; }; }
        system async;";
    assert_eq!(counts(oor), (2, 1, 1, 2));
    let m = model(oor);
    assert!(m.is_error_state(&reachable(&m)[1]));
}

#[test]
fn constant_indices_out_of_range_are_run_time_errors_with_a_notice() {
    // Rule 4: an index out of range makes the successor the error state, so a model
    // holding a constant one loads (as in DiVinE) and says where it is. P's first step
    // stores a[3]; its second has a guard reading t[2], which faults, so it is enabled
    // and leads to the error state too. Q's guard is never true, so its a[9] never
    // runs. Hand count: init and the error state (P's control = 3, Q = q0, a deadlock)
    // = 2 states, 2 transitions, 1 deadlock, 2 levels.
    let src = "byte a[3]; const byte t[2] = {7, 8};
        process P { state s, v, u; init s;
          trans s -> v { effect a[3] = 1; }, s -> u { guard t[2] == 0; }; }
        process Q { state q0, q1; init q0; trans q0 -> q1 { guard a[0] == 5; effect a[9] = 1; }; }
        system async;";
    assert_eq!(counts(src), (2, 2, 1, 2));
    let m = model(src);
    let states = reachable(&m);
    assert!(m.is_error_state(&states[1]));
    assert_eq!(
        m.notices(),
        [
            "t.dve:3:35: index 3 is out of range for array `a` of 3 elements; evaluating it leads to the error state",
            "t.dve:3:63: index 2 is out of range for array `t` of 2 elements; evaluating it leads to the error state",
            "t.dve:4:87: index 9 is out of range for array `a` of 3 elements; evaluating it leads to the error state",
        ]
    );
    // Never evaluated: the counts are those of the model without the bad step.
    // Hand count: 1 state, its self-loop, no deadlock, 1 level.
    let unreached = "byte a[2];
        process P { state s, w; init s;
          trans s -> w { guard a[0] == 1; effect a[-1] = 1; }, s -> s { effect a[1] = 0; }; }
        system async;";
    assert_eq!(counts(unreached), (1, 1, 0, 1));
    assert_eq!(model(unreached).notices().len(), 1);
}

#[test]
fn a_committed_process_that_cannot_move_is_a_deadlock_even_if_others_could() {
    // Only P (committed in a) may move and its guard is false: 1 state, a deadlock.
    let src = "byte x;
        process P { state a, b; init a; commit a; trans a -> b { guard x == 1; }; }
        process Q { state q0, q1; init q0; trans q0 -> q1 { effect x = 1; }; }
        system async;";
    assert_eq!(counts(src), (1, 0, 1, 1));
}

#[test]
fn a_committed_sender_pairs_only_with_committed_receivers() {
    // Q is not committed, so DiVinE collects none of its receives: 1 state, deadlock.
    let one = "channel c;
        process P { state a, b; init a; commit a; trans a -> b { sync c!; }; }
        process Q { state q0, q1; init q0; trans q0 -> q1 { sync c?; }; }
        system async;";
    assert_eq!(counts(one), (1, 0, 1, 1));
    // Both committed: the pair fires, then R: (a,q0,r0) -> (b,q1,r0) -> (b,q1,r1).
    let both = "channel c;
        process P { state a, b; init a; commit a; trans a -> b { sync c!; }; }
        process Q { state q0, q1; init q0; commit q0; trans q0 -> q1 { sync c?; }; }
        process R { state r0, r1; init r0; trans r0 -> r1 { }; }
        system async;";
    assert_eq!(counts(both), (3, 2, 1, 3));
}

#[test]
fn two_committed_processes_interleave_until_neither_is_committed() {
    // (x, P, Q): (0,a,q0) -> (1,b,q0), (0,a,q1); (1,b,q0) -> (2,c,q0), (2,b,q1);
    // (0,a,q1) -> (1,b,q1) [Q is no longer committed]; (2,c,q0) -> (4,c,q1);
    // (2,b,q1) -> (3,c,q1); (1,b,q1) -> (2,c,q1); the last three are deadlocks.
    // Hand count: 9 states, 8 transitions, 3 deadlocks, 4 levels.
    let src = "byte x;
        process P { state a, b, c; init a; commit a, b;
          trans a -> b { effect x = x + 1; }, b -> c { effect x = x + 1; }; }
        process Q { state q0, q1; init q0; commit q0; trans q0 -> q1 { effect x = x * 2; }; }
        system async;";
    assert_eq!(counts(src), (9, 8, 3, 4));
}

#[test]
fn a_local_variable_shadows_a_global_of_the_same_name() {
    // P increments its own x (1 -> 2); the global x stays 5 and Q reads both.
    // Hand count: 3 states, 2 transitions, 1 deadlock, 3 levels.
    let src = "byte x = 5;
        process P { byte x = 1; state s, t; init s; trans s -> t { effect x = x + 1; }; }
        process Q { state q0, q1; init q0; trans q0 -> q1 { guard x == 5 and P->x == 2; }; }
        system async;";
    assert_eq!(counts(src), (3, 2, 1, 3));
    assert_eq!(rendered(src)[2], "x = 5 | P = t | P.x = 2 | Q = q1");
    // A global variable named like a control state is still the variable.
    let src = "byte a;
        process P { state a, b; init a; trans a -> b { guard a == 0; }; }
        system async;";
    assert_eq!(counts(src), (2, 1, 1, 2));
}

#[test]
fn state_names_shared_by_two_processes_stay_apart() {
    // P: a -> b needs Q in a; Q: b -> a needs P in a. (a,b) -> (a,a) -> (b,a).
    let src = "process P { state a, b; init a; trans a -> b { guard Q.a; }; }
        process Q { state b, a; init b; trans b -> a { guard P.a; }; }
        system async;";
    assert_eq!(counts(src), (3, 2, 1, 3));
}

#[test]
fn self_loops_count_with_multiplicity_and_idle_processes_add_nothing() {
    // Two self-loops on the only state: 1 state, 2 transitions, no deadlock.
    let loops = "process P { state a; init a; trans a -> a { }, a -> a { }; } system async;";
    assert_eq!(counts(loops), (1, 2, 0, 1));
    // A process without transitions, with a state named like Q's.
    let idle = "byte x;
        process P { state a; init a; }
        process Q { state a, b; init a; trans a -> b { effect x = 1; }; }
        system async;";
    assert_eq!(counts(idle), (2, 1, 1, 2));
}

#[test]
fn control_states_are_set_just_before_each_side_runs_its_effects() {
    // R's effects run first, after R's control state is set but before S's:
    // y = S.s1 + 2 * R.r1 = 0 + 2. Then S: z = R.r1 + 2 * S.s1 = 1 + 2. A local step
    // sees its own new control state: x = S.s2 = 1.
    let src = "byte x, y, z;
        channel c;
        process S { state s0, s1, s2; init s0;
          trans s0 -> s1 { sync c!; effect z = R.r1 + 2 * S.s1; }, s1 -> s2 { effect x = S.s2; }; }
        process R { state r0, r1; init r0; trans r0 -> r1 { sync c?; effect y = S.s1 + 2 * R.r1; }; }
        system async;";
    assert_eq!(
        rendered(src),
        [
            "x = 0 | y = 0 | z = 0 | S = s0 | R = r0",
            "x = 0 | y = 2 | z = 3 | S = s1 | R = r1",
            "x = 1 | y = 2 | z = 3 | S = s2 | R = r1",
        ]
    );
    assert_eq!(counts(src), (3, 2, 1, 3));
}

#[test]
fn a_received_element_index_is_evaluated_in_the_state_before_the_step() {
    // c?{i, a[i]}: i becomes 1, but a[i] is a[0] (i = 0 before the step), as DiVinE's
    // set_state_creator_value_extended evaluates the index in the old state.
    let src = "channel {byte, byte} c[0];
        byte i, a[2];
        process S { state s0, s1; init s0; trans s0 -> s1 { sync c!{1, 9}; }; }
        process R { state r0, r1; init r0; trans r0 -> r1 { sync c?{i, a[i]}; }; }
        system async;";
    assert_eq!(rendered(src)[1], "i = 1 | a = [9, 0] | S = s1 | R = r1");
}

#[test]
fn buffered_channels_run_effects_before_queueing_or_taking_the_message() {
    // As DiVinE 2's interpreter does: a buffered send evaluates its value after its
    // effects (x = 7 is sent), a buffered receive stores after its effects
    // (z = y + 1 sees the old y = 0).
    let src = "channel {byte} c[1];
        byte x = 1, y, z;
        process S { state s0, s1; init s0; trans s0 -> s1 { sync c!x; effect x = 7; }; }
        process R { state r0, r1; init r0; trans r0 -> r1 { sync c?y; effect z = y + 1; }; }
        system async;";
    assert_eq!(
        rendered(src),
        [
            "x = 1 | y = 0 | z = 0 | c = [] | S = s0 | R = r0",
            "x = 7 | y = 0 | z = 0 | c = [7] | S = s1 | R = r0",
            "x = 7 | y = 7 | z = 1 | c = [] | S = s1 | R = r1",
        ]
    );
    // One process can fill and drain its own buffer: a -> b -> d.
    let own = "channel {byte} c[1]; byte y;
        process P { state a, b, d; init a; trans a -> b { sync c!7; }, b -> d { sync c?y; }; }
        system async;";
    assert_eq!(counts(own), (3, 2, 1, 3));
}

#[test]
fn the_error_state_lets_other_processes_move_from_their_first_state() {
    // Q reads P->a[3] (out of range): error state E (all zero, P's control = 1, so
    // Q = q0 and i = 0); from E, Q's guard reads P->a[0] == 0 and moves.
    // Hand count: init, E, E' = 3 states, 2 transitions, 1 deadlock.
    let src = "process P { byte a[3]; state s; init s; }
        process Q { byte i = 3; state q0, q1; init q0; trans q0 -> q1 { guard P->a[i] == 0; }; }
        system async;";
    assert_eq!(counts(src), (3, 2, 1, 3));
    let m = model(src);
    let states = reachable(&m);
    assert!(m.is_error_state(&states[1]));
    assert_eq!(states[2], vec![1, 0, 0, 0, 1, 0]);
}

#[test]
fn arrays_named_without_index_mean_element_zero_in_syncs_and_foreign_reads() {
    let src = "channel c;
        process P { byte a[3] = {4, 5, 6}; state s, t; init s; trans s -> t { sync c!a; }; }
        process Q { byte b[2]; state q0, q1, q2; init q0;
          trans q0 -> q1 { sync c?b; },
                q1 -> q2 { guard P->a == 4 and b == 4 and P->a[2] == 6; effect b[1] = P->a[1]; }; }
        system async;";
    assert_eq!(
        rendered(src)[2],
        "P = t | P.a = [4, 5, 6] | Q = q2 | Q.b = [4, 5]"
    );
}

#[test]
fn declarations_comments_and_continuations_of_every_kind() {
    let src = "// line comment
        /* block // with a line comment inside
           */
        const byte N = 3, M = N + 1;
        byte x = 1, y[2] = {1, 2}, z;
        int w[3] = {-1, -2};
        channel c, d;
        channel {int} e[0];
        process P {
          byte l = M;
          state a, b, c2;
          init a;
          trans
            a -> b { guard true and x == 1 && y[1] == 2 || false;
                     sync c!(x + 1); effect z = 9, w[2] = w[0] + w[1]; },
              -> c2 { guard false; },
            b -> c2 { sync e!w[2]; };
        }
        process Q { byte r; int q; state q0, q1, q2; init q0;
          trans q0 -> q1 { sync c?r; }, q1 -> q2 { sync e?q; effect r = P->l \\
            + r; }; }
        system async;";
    assert_eq!(
        rendered(src),
        [
            "x = 1 | y = [1, 2] | z = 0 | w = [-1, -2, 0] | P = a | P.l = 4 | Q = q0 | Q.r = 0 | Q.q = 0",
            "x = 1 | y = [1, 2] | z = 9 | w = [-1, -2, -3] | P = b | P.l = 4 | Q = q1 | Q.r = 2 | Q.q = 0",
            "x = 1 | y = [1, 2] | z = 9 | w = [-1, -2, -3] | P = c2 | P.l = 4 | Q = q2 | Q.r = 6 | Q.q = -3",
        ]
    );
}

#[test]
fn thousands_of_processes_and_variables_are_cheap() {
    let mut src = String::from("byte x;\n");
    for i in 0..3000 {
        src.push_str(&format!("process P{i} {{ state a; init a; }}\n"));
    }
    src.push_str(
        "process T { state a; init a; trans a -> a { effect x = 1 - x; }; }\nsystem async;",
    );
    assert_eq!(counts(&src), (2, 2, 0, 2));
    let mut src = String::new();
    for i in 0..20000 {
        src.push_str(&format!("byte v{i} = {};\n", i % 256));
    }
    src.push_str("process T { state a, b; init a; trans a -> b { effect v19999 = v0 + 1; }; }\nsystem async;");
    let m = model(&src);
    assert_eq!(m.state_width(), 20001);
    assert_eq!(reachable(&m)[1][19999], 1);
}

#[test]
fn deep_index_and_unary_nesting_is_a_one_line_error() {
    let src = format!(
        "byte a[2];\nprocess P {{ state s; init s; trans s -> s {{ effect a[0] = {}0{}; }}; }}\nsystem async;",
        "a[".repeat(150),
        "]".repeat(150)
    );
    assert!(error(&src).ends_with("expression nested too deeply (the limit is 100 levels)"));
    let src = format!(
        "byte x;\nprocess P {{ state s; init s; trans s -> s {{ guard {}x; }}; }}\nsystem async;",
        "- ".repeat(300)
    );
    assert!(error(&src).ends_with("expression nested too deeply (the limit is 100 levels)"));
}

/// README rule 2: "The joint step: evaluate `v` in the **pre-state** and store it in
/// `x`". With several values, `c!{b, a}` received by `c?{a, b}` must swap a and b
/// (values {2, 1} taken in the pre-state). The checker evaluates the second value
/// after the first one is stored (as DiVinE 2's interpreter loop does; LTSmin's DVE
/// compiler evaluates all of them in the old state), giving a = b = 2.
#[test]
fn rendezvous_with_several_values_evaluates_them_all_in_the_pre_state() {
    let src = "channel c;
        byte a = 1, b = 2;
        process S { state s0, s1; init s0; trans s0 -> s1 { sync c!{b, a}; }; }
        process R { state r0, r1; init r0; trans r0 -> r1 { sync c?{a, b}; }; }
        system async;";
    assert_eq!(
        rendered(src),
        [
            "a = 1 | b = 2 | S = s0 | R = r0",
            "a = 2 | b = 1 | S = s1 | R = r1"
        ]
    );
}

#[test]
fn gear_with_comments_unicode_and_crlf_between_lines_keeps_its_counts() {
    let Some(dir) = fixtures() else { return };
    let src = std::fs::read_to_string(dir.join("gear.1.dve")).unwrap();
    // Every line ends with a unicode block comment and CRLF; tabs become spaces.
    let mangled: String = src
        .lines()
        .map(|l| format!("{} /* été ∀ */\r\n", l.replace('\t', "    ")))
        .collect();
    let out = sequential::check(&model(&mangled), &no_deadlock_check()).unwrap();
    // README: gear.1 has 2,689 states, 3,567 transitions, 16 deadlocks, 128 levels.
    assert_eq!(tuple(&out), (2_689, 3_567, 16, 128));
}

/// `n` channels `c0..`; S sends `i` on `ci`; R1 and R2 each receive on every channel
/// into `x` and note the channel in `xc`. A send pairs only with its own channel's
/// receivers, so `x == xc` in every state: `n * n` states (R1's and R2's values), each
/// with `2 * n` transitions (every send, with either receiver).
fn receivers_on_many_channels(n: usize) -> String {
    let channels: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let sends: Vec<String> = (0..n)
        .map(|i| format!("s -> s {{ sync c{i}!{i}; }}"))
        .collect();
    let receiver = |name: &str| {
        let receives: Vec<String> = (0..n)
            .map(|i| format!("r -> r {{ sync c{i}?x; effect xc = {i}; }}"))
            .collect();
        format!(
            "process {name} {{ byte x, xc; state r; init r; trans {}; }}",
            receives.join(", ")
        )
    };
    format!(
        "channel {};\nprocess S {{ state s; init s; trans {}; }}\n{}\n{}\nsystem async;",
        channels.join(", "),
        sends.join(", "),
        receiver("R1"),
        receiver("R2")
    )
}

#[test]
fn sends_pair_only_with_their_own_channels_receivers_few_or_many() {
    // 4 channels, 8 receivers enabled (scanned): 16 states, 16 x 8 transitions;
    // levels: the initial state, 3 + 3 with one receiver's value changed, then 9.
    assert_eq!(counts(&receivers_on_many_channels(4)), (16, 128, 0, 3));
    // 20 channels, 40 receivers enabled (sorted by channel first): 400 states;
    // levels 1, 38, 361.
    assert_eq!(
        counts(&receivers_on_many_channels(20)),
        (400, 400 * 40, 0, 3)
    );
}
