//! Pub/sub topics: publish once, every subscriber receives the same `Arc` of the message.

use core::fmt;
use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::actor::{Recipient, SendError};
use crate::address::ActorAddress;
use crate::core::dead_letter::{DeadLetter, DeadLetterReason};
use crate::core::registry::{FxBuild, NamedTopic, Topics};
use crate::core::{Core, WeakSystem};
use crate::envelope::ErasedEnvelope;
use crate::message::Message;

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
/// reach an actor does. A subscriber that stops is removed when it stops, with its mailbox (not at the
/// next publish); one whose bounded mailbox is full gets the message as a
/// [dead letter](crate::broker::DeadLetterReason::MailboxFull) instead. Subscribing and unsubscribing
/// cost the same whatever the number of subscribers.
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
    subscribers: RwLock<Subscribers<M>>,
    system: WeakSystem,
}

/// The subscribers, in a list for publishing and indexed by address for subscribing and removing.
struct Subscribers<M: Message + Sync> {
    list: Vec<Subscriber<M>>,
    position: HashMap<ActorAddress, usize, FxBuild>,
}

struct Subscriber<M: Message + Sync> {
    recipient: Recipient<Arc<M>>,
    /// The watcher that removes it when its actor stops.
    watch: u64,
}

impl<M: Message + Sync> Default for Subscribers<M> {
    fn default() -> Self {
        Subscribers {
            list: Vec::new(),
            position: HashMap::default(),
        }
    }
}

impl<M: Message + Sync> Subscribers<M> {
    fn remove(&mut self, address: ActorAddress) -> Option<Subscriber<M>> {
        let index = self.position.remove(&address)?;
        let removed = self.list.swap_remove(index);
        if let Some(moved) = self.list.get(index) {
            self.position.insert(moved.recipient.address(), index);
        }
        Some(removed)
    }
}

impl<M: Message + Sync> TopicInner<M> {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Subscribers<M>> {
        self.subscribers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Removes the subscriber at `address` and its watcher; whether it was subscribed.
    fn remove(&self, address: ActorAddress) -> bool {
        let removed = self.write().remove(address);
        // Dropped outside the lock: the recipient may be the last reference to its actor.
        match removed {
            Some(subscriber) => {
                subscriber.recipient.unwatch(subscriber.watch);
                true
            }
            None => false,
        }
    }
}

/// What one [`publish`](Topic::publish) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PublishReport {
    /// Subscribers whose mailbox took the message.
    pub delivered: usize,
    /// Subscribers whose bounded mailbox was full: each got a dead letter instead.
    pub full: usize,
    /// Subscribers found refusing messages (asked to stop, not stopped yet), and removed. Those that
    /// have stopped were removed when they stopped.
    pub removed: usize,
}

impl<M: Message + Sync> Topic<M> {
    /// A topic of its own in `system`; the public `Topic::new` is in `system.rs`.
    pub(crate) fn in_core(system: &Core, name: impl Into<Arc<str>>) -> Self {
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

    /// Adds a subscriber; subscribing the same actor again changes nothing. When the actor stops, it
    /// is removed.
    pub fn subscribe(&self, subscriber: Recipient<Arc<M>>) {
        let address = subscriber.address();
        if self.read().position.contains_key(&address) {
            return;
        }
        // Watch first, outside the lock: a watcher of an actor that has already stopped runs at once,
        // and it takes the lock.
        let topic = Arc::downgrade(&self.inner);
        let watch = subscriber.watch(Box::new(move |_| {
            if let Some(topic) = topic.upgrade() {
                topic.remove(address);
            }
        }));
        let mut subscribers = self.inner.write();
        if subscribers.position.contains_key(&address) {
            drop(subscribers);
            subscriber.unwatch(watch);
            return;
        }
        let position = subscribers.list.len();
        subscribers.position.insert(address, position);
        subscribers.list.push(Subscriber {
            recipient: subscriber,
            watch,
        });
        let stopped = !subscribers
            .list
            .last()
            .is_some_and(|s| s.recipient.is_alive());
        drop(subscribers);
        // It stopped before it was in the list, so its watcher found nothing to remove.
        if stopped {
            self.inner.remove(address);
        }
    }

    /// Removes the subscriber at `address`; returns whether it was subscribed.
    pub fn unsubscribe(&self, address: ActorAddress) -> bool {
        self.inner.remove(address)
    }

    /// How many actors are subscribed (those that stopped have been removed).
    pub fn subscriber_count(&self) -> usize {
        self.read().list.len()
    }

    /// Tells every subscriber the message: one allocation (the `Arc`), whatever their number.
    pub fn publish(&self, message: M) -> PublishReport {
        let shared = Arc::new(message);
        let mut report = PublishReport::default();
        {
            let subscribers = self.read();
            for Subscriber {
                recipient: subscriber,
                ..
            } in &subscribers.list
            {
                match subscriber.tell(shared.clone()) {
                    Ok(()) => report.delivered += 1,
                    Err(SendError::Full(message)) => {
                        report.full += 1;
                        if let Some(system) = self.inner.system.upgrade() {
                            system.report_dead_letter(DeadLetter::new(
                                subscriber.id().clone(),
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
        // Subscribers that refuse (asked to stop, not stopped yet) are removed now; the others were
        // removed as they stopped.
        if report.removed > 0 {
            let refusing: Vec<ActorAddress> = self
                .read()
                .list
                .iter()
                .filter(|subscriber| subscriber.recipient.is_closed())
                .map(|subscriber| subscriber.recipient.address())
                .collect();
            for address in refusing {
                self.inner.remove(address);
            }
        }
        if let Some(system) = self.inner.system.upgrade() {
            system.stats().published.incr();
        }
        report
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Subscribers<M>> {
        self.inner
            .subscribers
            .read()
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

impl Topics {
    /// The topic named `name`, created if it does not exist yet.
    pub(crate) fn get_or_create<M: Message + Sync>(
        &self,
        system: &Core,
        name: Arc<str>,
    ) -> Result<Topic<M>, TopicTypeMismatch> {
        let named = self.get_or_insert_with(name.clone(), || NamedTopic {
            type_id: TypeId::of::<M>(),
            message_type: M::MESSAGE_TYPE,
            topic: Arc::new(Topic::<M>::in_core(system, name.clone())),
        });
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
