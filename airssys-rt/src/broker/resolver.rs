//! [`AddressResolver`]: names for actors (the table itself is `core/names.rs`).

use std::any::TypeId;
use std::sync::Arc;

use crate::actor::{Actor, ActorRef, Recipient};
use crate::address::ActorAddress;
use crate::core::Core;
use crate::core::names::{LookupError, RegisterError};
use crate::core::registry::Route;
use crate::message::Message;

/// Names for actors: register, resolve, unregister. From
/// [`ActorSystem::resolver`](crate::ActorSystem::resolver).
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
    system: Core,
}

impl AddressResolver {
    pub(crate) fn new(system: Core) -> Self {
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
        self.system
            .named_route(name)
            .ok_or_else(|| LookupError::NoSuchName(name.into()))
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
