//! The worker counts of a sweep: parsing `--workers 1,2,4,8`, the default list, and
//! the refusal to time more workers than the machine has CPUs.

use checker_numa::partition::MAX_WORKERS;

/// Worker counts of a sweep: ascending, distinct, and always including 1, the count
/// every speedup is measured against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerList(Vec<usize>);

impl WorkerList {
    /// The counts, ascending.
    pub fn counts(&self) -> &[usize] {
        &self.0
    }

    /// The largest count.
    pub fn largest(&self) -> usize {
        *self.0.last().expect("a worker list always holds 1")
    }

    /// Powers of two up to `cpus`, and `cpus` itself: `1,2,4,8,12` for 12 CPUs.
    pub fn default_for(cpus: usize) -> WorkerList {
        let cpus = cpus.max(1);
        let mut counts: Vec<usize> = std::iter::successors(Some(1usize), |n| n.checked_mul(2))
            .take_while(|&n| n <= cpus)
            .collect();
        counts.push(cpus);
        WorkerList::from_counts(counts)
    }

    fn from_counts(mut counts: Vec<usize>) -> WorkerList {
        counts.push(1);
        counts.sort_unstable();
        counts.dedup();
        WorkerList(counts)
    }
}

/// Parses a comma-separated list of worker counts such as `1,2,4,8`; 1 is added when
/// missing, since speedups are measured against it.
pub fn parse_worker_list(text: &str) -> Result<WorkerList, String> {
    let mut counts = Vec::new();
    for word in text.split(',') {
        let word = word.trim();
        if word.is_empty() {
            return Err(format!(
                "`{text}` has an empty entry; write worker counts like 1,2,4"
            ));
        }
        let n: usize = word
            .parse()
            .map_err(|_| format!("`{word}` is not a worker count"))?;
        if n == 0 {
            return Err("worker counts must be at least 1".to_string());
        }
        if n > MAX_WORKERS {
            return Err(format!("at most {MAX_WORKERS} workers are supported"));
        }
        counts.push(n);
    }
    Ok(WorkerList::from_counts(counts))
}

/// Whether the sweep may run on `cpus` CPUs. More workers than CPUs share CPUs, so
/// their times say nothing about scaling: refused (the error names the count and the
/// way out) unless `oversubscribe`, in which case the warning to print is returned.
pub fn check_against_cpus(
    list: &WorkerList,
    cpus: usize,
    oversubscribe: bool,
) -> Result<Option<String>, String> {
    let largest = list.largest();
    if largest <= cpus {
        return Ok(None);
    }
    let cpus_text = count_of(cpus, "CPU");
    if oversubscribe {
        Ok(Some(format!(
            "warning: --oversubscribe: {largest} workers on {cpus_text} share CPUs; the times of those runs mean nothing for scaling"
        )))
    } else {
        Err(format!(
            "--workers {largest}: this machine has {cpus_text}, so speed runs above {} mean nothing (pass --oversubscribe to run them anyway)",
            count_of(cpus, "worker")
        ))
    }
}

/// `n` and `noun`, plural unless `n` is 1.
fn count_of(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sorts_dedups_and_adds_one() {
        assert_eq!(parse_worker_list("4,2,2").unwrap().counts(), &[1, 2, 4]);
        assert_eq!(parse_worker_list(" 1 , 8").unwrap().counts(), &[1, 8]);
    }

    #[test]
    fn rejects_bad_entries() {
        assert_eq!(
            parse_worker_list("1,x").unwrap_err(),
            "`x` is not a worker count"
        );
        assert!(parse_worker_list("1,,2")
            .unwrap_err()
            .contains("empty entry"));
        assert!(parse_worker_list("0").unwrap_err().contains("at least 1"));
        assert!(parse_worker_list("-1").is_err());
        assert!(parse_worker_list("99999999")
            .unwrap_err()
            .contains("at most"));
    }

    #[test]
    fn default_is_powers_of_two_and_the_cpu_count() {
        assert_eq!(WorkerList::default_for(1).counts(), &[1]);
        assert_eq!(WorkerList::default_for(2).counts(), &[1, 2]);
        assert_eq!(WorkerList::default_for(12).counts(), &[1, 2, 4, 8, 12]);
    }

    #[test]
    fn refuses_more_workers_than_cpus_unless_told() {
        let list = parse_worker_list("1,4").unwrap();
        assert_eq!(check_against_cpus(&list, 4, false), Ok(None));
        let refusal = check_against_cpus(&list, 2, false).unwrap_err();
        assert!(refusal.contains("--oversubscribe"), "{refusal}");
        let warning = check_against_cpus(&list, 2, true).unwrap().unwrap();
        assert!(warning.contains("mean nothing"), "{warning}");
        assert_eq!(
            check_against_cpus(&list, 1, false).unwrap_err(),
            "--workers 4: this machine has 1 CPU, so speed runs above 1 worker mean nothing (pass --oversubscribe to run them anyway)"
        );
        assert_eq!(
            check_against_cpus(&list, 1, true).unwrap().unwrap(),
            "warning: --oversubscribe: 4 workers on 1 CPU share CPUs; the times of those runs mean nothing for scaling"
        );
    }
}
