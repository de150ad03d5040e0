//! Routing statistics: counters cheap enough to stay on.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Stripes per counter. Each thread adds to its own stripe, so threads routing at once do not fight
/// over one cache line; reading sums the stripes.
const STRIPES: usize = 8;

#[repr(align(64))]
#[derive(Debug, Default)]
struct Stripe(AtomicU64);

/// A counter for hot paths: a relaxed add to this thread's stripe.
#[derive(Debug, Default)]
pub(crate) struct Counter([Stripe; STRIPES]);

fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
    }
    STRIPE.with(|stripe| *stripe)
}

impl Counter {
    pub(crate) fn add(&self, n: u64) {
        self.0[stripe()].0.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn incr(&self) {
        self.add(1);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0
            .iter()
            .map(|stripe| stripe.0.load(Ordering::Relaxed))
            .sum()
    }
}

/// The live counters of one system's broker.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) routed: Counter,
    pub(crate) unaddressed: Counter,
    pub(crate) no_such_actor: Counter,
    pub(crate) no_such_name: Counter,
    pub(crate) unhandled: Counter,
    pub(crate) mailbox_full: Counter,
    pub(crate) stopped: Counter,
    pub(crate) name_cache_hits: Counter,
    pub(crate) name_cache_misses: Counter,
    pub(crate) dead_letters: Counter,
    pub(crate) published: Counter,
}

/// A snapshot of the broker's counters, from [`MessageBroker::stats`](crate::broker::MessageBroker::stats).
///
/// Each counter is exact once the operations it counts have returned; a snapshot taken while others
/// route may catch some counters before and some after one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RoutingStats {
    /// Messages enqueued by `route` and `ask` through the broker.
    pub routed: u64,
    /// Routes refused: the envelope had no target.
    pub unaddressed: u64,
    /// Routes refused: no live actor has the address or routing key.
    pub no_such_actor: u64,
    /// Routes refused: no actor is registered under the name.
    pub no_such_name: u64,
    /// Routes refused: the target does not handle the message type.
    pub unhandled: u64,
    /// Routes refused: the target's bounded mailbox was full.
    pub mailbox_full: u64,
    /// Routes refused: the target stopped while the message was being routed.
    pub stopped: u64,
    /// Name resolutions answered by the cache.
    pub name_cache_hits: u64,
    /// Name resolutions that had to read the name table.
    pub name_cache_misses: u64,
    /// Messages reported to the dead-letter sink.
    pub dead_letters: u64,
    /// Messages published to topics (each counted once, whatever the subscriber count).
    pub published: u64,
}

impl RoutingStats {
    /// All refused routes, whatever the reason.
    pub fn failed(&self) -> u64 {
        self.unaddressed
            + self.no_such_actor
            + self.no_such_name
            + self.unhandled
            + self.mailbox_full
            + self.stopped
    }
}

impl Stats {
    pub(crate) fn snapshot(&self) -> RoutingStats {
        RoutingStats {
            routed: self.routed.get(),
            unaddressed: self.unaddressed.get(),
            no_such_actor: self.no_such_actor.get(),
            no_such_name: self.no_such_name.get(),
            unhandled: self.unhandled.get(),
            mailbox_full: self.mailbox_full.get(),
            stopped: self.stopped.get(),
            name_cache_hits: self.name_cache_hits.get(),
            name_cache_misses: self.name_cache_misses.get(),
            dead_letters: self.dead_letters.get(),
            published: self.published.get(),
        }
    }
}
