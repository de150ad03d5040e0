//! [`AddressResolver`]: names for actors, and a per-thread cache for resolving them.

use core::fmt;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use smallvec::SmallVec;

use std::any::TypeId;

use crate::actor::actor_ref::Strong;
use crate::actor::{Actor, ActorRef, Recipient};
use crate::address::ActorAddress;
use crate::broker::routing::{FxBuild, KeyHasher, Route};
use crate::broker::stats::Stats;
use crate::message::Message;
use crate::system::ActorSystem;

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

/// Why a typed lookup by name ([`AddressResolver::lookup`], [`AddressResolver::lookup_recipient`],
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

/// Names for actors: register, resolve, unregister. From [`ActorSystem::resolver`].
///
/// A name is unique in its system: registering a name another actor holds is an error that names the
/// holder. A registered name keeps its actor alive (the actor can be reached through it, as through a
/// reference) until the name is unregistered or the actor stops; when the actor stops, its names are
/// freed.
///
/// Resolution goes through a per-thread cache in front of the shared name table: a hit costs no atomic
/// read-modify-write and touches no shared cache line but one counter. Every removal or replacement of
/// a name invalidates the caches (each thread notices on its next lookup); registering a new name does
/// not need to. Hits and misses are counted in the [broker's statistics](crate::broker::RoutingStats).
///
/// ```
/// use airssys_rt::prelude::*;
///
/// struct Service;
///
/// #[actor]
/// impl Service {}
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let system = ActorSystem::new();
/// let service = system.spawn(Service);
/// let resolver = system.resolver();
/// resolver.register("billing", service.address()).unwrap();
/// assert_eq!(resolver.resolve("billing"), Some(service.address()));
/// assert!(resolver.register("billing", system.spawn(Service).address()).is_err());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AddressResolver {
    system: ActorSystem,
}

impl AddressResolver {
    pub(crate) fn new(system: ActorSystem) -> Self {
        AddressResolver { system }
    }

    /// Gives the live actor at `address` the name `name`. Registering a name again for the actor that
    /// holds it succeeds and changes nothing.
    pub fn register(
        &self,
        name: impl Into<Arc<str>>,
        address: ActorAddress,
    ) -> Result<(), RegisterError> {
        self.system.register_name(name.into(), address)
    }

    /// Removes a name; returns the address it named.
    pub fn unregister(&self, name: &str) -> Option<ActorAddress> {
        self.system.names().unregister(name)
    }

    /// The address registered under `name`.
    pub fn resolve(&self, name: &str) -> Option<ActorAddress> {
        self.system.names().resolve(name, self.system.stats())
    }

    /// As [`resolve`](AddressResolver::resolve), bypassing the cache: for comparison in benchmarks.
    #[doc(hidden)]
    pub fn resolve_uncached(&self, name: &str) -> Option<ActorAddress> {
        self.system.names().resolve_uncached(name)
    }

    /// The address of the live actor with this routing key.
    pub fn resolve_key(&self, routing_key: u64) -> Option<ActorAddress> {
        self.system
            .routes()
            .get(&routing_key)
            .map(|route| route.handle.address)
    }

    /// A typed reference to the actor registered as `name`, checked to be an `A`.
    ///
    /// ```
    /// # use airssys_rt::prelude::*;
    /// # use airssys_rt::broker::LookupError;
    /// # #[derive(Message)] #[message(result = u64)] struct Total;
    /// # struct Billing(u64);
    /// # #[actor] impl Billing { fn total(&self, _: Total) -> u64 { self.0 } }
    /// # struct Audit;
    /// # #[actor] impl Audit {}
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let system = ActorSystem::new();
    /// let resolver = system.resolver();
    /// resolver.register("billing", system.spawn(Billing(7)).address()).unwrap();
    /// let billing = resolver.lookup::<Billing>("billing").unwrap();
    /// assert_eq!(billing.ask(Total).await.unwrap(), 7);
    /// assert!(matches!(resolver.lookup::<Audit>("billing"), Err(LookupError::WrongType { .. })));
    /// // Or by one message it handles, whatever its type:
    /// let total = resolver.lookup_recipient::<Total>("billing").unwrap();
    /// assert_eq!(total.ask(Total).await.unwrap(), 7);
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`LookupError::NoSuchName`], [`LookupError::WrongType`].
    pub fn lookup<A: Actor>(&self, name: &str) -> Result<ActorRef<A>, LookupError> {
        let route = self.route(name)?;
        if route.actor.type_id != TypeId::of::<A>() {
            return Err(LookupError::WrongType {
                name: name.into(),
                actual: (route.actor.type_name)(),
                expected: core::any::type_name::<A>(),
            });
        }
        Ok(ActorRef::new(route.handle))
    }

    /// A reference to the actor registered as `name`, by one message type it handles, whatever its
    /// type: checked against the table of handled messages that `#[actor]` generated.
    ///
    /// # Errors
    ///
    /// [`LookupError::NoSuchName`], [`LookupError::Unhandled`] (listing what it handles).
    pub fn lookup_recipient<M: Message>(&self, name: &str) -> Result<Recipient<M>, LookupError> {
        let route = self.route(name)?;
        match route.handler_index::<M>() {
            Some(index) => Ok(Recipient::new(route.handle, index)),
            None => Err(LookupError::Unhandled {
                name: name.into(),
                message_type: M::MESSAGE_TYPE,
                handles: route.handled_names(),
            }),
        }
    }

    /// The route of the live actor registered as `name`.
    pub(crate) fn route(&self, name: &str) -> Result<Route, LookupError> {
        let no_such_name = || LookupError::NoSuchName(name.into());
        let address = self.resolve(name).ok_or_else(no_such_name)?;
        self.system
            .live_route(address)
            .map(|route| route.clone())
            .ok_or_else(no_such_name)
    }

    /// How many names are registered.
    pub fn len(&self) -> usize {
        self.system.names().len()
    }

    /// Whether no name is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
