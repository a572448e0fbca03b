//! A process-wide cache of built redaction searchers, keyed by the values they hide: every run
//! of a server or a batch hides the same few secrets, and building the Aho-Corasick automaton
//! for all their forms costs more than redacting the whole run with it.

use std::sync::{Arc, Mutex};

/// How many sets of values are kept, most recently used first. A process hides a handful of
/// secret sets (one per combination of secrets its flows use), so this is plenty; a process
/// that sees more builds again, as it would without the cache.
const CAPACITY: usize = 32;

/// Built values of type `V`, each under the key it was built from.
pub(crate) struct Cache<K, V> {
    entries: Mutex<Vec<(K, Arc<V>)>>,
}

impl<K: PartialEq, V> Cache<K, V> {
    pub(crate) const fn new() -> Self {
        Cache {
            entries: Mutex::new(Vec::new()),
        }
    }

    /// The value built for `key`, built by `build` if it is not kept.
    pub(crate) fn get_or_build(&self, key: K, build: impl FnOnce() -> V) -> Arc<V> {
        {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = entries.iter().position(|(k, _)| *k == key) {
                let entry = entries.remove(i);
                let value = entry.1.clone();
                entries.insert(0, entry);
                return value;
            }
        }
        // Built outside the lock: two runs building the same set at once both build it, which
        // is rare and harmless; holding the lock would make every other run wait.
        let value = Arc::new(build());
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.insert(0, (key, value.clone()));
        entries.truncate(CAPACITY);
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_value_is_not_built_again_and_the_least_used_goes_first() {
        let cache: Cache<u32, u32> = Cache::new();
        let mut builds = 0;
        for k in 0..CAPACITY as u32 {
            cache.get_or_build(k, || {
                builds += 1;
                k * 10
            });
        }
        assert_eq!(*cache.get_or_build(0, || unreachable!()), 0);
        assert_eq!(builds, CAPACITY);
        // One more pushes out the least recently used (1; 0 was just used).
        cache.get_or_build(1000, || 1);
        assert_eq!(*cache.get_or_build(0, || unreachable!()), 0);
        assert_eq!(*cache.get_or_build(1, || 7), 7);
    }
}
