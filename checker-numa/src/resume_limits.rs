//! `--max-depth` and `--max-states` given again on resuming meet a checkpoint that may
//! already be at, or past, where they stop a run.
//!
//! A run checks its limits at each level end (`Worker::decide`); a checkpoint is taken
//! at a level end where the limits it ran under said "go on" (or part-way through the
//! next level, whose work is not yet in its totals). Limits given on resuming replace
//! the saved ones, so they are checked against the checkpoint's totals before any
//! level is expanded: a run that a fresh run with these limits would end right there
//! ends at once with that run's counts, and one that a fresh run would have ended
//! earlier cannot be answered from this checkpoint and is refused.

use checker_core::{CheckOptions, StopReason};

use crate::checkpoint::Totals;

/// Whether a run resumed with `options` from a checkpoint whose completed levels have
/// `totals` ends at once (`Ok(Some(reason))`), goes on (`Ok(None)`), or cannot be
/// answered from it (`Err`, what the checkpoint "already holds ..." and the limit): a
/// fresh run with these limits would have stopped after an earlier level.
pub fn limit_on_resume(
    options: &CheckOptions<'_>,
    totals: &Totals,
) -> Result<Option<StopReason>, String> {
    let levels = totals.level_sizes.len();
    if levels == 0 {
        return Ok(None);
    }
    // The number of levels after which a fresh run stops for each limit (a run builds
    // the initial level whatever its limits).
    let by_depth = options.max_depth.map(|d| (d as usize).max(1));
    let by_states = options.max_states.and_then(|n| {
        let mut distinct = 0u64;
        totals.level_sizes.iter().position(|&size| {
            distinct += size;
            distinct >= n
        })
    });
    let by_states = by_states.map(|k| k + 1);
    // The depth limit wins a tie, as at a level end.
    let stop = match (by_depth, by_states) {
        (Some(d), Some(s)) if s < d => Some((s, StopReason::MaxStates)),
        (Some(d), _) => Some((d, StopReason::MaxDepth)),
        (None, Some(s)) => Some((s, StopReason::MaxStates)),
        (None, None) => None,
    };
    match stop {
        Some((after, reason)) if after < levels => {
            let limit = match reason {
                StopReason::MaxDepth => format!(
                    "--max-depth {}",
                    options.max_depth.expect("the depth limit set it")
                ),
                _ => format!(
                    "--max-states {}",
                    options.max_states.expect("the state limit set it")
                ),
            };
            Err(format!(
                "already holds {levels} levels ({} states), past where {limit} stops a run (after {after} level{}); resume with a larger limit or none",
                totals.distinct,
                if after == 1 { "" } else { "s" }
            ))
        }
        Some((after, reason)) if after == levels => Ok(Some(reason)),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Levels of 1, 3, 6 and 10 states: 20 in all, as `bakery 3`'s first four.
    fn four_levels() -> Totals {
        Totals {
            distinct: 20,
            generated: 31,
            deadlocks: 0,
            level_sizes: vec![1, 3, 6, 10],
        }
    }

    fn options(max_depth: Option<u32>, max_states: Option<u64>) -> CheckOptions<'static> {
        CheckOptions {
            max_depth,
            max_states,
            ..CheckOptions::default()
        }
    }

    #[test]
    fn no_limit_or_one_not_yet_reached_goes_on() {
        let t = four_levels();
        assert_eq!(limit_on_resume(&options(None, None), &t), Ok(None));
        assert_eq!(limit_on_resume(&options(Some(5), None), &t), Ok(None));
        assert_eq!(limit_on_resume(&options(None, Some(21)), &t), Ok(None));
        assert_eq!(
            limit_on_resume(&options(Some(9), Some(1_000)), &t),
            Ok(None)
        );
    }

    #[test]
    fn a_limit_the_checkpoint_reaches_exactly_ends_the_run_at_once() {
        let t = four_levels();
        assert_eq!(
            limit_on_resume(&options(Some(4), None), &t),
            Ok(Some(StopReason::MaxDepth))
        );
        // 10 < 11 <= 20: a fresh run stops after the fourth level too.
        assert_eq!(
            limit_on_resume(&options(None, Some(11)), &t),
            Ok(Some(StopReason::MaxStates))
        );
        assert_eq!(
            limit_on_resume(&options(None, Some(20)), &t),
            Ok(Some(StopReason::MaxStates))
        );
        // Both at once: the depth limit is named, as at a level end.
        assert_eq!(
            limit_on_resume(&options(Some(4), Some(20)), &t),
            Ok(Some(StopReason::MaxDepth))
        );
        // The state limit first.
        assert_eq!(
            limit_on_resume(&options(Some(7), Some(15)), &t),
            Ok(Some(StopReason::MaxStates))
        );
    }

    #[test]
    fn a_limit_a_fresh_run_would_have_stopped_at_earlier_is_refused() {
        let t = four_levels();
        assert_eq!(
            limit_on_resume(&options(Some(2), None), &t),
            Err("already holds 4 levels (20 states), past where --max-depth 2 stops a run (after 2 levels); resume with a larger limit or none".into())
        );
        assert_eq!(
            limit_on_resume(&options(None, Some(10)), &t),
            Err("already holds 4 levels (20 states), past where --max-states 10 stops a run (after 3 levels); resume with a larger limit or none".into())
        );
        assert_eq!(
            limit_on_resume(&options(None, Some(1)), &t),
            Err("already holds 4 levels (20 states), past where --max-states 1 stops a run (after 1 level); resume with a larger limit or none".into())
        );
        // The tighter of the two is named.
        assert!(limit_on_resume(&options(Some(3), Some(4)), &t)
            .unwrap_err()
            .contains("--max-states 4 stops a run (after 2 levels)"));
    }

    #[test]
    fn the_initial_level_is_built_whatever_the_limits() {
        let one = Totals {
            distinct: 5,
            generated: 5,
            deadlocks: 0,
            level_sizes: vec![5],
        };
        assert_eq!(
            limit_on_resume(&options(Some(0), None), &one),
            Ok(Some(StopReason::MaxDepth))
        );
        assert_eq!(
            limit_on_resume(&options(None, Some(1)), &one),
            Ok(Some(StopReason::MaxStates))
        );
        assert_eq!(
            limit_on_resume(&options(Some(0), None), &Totals::default()),
            Ok(None)
        );
    }
}
