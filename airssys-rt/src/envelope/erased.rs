//! The type-erased envelope. All of the crate's `unsafe` code for message storage lives here.
//!
//! Invariant of [`ErasedEnvelope`]: `payload` holds one initialized value of the message type that
//! `vtable` describes, stored as `vtable.storage` says (inline: the value itself at offset 0;
//! boxed: a `*mut M` from `Box::into_raw` at offset 0). It is consumed exactly once: by a downcast,
//! which forgets the envelope, or by `Drop`.

use core::any::TypeId;
use core::cell::Cell;
use core::fmt;
use core::marker::PhantomData;
use core::mem::{ManuallyDrop, MaybeUninit};
use core::ptr;

use crate::envelope::INLINE_CAPACITY;
use crate::message::{Message, Storage};

/// The envelope's buffer: an inline message, or the pointer to a boxed one.
#[repr(C, align(8))]
struct Payload(MaybeUninit<[u8; INLINE_CAPACITY]>);

// `align(8)` above must be `INLINE_ALIGN`; the attribute cannot name a constant.
static_assertions::const_assert_eq!(align_of::<Payload>(), crate::envelope::INLINE_ALIGN);
// A boxed message keeps its pointer in the buffer.
static_assertions::const_assert!(Storage::fits_inline::<*mut u8>());

/// What the envelope knows about its message type: one static table per type.
struct MessageVTable {
    type_id: TypeId,
    message_type: &'static str,
    storage: Storage,
    /// Drops the payload in place. Unsafe: the buffer must hold this table's type, stored as
    /// `storage` says, and must not be used again.
    drop_payload: unsafe fn(*mut u8),
}

struct VTableOf<M>(PhantomData<M>);

impl<M: Message> VTableOf<M> {
    /// `M::STORAGE`, checked once: every store, load and drop of an `M` reads this constant, so a
    /// `STORAGE = Storage::Inline` that does not fit fails the build with a single error.
    const STORAGE: Storage = Storage::checked::<M>();

    const VTABLE: &'static MessageVTable = &MessageVTable {
        type_id: TypeId::of::<M>(),
        message_type: M::MESSAGE_TYPE,
        storage: Self::STORAGE,
        drop_payload: drop_payload::<M>,
    };
}

/// A message whose type has been erased, as a mailbox stores it.
///
/// Made with [`ErasedEnvelope::new`] or [`MessageEnvelope::erase`](super::MessageEnvelope::erase);
/// turned back into its message with [`downcast`](ErasedEnvelope::downcast). See the
/// [module documentation](super) for the guarantees.
pub struct ErasedEnvelope {
    payload: Payload,
    vtable: &'static MessageVTable,
    /// `Send` but not `Sync`: `&ErasedEnvelope` reaches `&M`, and `M` need not be `Sync`.
    _not_sync: PhantomData<Cell<()>>,
}

impl ErasedEnvelope {
    /// Erases `message`: moves it into the envelope's buffer if it is stored
    /// [inline](Storage::Inline) (no allocation), or into a box otherwise.
    ///
    /// Which of the two happens is decided at compile time by `M::STORAGE`.
    #[inline]
    pub fn new<M: Message>(message: M) -> Self {
        let mut payload = Payload(MaybeUninit::uninit());
        let slot = payload.0.as_mut_ptr().cast::<u8>();
        match VTableOf::<M>::STORAGE {
            // SAFETY: `Storage::checked` proved at compile time that `M` fits the buffer in size and
            // alignment (the buffer is `INLINE_ALIGN`-aligned, at offset 0 of `Payload`), and the
            // buffer is fresh, so nothing is overwritten.
            Storage::Inline => unsafe { slot.cast::<M>().write(message) },
            // SAFETY: a pointer fits the buffer (asserted above), which is fresh.
            Storage::Boxed => unsafe {
                slot.cast::<*mut M>()
                    .write(Box::into_raw(Box::new(message)))
            },
        }
        ErasedEnvelope {
            payload,
            vtable: VTableOf::<M>::VTABLE,
            _not_sync: PhantomData,
        }
    }

    /// Whether the envelope holds a message of type `M`.
    #[inline]
    pub fn is<M: Message>(&self) -> bool {
        // Equal tables are the same type (the table holds the `TypeId`); unequal ones may still be
        // copies of one type's table made in different codegen units, so compare the ids too.
        ptr::eq(self.vtable, VTableOf::<M>::VTABLE) || self.vtable.type_id == TypeId::of::<M>()
    }

    /// Takes the message out, if it is an `M`; otherwise gives the envelope back unchanged.
    ///
    /// # Errors
    ///
    /// Returns `Err(self)` when the message is not an `M`; its payload is untouched and still owned by
    /// the returned envelope.
    #[inline]
    pub fn downcast<M: Message>(self) -> Result<M, Self> {
        self.downcast_with(core::convert::identity)
    }

    /// Hands the message to `f`, if it is an `M`; otherwise gives the envelope back unchanged.
    ///
    /// The same as `self.downcast().map(f)`, but a [boxed](Storage::Boxed) message moves from its box
    /// straight into `f`'s argument, and the box is freed after `f` returns: one copy of the message
    /// instead of two. Prefer it for large messages on a hot path.
    ///
    /// # Errors
    ///
    /// Returns `Err(self)` when the message is not an `M`, without calling `f`.
    #[inline]
    pub fn downcast_with<M: Message, R>(self, f: impl FnOnce(M) -> R) -> Result<R, Self> {
        if !self.is::<M>() {
            return Err(self);
        }
        let this = ManuallyDrop::new(self);
        let slot = this.payload.0.as_ptr().cast::<u8>();
        // SAFETY: `is::<M>()` proved the payload is an `M`, stored as `M::STORAGE` says (the invariant).
        // `this` is never dropped, so the payload is read out exactly once. A boxed one is moved out of
        // its box into `f`'s argument; the box is freed (without dropping the moved-out value) when the
        // temporary `Box` goes out of scope at the end of the statement.
        unsafe {
            match VTableOf::<M>::STORAGE {
                Storage::Inline => Ok(f(slot.cast::<M>().read())),
                Storage::Boxed => Ok(f(*Box::from_raw(slot.cast::<*mut M>().read()))),
            }
        }
    }

    /// A reference to the message, if it is an `M`.
    pub fn downcast_ref<M: Message>(&self) -> Option<&M> {
        if !self.is::<M>() {
            return None;
        }
        let slot = self.payload.0.as_ptr().cast::<u8>();
        // SAFETY: the payload is an initialized `M` (checked above, and the invariant), inline in the
        // buffer or behind the box pointer; the reference borrows `self`, which owns it.
        Some(unsafe {
            match VTableOf::<M>::STORAGE {
                Storage::Inline => &*slot.cast::<M>(),
                Storage::Boxed => &*slot.cast::<*const M>().read(),
            }
        })
    }

    /// The [`MESSAGE_TYPE`](Message::MESSAGE_TYPE) of the message inside.
    pub fn message_type(&self) -> &'static str {
        self.vtable.message_type
    }

    /// The [`TypeId`] of the message inside.
    pub fn message_type_id(&self) -> TypeId {
        self.vtable.type_id
    }

    /// How the message inside is stored.
    pub fn storage(&self) -> Storage {
        self.vtable.storage
    }

    /// Whether the message lives in the envelope itself (no heap allocation).
    pub fn is_inline(&self) -> bool {
        self.vtable.storage == Storage::Inline
    }
}

impl Drop for ErasedEnvelope {
    fn drop(&mut self) {
        let slot = self.payload.0.as_mut_ptr().cast::<u8>();
        // SAFETY: a live envelope still owns its payload (downcasts forget the envelope), which matches
        // the table by the invariant; it is not used after this.
        unsafe { (self.vtable.drop_payload)(slot) }
    }
}

impl fmt::Debug for ErasedEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErasedEnvelope")
            .field("message_type", &self.vtable.message_type)
            .field("storage", &self.vtable.storage)
            .finish_non_exhaustive()
    }
}

/// # Safety
///
/// `slot` must point to an envelope buffer that holds an initialized `M` stored as `M::STORAGE` says,
/// and that is not used again.
unsafe fn drop_payload<M: Message>(slot: *mut u8) {
    match VTableOf::<M>::STORAGE {
        // SAFETY: the caller guarantees an initialized `M` inline at `slot`, used by no one after.
        Storage::Inline => unsafe { ptr::drop_in_place(slot.cast::<M>()) },
        // SAFETY: the caller guarantees the buffer holds the pointer of a `Box<M>`, owned here.
        Storage::Boxed => drop(unsafe { Box::from_raw(slot.cast::<*mut M>().read()) }),
    }
}
