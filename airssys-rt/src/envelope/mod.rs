//! Envelopes: how a message travels from a sender to an actor's mailbox.
//!
//! There are two kinds, and the boundary between them is the mailbox:
//!
//! - [`MessageEnvelope<M>`] is statically typed. It owns the message and carries the sender's address,
//!   the time it was made and the pre-computed routing key of its target. Senders and the broker move it
//!   by value: no copy, no clone, no serialization.
//! - [`ErasedEnvelope`] is what a mailbox stores, so that one queue can hold every message type an actor
//!   handles. It is 48 bytes and holds the message itself when the message is
//!   [stored inline](crate::Storage::Inline), or a pointer to it when it is
//!   [boxed](crate::Storage::Boxed), plus a pointer to a per-type table (type identity, name, drop).
//!
//! ```
//! use airssys_rt::envelope::{ErasedEnvelope, MessageEnvelope};
//! use airssys_rt::Message;
//!
//! #[derive(Message, Debug, PartialEq)]
//! struct Ping(u32);
//!
//! #[derive(Message)]
//! struct Other;
//!
//! let erased: ErasedEnvelope = MessageEnvelope::new(Ping(7)).erase();
//! assert!(erased.is_inline()); // 4 bytes: no heap allocation
//!
//! // A wrong type gives the envelope back, unchanged.
//! let erased = erased.downcast::<Other>().err().unwrap();
//! assert_eq!(erased.downcast::<Ping>().ok(), Some(Ping(7)));
//! ```
//!
//! # Guarantees
//!
//! - An inline message is erased and downcast with no heap allocation.
//! - The payload is dropped exactly once: by whoever downcasts it, or by the envelope when it is dropped
//!   undelivered (also after a failed downcast handed it back).
//! - A downcast checks the type; a wrong type is an `Err` holding the envelope, never undefined
//!   behaviour.
//! - [`ErasedEnvelope::downcast_with`] hands the message to a closure instead of returning it: a boxed
//!   message then moves from its box straight into the closure's argument (one copy, not two), which
//!   matters for large messages on a hot path.
//! - An `ErasedEnvelope` is `Send` (every message is) but not `Sync`: a shared reference to it gives
//!   access to the message, which need not be `Sync`.

mod erased;
mod typed;

pub use erased::ErasedEnvelope;
pub use typed::MessageEnvelope;

/// The largest message, in bytes, that an envelope stores inline (without a heap allocation).
///
/// With the 8-byte pointer to the type's table, an [`ErasedEnvelope`] is 48 bytes: that leaves 16
/// bytes of a 64-byte cache line for a mailbox's per-message bookkeeping.
pub const INLINE_CAPACITY: usize = 40;

/// The largest alignment, in bytes, of a message that an envelope stores inline.
///
/// A 16-byte alignment would round the buffer up to 48 bytes and the envelope to 64; over-aligned
/// messages (`u128`, `#[repr(align(16))]`) are rare, so they are boxed instead.
pub const INLINE_ALIGN: usize = 8;

static_assertions::const_assert_eq!(size_of::<ErasedEnvelope>(), 48);
static_assertions::const_assert_eq!(align_of::<ErasedEnvelope>(), INLINE_ALIGN);
