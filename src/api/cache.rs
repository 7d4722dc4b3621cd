//! Answers for the hottest reads — an idempotent PublishStateMachineVersion and
//! DescribeStateMachine — kept in memory so they are served without a database round trip
//! or a thread hop. Entries cannot go stale: each is stamped with the store's commit epoch
//! at the time it was read, the writer bumps the epoch after every commit and before
//! answering any request of it, and an entry is used only while its epoch is current. One
//! process owns an SQLite database (the owner lock), so no other writer can change it
//! unseen; a shared PostgreSQL database has no epoch, and nothing is cached.

use std::collections::HashMap;
use std::sync::RwLock;

use bytes::Bytes;

/// What a cached answer is for. ARNs are the caller-owned ARNs as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheKey {
    /// PublishStateMachineVersion on this machine, when its current revision has a version.
    Publish(String),
    /// DescribeStateMachine of this ARN; `true` for METADATA_ONLY.
    Describe(String, bool),
}

/// A cached answer.
#[derive(Debug, Clone)]
pub enum Cached {
    /// The response body as sent.
    Body(Bytes),
    /// An idempotent publish: the current revision (for the `revisionId` guard) and the body.
    Publish {
        revision: Option<String>,
        body: Bytes,
    },
}

impl Cached {
    fn size(&self) -> usize {
        match self {
            Cached::Body(b) => b.len(),
            Cached::Publish { revision, body } => {
                body.len() + revision.as_ref().map_or(0, String::len)
            }
        }
    }
}

/// Bounded so a burst of distinct keys or huge definitions cannot grow memory without limit.
const MAX_BYTES: usize = 32 * 1024 * 1024;
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
struct Inner {
    entries: HashMap<CacheKey, (u64, Cached)>,
    bytes: usize,
}

/// The response cache.
#[derive(Default)]
pub struct ResponseCache {
    inner: RwLock<Inner>,
}

impl ResponseCache {
    /// The answer for `key` if it was read at the current `epoch`.
    pub fn get(&self, key: &CacheKey, epoch: Option<u64>) -> Option<Cached> {
        let epoch = epoch?;
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        match inner.entries.get(key) {
            Some((at, value)) if *at == epoch => Some(value.clone()),
            _ => None,
        }
    }

    /// Keeps an answer read when the epoch was `epoch` (read before the database was).
    pub fn put(&self, key: CacheKey, epoch: Option<u64>, value: Cached) {
        let Some(epoch) = epoch else {
            return;
        };
        let size = value.size();
        if size > MAX_BYTES / 8 {
            return;
        }
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if inner.bytes + size > MAX_BYTES || inner.entries.len() >= MAX_ENTRIES {
            // Entries from older epochs are useless anyway; start over rather than track use.
            inner.entries.clear();
            inner.bytes = 0;
        }
        if let Some((_, old)) = inner.entries.insert(key, (epoch, value)) {
            inner.bytes -= old.size();
        }
        inner.bytes += size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_serve_only_their_own_epoch() {
        let cache = ResponseCache::default();
        let key = CacheKey::Describe("arn".into(), false);
        cache.put(
            key.clone(),
            Some(7),
            Cached::Body(Bytes::from_static(b"{}")),
        );
        assert!(cache.get(&key, Some(7)).is_some());
        assert!(
            cache.get(&key, Some(8)).is_none(),
            "a commit makes every older entry unusable"
        );
    }

    #[test]
    fn nothing_is_kept_or_served_without_an_epoch() {
        let cache = ResponseCache::default();
        let key = CacheKey::Describe("arn".into(), false);
        cache.put(key.clone(), None, Cached::Body(Bytes::from_static(b"{}")));
        assert!(cache.inner.read().unwrap().entries.is_empty());
        cache.put(
            key.clone(),
            Some(1),
            Cached::Body(Bytes::from_static(b"{}")),
        );
        assert!(
            cache.get(&key, None).is_none(),
            "a shared database has no epoch"
        );
    }

    #[test]
    fn the_cache_stays_within_its_byte_budget() {
        let cache = ResponseCache::default();
        let big = Bytes::from(vec![b'x'; MAX_BYTES / 8]);
        for i in 0..20 {
            cache.put(
                CacheKey::Describe(format!("arn{i}"), false),
                Some(1),
                Cached::Body(big.clone()),
            );
        }
        assert!(cache.inner.read().unwrap().bytes <= MAX_BYTES);
    }
}
