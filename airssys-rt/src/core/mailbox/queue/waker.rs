//! The mailbox's one waker slot: the actor's task registers its waker before it sleeps, and a sender
//! (or a signal) takes it and wakes the task. No channel and no `Notify` beside the queue.
//!
//! The protocol is the one of `futures`' `AtomicWaker`, on one state word: registering sets
//! `REGISTERING` while it writes the waker; waking sets `WAKING` and takes the waker only if no
//! register is in progress. A wake that races a register is never lost: the register sees `WAKING` when
//! it tries to leave `REGISTERING`, and wakes the task itself. Every transition is a read-modify-write of
//! the one word with acquire-release ordering, so whatever a sender wrote before its wake (the message,
//! a signal) is visible to the task after its register: a task that registers and then looks again
//! either finds the sender's write, or is woken by it.

use core::task::Waker;

#[cfg(loom)]
use loom::{cell::UnsafeCell, sync::atomic::AtomicUsize};
#[cfg(not(loom))]
use std::cell::UnsafeCell;
#[cfg(not(loom))]
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};

const WAITING: usize = 0;
const REGISTERING: usize = 0b01;
const WAKING: usize = 0b10;

/// One waker, registered by one task and taken by any thread.
pub(crate) struct AtomicWaker {
    state: AtomicUsize,
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the waker cell is only accessed by the one thread that moved the state from `WAITING` to
// `REGISTERING` (or to `WAKING`) with a compare-exchange or `fetch_or`, which excludes every other
// access until that thread moves it back; `Waker` is `Send + Sync`.
unsafe impl Send for AtomicWaker {}
// SAFETY: as for `Send`.
unsafe impl Sync for AtomicWaker {}

impl AtomicWaker {
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        AtomicWaker {
            state: AtomicUsize::new(WAITING),
            waker: UnsafeCell::new(None),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        AtomicWaker {
            state: AtomicUsize::new(WAITING),
            waker: UnsafeCell::new(None),
        }
    }

    /// Registers `waker` to be woken by the next [`wake`](AtomicWaker::wake). Called by one task only
    /// (the mailbox's consumer); a concurrent `wake` either takes this waker or makes this call wake it.
    pub(crate) fn register(&self, waker: &Waker) {
        match self
            .state
            .compare_exchange(WAITING, REGISTERING, Acquire, Acquire)
            .unwrap_or_else(|state| state)
        {
            WAITING => {
                // SAFETY: the state is `REGISTERING`, set by us: no other thread touches the cell
                // until we leave it (a concurrent `wake` only sets `WAKING` and leaves the cell alone).
                with_mut(&self.waker, |slot| match slot {
                    Some(old) if old.will_wake(waker) => {}
                    _ => *slot = Some(waker.clone()),
                });
                if let Err(state) =
                    self.state
                        .compare_exchange(REGISTERING, WAITING, AcqRel, Acquire)
                {
                    // A wake came while we wrote: it left the waker to us. Take it and wake it.
                    debug_assert_eq!(state, REGISTERING | WAKING);
                    // SAFETY: still `REGISTERING` (with `WAKING`): the cell is ours.
                    let woken = with_mut(&self.waker, Option::take);
                    self.state.swap(WAITING, AcqRel);
                    if let Some(woken) = woken {
                        woken.wake();
                    }
                }
            }
            WAKING => {
                // A wake is taking the old waker now: it may wake the old task, not this one. Wake
                // this one, so that it looks again (a short spin: the wake is two instructions from
                // done; under loom, let it finish).
                waker.wake_by_ref();
                #[cfg(loom)]
                loom::thread::yield_now();
            }
            state => {
                // Another register in progress: there is one consumer, so this cannot happen.
                debug_assert!(false, "two tasks registered on one mailbox (state {state})");
            }
        }
    }

    /// Wakes the registered task, if any.
    #[inline]
    pub(crate) fn wake(&self) {
        if let Some(waker) = self.take() {
            waker.wake();
        }
    }

    fn take(&self) -> Option<Waker> {
        match self.state.fetch_or(WAKING, AcqRel) {
            WAITING => {
                // SAFETY: we moved the state from `WAITING` to `WAKING`: the cell is ours until we
                // clear `WAKING`; a register meanwhile sees `WAKING` and does not touch it.
                let waker = with_mut(&self.waker, Option::take);
                self.state.fetch_and(!WAKING, Release);
                waker
            }
            // A register is in progress (it will see `WAKING` and wake its task), or another wake is
            // taking the waker.
            _ => None,
        }
    }
}

impl core::fmt::Debug for AtomicWaker {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AtomicWaker").finish_non_exhaustive()
    }
}

/// Runs `f` on the cell's contents. The caller holds the cell by the state protocol above.
#[cfg(not(loom))]
#[inline]
fn with_mut<R>(cell: &UnsafeCell<Option<Waker>>, f: impl FnOnce(&mut Option<Waker>) -> R) -> R {
    // SAFETY: every caller holds the cell exclusively through the state word (see each call).
    f(unsafe { &mut *cell.get() })
}

#[cfg(loom)]
fn with_mut<R>(cell: &UnsafeCell<Option<Waker>>, f: impl FnOnce(&mut Option<Waker>) -> R) -> R {
    // SAFETY: as above; loom checks that no two accesses overlap.
    cell.with_mut(|slot| f(unsafe { &mut *slot }))
}
