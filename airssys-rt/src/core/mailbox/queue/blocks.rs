//! Where the queue's blocks come from and go: a free list per thread, and a shared depot that the lists
//! trade whole batches with, so that a steady load allocates nothing.
//!
//! Every block of a mailbox is one 2 KiB chunk (a link and 31 slots of 64 bytes; 2.25 KiB with the
//! `tracing` feature, whose slots are 72 bytes). A consumer frees the
//! blocks it has emptied into its thread's list; a sender takes one from its own thread's list. When sender and
//! actor run on different threads, one list only fills and the other only drains: a list that grows past
//! [`LOCAL_MAX`] hands [`BATCH`] chunks to the depot, and an empty list takes a batch back, one lock per
//! [`BATCH`] blocks. The depot keeps at most [`DEPOT_MAX`] batches (256 KiB); beyond that, and on a
//! thread that is exiting, chunks go back to the allocator. An idle actor holds none of them.
//!
//! A recycled chunk comes out **as it went in, but for its first word** (the list's link): the queue
//! gives a block back only once every slot's mark is cleared again, so a recycled block needs no
//! initialization but its link; [`alloc`] says whether the memory is fresh instead. Types whose block
//! does not fit a chunk are allocated one by one, and so is every block under loom.

use core::alloc::Layout;
use core::ptr;

/// The size of a recycled chunk: one block of mailbox slots, 31 of 64 bytes and a link (`tracing`
/// adds a pointer to each slot, `metrics` an `Instant`). `mailbox.rs` asserts that a block fits.
const CHUNK_SIZE: usize = 2048
    + if cfg!(feature = "tracing") { 256 } else { 0 }
    + if cfg!(feature = "metrics") { 512 } else { 0 };

/// The size and alignment of a recycled chunk.
const CHUNK: Layout = match Layout::from_size_align(CHUNK_SIZE, 8) {
    Ok(layout) => layout,
    Err(_) => panic!("a chunk's size and alignment make a layout"),
};

/// Whether a `T` is carved from a recycled chunk.
pub(super) const fn recycled<T>() -> bool {
    !cfg!(loom) && size_of::<T>() <= CHUNK.size() && align_of::<T>() <= CHUNK.align()
}

/// Memory for one `T`, and whether it is fresh (uninitialized). Memory that is not fresh holds what
/// was given back with it to [`free`], but for its first word, which is undefined.
pub(super) fn alloc<T>() -> (*mut T, bool) {
    if recycled::<T>() {
        if let Some(chunk) = local::take() {
            return (chunk.cast(), false);
        }
        return (fresh(CHUNK).cast(), true);
    }
    (fresh(Layout::new::<T>()).cast(), true)
}

/// Gives back memory from [`alloc`], whose `T` has been moved out or dropped.
///
/// # Safety
///
/// `block` came from `alloc::<T>()` and is not used after this call.
pub(super) unsafe fn free<T>(block: *mut T) {
    if recycled::<T>() {
        // SAFETY: `block` is a chunk from `alloc`, given up by the caller.
        unsafe { local::give(block.cast()) };
    } else {
        // SAFETY: `block` was allocated with this layout by `fresh`.
        unsafe { std::alloc::dealloc(block.cast(), Layout::new::<T>()) };
    }
}

fn fresh(layout: Layout) -> *mut u8 {
    // SAFETY: both layouts have a non-zero size (a block holds at least a link).
    let memory = unsafe { std::alloc::alloc(layout) };
    if memory.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    memory
}

/// A free chunk: its first word links it to the next one.
struct Free {
    next: *mut Free,
}

/// A list of free chunks, `len` long.
struct Batch {
    head: *mut Free,
    len: usize,
}

// SAFETY: a batch owns its chunks (plain memory, no values): whoever holds it may use them on any thread.
unsafe impl Send for Batch {}

impl Batch {
    const EMPTY: Batch = Batch {
        head: ptr::null_mut(),
        len: 0,
    };

    /// # Safety
    ///
    /// `chunk` is a free chunk of [`CHUNK`]'s layout that nothing else uses.
    unsafe fn push(&mut self, chunk: *mut Free) {
        // SAFETY: the chunk is ours and large and aligned enough for a `Free`.
        unsafe { chunk.write(Free { next: self.head }) };
        self.head = chunk;
        self.len += 1;
    }

    fn pop(&mut self) -> Option<*mut Free> {
        if self.head.is_null() {
            return None;
        }
        let chunk = self.head;
        // SAFETY: a non-null head is a chunk this batch owns, written by `push`.
        self.head = unsafe { (*chunk).next };
        self.len -= 1;
        Some(chunk)
    }

    /// Splits off the first `n` chunks (`n <= len`).
    fn split_off(&mut self, n: usize) -> Batch {
        let mut taken = Batch::EMPTY;
        for _ in 0..n {
            let Some(chunk) = self.pop() else { break };
            // SAFETY: `chunk` just left this batch: it is ours alone.
            unsafe { taken.push(chunk) };
        }
        taken
    }

    fn free_all(&mut self) {
        while let Some(chunk) = self.pop() {
            // SAFETY: every chunk was allocated by `fresh(CHUNK)` and is free.
            unsafe { std::alloc::dealloc(chunk.cast(), CHUNK) };
        }
    }
}

/// Chunks a thread keeps before it hands a batch to the depot.
const LOCAL_MAX: usize = 8;
/// Chunks per trade with the depot.
const BATCH: usize = 4;
/// Batches the depot keeps.
const DEPOT_MAX: usize = 32;

static DEPOT: std::sync::Mutex<Vec<Batch>> = std::sync::Mutex::new(Vec::new());

fn depot() -> std::sync::MutexGuard<'static, Vec<Batch>> {
    // The depot's data is consistent between any two statements: a panic cannot poison it mid-update.
    DEPOT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

mod local {
    use core::cell::RefCell;

    use super::{BATCH, Batch, DEPOT_MAX, Free, LOCAL_MAX, depot};

    /// The thread's free chunks, given back to the allocator when the thread exits.
    struct Local(Batch);

    impl Drop for Local {
        fn drop(&mut self) {
            self.0.free_all();
        }
    }

    thread_local! {
        static LOCAL: RefCell<Local> = const { RefCell::new(Local(Batch::EMPTY)) };
    }

    pub(super) fn take() -> Option<*mut u8> {
        LOCAL
            .try_with(|local| {
                let mut local = local.borrow_mut();
                if local.0.len == 0
                    && let Some(batch) = depot().pop()
                {
                    local.0 = batch;
                }
                local.0.pop()
            })
            .ok()
            .flatten()
            .map(|chunk| chunk.cast())
    }

    /// # Safety
    ///
    /// `chunk` is a chunk of `CHUNK`'s layout that nothing uses any more.
    pub(super) unsafe fn give(chunk: *mut u8) {
        let chunk: *mut Free = chunk.cast();
        let kept = LOCAL.try_with(|local| {
            let mut local = local.borrow_mut();
            // SAFETY: the caller gives the chunk up.
            unsafe { local.0.push(chunk) };
            if local.0.len > LOCAL_MAX {
                let mut batch = local.0.split_off(BATCH);
                drop(local);
                let mut depot = depot();
                if depot.len() < DEPOT_MAX {
                    depot.push(batch);
                } else {
                    drop(depot);
                    batch.free_all();
                }
            }
        });
        if kept.is_err() {
            // The thread is exiting and its list is gone.
            let mut alone = Batch::EMPTY;
            // SAFETY: the caller gives the chunk up.
            unsafe { alone.push(chunk) };
            alone.free_all();
        }
    }
}
