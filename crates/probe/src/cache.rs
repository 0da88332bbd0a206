//! The per-scan caches: each key is worked out once per [`crate::Prober`], however many
//! certificates ask for it and however many ask at the same time.
//!
//! A map of `Arc<OnceCell<V>>`: the first asker runs the work, concurrent askers of the same key
//! wait for its result instead of sending their own query or handshake. If the first asker is
//! cancelled mid-way, a waiting one takes the work over (tokio's `OnceCell` semantics), so a
//! cancelled check never leaves a key stuck. The map's lock is held only to find or insert a
//! cell, never across an await.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::OnceCell;

pub(crate) struct OnceMap<K, V> {
    cells: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K: Eq + Hash, V: Clone> OnceMap<K, V> {
    pub(crate) fn new() -> Self {
        OnceMap {
            cells: Mutex::new(HashMap::new()),
        }
    }

    /// The value for `key`, running `work` only if no one has (or is working it out).
    pub(crate) async fn get_or_run<F, Fut>(&self, key: K, work: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = {
            // A panic elsewhere while holding the lock leaves the map itself intact.
            let mut cells = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
            cells.entry(key).or_default().clone()
        };
        cell.get_or_init(work).await.clone()
    }

    /// Keys seen so far (a measure of the cache's size).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.cells
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn concurrent_askers_share_one_run() {
        let map: OnceMap<&str, u32> = OnceMap::new();
        let runs = AtomicUsize::new(0);
        let ask = || {
            map.get_or_run("k", || async {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                7
            })
        };
        let (a, b, c) = tokio::join!(ask(), ask(), ask());
        assert_eq!((a, b, c), (7, 7, 7));
        assert_eq!(ask().await, 7);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(map.len(), 1);
    }

    #[tokio::test]
    async fn a_cancelled_run_is_taken_over() {
        let map: OnceMap<&str, u32> = OnceMap::new();
        let stuck = map.get_or_run("k", std::future::pending::<u32>);
        assert!(tokio::time::timeout(Duration::from_millis(10), stuck)
            .await
            .is_err());
        assert_eq!(map.get_or_run("k", || async { 3 }).await, 3);
    }
}
