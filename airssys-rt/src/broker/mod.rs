//! The message broker: routing by address, routing key or name without knowing the actor's type;
//! names; topics; dead letters; pooled storage for large messages; statistics.
//!
//! ```
//! use airssys_rt::broker::RouteFailure;
//! use airssys_rt::envelope::MessageEnvelope;
//! use airssys_rt::prelude::*;
//!
//! #[derive(Message)]
//! #[message(result = u64)]
//! struct Charge(u64);
//!
//! #[derive(Message, Debug)]
//! struct Refund(u64);
//!
//! struct Billing {
//!     total: u64,
//! }
//!
//! #[actor]
//! impl Billing {
//!     fn charge(&mut self, Charge(cents): Charge) -> u64 {
//!         self.total += cents;
//!         self.total
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let system = ActorSystem::new();
//! let billing = system.spawn(Billing { total: 0 });
//! let broker = system.broker();
//! broker.resolver().register("billing", billing.address()).unwrap();
//!
//! // By name or address, typed by the message alone: the broker checks the target handles it.
//! broker.route_to("billing", MessageEnvelope::new(Charge(250))).unwrap();
//! assert_eq!(broker.ask("billing", Charge(50)).await.unwrap(), 300);
//!
//! // A message the target does not handle comes back, with the reason.
//! let refused = broker.route(MessageEnvelope::new(Refund(5)).to(billing.address())).unwrap_err();
//! assert!(matches!(refused.failure(), RouteFailure::Unhandled { .. }));
//! assert_eq!(refused.into_envelope().message.0, 5);
//! # }
//! ```
//!
//! # Routing
//!
//! Every live actor has an entry in the system's routing table, a sharded map with lock-free reads
//! (`dashmap`) from its routing key, pre-computed in its [`ActorAddress`], to its mailbox and the table
//! of message types its `#[actor]` block handles (16 bytes per actor). The entry is removed when the
//! actor stops, so no route outlives its actor. [`MessageBroker::route`] looks the key up, finds the
//! handler for `M` in that table (a few compares, fixed per actor type), erases the message into the
//! mailbox slot and enqueues it without waiting. Every failure returns the envelope with a
//! [`RouteFailure`] that says what went wrong.
//!
//! A route does not keep its actor alive: an actor whose last reference is dropped stops, and routing
//! to it then fails with [`RouteFailure::NoSuchActor`]. A registered name, a topic subscription, an
//! [`ActorRef`](crate::ActorRef) and a [`Recipient`](crate::Recipient) do keep it alive.
//!
//! # Dead letters
//!
//! A message that a mailbox accepted and that is then never handled (its actor was stopped or killed
//! with it queued, or a delayed message found its target gone, or a published message found a full
//! mailbox) is a [`DeadLetter`], reported with its type, target, reason and payload to every
//! subscriber of [`MessageBroker::dead_letters`] and counted in [`RoutingStats::dead_letters`].

mod pool;
pub(crate) mod resolver;
pub(crate) mod topic;

use core::fmt;
use std::sync::Arc;
use std::time::Duration;

use dashmap::mapref::one::Ref;

use crate::actor::{AskError, SendError};
use crate::address::ActorAddress;
use crate::core::Core;
use crate::core::mailbox::{Refused, Slot};
use crate::envelope::{ErasedEnvelope, MessageEnvelope};
use crate::message::Message;

pub use crate::core::dead_letter::{DeadLetter, DeadLetterReason, DeadLetters};
pub use crate::core::names::{LookupError, RegisterError};
use crate::core::registry::Route;
pub use crate::core::stats::RoutingStats;
pub use pool::{MessagePool, PoolStats, Pooled};
pub use resolver::AddressResolver;
pub use topic::{PublishReport, Topic, TopicTypeMismatch};

/// Where a message goes: an address, a routing key or a registered name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// The actor with this address.
    Address(ActorAddress),
    /// The actor with this routing key.
    Key(u64),
    /// The actor registered under this name.
    Name(&'a str),
}

impl From<ActorAddress> for Target<'_> {
    fn from(address: ActorAddress) -> Self {
        Target::Address(address)
    }
}

impl<'a> From<&'a str> for Target<'a> {
    fn from(name: &'a str) -> Self {
        Target::Name(name)
    }
}

/// Why the broker could not deliver a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouteFailure {
    /// The envelope has no target: address it with [`MessageEnvelope::to`].
    Unaddressed,
    /// No live actor has this routing key (it never existed, or it stopped).
    NoSuchActor {
        /// The key looked up.
        routing_key: u64,
    },
    /// No actor is registered under this name.
    NoSuchName {
        /// The name looked up.
        name: Arc<str>,
    },
    /// The target does not handle the message type.
    Unhandled {
        /// The target.
        target: ActorAddress,
        /// The message's type.
        message_type: &'static str,
        /// What the target handles.
        handles: Vec<&'static str>,
    },
    /// The target's bounded mailbox is full.
    MailboxFull {
        /// The target.
        target: ActorAddress,
    },
    /// The target's mailbox closed: it is stopping.
    Stopped {
        /// The target.
        target: ActorAddress,
    },
}

impl fmt::Display for RouteFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteFailure::Unaddressed => {
                f.write_str("the envelope has no target; address it with `MessageEnvelope::to`")
            }
            RouteFailure::NoSuchActor { routing_key } => {
                write!(f, "no live actor has the routing key {routing_key:#018x}")
            }
            RouteFailure::NoSuchName { name } => {
                write!(f, "no actor is registered under the name `{name}`")
            }
            RouteFailure::Unhandled {
                target,
                message_type,
                handles,
            } => {
                write!(f, "{target} does not handle `{message_type}`; it handles ")?;
                if handles.is_empty() {
                    return f.write_str("no message");
                }
                for (i, handled) in handles.iter().enumerate() {
                    let separator = if i == 0 { "" } else { ", " };
                    write!(f, "{separator}`{handled}`")?;
                }
                Ok(())
            }
            RouteFailure::MailboxFull { target } => write!(f, "the mailbox of {target} is full"),
            RouteFailure::Stopped { target } => write!(f, "{target} is stopping"),
        }
    }
}

/// A message the broker could not deliver, with the envelope it came in.
pub struct RouteError<M: Message> {
    envelope: MessageEnvelope<M>,
    failure: RouteFailure,
}

impl<M: Message> RouteError<M> {
    /// Why.
    pub fn failure(&self) -> &RouteFailure {
        &self.failure
    }

    /// The envelope, message included, as it was given to the broker.
    pub fn into_envelope(self) -> MessageEnvelope<M> {
        self.envelope
    }
}

impl<M: Message> fmt::Debug for RouteError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteError")
            .field("message", &M::MESSAGE_TYPE)
            .field("failure", &self.failure)
            .finish()
    }
}

impl<M: Message> fmt::Display for RouteError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot route `{}`: {}", M::MESSAGE_TYPE, self.failure)
    }
}

impl<M: Message> std::error::Error for RouteError<M> {}

/// Why an ask through the broker failed.
pub enum BrokerAskError<M: Message> {
    /// The broker found no target for it; the message is given back.
    NotRouted {
        /// The message.
        message: M,
        /// Why.
        failure: RouteFailure,
    },
    /// The target was found; the ask failed there.
    Ask(AskError<M>),
}

impl<M: Message> fmt::Debug for BrokerAskError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrokerAskError::NotRouted { failure, .. } => f
                .debug_struct("NotRouted")
                .field("message", &M::MESSAGE_TYPE)
                .field("failure", failure)
                .finish(),
            BrokerAskError::Ask(error) => f.debug_tuple("Ask").field(error).finish(),
        }
    }
}

impl<M: Message> fmt::Display for BrokerAskError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrokerAskError::NotRouted { failure, .. } => {
                write!(f, "cannot route `{}`: {failure}", M::MESSAGE_TYPE)
            }
            BrokerAskError::Ask(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl<M: Message> std::error::Error for BrokerAskError<M> {}

/// Routes messages to actors it does not know the type of. From
/// [`ActorSystem::broker`](crate::ActorSystem::broker); cheap to clone. See the [module
/// documentation](self).
#[derive(Debug, Clone)]
pub struct MessageBroker {
    system: Core,
}

impl MessageBroker {
    pub(crate) fn new(system: Core) -> Self {
        MessageBroker { system }
    }

    /// Delivers `envelope` to the actor its [routing key](MessageEnvelope::routing_key) names, without
    /// waiting. On failure the envelope comes back with the reason.
    pub fn route<M: Message>(&self, envelope: MessageEnvelope<M>) -> Result<(), RouteError<M>> {
        let key = envelope.routing_key;
        if key == MessageEnvelope::<M>::UNADDRESSED {
            self.system.stats().unaddressed.incr();
            return Err(RouteError {
                envelope,
                failure: RouteFailure::Unaddressed,
            });
        }
        let (route, index) = match self.find::<M>(key) {
            Ok(found) => found,
            Err(failure) => return Err(RouteError { envelope, failure }),
        };
        let MessageEnvelope {
            message,
            sender,
            timestamp,
            routing_key,
        } = envelope;
        let slot = Slot::new(ErasedEnvelope::new(message), index, 0);
        let stats = self.system.stats();
        let (slot, failure) = match route.handle.offer::<M>(slot) {
            Ok(()) => {
                stats.routed.incr();
                return Ok(());
            }
            Err(Refused::Full(slot)) => {
                stats.mailbox_full.incr();
                let target = route.handle.address;
                (slot, RouteFailure::MailboxFull { target })
            }
            Err(Refused::Stopped(slot)) => {
                stats.stopped.incr();
                let target = route.handle.address;
                (slot, RouteFailure::Stopped { target })
            }
        };
        let envelope = MessageEnvelope {
            message: slot.into_message(),
            sender,
            timestamp,
            routing_key,
        };
        Err(RouteError { envelope, failure })
    }

    /// Delivers `envelope` to the actor registered under `name`, addressing the envelope to it.
    pub fn route_to<M: Message>(
        &self,
        name: &str,
        envelope: MessageEnvelope<M>,
    ) -> Result<(), RouteError<M>> {
        match self.resolve(Target::Name(name)) {
            Ok(key) => self.route(MessageEnvelope {
                routing_key: key,
                ..envelope
            }),
            Err(failure) => Err(RouteError { envelope, failure }),
        }
    }

    /// Asks the target, typed by `M::Result`; waits for room in a bounded mailbox.
    pub async fn ask<M: Message>(
        &self,
        target: impl Into<Target<'_>>,
        message: M,
    ) -> Result<M::Result, BrokerAskError<M>> {
        self.ask_within(target.into(), message, None).await
    }

    /// As [`ask`](MessageBroker::ask), failing with [`AskError::Timeout`] (or
    /// [`SendError::Full`] with the message, if it never got into the mailbox)
    /// after `timeout`.
    pub async fn ask_timeout<M: Message>(
        &self,
        target: impl Into<Target<'_>>,
        message: M,
        timeout: Duration,
    ) -> Result<M::Result, BrokerAskError<M>> {
        self.ask_within(target.into(), message, Some(timeout)).await
    }

    async fn ask_within<M: Message>(
        &self,
        target: Target<'_>,
        message: M,
        timeout: Option<Duration>,
    ) -> Result<M::Result, BrokerAskError<M>> {
        let found = self
            .resolve(target)
            .and_then(|key| self.find::<M>(key))
            .map(|(route, index)| (route.handle.clone(), index));
        let (handle, index) = match found {
            Ok(found) => found,
            Err(failure) => return Err(BrokerAskError::NotRouted { message, failure }),
        };
        let request = crate::actor::AskRequest::new(&handle, index, message);
        let request = match timeout {
            Some(timeout) => request.timeout(timeout),
            None => request,
        };
        let outcome = request.await;
        // Counted as `route` counts: routed only if the mailbox took the message.
        let stats = self.system.stats();
        match &outcome {
            Err(AskError::Send(SendError::Full(_))) => stats.mailbox_full.incr(),
            Err(AskError::Send(SendError::Stopped(_))) => stats.stopped.incr(),
            Err(AskError::AskedItself(_)) => {}
            _ => stats.routed.incr(),
        }
        outcome.map_err(BrokerAskError::Ask)
    }

    /// The named topic carrying `M`, created on first use.
    pub fn topic<M: Message + Sync>(
        &self,
        name: impl Into<Arc<str>>,
    ) -> Result<Topic<M>, TopicTypeMismatch> {
        self.system
            .topics()
            .get_or_create(&self.system, name.into())
    }

    /// Subscribes to dead letters: every one reported from now on.
    pub fn dead_letters(&self) -> DeadLetters {
        DeadLetters(self.system.dead_letter_sink().subscribe())
    }

    /// The broker's counters.
    pub fn stats(&self) -> RoutingStats {
        self.system.stats().snapshot()
    }

    /// The system's names.
    pub fn resolver(&self) -> AddressResolver {
        AddressResolver::new(self.system.clone())
    }

    /// Live routes: one per running actor.
    pub fn route_count(&self) -> usize {
        self.system.routes().len()
    }

    /// The routing key of `target`, or why there is none.
    fn resolve(&self, target: Target<'_>) -> Result<u64, RouteFailure> {
        match target {
            Target::Address(address) => Ok(address.routing_key()),
            Target::Key(key) => Ok(key),
            Target::Name(name) => {
                let stats = self.system.stats();
                match self.system.names().resolve(name, stats) {
                    Some(address) => Ok(address.routing_key()),
                    None => {
                        stats.no_such_name.incr();
                        Err(RouteFailure::NoSuchName { name: name.into() })
                    }
                }
            }
        }
    }

    /// The route for `key` and the index of its handler for `M`.
    fn find<M: Message>(&self, key: u64) -> Result<(Ref<'_, u64, Route>, u32), RouteFailure> {
        let stats = self.system.stats();
        let Some(route) = self.system.routes().get(&key) else {
            stats.no_such_actor.incr();
            return Err(RouteFailure::NoSuchActor { routing_key: key });
        };
        match route.handler_index::<M>() {
            Some(index) => Ok((route, index)),
            None => {
                stats.unhandled.incr();
                Err(RouteFailure::Unhandled {
                    target: route.handle.address,
                    message_type: M::MESSAGE_TYPE,
                    handles: route.handled_names(),
                })
            }
        }
    }
}
