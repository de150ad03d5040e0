//! The [`Message`] contract: what can be sent to an actor, what it answers, and how it is stored.
//!
//! A message is a plain Rust type. `#[derive(Message)]` implements the trait:
//!
//! ```
//! use airssys_rt::{Message, Storage};
//!
//! /// Adds to a counter; `ask` answers with the new total.
//! #[derive(Message)]
//! #[message(result = u64)]
//! struct Add(u64);
//!
//! /// A large message: forced into a box so that the envelope stays one cache line.
//! #[derive(Message)]
//! #[message(name = "billing.Charge", boxed)]
//! struct Charge {
//!     invoice: [u8; 512],
//! }
//!
//! assert_eq!(Charge::MESSAGE_TYPE, "billing.Charge");
//! assert!(Add::MESSAGE_TYPE.ends_with("::Add"));
//! assert_eq!(Add::STORAGE, Storage::Inline);
//! assert_eq!(Charge::STORAGE, Storage::Boxed);
//! ```
//!
//! # Storage: inline or boxed, decided at compile time
//!
//! Every message travels to its actor in an [`ErasedEnvelope`](crate::envelope::ErasedEnvelope):
//! a 48-byte value. A message of at most [`INLINE_CAPACITY`] bytes whose alignment
//! is at most [`INLINE_ALIGN`] is stored *inside* the envelope: sending it allocates nothing.
//! A larger one is moved into a `Box`, and the envelope holds the pointer.
//!
//! The decision is the associated constant [`Message::STORAGE`], computed by rustc from the type's
//! size and alignment. The code that stores and loads a message is generic over `M: Message`, so each
//! message type gets its own copy in which the decision is a constant: there is no runtime branch on
//! the size, no enum of storage kinds to match, and no size or type check on the typed path.
//!
//! `#[message(inline)]` demands inline storage and is a compile error, naming the type and both sizes,
//! when the type does not fit; `#[message(boxed)]` forces boxing, for a type whose storage should not
//! change silently when it grows past the limit.
//!
//! # Names
//!
//! [`Message::MESSAGE_TYPE`] is a stable, human-readable name used in errors, dead letters, statistics
//! and name-based routing. By default it is the module path and the type name
//! (`my_app::billing::Charge`); `#[message(name = "...")]` overrides it. The name is per type
//! *definition*: the instances of a generic message (`Wrapper<u8>`, `Wrapper<String>`) share it,
//! because Rust cannot name a type at compile time. Identity (downcasts, routing checks) is always
//! decided by [`TypeId`](core::any::TypeId), never by the name.

use crate::envelope::{INLINE_ALIGN, INLINE_CAPACITY};

/// A value that can be sent to an actor.
///
/// Implement it with `#[derive(Message)]`; see the [module documentation](self) for the attributes.
/// A message must be `Send + 'static`: it is moved to the actor's task, which may run on another
/// thread, and it owns its data.
///
/// Implementing it by hand is allowed. The runtime re-checks [`Message::STORAGE`] at compile time, so a
/// hand-written `STORAGE = Storage::Inline` on a type that does not fit is a compile error, not
/// memory corruption.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a message",
    label = "`{Self}` does not implement `Message`",
    note = "add `#[derive(Message)]` to the definition of `{Self}`"
)]
pub trait Message: Send + Sized + 'static {
    /// A stable, human-readable name of the type, unique per type definition.
    const MESSAGE_TYPE: &'static str;

    /// The reply to this message: what `ask` returns. `()` when the message has no answer.
    type Result: Send + 'static;

    /// Where the envelope keeps this message: inline in its own buffer, or in a box.
    ///
    /// The default, [`Storage::of::<Self>()`](Storage::of), chooses inline whenever the type fits.
    const STORAGE: Storage = Storage::of::<Self>();

    /// Whether this message overtakes queued ones: [`Priority::High`] goes into the actor's priority
    /// lane. `#[message(priority = "high")]` sets it; the default is [`Priority::Normal`].
    const PRIORITY: Priority = Priority::Normal;
}

/// Which lane of an actor's mailbox a message takes; see [`Message::PRIORITY`] and
/// [`ActorRef::tell_priority`](crate::ActorRef::tell_priority).
///
/// The actor handles every queued high-priority message before the next normal one. Signals
/// ([`stop`](crate::ActorRef::stop), [`kill`](crate::ActorRef::kill)) overtake both. Within a lane, the
/// messages of one sender keep their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Priority {
    /// The mailbox's ordinary queue, bounded if the mailbox is.
    #[default]
    Normal,
    /// The priority lane: handled before normal messages. It is not bounded by the mailbox's
    /// capacity (it is meant for a few control messages, not a data stream).
    High,
}

/// Where an envelope stores a message; see [`Message::STORAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Storage {
    /// In the envelope's own buffer: no heap allocation.
    Inline,
    /// In a `Box`: one heap allocation, and the envelope holds the pointer.
    Boxed,
}

impl Storage {
    /// The storage a type gets by default: [`Storage::Inline`] if it [fits](Storage::fits_inline),
    /// otherwise [`Storage::Boxed`].
    ///
    /// ```
    /// use airssys_rt::Storage;
    ///
    /// assert_eq!(Storage::of::<u64>(), Storage::Inline);
    /// assert_eq!(Storage::of::<[u8; 256]>(), Storage::Boxed);
    /// ```
    pub const fn of<T>() -> Storage {
        if Self::fits_inline::<T>() {
            Storage::Inline
        } else {
            Storage::Boxed
        }
    }

    /// Whether `T` fits the envelope's inline buffer: at most [`INLINE_CAPACITY`] bytes and an
    /// alignment of at most [`INLINE_ALIGN`].
    pub const fn fits_inline<T>() -> bool {
        size_of::<T>() <= INLINE_CAPACITY && align_of::<T>() <= INLINE_ALIGN
    }

    /// The storage `M` is actually stored with: `M::STORAGE`, checked at compile time.
    ///
    /// Evaluated in a `const` context by every store and load, so a `STORAGE = Storage::Inline`
    /// that does not fit stops the build instead of overflowing the buffer.
    pub(crate) const fn checked<M: Message>() -> Storage {
        if let Storage::Inline = M::STORAGE
            && let Some(error) = crate::__private::inline_violation::<M>(
                "`const STORAGE: Storage = Storage::Inline`",
                M::MESSAGE_TYPE,
                "Use `Storage::Boxed`, or `Storage::of::<Self>()` to let the size decide",
            )
        {
            panic!("{}", error.as_str());
        }
        M::STORAGE
    }
}
