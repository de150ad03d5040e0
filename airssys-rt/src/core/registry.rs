//! The registry of live actors: the routing table (routing key to the actor's cell and its table of
//! handled message types), and the table of named topics.

use core::fmt;
use core::hash::{BuildHasherDefault, Hasher};
use std::any::{Any, TypeId};
use std::sync::Arc;

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use crate::actor::identity::ActorType;
use crate::core::mailbox::MailboxHandle;

/// One live actor's routing data: 16 bytes (asserted).
#[derive(Debug, Clone)]
pub(crate) struct Route {
    /// The mailbox and the actor's shared cell. Not a counted reference: a route does not keep its
    /// actor alive.
    pub(crate) handle: Arc<MailboxHandle>,
    /// The actor's type: its identity, for typed lookups, and what `#[actor]` generated, the handled
    /// message types in handler-index order.
    pub(crate) actor: &'static ActorType,
}

static_assertions::assert_eq_size!(Route, [u8; 16]);

impl Route {
    /// The names of the message types the actor handles, for errors that list them.
    pub(crate) fn handled_names(&self) -> Vec<&'static str> {
        self.actor
            .handled
            .iter()
            .map(|handled| handled.message_type)
            .collect()
    }

    /// The index of the actor's handler for `M`, if it has one.
    ///
    /// A scan of the actor's handled types: their number is fixed at compile time for each actor type
    /// (a handful), so the check costs a few compares of 16-byte `TypeId`s, whatever the number of
    /// actors or message types in the system.
    #[inline]
    pub(crate) fn handler_index<M: 'static>(&self) -> Option<u32> {
        let wanted = TypeId::of::<M>();
        self.actor
            .handled
            .iter()
            .position(|handled| handled.type_id == wanted)
            .map(|index| index as u32)
    }
}

/// A hasher for keys that are already well mixed: routing keys, which [`ActorAddress`]
/// (crate::ActorAddress) computes once with SplitMix64. Hashing them again would only cost time.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed with this hasher; fold anything else rather than panic.
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(FX_SEED);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The routing table: lock-free reads from routing key to [`Route`].
pub(crate) type RoutingTable = DashMap<u64, Route, BuildHasherDefault<KeyHasher>>;

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// The Fx hash (rustc's): a multiply and a rotate per 8 bytes. Fast for the short strings that names
/// are; not resistant to chosen collisions, which names registered by the program itself do not need.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    #[inline]
    fn write_u64(&mut self, word: u64) {
        self.add(word);
    }

    #[inline]
    fn write_usize(&mut self, word: usize) {
        self.add(word as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;

/// A named topic, its message type erased.
pub(crate) struct NamedTopic {
    pub(crate) type_id: TypeId,
    pub(crate) message_type: &'static str,
    /// A `Topic<M>` of the message type `type_id`.
    pub(crate) topic: Arc<dyn Any + Send + Sync>,
}

/// The named topics of one system; typed by [`Topic`](crate::broker::Topic), in `broker/topic.rs`.
#[derive(Default)]
pub(crate) struct Topics(DashMap<Arc<str>, NamedTopic, FxBuild>);

impl fmt::Debug for Topics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Topics")
            .field("topics", &self.0.len())
            .finish()
    }
}

impl Topics {
    /// The topic named `name`, inserted by `create` if there is none.
    pub(crate) fn get_or_insert_with(
        &self,
        name: Arc<str>,
        create: impl FnOnce() -> NamedTopic,
    ) -> dashmap::mapref::one::Ref<'_, Arc<str>, NamedTopic> {
        match self.0.entry(name) {
            Entry::Occupied(entry) => entry.into_ref().downgrade(),
            Entry::Vacant(entry) => entry.insert(create()).downgrade(),
        }
    }
}
