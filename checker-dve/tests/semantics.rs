//! DVE semantics on tiny models whose state spaces are worked out by hand: the error
//! state, 16-bit `int`, rendezvous order, committed states, buffered and typed channels,
//! operators, assertions, property processes, traces.

mod common;
use common::reachable;

use checker_core::{sequential, CheckOptions, Model, Outcome, Verdict, ViolationKind};
use checker_dve::{DveModel, StateVector};

fn model(src: &str) -> DveModel {
    DveModel::from_source("t.dve", src).unwrap_or_else(|e| panic!("{e}"))
}

fn explore(m: &DveModel) -> Outcome {
    let options = CheckOptions {
        check_deadlock: false,
        ..CheckOptions::default()
    };
    sequential::check(m, &options).unwrap()
}

/// (states, transitions, deadlocks, BFS levels)
fn counts(src: &str) -> (u64, u64, u64, u32) {
    let out = explore(&model(src));
    (out.distinct, out.generated - 1, out.deadlocks, out.depth)
}

/// The successors of the initial state with their action labels.
fn first_steps(m: &DveModel) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    m.successors(&StateVector::from_slice(m.initial_state()), &mut |a, t| {
        out.push((m.action_label(a), t.to_vec()))
    });
    out
}

#[test]
fn byte_overflow_leads_to_the_error_state() {
    let src = "byte x = 254;
        process P { state s; init s; trans s -> s { effect x = x + 1; }; }
        system async;";
    // 254 -> 255 -> error state, which has no successor (P's control state is 1).
    assert_eq!(counts(src), (3, 2, 1, 3));
    let m = model(src);
    let states = reachable(&m);
    assert_eq!(states, vec![vec![254, 0], vec![255, 0], vec![0, 1]]);
    assert!(m.is_error_state(&states[2]));
    assert!(m
        .render(&StateVector::from_slice(&states[2]))
        .contains("DiVinE error state"));
}

#[test]
fn int_is_sixteen_bit_signed_little_endian() {
    let up = "int x = 32766;
        process P { state s; init s; trans s -> s { effect x = x + 1; }; }
        system async;";
    let m = model(up);
    assert_eq!(m.initial_state(), &[0xfe, 0x7f, 0]);
    let states = reachable(&m);
    assert_eq!(states.len(), 3, "32766, 32767, error");
    assert_eq!(states[1], vec![0xff, 0x7f, 0]);
    assert!(m.is_error_state(&states[2]));
    let down = "int x = -32767;
        process P { state s; init s; trans s -> s { effect x = x - 1; }; }
        system async;";
    let m = model(down);
    let states = reachable(&m);
    assert_eq!(states[1], vec![0x00, 0x80, 0], "-32768 is in range");
    assert!(m.is_error_state(&states[2]));
    // Intermediate values are C ints: only the stored value must fit.
    assert_eq!(
        counts(
            "int x = 30000;
            process P { state s, t; init s; trans s -> t { effect x = (x * 4) / 8; }; }
            system async;"
        ),
        (2, 1, 1, 2)
    );
}

#[test]
fn array_index_out_of_range_leads_to_the_error_state() {
    let src = "byte a[2]; byte i;
        process P { state s; init s; trans s -> s { effect a[i] = 1, i = i + 1; }; }
        system async;";
    let m = model(src);
    let states = reachable(&m);
    assert_eq!(
        states,
        vec![
            vec![0, 0, 0, 0],
            vec![1, 0, 1, 0],
            vec![1, 1, 2, 0],
            vec![0, 0, 0, 1]
        ]
    );
    assert_eq!(counts(src), (4, 3, 1, 4));
    // A negative index is out of range too, also when reading.
    let read = "byte a[2]; int i = -1;
        process P { state s, t; init s; trans s -> t { guard a[i] == 0; }; }
        system async;";
    let m = model(read);
    assert!(m.is_error_state(&reachable(&m)[1]));
}

#[test]
fn division_by_zero_in_a_guard_enables_the_transition_into_the_error_state() {
    let src = "byte x;
        process P { state s, t; init s; trans s -> t { guard 10 / x > 1; }; }
        system async;";
    let m = model(src);
    let states = reachable(&m);
    assert_eq!(states.len(), 2);
    assert_eq!(
        states[1],
        vec![0, 2],
        "error state: P's control state is its state count"
    );
    let rem = "byte x;
        process P { state s, t; init s; trans s -> t { effect x = 7 % x; }; }
        system async;";
    let m = model(rem);
    assert!(
        m.is_error_state(&reachable(&m)[1]),
        "`%` by zero faults too"
    );
    // Short-circuit evaluation never reaches the division.
    assert_eq!(
        counts(
            "byte x;
            process P { state s, t; init s; trans s -> t { guard x != 0 and 10 / x > 1; }; }
            system async;"
        ),
        (1, 0, 1, 1)
    );
}

#[test]
fn the_error_state_is_explored_like_any_other() {
    // Init (x=255, P=s, Q=a) -> error E = (0, 1, a) and (255, s, b); (255, s, b) -> E;
    // from E only Q moves: E' = (0, 1, b), a deadlock.
    let src = "byte x = 255;
        process P { state s; init s; trans s -> s { effect x = x + 1; }; }
        process Q { state a, b; init a; trans a -> b { }; }
        system async;";
    assert_eq!(counts(src), (4, 4, 1, 3));
}

#[test]
fn rendezvous_passes_the_pre_state_value_and_runs_receiver_effects_first() {
    let src = "byte x = 3, y, g, h;
        channel c;
        process S { state s0, s1; init s0; trans s0 -> s1 { sync c!x; effect x = 7, h = g + 1; }; }
        process R { state r0, r1; init r0; trans r0 -> r1 { sync c?y; effect g = y * 2; }; }
        system async;";
    let m = model(src);
    let steps = first_steps(&m);
    assert_eq!(steps.len(), 1);
    let (label, next) = &steps[0];
    assert_eq!(label, "S: s0 -> s1 sync c! with R: r0 -> r1");
    // y = 3 (x before the step), g = 6 (receiver first), then x = 7, h = g + 1 = 7.
    assert_eq!(next, &vec![7, 3, 6, 7, 1, 1]);
    assert_eq!(
        m.render(&StateVector::from_slice(next)),
        "x = 7\ny = 3\ng = 6\nh = 7\nS = s1\nR = r1"
    );
}

#[test]
fn rendezvous_pairs_every_sender_with_every_receiver_of_another_process() {
    // Two senders and two receivers on c, one receiver in the sender's own process:
    // S pairs with R's two receives (2), never with its own; R's send pairs with S's
    // receive (1).
    let src = "channel c;
        process S { state a, b; init a; trans a -> b { sync c!; }, a -> b { sync c?; }; }
        process R { state a, b; init a;
            trans a -> b { sync c?; }, a -> a { sync c?; }, a -> b { sync c!; }; }
        system async;";
    let labels: Vec<String> = first_steps(&model(src)).into_iter().map(|s| s.0).collect();
    assert_eq!(
        labels,
        [
            "S: a -> b sync c! with R: a -> b",
            "S: a -> b sync c! with R: a -> a",
            "R: a -> b sync c! with S: a -> b",
        ]
    );
    // A receive never fires alone and a lone send has no partner: deadlock.
    assert_eq!(
        counts(
            "channel c; process S { state a, b; init a; trans a -> b { sync c!; }; } system async;"
        ),
        (1, 0, 1, 1)
    );
}

#[test]
fn rendezvous_assigning_one_global_on_both_sides_is_an_error_as_in_divine() {
    let src = "byte g;
        channel c;
        process S { state s0, s1; init s0; trans s0 -> s1 { sync c!; effect g = 1; }; }
        process R { state r0, r1; init r0; trans r0 -> r1 { sync c?; effect g = 2; }; }
        system async;";
    let m = model(src);
    let steps = first_steps(&m);
    assert_eq!(steps.len(), 1);
    assert!(m.is_error_state(&steps[0].1));
    assert!(m
        .render(&StateVector::from_slice(&steps[0].1))
        .contains("a rendezvous whose two sides both assign one global variable"));
    // As in DiVinE, an array is one variable: writing two of its elements conflicts.
    let elements = model(
        "byte a[2];
        channel c;
        process S { state s0, s1; init s0; trans s0 -> s1 { sync c!; effect a[1] = 9; }; }
        process R { state r0, r1; init r0; trans r0 -> r1 { sync c?; effect a[0] = 5; }; }
        system async;",
    );
    let steps = first_steps(&elements);
    assert_eq!(steps.len(), 1);
    assert!(elements.is_error_state(&steps[0].1));
    // Two different globals are no conflict: the receiver's effects (reading g before
    // the sender sets it), then the sender's.
    let apart = model(
        "byte g, h;
        channel c;
        process S { state s0, s1; init s0; trans s0 -> s1 { sync c!; effect g = 1; }; }
        process R { state r0, r1; init r0; trans r0 -> r1 { sync c?; effect h = g + 2; }; }
        system async;",
    );
    let steps = first_steps(&apart);
    assert_eq!(steps.len(), 1);
    assert_eq!(
        steps[0].1,
        vec![1, 2, 1, 1],
        "g = 1, h = 2, S in s1, R in r1"
    );
}

#[test]
fn a_faulting_receive_guard_makes_its_channel_erroneous_as_in_divine() {
    // S is in s2 and cannot send; R's receive guard divides by zero, so DiVinE treats
    // every send on `c` as enabled, and the pair leads to the error state.
    let src = "byte x;
        channel c;
        process S { state s0, s1, s2; init s2; trans s0 -> s1 { sync c!; }; }
        process R { state r0, r1; init r0; trans r0 -> r1 { guard 1 / x; sync c?; }; }
        system async;";
    let m = model(src);
    let steps = first_steps(&m);
    assert_eq!(steps.len(), 1);
    assert!(m.is_error_state(&steps[0].1));
}

#[test]
fn committed_states_let_only_committed_processes_move() {
    let src = "byte x;
        process P { state a, b, c; init a; commit b;
            trans a -> b { }, b -> c { effect x = x + 1; }; }
        process Q { state q0, q1; init q0; trans q0 -> q1 { }; }
        system async;";
    // Without `commit b`, (b, q0) would also step to (b, q1): 7 transitions.
    assert_eq!(counts(src), (6, 6, 1, 4));
    assert_eq!(counts(&src.replace("commit b;", "")), (6, 7, 1, 4));
}

#[test]
fn buffered_channels_are_fifo_queues_in_the_state_vector() {
    let src = "channel {byte} c[2];
        byte r1, r2;
        process S { state s0, s1, s2; init s0; trans s0 -> s1 { sync c!5; }, s1 -> s2 { sync c!9; }; }
        process R { state q0, q1, q2; init q0; trans q0 -> q1 { sync c?r1; }, q1 -> q2 { sync c?r2; }; }
        system async;";
    let m = model(src);
    // Layout: r1, r2, then the channel (count, two slots), then S and R.
    assert_eq!(m.state_width(), 7);
    let states = reachable(&m);
    assert_eq!(
        states.len(),
        6,
        "(sent, received) with received <= sent <= 2"
    );
    assert!(
        states.contains(&vec![0, 0, 2, 5, 9, 2, 0]),
        "both queued in order"
    );
    assert!(
        states.contains(&vec![5, 0, 1, 9, 0, 2, 1]),
        "first received, 9 moved up"
    );
    assert_eq!(states.last().unwrap(), &vec![5, 9, 0, 0, 0, 2, 2]);
    assert_eq!(counts(src), (6, 6, 1, 5));
    assert_eq!(
        m.render(&StateVector::from_slice(&states[2])),
        "r1 = 0\nr2 = 0\nc = [5, 9]\nS = s2\nR = q0"
    );
    // A full buffer blocks the sender: with room for one message S must wait for R.
    assert_eq!(counts(&src.replace("c[2]", "c[1]")), (5, 4, 1, 5));
}

#[test]
fn typed_channels_cut_values_to_the_item_type_untyped_ones_check_the_range() {
    let typed = "channel {byte} c[0];
        int v = 300; byte r;
        process S { state s0, s1; init s0; trans s0 -> s1 { sync c!v; }; }
        process R { state q0, q1; init q0; trans q0 -> q1 { sync c?r; }; }
        system async;";
    let m = model(typed);
    // v = 300 is [44, 1] little endian; r receives 300 cut to a byte: 44.
    assert_eq!(first_steps(&m)[0].1, vec![44, 1, 44, 1, 1]);
    let untyped = typed.replace("channel {byte} c[0];", "channel c;");
    let m = model(&untyped);
    assert!(m.is_error_state(&first_steps(&m)[0].1));
}

#[test]
fn process_state_tests_and_foreign_variables() {
    let src = "process P { byte k = 4; state a, b; init a; trans a -> b { }; }
        process Q { state q0, q1; init q0; trans q0 -> q1 { guard P.b and P->k == 4; }; }
        system async;";
    assert_eq!(counts(src), (3, 2, 1, 3));
    let m = model(src);
    assert_eq!(
        m.render(&StateVector::from_slice(m.initial_state())),
        "P = a\nP.k = 4\nQ = q0"
    );
}

#[test]
fn operators_follow_c_at_run_time_and_divine_precedence() {
    // Every comparison holds, so P can move: 2 states.
    let src = "byte a = 6, b = 3, z; int m = -7;
        process P { state s, t; init s; trans s -> t { guard
            (a ^ b) == 5 and (a & b) == 2 and (a | b) == 7 and (b << 4) == 48
            and (a >> 1) == 3 and m / 2 == -3 and m % 2 == -1 and m % -2 == -1
            and ~z == -1 and -m == 7 and not z and (z imply z) and (a > b) == 1
            and a - b * 2 == 0 and (a != 6) == 0; }; }
        system async;";
    assert_eq!(counts(src), (2, 1, 1, 2));
    // `or` and `and` share one precedence level: `1 or 0 and 0` is `(1 or 0) and 0`.
    let src = "byte one = 1, zero;
        process P { state s, t; init s; trans s -> t { guard one or zero and zero; }; }
        system async;";
    assert_eq!(counts(src), (1, 0, 1, 1));
}

#[test]
fn an_array_named_without_index_means_element_zero() {
    let src = "byte e[3];
        process P { state s, t; init s; trans s -> t { guard e == 0; effect e = 5; }; }
        system async;";
    let m = model(src);
    assert_eq!(reachable(&m)[1], vec![5, 0, 0, 1]);
}

#[test]
fn deadlocks_are_reported_with_a_replayed_trace() {
    let src = "byte x;
        process P { state a, b, c; init a; trans a -> b { effect x = 1; }, b -> c { effect x = 2; }; }
        system async;";
    let m = model(src);
    let out = sequential::check(&m, &CheckOptions::default()).unwrap();
    let v = out.violation().expect("deadlock");
    assert_eq!(v.kind, ViolationKind::Deadlock);
    let labels: Vec<_> = v.trace.steps.iter().map(|s| s.action.clone()).collect();
    assert_eq!(
        labels,
        [
            None,
            Some("P: a -> b".to_string()),
            Some("P: b -> c".to_string())
        ]
    );
    assert_eq!(v.trace.steps[2].state, "x = 2\nP = c");
}

#[test]
fn assertions_are_checked_as_invariants() {
    let src = "byte x;
        process P { state a; init a; assert a: x < 2;
            trans a -> a { guard x < 5; effect x = x + 1; }; }
        system async;";
    let m = model(src);
    assert_eq!(m.invariant_names(), ["assert P.a: x < 2"]);
    let out = explore(&m);
    let v = out.violation().expect("x reaches 2");
    assert_eq!(v.kind, ViolationKind::Invariant("assert P.a: x < 2".into()));
    assert_eq!(v.trace.transitions(), 2);
}

#[test]
fn a_property_process_is_left_out_with_a_notice() {
    let src = "byte x;
        process P { state a, b; init a; trans a -> b { effect x = 1; }; }
        process LTL_property { state q, r; init q; accept r;
            trans q -> q { }, q -> r { guard x == 1; }; }
        system async property LTL_property;";
    let m = model(src);
    assert_eq!(
        m.notices(),
        ["LTL property process `LTL_property` with accept states: liveness is not checked"]
    );
    assert_eq!(m.process_names(), ["P"]);
    assert_eq!(m.state_width(), 2);
    assert_eq!(counts(src), (2, 1, 1, 2));
    let plain = "process P { state a; init a; accept a; } system async;";
    assert_eq!(
        model(plain).notices(),
        ["process `P` has accept states: liveness is not checked"]
    );
}

#[test]
fn processes_with_many_states_use_two_bytes_of_control_state() {
    let names: Vec<String> = (0..300).map(|i| format!("s{i}")).collect();
    let trans: Vec<String> = (0..299)
        .map(|i| format!("s{i} -> s{}", i + 1) + " { }")
        .collect();
    let src = format!(
        "process P {{ state {}; init s0; trans {}; }} system async;",
        names.join(", "),
        trans.join(", ")
    );
    let m = model(&src);
    assert_eq!(m.state_width(), 2);
    let out = explore(&m);
    assert_eq!((out.distinct, out.deadlocks, out.depth), (300, 1, 300));
}

#[test]
fn verdict_holds_when_nothing_is_violated() {
    let out = explore(&model(
        "byte x; process P { state a; init a; trans a -> a { effect x = 1 - x; }; } system async;",
    ));
    assert_eq!(out.verdict, Verdict::Holds);
    assert_eq!((out.distinct, out.generated - 1, out.deadlocks), (2, 2, 0));
}
