//! The mailbox's queue: many senders, one consumer (the actor's task), in blocks of [`CAP`] slots.
//! All of the mailbox's unsafe code lives in this module and its two children.
//!
//! # Design
//!
//! A sender claims a position with one compare-exchange on the tail index, writes its message into
//! that slot of the current block, and marks the slot written with a store. The consumer walks the
//! slots in order and takes each one whose mark it sees: no read-modify-write per message, so a batch
//! drains at the cost of loads. Positions are numbered in laps of `CAP + 1`: the extra position of each
//! lap is the "next block is being installed" state, set by the sender that claims a block's last slot
//! (the claim itself moves the index there) until it has linked the next block; other senders wait for
//! it, as in crossbeam's `SegQueue`, whose scheme this follows.
//!
//! What is ours, for actors:
//!
//! - **Nothing allocated until the first message.** The index starts in the "no block" state; the
//!   first sender installs a block.
//! - **An idle actor holds no block.** When the consumer finds the queue empty and is about to sleep, it
//!   [detaches](Queue::detach) its block: one compare-exchange that succeeds only if no sender has
//!   claimed a position since, after which no sender can write into that block. The block goes back to
//!   the recycler and the index to "no block"; the next sender installs one again.
//! - **Blocks are recycled** ([`blocks`]): a steady load allocates nothing.
//! - **One waker slot** ([`waker`]): a sender wakes the actor's task directly.
//! - **Closing** sets a bit in the tail index, so that a sender refused by a close is refused before it
//!   claims anything, and a sender that claimed before the close is still waited for: the consumer
//!   knows the queue is finished only when the closed index equals its own position ([`Pop::Closed`]).
//!   A claimed but unwritten slot is [`Pop::Busy`]: a send in flight, whose sender wakes the consumer
//!   when it is done.
//!
//! The protocol is model-checked with loom (the tests below, with `CAP` = 2 so that every block
//! boundary is crossed): `RUSTFLAGS="--cfg loom" cargo test -p airssys-rt --lib --release queue`.
//! The unit tests also run under Miri and valgrind.

mod blocks;
pub(crate) mod waker;

use core::mem::MaybeUninit;
use core::ptr;
use core::task::{Context, Poll};

#[cfg(loom)]
use loom::sync::atomic::{AtomicPtr, AtomicUsize};
use std::cell::UnsafeCell;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicPtr, AtomicUsize};

use waker::AtomicWaker;

/// Slots per block.
#[cfg(not(loom))]
pub(crate) const CAP: usize = 31;
#[cfg(loom)]
pub(crate) const CAP: usize = 2;
/// Positions per lap: the slots, and the "installing the next block" position.
const LAP: usize = CAP + 1;

/// Tail index flags; the position is the rest, shifted.
const CLOSED: usize = 0b01;
const NO_BLOCK: usize = 0b10;
const SHIFT: usize = 2;

/// A slot's mark: its sender has written the value.
const WRITTEN: usize = 1;

#[inline]
const fn position(index: usize) -> usize {
    index >> SHIFT
}

#[inline]
const fn index(position: usize) -> usize {
    position << SHIFT
}

#[inline]
const fn offset(position: usize) -> usize {
    position % LAP
}

/// The extra position of the lap `position` is in: the index there makes senders wait.
#[inline]
const fn lap_end(position: usize) -> usize {
    position - offset(position) + CAP
}

/// How many slots the positions before `position` number: a lap's extra position is not a slot.
#[inline]
const fn slots_before(position: usize) -> usize {
    let within = offset(position);
    position / LAP * CAP + if within < CAP { within } else { CAP }
}

/// The first position of the lap after the one `position` is in.
#[inline]
const fn next_lap(position: usize) -> usize {
    position - offset(position) + LAP
}

struct Slot<T> {
    state: AtomicUsize,
    value: ValueCell<T>,
}

/// A slot's value: loom's cell under loom, so that the model checks every access to it too.
#[cfg(not(loom))]
type ValueCell<T> = UnsafeCell<MaybeUninit<T>>;
#[cfg(loom)]
type ValueCell<T> = loom::cell::UnsafeCell<MaybeUninit<T>>;

/// `repr(C)`: the link is the first word, which the recycler uses for its own list (see [`blocks`]).
#[repr(C)]
struct Block<T> {
    next: AtomicPtr<Block<T>>,
    slots: [Slot<T>; CAP],
}

impl<T> Block<T> {
    /// A block from the recycler, with every slot unwritten. A recycled block comes back clean (see
    /// [`free`](Block::free)): only its link is written. Under loom every block is fresh, and each
    /// atomic a model object built in place.
    fn new() -> *mut Block<T> {
        let (block, fresh) = blocks::alloc::<Block<T>>();
        // SAFETY: `block` is memory for a `Block<T>`, ours alone; each field is written in place,
        // without reading uninitialized memory (a value stays uninitialized until it is written). A
        // block that is not fresh has every mark 0 already: the recycler keeps all but the link.
        unsafe {
            ptr::addr_of_mut!((*block).next).write(AtomicPtr::new(ptr::null_mut()));
            if fresh {
                let slots = ptr::addr_of_mut!((*block).slots).cast::<Slot<T>>();
                for i in 0..CAP {
                    ptr::addr_of_mut!((*slots.add(i)).state).write(AtomicUsize::new(0));
                    ptr::addr_of_mut!((*slots.add(i)).value)
                        .write(ValueCell::new(MaybeUninit::uninit()));
                }
            }
        }
        block
    }

    /// # Safety
    ///
    /// `block` came from [`Block::new`], holds no value any more, every slot's mark is 0 again (the
    /// consumer clears a mark as it takes the value; a slot never claimed was never marked), and
    /// nothing uses it after this call.
    unsafe fn free(block: *mut Block<T>) {
        // SAFETY: the fields hold no resources of their own (loom's atomics do, and are dropped).
        unsafe {
            #[cfg(loom)]
            ptr::drop_in_place(block);
            blocks::free(block);
        }
    }
}

/// What [`Queue::pop`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pop<T> {
    Item(T),
    /// Nothing queued.
    Empty,
    /// A sender has claimed the next position but not written it yet: it will wake the consumer.
    Busy,
    /// Closed, and everything ever accepted has been taken: nothing can arrive any more.
    Closed,
}

/// Whether the blocks of a queue of `T` are recycled (a steady load allocates nothing): for a static
/// assertion on the mailbox's slot.
pub(crate) const fn recycles_blocks_of<T>() -> bool {
    blocks::recycled::<Block<T>>()
}

/// A multi-producer, single-consumer queue; see the [module docs](self).
pub(crate) struct Queue<T> {
    /// The senders' index: the next position to claim, and the flags.
    tail: AtomicUsize,
    /// The block the tail index is in (meaningless while the index says `NO_BLOCK`).
    tail_block: AtomicPtr<Block<T>>,
    /// The block a sender installed in the `NO_BLOCK` state, for the consumer, which has none.
    first: AtomicPtr<Block<T>>,
    /// The consumer's position and block: touched only by the consumer.
    head: UnsafeCell<Head<T>>,
    /// A copy of the consumer's position, stored after each move, for [`len`](Queue::len) on other
    /// threads.
    taken: AtomicUsize,
    waker: AtomicWaker,
}

struct Head<T> {
    position: usize,
    block: *mut Block<T>,
}

// SAFETY: values move from senders to the consumer (hence `T: Send`); the shared fields are atomics,
// each slot is written by the one sender that claimed it before its mark is set and read by the
// consumer only after it sees the mark, and `head` is the consumer's alone (the consumer methods are
// `unsafe`, with that contract).
unsafe impl<T: Send> Send for Queue<T> {}
// SAFETY: as for `Send`.
unsafe impl<T: Send> Sync for Queue<T> {}

impl<T> Queue<T> {
    /// An empty queue; allocates nothing.
    pub(crate) fn new() -> Self {
        Queue {
            // Lap 0 has no block: the first sender installs one for lap 1.
            tail: AtomicUsize::new(NO_BLOCK),
            tail_block: AtomicPtr::new(ptr::null_mut()),
            first: AtomicPtr::new(ptr::null_mut()),
            head: UnsafeCell::new(Head {
                position: LAP,
                block: ptr::null_mut(),
            }),
            taken: AtomicUsize::new(LAP),
            waker: AtomicWaker::new(),
        }
    }

    /// Queues `value` and wakes the consumer; gives it back if the queue is closed.
    pub(crate) fn push(&self, value: T) -> Result<(), T> {
        let mut tail = self.tail.load(Acquire);
        // A block allocated for an installation that another sender won, kept for the next attempt.
        let mut spare: *mut Block<T> = ptr::null_mut();
        let written = loop {
            if tail & CLOSED != 0 {
                break Err(value);
            }
            let at = position(tail);
            if tail & NO_BLOCK != 0 {
                if spare.is_null() {
                    spare = Block::new();
                }
                // Claim the installation: others wait while the index is at a lap's extra position.
                let installing = index(lap_end(at));
                match self
                    .tail
                    .compare_exchange(tail, installing, AcqRel, Acquire)
                {
                    Ok(_) => {
                        let block = core::mem::replace(&mut spare, ptr::null_mut());
                        self.tail_block.store(block, Release);
                        self.first.store(block, Release);
                        // This sender takes the first slot of the new block's lap.
                        let start = next_lap(at);
                        self.tail.store(index(start + 1), Release);
                        // SAFETY: slot 0 of the block we installed is ours: the index moved past it
                        // in our store, and the block lives until the consumer has taken that slot.
                        unsafe { write(block, 0, value) };
                        break Ok(());
                    }
                    Err(now) => {
                        tail = now;
                        continue;
                    }
                }
            }
            let at_offset = offset(at);
            if at_offset == CAP {
                // Another sender is installing the next block.
                snooze();
                tail = self.tail.load(Acquire);
                continue;
            }
            if at_offset + 1 == CAP && spare.is_null() {
                spare = Block::new();
            }
            let block = self.tail_block.load(Acquire);
            match self
                .tail
                .compare_exchange(tail, index(at + 1), AcqRel, Acquire)
            {
                Ok(_) => {
                    if at_offset + 1 == CAP {
                        // We took the last slot, which moved the index to the lap's extra position:
                        // link the next block, then open its lap.
                        let next = core::mem::replace(&mut spare, ptr::null_mut());
                        self.tail_block.store(next, Release);
                        // SAFETY: `block` is alive: its last slot is ours and still unwritten.
                        unsafe { (*block).next.store(next, Release) };
                        self.tail.store(index(at + 2), Release);
                    }
                    // SAFETY: the claim succeeded with the index we read before `block`, so `block` is
                    // the block of `at`'s lap, and slot `at_offset` is ours to write.
                    unsafe { write(block, at_offset, value) };
                    break Ok(());
                }
                Err(now) => tail = now,
            }
        };
        if !spare.is_null() {
            // SAFETY: a block we allocated and never published.
            unsafe { Block::free(spare) };
        }
        if written.is_ok() {
            self.waker.wake();
        }
        written
    }

    /// How many values are queued: claimed by a sender and not yet taken. From any thread; a snapshot,
    /// which senders and the consumer may change at once.
    pub(crate) fn len(&self) -> usize {
        // The consumer's position first: it only grows, so the count cannot come out negative but for
        // a detach in between (which empties the queue: the index says `NO_BLOCK`).
        let taken = self.taken.load(Relaxed);
        let tail = self.tail.load(Acquire);
        if tail & NO_BLOCK != 0 {
            return 0;
        }
        slots_before(position(tail)).saturating_sub(slots_before(taken))
    }

    /// Whether the queue refuses new values.
    pub(crate) fn is_closed(&self) -> bool {
        self.tail.load(Acquire) & CLOSED != 0
    }

    /// Wakes the consumer without a value (to look at something else it watches).
    pub(crate) fn wake(&self) {
        self.waker.wake();
    }

    /// Takes the next value.
    ///
    /// # Safety
    ///
    /// Only the consumer calls this (and the other consumer methods): one thread at a time.
    pub(crate) unsafe fn pop(&self) -> Pop<T> {
        // SAFETY: the consumer's own state, by the contract.
        let head = unsafe { &mut *self.head.get() };
        if head.block.is_null() {
            let first = self.first.load(Acquire);
            if first.is_null() {
                let tail = self.tail.load(Acquire);
                return match (tail & NO_BLOCK != 0, tail & CLOSED != 0) {
                    (true, true) => Pop::Closed,
                    (true, false) => Pop::Empty,
                    // A sender is installing the first block.
                    (false, _) => Pop::Busy,
                };
            }
            head.block = first;
        }
        let at = offset(head.position);
        // SAFETY: the consumer's block is alive until the consumer frees it.
        let slot = unsafe { &(*head.block).slots[at] };
        if slot.state.load(Acquire) & WRITTEN == 0 {
            let tail = self.tail.load(Acquire);
            return if position(tail) == head.position {
                if tail & CLOSED != 0 {
                    Pop::Closed
                } else {
                    Pop::Empty
                }
            } else {
                Pop::Busy
            };
        }
        // SAFETY: the mark was set after the value was written (release), and we saw it (acquire);
        // the value is taken once, as the position moves past it.
        let value = unsafe { read(slot) };
        // Clean for the recycler: a block comes back with every mark 0. Relaxed: whoever uses the
        // block next gets it through this thread or the recycler's lock.
        slot.state.store(0, Relaxed);
        if at + 1 == CAP {
            // The sender of the last slot linked the next block before it wrote the slot.
            // SAFETY: the block is still ours.
            let next = unsafe { (*head.block).next.load(Acquire) };
            debug_assert!(!next.is_null());
            let done = core::mem::replace(&mut head.block, next);
            head.position += 2;
            self.taken.store(head.position, Relaxed);
            // SAFETY: every slot of `done` has been taken, and its senders are done with it (each
            // wrote its slot, and the last one its link, before the marks we saw).
            unsafe { Block::free(done) };
        } else {
            head.position += 1;
            self.taken.store(head.position, Relaxed);
        }
        Pop::Item(value)
    }

    /// Polls for the next value: `Ready(None)` once the queue is closed and finished. Before it returns
    /// `Pending`, an empty queue [detaches](Queue::detach) its block: a sleeping consumer holds none.
    ///
    /// # Safety
    ///
    /// As [`pop`](Queue::pop).
    pub(crate) unsafe fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // SAFETY: the caller is the consumer.
        match unsafe { self.pop() } {
            Pop::Item(value) => return Poll::Ready(Some(value)),
            Pop::Closed => return Poll::Ready(None),
            Pop::Empty | Pop::Busy => {}
        }
        self.waker.register(cx.waker());
        // Look again after registering: a sender that wrote before our register is seen now, and one
        // that writes after it wakes us.
        // SAFETY: as above.
        match unsafe { self.pop() } {
            Pop::Item(value) => Poll::Ready(Some(value)),
            Pop::Closed => Poll::Ready(None),
            Pop::Busy => Poll::Pending,
            Pop::Empty => {
                // SAFETY: as above.
                unsafe { self.detach() };
                Poll::Pending
            }
        }
    }

    /// Gives the consumer's block back to the recycler if the queue is empty and open; the next value
    /// installs a block again. Returns whether it did. For a consumer about to sleep.
    ///
    /// # Safety
    ///
    /// As [`pop`](Queue::pop).
    pub(crate) unsafe fn detach(&self) -> bool {
        // SAFETY: the consumer's own state.
        let head = unsafe { &mut *self.head.get() };
        if head.block.is_null() {
            return false;
        }
        // Empty means the index is exactly our position: no flags, nothing claimed. Moving it to the
        // lap's extra position makes senders wait while we take the block away.
        let empty = index(head.position);
        let hold = index(lap_end(head.position));
        if self
            .tail
            .compare_exchange(empty, hold, AcqRel, Relaxed)
            .is_err()
        {
            return false;
        }
        let block = core::mem::replace(&mut head.block, ptr::null_mut());
        self.first.store(ptr::null_mut(), Relaxed);
        // The next lap has no block; the sender that installs one opens the lap after it.
        let start = next_lap(head.position);
        head.position = start + LAP;
        self.taken.store(head.position, Relaxed);
        self.tail.store(index(start) | NO_BLOCK, Release);
        // SAFETY: every claimed slot of `block` was taken (the index was our position), and no sender
        // can claim another: the claim compares the index, which has moved to a later lap.
        unsafe { Block::free(block) };
        true
    }

    /// Refuses every value from now on; those accepted before can still be taken.
    ///
    /// # Safety
    ///
    /// As [`pop`](Queue::pop).
    pub(crate) unsafe fn close(&self) {
        let mut tail = self.tail.load(Acquire);
        loop {
            if tail & CLOSED != 0 {
                return;
            }
            if tail & NO_BLOCK == 0 && offset(position(tail)) == CAP {
                // A block is being installed; its sender stores the index when done.
                snooze();
                tail = self.tail.load(Acquire);
                continue;
            }
            match self
                .tail
                .compare_exchange(tail, tail | CLOSED, AcqRel, Acquire)
            {
                Ok(_) => return,
                Err(now) => tail = now,
            }
        }
    }
}

impl<T> Drop for Queue<T> {
    fn drop(&mut self) {
        // No sender is left (`&mut self`), so nothing is in flight: take and drop what is queued.
        // SAFETY: we are the only user.
        while let Pop::Item(value) = unsafe { self.pop() } {
            drop(value);
        }
        let head = self.head.get_mut();
        if !head.block.is_null() {
            // SAFETY: every slot of the consumer's block was taken; nothing else uses it.
            unsafe { Block::free(head.block) };
        }
    }
}

impl<T> core::fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Queue")
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// Writes `value` into slot `at` of `block` and marks it written.
///
/// # Safety
///
/// The caller claimed that slot, and `block` is alive.
unsafe fn write<T>(block: *mut Block<T>, at: usize, value: T) {
    // SAFETY: by the caller's claim, nobody else touches this slot until the mark is set.
    unsafe {
        let slot = &(*block).slots[at];
        #[cfg(not(loom))]
        (*slot.value.get()).write(value);
        #[cfg(loom)]
        slot.value.with_mut(|cell| (*cell).write(value));
        slot.state.store(WRITTEN, Release);
    }
}

/// Moves the value out of a written slot.
///
/// # Safety
///
/// The slot is marked written (seen with acquire ordering) and its value was not taken before.
unsafe fn read<T>(slot: &Slot<T>) -> T {
    // SAFETY: by the caller's contract, the value is initialized and taken exactly once.
    #[cfg(not(loom))]
    unsafe {
        (*slot.value.get()).assume_init_read()
    }
    // SAFETY: as above.
    #[cfg(loom)]
    slot.value
        .with(|cell| unsafe { (*cell).assume_init_read() })
}

/// Waits a moment for another sender to finish installing a block.
#[inline]
fn snooze() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::thread::yield_now();
}

#[cfg(test)]
mod tests;
