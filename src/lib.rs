//! The airssys-rt test suite: integration tests, trybuild cases, benchmarks and examples.
//!
//! This library holds what the tests and benches share: a [`CountingAllocator`] that proves
//! allocation claims, and [`DropCounter`] for drop-exactly-once claims.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A global allocator that counts, per thread, the allocations and bytes requested.
///
/// Install it in a test or bench binary, then measure a closure with [`allocations`]:
///
/// ```ignore
/// #[global_allocator]
/// static ALLOCATOR: airssys_rt_suite::CountingAllocator = airssys_rt_suite::CountingAllocator;
///
/// let (count, _) = airssys_rt_suite::allocations(|| Box::new(1));
/// assert_eq!(count.allocations, 1);
/// ```
///
/// Counting per thread keeps the test harness's own threads out of the figures.
#[derive(Debug)]
pub struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
    static FREED: Cell<usize> = const { Cell::new(0) };
}

fn record(bytes: usize) {
    // `try_with`: a thread being torn down may still allocate after its locals are gone.
    let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
    let _ = BYTES.try_with(|total| total.set(total.get() + bytes));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counting
// touches only thread-local `Cell`s, which neither allocate nor unwind.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = FREED.try_with(|freed| freed.set(freed.get() + layout.size()));
        // SAFETY: `ptr` was allocated by `System` (every allocation goes through it) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: as for `dealloc`, and the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What a closure allocated on the current thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocations {
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    pub allocations: usize,
    /// Bytes those calls requested.
    pub bytes: usize,
    /// Bytes freed (by `dealloc`; a `realloc` counts as a new allocation). `bytes - freed` is what
    /// stayed allocated, when everything was freed on the same thread.
    pub freed: usize,
}

impl Allocations {
    /// What this thread has allocated so far; subtract two readings with [`Allocations::since`]. For
    /// async code, which cannot run inside [`allocations`]' closure.
    pub fn now() -> Self {
        Allocations {
            allocations: ALLOCATIONS.get(),
            bytes: BYTES.get(),
            freed: FREED.get(),
        }
    }

    /// What was allocated between the reading `earlier` and this one.
    pub fn since(self, earlier: Allocations) -> Allocations {
        Allocations {
            allocations: self.allocations - earlier.allocations,
            bytes: self.bytes - earlier.bytes,
            freed: self.freed - earlier.freed,
        }
    }
}

/// Runs `f` and returns what it allocated on this thread (meaningful only where [`CountingAllocator`]
/// is the global allocator), with `f`'s result.
pub fn allocations<R>(f: impl FnOnce() -> R) -> (Allocations, R) {
    let before = Allocations::now();
    let result = f();
    (Allocations::now().since(before), result)
}

/// Counts how many times the values made from it were dropped.
#[derive(Debug, Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

impl DropCounter {
    /// A fresh counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// A value that increments the counter when dropped.
    pub fn token(&self) -> DropToken {
        DropToken(self.0.clone())
    }

    /// How many tokens have been dropped.
    pub fn drops(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Increments its [`DropCounter`] when dropped. 8 bytes: put it in a message to count the message's drops.
#[derive(Debug)]
pub struct DropToken(Arc<AtomicUsize>);

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `future` once: `Some(output)` if it is ready now, `None` if it would wait. An ask enqueues its
/// message on its first poll, so tests use this to queue an ask without waiting for its reply.
pub async fn poll_once<F: Future + Unpin>(future: &mut F) -> Option<F::Output> {
    std::future::poll_fn(|cx| {
        core::task::Poll::Ready(match core::pin::Pin::new(&mut *future).poll(cx) {
            core::task::Poll::Ready(output) => Some(output),
            core::task::Poll::Pending => None,
        })
    })
    .await
}

/// A tokio runtime on the calling thread, with time and I/O: what the single-threaded tests and
/// benches run on.
pub fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
}

/// A tokio runtime with two worker threads (the cores of the benchmark machine).
pub fn two_workers() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a two-worker runtime")
}

/// Waits for the first supervision event that `matches`, skipping the others.
pub async fn wait_for(
    events: &mut airssys_rt::supervisor::SupervisionEvents,
    matches: impl Fn(&airssys_rt::supervisor::SupervisionEvent) -> bool,
) -> airssys_rt::supervisor::SupervisionEvent {
    loop {
        let event = events.recv().await.expect("the system is alive");
        if matches(&event) {
            return event;
        }
    }
}

/// Actors the suite's tests share.
pub mod fixtures {
    use airssys_rt::prelude::*;

    /// Adds to a [`Counter`]; answers the new total.
    #[derive(Message, Debug)]
    #[message(result = u64)]
    pub struct Add(pub u64);

    /// Makes a [`Counter`] panic, with the message `asked to crash`.
    #[derive(Message, Debug)]
    pub struct Crash;

    /// A running total.
    #[derive(Debug)]
    pub struct Counter(pub u64);

    #[actor]
    impl Counter {
        fn add(&mut self, Add(n): Add) -> u64 {
            self.0 += n;
            self.0
        }

        fn crash(&mut self, _: Crash) {
            panic!("asked to crash");
        }
    }

    /// Crashes a supervised `counter` and waits until its supervisor has restarted it.
    pub async fn crash_and_restart(
        counter: &ActorRef<Counter>,
        events: &mut airssys_rt::supervisor::SupervisionEvents,
    ) {
        counter.tell(Crash).unwrap();
        crate::wait_for(events, |event| {
            matches!(
                event.kind,
                airssys_rt::supervisor::SupervisionEventKind::Restarted(_)
            )
        })
        .await;
    }
}
