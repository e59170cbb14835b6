//! The comparison the engine tests make: every figure of an outcome, the verdict and
//! counterexample included, equals the sequential checker's.

use checker_core::Outcome;

/// Asserts that `a` and `b` agree on counts, depth, level sizes, deadlocks, verdict
/// and counterexample.
pub fn same(a: &Outcome, b: &Outcome) {
    assert_eq!(a.distinct, b.distinct, "distinct");
    assert_eq!(a.generated, b.generated, "generated");
    assert_eq!(a.depth, b.depth, "depth");
    assert_eq!(a.level_sizes, b.level_sizes, "level sizes");
    assert_eq!(a.deadlocks, b.deadlocks, "deadlocks");
    assert_eq!(a.verdict, b.verdict, "verdict and counterexample");
}
