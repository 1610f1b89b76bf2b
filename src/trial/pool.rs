//! Running trials on a pool of threads, each trial on a runtime of its own.

use std::sync::Mutex;

use crate::util::{into_inner, lock};

/// One worker per CPU.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Runs `work` on each item, `jobs` at a time (at least one), each on a thread of the pool;
/// `done` sees each result as it ends, with how many have ended. Returns the results in the
/// order of `items`.
pub fn run_pool<T, R>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> R + Sync,
    done: impl FnMut(&R, usize) + Send,
) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let queue = Mutex::new(items.iter().enumerate());
    let results = Mutex::new(Vec::with_capacity(items.len()));
    let done = Mutex::new(done);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let Some((i, item)) = lock(&queue).next() else {
                        break;
                    };
                    let result = work(item);
                    let mut results = lock(&results);
                    (lock(&done))(&result, results.len() + 1);
                    results.push((i, result));
                }
            });
        }
    });
    let mut results = into_inner(results);
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_once_in_order_and_done_counts_up() {
        let items: Vec<u32> = (0..50).collect();
        let seen = Mutex::new(Vec::new());
        let results = run_pool(&items, 4, |n| n * 2, |_, count| lock(&seen).push(count));
        assert_eq!(results, items.iter().map(|n| n * 2).collect::<Vec<_>>());
        assert_eq!(into_inner(seen), (1..=50).collect::<Vec<_>>());
        assert!(run_pool(&[] as &[u32], 0, |n| *n, |_, _| {}).is_empty());
    }
}
