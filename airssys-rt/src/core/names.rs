//! The name table: actor names to addresses, and a per-thread cache for resolving them. The API on
//! it is the [`AddressResolver`](crate::broker::AddressResolver).

use core::fmt;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use smallvec::SmallVec;

use crate::address::ActorAddress;
use crate::core::cell::Strong;
use crate::core::registry::{FxBuild, KeyHasher};
use crate::core::stats::Stats;

/// Why a name could not be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegisterError {
    /// Another actor holds the name.
    Taken {
        /// The name.
        name: Arc<str>,
        /// The actor that holds it.
        holder: ActorAddress,
    },
    /// No live actor has this address.
    NoSuchActor(ActorAddress),
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterError::Taken { name, holder } => write!(
                f,
                "the name `{name}` is held by {holder}; unregister it first, or pick another"
            ),
            RegisterError::NoSuchActor(address) => {
                write!(f, "no live actor has the address {address}")
            }
        }
    }
}

impl std::error::Error for RegisterError {}

/// Why a typed lookup by name ([`AddressResolver::lookup`](crate::broker::AddressResolver::lookup),
/// [`AddressResolver::lookup_recipient`](crate::broker::AddressResolver::lookup_recipient),
/// [`Context::monitor_name`](crate::Context::monitor_name)) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LookupError {
    /// No live actor is registered under the name.
    NoSuchName(Arc<str>),
    /// The actor registered under the name is of another type.
    WrongType {
        /// The name.
        name: Arc<str>,
        /// Its actor's type.
        actual: &'static str,
        /// The type asked for.
        expected: &'static str,
    },
    /// The actor registered under the name does not handle the message type.
    Unhandled {
        /// The name.
        name: Arc<str>,
        /// The message type asked for.
        message_type: &'static str,
        /// What the actor does handle.
        handles: Vec<&'static str>,
    },
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::NoSuchName(name) => write!(f, "no live actor is registered as `{name}`"),
            LookupError::WrongType {
                name,
                actual,
                expected,
            } => write!(f, "`{name}` is a `{actual}`, not a `{expected}`"),
            LookupError::Unhandled {
                name,
                message_type,
                handles,
            } => write!(
                f,
                "`{name}` does not handle `{message_type}`; it handles {}",
                handles.join(", ")
            ),
        }
    }
}

impl std::error::Error for LookupError {}

struct NameEntry {
    address: ActorAddress,
    /// A registered name keeps its actor alive, as a reference would: it can be sent to.
    _holder: Strong,
}

/// The name table of one system.
pub(crate) struct Names {
    /// Tells this table's entries apart in the per-thread caches.
    id: u64,
    table: DashMap<Arc<str>, NameEntry, FxBuild>,
    /// The names each named actor holds (by routing key), so that its stop frees them.
    by_actor: DashMap<u64, SmallVec<[Arc<str>; 1]>, core::hash::BuildHasherDefault<KeyHasher>>,
    /// Bumped after every removal or replacement of a name: a cached entry from an older generation is
    /// not trusted.
    generation: AtomicU64,
}

impl Default for Names {
    fn default() -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Names {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            table: DashMap::default(),
            by_actor: DashMap::default(),
            generation: AtomicU64::new(0),
        }
    }
}

impl fmt::Debug for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Names")
            .field("names", &self.table.len())
            .finish_non_exhaustive()
    }
}

/// Entries per table per thread before that thread's cache of the table is cleared.
const CACHE_CAPACITY: usize = 1024;
/// Tables a thread caches names of before it forgets the oldest.
const CACHED_TABLES: usize = 8;

/// One thread's cached names of one table: the address, and the generation it was read in.
type CachedNames = HashMap<Box<str>, (ActorAddress, u64), FxBuild>;

#[derive(Default)]
struct NameCache {
    tables: Vec<(u64, CachedNames)>,
}

impl NameCache {
    fn get(&self, table: u64, name: &str, generation: u64) -> Option<ActorAddress> {
        let (_, names) = self.tables.iter().find(|(id, _)| *id == table)?;
        match names.get(name) {
            Some(&(address, cached_in)) if cached_in == generation => Some(address),
            _ => None,
        }
    }

    fn put(&mut self, table: u64, name: &str, address: ActorAddress, generation: u64) {
        let position = match self.tables.iter().position(|(id, _)| *id == table) {
            Some(position) => position,
            None => {
                if self.tables.len() == CACHED_TABLES {
                    self.tables.remove(0);
                }
                self.tables.push((table, HashMap::default()));
                self.tables.len() - 1
            }
        };
        let names = &mut self.tables[position].1;
        if names.len() >= CACHE_CAPACITY {
            names.clear();
        }
        names.insert(name.into(), (address, generation));
    }
}

thread_local! {
    static CACHE: RefCell<NameCache> = RefCell::default();
}

impl Names {
    pub(crate) fn register(
        &self,
        name: Arc<str>,
        address: ActorAddress,
        holder: impl FnOnce() -> Strong,
    ) -> Result<(), RegisterError> {
        match self.table.entry(name.clone()) {
            Entry::Occupied(entry) if entry.get().address == address => Ok(()),
            Entry::Occupied(entry) => Err(RegisterError::Taken {
                name,
                holder: entry.get().address,
            }),
            Entry::Vacant(entry) => {
                entry.insert(NameEntry {
                    address,
                    _holder: holder(),
                });
                self.by_actor
                    .entry(address.routing_key())
                    .or_default()
                    .push(name);
                Ok(())
            }
        }
    }

    pub(crate) fn unregister(&self, name: &str) -> Option<ActorAddress> {
        let (name, entry) = self.table.remove(name)?;
        let key = entry.address.routing_key();
        if let Entry::Occupied(mut names) = self.by_actor.entry(key) {
            names.get_mut().retain(|held| *held != name);
            if names.get().is_empty() {
                names.remove();
            }
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
        Some(entry.address)
    }

    /// Frees the names of an actor that stopped.
    pub(crate) fn release(&self, address: ActorAddress) {
        let Some((_, names)) = self.by_actor.remove(&address.routing_key()) else {
            return;
        };
        for name in names {
            self.table
                .remove_if(&name, |_, entry| entry.address == address);
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Resolves through this thread's cache, then the table.
    pub(crate) fn resolve(&self, name: &str, stats: &Stats) -> Option<ActorAddress> {
        // Read the generation before the table: an entry cached from a table read that raced with a
        // removal carries the generation from before the removal's bump, so it is never trusted.
        let generation = self.generation.load(Ordering::Acquire);
        if let Some(address) = CACHE.with_borrow(|cache| cache.get(self.id, name, generation)) {
            stats.name_cache_hits.incr();
            return Some(address);
        }
        stats.name_cache_misses.incr();
        let address = self.resolve_uncached(name)?;
        CACHE.with_borrow_mut(|cache| cache.put(self.id, name, address, generation));
        Some(address)
    }

    pub(crate) fn resolve_uncached(&self, name: &str) -> Option<ActorAddress> {
        self.table.get(name).map(|entry| entry.address)
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }
}
