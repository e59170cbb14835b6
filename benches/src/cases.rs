//! The models the per-model benchmark runs: every bundled model family, each at a
//! size whose full check takes about 0.05 to 0.5 s on one core, so that fixed costs
//! (thread start, first allocations) do not dominate and a sample stays short.
//!
//! Left out: `peterson` and `diehard` (tens of states: only fixed costs would be
//! measured) and the `-broken` and deadlocking variants (their searches stop at the
//! error, so they would not cover the space the ceiling covers).

/// A bundled model with its parameters, as `checker check` takes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelCase {
    /// The registry name.
    pub name: &'static str,
    /// The parameter words.
    pub params: &'static [&'static str],
}

impl ModelCase {
    /// `name params...`, the benchmark's label.
    pub fn label(&self) -> String {
        std::iter::once(self.name)
            .chain(self.params.iter().copied())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The parameters as owned strings, as the registry takes them.
    pub fn param_strings(&self) -> Vec<String> {
        self.params.iter().map(|p| p.to_string()).collect()
    }
}

/// One case per bundled model family.
pub const MODEL_CASES: &[ModelCase] = &[
    ModelCase {
        name: "twophase",
        params: &["7"],
    },
    ModelCase {
        name: "grid",
        params: &["6", "8"],
    },
    ModelCase {
        name: "puzzle8",
        params: &[],
    },
    ModelCase {
        name: "philosophers-ordered",
        params: &["14"],
    },
    ModelCase {
        name: "bakery",
        params: &["4"],
    },
    ModelCase {
        name: "synthetic",
        params: &["states=300000"],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use checker_core::Model;
    use fixtures::{with_model, ModelVisitor};

    struct Name;
    impl ModelVisitor for Name {
        type Output = String;
        fn visit<M: Model + 'static>(self, model: M) -> String {
            model.name()
        }
    }

    #[test]
    fn every_case_builds() {
        for case in MODEL_CASES {
            let name = with_model(case.name, &case.param_strings(), Name).unwrap();
            assert!(name.starts_with(case.name), "{name}");
        }
        assert_eq!(MODEL_CASES[1].label(), "grid 6 8");
    }
}
