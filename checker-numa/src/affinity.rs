//! The calling thread's CPU affinity on Linux, for any number of CPUs: the CPUs it may
//! run on, and pinning it to one.
//!
//! # Why hand-written
//!
//! core_affinity (like libc's `cpu_set_t`) names at most 1,024 CPUs, glibc's
//! `CPU_SETSIZE`: on a machine with more, it cannot read the affinity mask at all (the
//! kernel refuses a mask shorter than its own), and it cannot name a CPU past 1,023 to
//! pin a worker there. Both system calls take a mask of any length, so this module
//! passes one as long as the CPU numbers need, as glibc's `CPU_ALLOC` does: two calls
//! and a bit mask, not worth a crate.

use std::mem::size_of;

/// One word of a CPU mask, as the kernel lays masks out (`unsigned long`).
type Word = libc::c_ulong;

/// CPUs one [`Word`] names.
const WORD_BITS: usize = Word::BITS as usize;

/// The longest mask tried, in words: 4,194,304 CPUs, far past any kernel's
/// `NR_CPUS` (8,192 at most today), so the doubling in [`allowed_cpus`] ends.
const MAX_WORDS: usize = (1 << 22) / WORD_BITS;

/// The CPUs the calling thread may run on (its affinity mask), ascending; `None` if
/// the kernel will not say.
pub fn allowed_cpus() -> Option<Vec<usize>> {
    allowed_cpus_from(1024 / WORD_BITS)
}

/// [`allowed_cpus`], asking with a mask of `words` words first and doubling it while
/// the kernel finds it too short for its CPUs (`EINVAL`).
fn allowed_cpus_from(mut words: usize) -> Option<Vec<usize>> {
    loop {
        let mut mask: Vec<Word> = vec![0; words];
        // SAFETY: `mask` is a live, writable buffer of exactly `words * size_of::<Word>()`
        // bytes, the size passed, and the kernel writes at most that many (glibc's
        // wrapper zeroes the rest of them). `cpu_set_t` is a plain array of words with
        // the alignment of `Word`, so the pointer cast changes no layout; nothing
        // reads past the length given.
        let result = unsafe {
            libc::sched_getaffinity(0, words * size_of::<Word>(), mask.as_mut_ptr().cast())
        };
        if result == 0 {
            return Some(cpus_in(&mask));
        }
        let too_short = std::io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL);
        if !too_short || words >= MAX_WORDS {
            return None;
        }
        words = (words * 2).clamp(1, MAX_WORDS);
    }
}

/// Pins the calling thread to `cpu` alone; returns whether the kernel accepted it (not
/// for a CPU that does not exist or that the process may not use, which leaves the
/// thread's affinity as it was).
pub fn pin_current_thread_to(cpu: usize) -> bool {
    let Some(mask) = mask_of(cpu) else {
        return false;
    };
    // SAFETY: `mask` is a live buffer of exactly `mask.len() * size_of::<Word>()`
    // bytes, the size passed, which the kernel only reads. As above, the cast to
    // `cpu_set_t` changes no layout, and a mask longer than the kernel's is allowed
    // (the kernel ignores the words past its CPUs).
    let result =
        unsafe { libc::sched_setaffinity(0, mask.len() * size_of::<Word>(), mask.as_ptr().cast()) };
    result == 0
}

/// A mask naming `cpu` alone, just long enough; `None` past [`MAX_WORDS`].
fn mask_of(cpu: usize) -> Option<Vec<Word>> {
    let word = cpu / WORD_BITS;
    if word >= MAX_WORDS {
        return None;
    }
    let mut mask: Vec<Word> = vec![0; word + 1];
    mask[word] = 1 << (cpu % WORD_BITS);
    Some(mask)
}

/// The CPUs `mask` names, ascending.
fn cpus_in(mask: &[Word]) -> Vec<usize> {
    mask.iter()
        .enumerate()
        .flat_map(|(i, &word)| {
            (0..WORD_BITS)
                .filter(move |bit| word & (1 << bit) != 0)
                .map(move |bit| i * WORD_BITS + bit)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn a_mask_names_its_cpu_past_1024() {
        assert_eq!(mask_of(0), Some(vec![1]));
        let mask = mask_of(1500).unwrap();
        assert_eq!(mask.len(), 1500 / WORD_BITS + 1);
        assert_eq!(mask[1500 / WORD_BITS], 1 << (1500 % WORD_BITS));
        assert_eq!(cpus_in(&mask), [1500]);
        assert_eq!(cpus_in(&[0b1010, 0, 1]), [1, 3, 2 * WORD_BITS]);
        assert_eq!(mask_of(usize::MAX), None, "no mask of a CPU no kernel has");
    }

    #[test]
    fn the_mask_read_is_core_affinitys_and_any_first_length_finds_it() {
        let ours = allowed_cpus().expect("the affinity mask is readable");
        assert!(!ours.is_empty());
        // core_affinity reads a 1,024-CPU mask: the same on machines that have no more.
        if let Some(cores) = core_affinity::get_core_ids() {
            let mut theirs: Vec<usize> = cores.into_iter().map(|c| c.id).collect();
            theirs.sort_unstable();
            assert_eq!(ours, theirs);
        }
        // Too short a first mask (none at all) is doubled until the kernel takes it.
        assert_eq!(allowed_cpus_from(0), Some(ours.clone()));
        assert_eq!(allowed_cpus_from(1), Some(ours));
    }

    #[test]
    fn a_thread_pins_itself_and_a_refused_cpu_changes_nothing() {
        let allowed = allowed_cpus().unwrap();
        let last = *allowed.last().unwrap();
        let (pinned, after, refused, unchanged) = thread::spawn(move || {
            let refused = [100_000, usize::MAX].map(pin_current_thread_to);
            let unchanged = allowed_cpus();
            let pinned = pin_current_thread_to(last);
            (pinned, allowed_cpus(), refused, unchanged)
        })
        .join()
        .unwrap();
        assert_eq!(refused, [false, false]);
        assert_eq!(unchanged, Some(allowed));
        assert!(pinned);
        assert_eq!(after, Some(vec![last]));
    }
}
