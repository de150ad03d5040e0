//! Pub/sub topics: publish once, every subscriber receives the same `Arc` of the message.

use core::fmt;
use std::any::{Any, TypeId};
use std::sync::{Arc, PoisonError, RwLock};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use crate::actor::{Recipient, SendError};
use crate::address::ActorAddress;
use crate::broker::dead_letter::{DeadLetter, DeadLetterReason};
use crate::broker::routing::FxBuild;
use crate::envelope::ErasedEnvelope;
use crate::message::Message;
use crate::system::{ActorSystem, WeakSystem};

/// A published message, shared by every subscriber: subscribers handle `Arc<M>`. Eight bytes, so it is
/// stored inline in the envelope: fanning out costs a reference-count increment per subscriber and no
/// copy of the payload.
#[diagnostic::do_not_recommend]
impl<M: Message + Sync> Message for Arc<M> {
    const MESSAGE_TYPE: &'static str = M::MESSAGE_TYPE;
    type Result = ();
}

/// A topic carrying `M`. Cheap to clone: clones share one subscriber list.
///
/// Subscribers are [`Recipient<Arc<M>>`](Recipient)s: an actor subscribes by handling `Arc<M>`.
/// [`publish`](Topic::publish) allocates the `Arc` once, whatever the number of subscribers, and tells
/// each subscriber a clone of it. A subscription is a reference: it keeps its actor alive, as any way to
/// reach an actor does. A subscriber that stops is removed; one whose bounded mailbox is full gets the
/// message as a [dead letter](crate::broker::DeadLetterReason::MailboxFull) instead.
///
/// ```
/// use std::sync::Arc;
/// use airssys_rt::prelude::*;
///
/// #[derive(Message)]
/// struct Price(u64);
///
/// struct Dashboard {
///     last: u64,
/// }
///
/// #[actor]
/// impl Dashboard {
///     fn price(&mut self, price: Arc<Price>) {
///         self.last = price.0;
///     }
///
///     fn last(&self, _: Last) -> u64 {
///         self.last
///     }
/// }
///
/// #[derive(Message)]
/// #[message(result = u64)]
/// struct Last;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let system = ActorSystem::new();
/// let prices = system.broker().topic::<Price>("prices").unwrap();
/// let dashboard = system.spawn(Dashboard { last: 0 });
/// prices.subscribe(dashboard.recipient());
/// assert_eq!(prices.publish(Price(42)).delivered, 1);
/// assert_eq!(dashboard.ask(Last).await.unwrap(), 42);
/// # }
/// ```
pub struct Topic<M: Message + Sync> {
    inner: Arc<TopicInner<M>>,
}

struct TopicInner<M: Message + Sync> {
    name: Arc<str>,
    subscribers: RwLock<Vec<Recipient<Arc<M>>>>,
    system: WeakSystem,
}

/// What one [`publish`](Topic::publish) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PublishReport {
    /// Subscribers whose mailbox took the message.
    pub delivered: usize,
    /// Subscribers whose bounded mailbox was full: each got a dead letter instead.
    pub full: usize,
    /// Subscribers found stopped, and removed.
    pub removed: usize,
}

impl<M: Message + Sync> Topic<M> {
    /// A topic of its own, not registered by name.
    pub fn new(system: &ActorSystem, name: impl Into<Arc<str>>) -> Self {
        Topic {
            inner: Arc::new(TopicInner {
                name: name.into(),
                subscribers: RwLock::default(),
                system: system.downgrade(),
            }),
        }
    }

    /// The topic's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Adds a subscriber; subscribing the same actor again changes nothing.
    pub fn subscribe(&self, subscriber: Recipient<Arc<M>>) {
        let mut subscribers = self.write();
        if !subscribers
            .iter()
            .any(|existing| existing.address() == subscriber.address())
        {
            subscribers.push(subscriber);
        }
    }

    /// Removes the subscriber at `address`; returns whether it was subscribed.
    pub fn unsubscribe(&self, address: ActorAddress) -> bool {
        let mut subscribers = self.write();
        let before = subscribers.len();
        subscribers.retain(|subscriber| subscriber.address() != address);
        subscribers.len() != before
    }

    /// Live subscribers (stopped ones are removed here too).
    pub fn subscriber_count(&self) -> usize {
        let mut subscribers = self.write();
        subscribers.retain(|subscriber| !subscriber.is_closed());
        subscribers.len()
    }

    /// Tells every subscriber the message: one allocation (the `Arc`), whatever their number.
    pub fn publish(&self, message: M) -> PublishReport {
        let shared = Arc::new(message);
        let mut report = PublishReport::default();
        {
            let subscribers = self
                .inner
                .subscribers
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            for subscriber in subscribers.iter() {
                match subscriber.tell(shared.clone()) {
                    Ok(()) => report.delivered += 1,
                    Err(SendError::Full(message)) => {
                        report.full += 1;
                        if let Some(system) = self.inner.system.upgrade() {
                            system.report_dead_letter(DeadLetter::new(
                                subscriber.address(),
                                ErasedEnvelope::new(message),
                                false,
                                DeadLetterReason::MailboxFull,
                            ));
                        }
                    }
                    Err(SendError::Stopped(_)) => report.removed += 1,
                }
            }
        }
        if report.removed > 0 {
            self.write().retain(|subscriber| !subscriber.is_closed());
        }
        if let Some(system) = self.inner.system.upgrade() {
            system.stats().published.incr();
        }
        report
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Recipient<Arc<M>>>> {
        self.inner
            .subscribers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<M: Message + Sync> Clone for Topic<M> {
    fn clone(&self) -> Self {
        Topic {
            inner: self.inner.clone(),
        }
    }
}

impl<M: Message + Sync> fmt::Debug for Topic<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Topic<{}>({:?})", M::MESSAGE_TYPE, self.inner.name)
    }
}

/// A topic name already used for another message type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicTypeMismatch {
    /// The topic's name.
    pub name: Arc<str>,
    /// The message type the topic carries.
    pub carries: &'static str,
    /// The message type asked for.
    pub requested: &'static str,
}

impl fmt::Display for TopicTypeMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the topic `{}` carries `{}`, not `{}`",
            self.name, self.carries, self.requested
        )
    }
}

impl std::error::Error for TopicTypeMismatch {}

struct NamedTopic {
    type_id: TypeId,
    message_type: &'static str,
    topic: Arc<dyn Any + Send + Sync>,
}

/// The named topics of one system.
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
    pub(crate) fn get_or_create<M: Message + Sync>(
        &self,
        system: &ActorSystem,
        name: Arc<str>,
    ) -> Result<Topic<M>, TopicTypeMismatch> {
        let named = match self.0.entry(name.clone()) {
            Entry::Occupied(entry) => entry.into_ref(),
            Entry::Vacant(entry) => entry.insert(NamedTopic {
                type_id: TypeId::of::<M>(),
                message_type: M::MESSAGE_TYPE,
                topic: Arc::new(Topic::<M>::new(system, name.clone())),
            }),
        };
        if named.type_id != TypeId::of::<M>() {
            return Err(TopicTypeMismatch {
                name,
                carries: named.message_type,
                requested: M::MESSAGE_TYPE,
            });
        }
        let topic = named
            .topic
            .downcast_ref::<Topic<M>>()
            .expect("the type id was checked");
        Ok(topic.clone())
    }
}
