//! The comparison the engine tests make: every figure of an outcome, the verdict and
//! counterexample included, equals the sequential checker's.

use checker_core::Outcome;

/// Asserts that `a` and `b` agree on counts, depth, level sizes, deadlocks, verdict
/// and counterexample; each failure message ends with `at` (which run this is).
pub fn same(a: &Outcome, b: &Outcome, at: &str) {
    assert_eq!(a.distinct, b.distinct, "distinct, {at}");
    assert_eq!(a.generated, b.generated, "generated, {at}");
    assert_eq!(a.depth, b.depth, "depth, {at}");
    assert_eq!(a.level_sizes, b.level_sizes, "level sizes, {at}");
    assert_eq!(a.deadlocks, b.deadlocks, "deadlocks, {at}");
    assert_eq!(a.verdict, b.verdict, "verdict and counterexample, {at}");
}
