//! [`MessagePool`]: reused storage for large messages.

use core::fmt;
use core::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::message::Message;

/// Reuses the heap storage of large messages, so that a steady load of them allocates (almost) nothing.
///
/// [`wrap`](MessagePool::wrap) puts a message into a box taken from the pool (or a new one if the pool
/// is empty) and returns a [`Pooled<M>`]: a 16-byte handle that is itself a message, so it travels
/// inline in the envelope. When the handle is dropped, or [`into_inner`](Pooled::into_inner) moves the
/// message out, the box goes back to the pool, unless the pool already holds `capacity` boxes. Safe to
/// share between threads; cheap to clone (clones share one pool).
///
/// ```
/// use airssys_rt::broker::MessagePool;
/// use airssys_rt::Message;
///
/// #[derive(Message)]
/// struct Frame([u8; 1024]);
///
/// let pool = MessagePool::<Frame>::new(64);
/// let frame = pool.wrap(Frame([7; 1024]));
/// assert_eq!(frame.0[0], 7);
/// drop(frame); // the box returns to the pool
/// let again = pool.wrap(Frame([8; 1024]));
/// assert_eq!(pool.stats().reused, 1);
/// # drop(again);
/// ```
pub struct MessagePool<M> {
    inner: Arc<PoolInner<M>>,
}

struct PoolInner<M> {
    free: Mutex<Vec<Box<Option<M>>>>,
    capacity: usize,
    allocated: AtomicU64,
    reused: AtomicU64,
}

/// How a [`MessagePool`] has served so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Boxes allocated because the pool was empty.
    pub allocated: u64,
    /// Boxes taken from the pool.
    pub reused: u64,
    /// Boxes in the pool now.
    pub idle: usize,
}

impl<M: Send + 'static> MessagePool<M> {
    /// A pool that keeps at most `capacity` idle boxes.
    pub fn new(capacity: usize) -> Self {
        MessagePool {
            inner: Arc::new(PoolInner {
                free: Mutex::new(Vec::with_capacity(capacity)),
                capacity,
                allocated: AtomicU64::new(0),
                reused: AtomicU64::new(0),
            }),
        }
    }

    /// Puts `message` into pooled storage.
    pub fn wrap(&self, message: M) -> Pooled<M> {
        let reused = self.inner.lock().pop();
        let slot = match reused {
            Some(mut slot) => {
                self.inner.reused.fetch_add(1, Ordering::Relaxed);
                *slot = Some(message);
                slot
            }
            None => {
                self.inner.allocated.fetch_add(1, Ordering::Relaxed);
                Box::new(Some(message))
            }
        };
        Pooled {
            slot: Some(slot),
            pool: self.inner.clone(),
        }
    }

    /// Allocates boxes until the pool holds `count` (or its capacity), so that the first messages do
    /// not allocate either.
    pub fn prefill(&self, count: usize) {
        let mut free = self.inner.lock();
        let target = count.min(self.inner.capacity);
        while free.len() < target {
            free.push(Box::new(None));
        }
    }

    /// What the pool has done so far.
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            allocated: self.inner.allocated.load(Ordering::Relaxed),
            reused: self.inner.reused.load(Ordering::Relaxed),
            idle: self.inner.lock().len(),
        }
    }
}

impl<M> PoolInner<M> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Box<Option<M>>>> {
        // Pushing and popping a `Vec` cannot be interrupted half-way by a panic.
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn give_back(&self, slot: Box<Option<M>>) {
        let mut free = self.lock();
        if free.len() < self.capacity {
            free.push(slot);
        }
    }
}

impl<M> Clone for MessagePool<M> {
    fn clone(&self) -> Self {
        MessagePool {
            inner: self.inner.clone(),
        }
    }
}

impl<M> fmt::Debug for MessagePool<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessagePool")
            .field("capacity", &self.inner.capacity)
            .finish_non_exhaustive()
    }
}

/// A message in pooled storage; dereferences to it. A message itself (with `M`'s name and reply), so
/// actors handle `Pooled<M>`. See [`MessagePool`].
pub struct Pooled<M> {
    /// `Some` until dropped; the inner `Option` is `Some` until the message is moved out.
    slot: Option<Box<Option<M>>>,
    pool: Arc<PoolInner<M>>,
}

static_assertions::assert_eq_size!(Pooled<[u8; 4096]>, [u8; 16]);

#[diagnostic::do_not_recommend]
impl<M: Message> Message for Pooled<M> {
    const MESSAGE_TYPE: &'static str = M::MESSAGE_TYPE;
    type Result = M::Result;
}

impl<M> Pooled<M> {
    /// Moves the message out; its storage returns to the pool.
    pub fn into_inner(mut self) -> M {
        self.slot
            .as_mut()
            .and_then(|slot| slot.take())
            .expect("a live `Pooled` holds its message")
    }
}

impl<M> Deref for Pooled<M> {
    type Target = M;

    fn deref(&self) -> &M {
        self.slot
            .as_ref()
            .and_then(|slot| (**slot).as_ref())
            .expect("a live `Pooled` holds its message")
    }
}

impl<M> DerefMut for Pooled<M> {
    fn deref_mut(&mut self) -> &mut M {
        self.slot
            .as_mut()
            .and_then(|slot| (**slot).as_mut())
            .expect("a live `Pooled` holds its message")
    }
}

impl<M> Drop for Pooled<M> {
    fn drop(&mut self) {
        if let Some(mut slot) = self.slot.take() {
            // Drop the message before taking the pool's lock: its destructor may be slow, or panic.
            *slot = None;
            self.pool.give_back(slot);
        }
    }
}

impl<M: fmt::Debug> fmt::Debug for Pooled<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pooled").field(&**self).finish()
    }
}
