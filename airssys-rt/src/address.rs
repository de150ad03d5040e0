//! [`ActorAddress`]: a small, copyable identity for an actor, with its routing key computed once.

use core::fmt;
use core::num::NonZeroU64;

/// The address of an actor: `Copy`, 16 bytes, comparable and printable.
///
/// It carries the actor's id and its routing key. The key is a fast non-cryptographic mix of the id,
/// computed once when the address is made, so routing never hashes in its hot path; it is never
/// [`MessageEnvelope::UNADDRESSED`](crate::envelope::MessageEnvelope::UNADDRESSED).
///
/// ```
/// use std::num::NonZeroU64;
/// use airssys_rt::ActorAddress;
///
/// let a = ActorAddress::from_id(NonZeroU64::new(42).unwrap());
/// assert_eq!(a.id(), 42);
/// assert_eq!(a.to_string(), "<actor 42>");
/// assert_eq!(a, ActorAddress::from_id(NonZeroU64::new(42).unwrap()));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActorAddress {
    id: NonZeroU64,
    routing_key: u64,
}

static_assertions::assert_eq_size!(ActorAddress, Option<ActorAddress>, [u8; 16]);

impl ActorAddress {
    /// The address of the actor with this id.
    ///
    /// The runtime hands out addresses when it spawns actors; this is for tests and for ids that come
    /// from outside the process.
    pub const fn from_id(id: NonZeroU64) -> Self {
        ActorAddress {
            id,
            routing_key: routing_key_of(id.get()),
        }
    }

    /// The actor's id, unique within its system.
    pub const fn id(&self) -> u64 {
        self.id.get()
    }

    /// The pre-computed routing key: never zero.
    pub const fn routing_key(&self) -> u64 {
        self.routing_key
    }
}

/// The SplitMix64 finalizer: a bijection on `u64` that spreads sequential ids across the key space
/// (so they spread across a sharded map). The one id that mixes to zero is remapped, so no key is zero.
const fn routing_key_of(id: u64) -> u64 {
    let mut z = id.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    if z == 0 { 0x9E37_79B9_7F4A_7C15 } else { z }
}

impl fmt::Debug for ActorAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActorAddress({})", self.id)
    }
}

impl fmt::Display for ActorAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<actor {}>", self.id)
    }
}
