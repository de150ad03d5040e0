use std::time::Instant;

use crate::address::ActorAddress;
use crate::envelope::ErasedEnvelope;
use crate::message::Message;

/// A statically typed message on its way to an actor.
///
/// It owns the message and moves with it: building, routing and erasing an envelope never copies,
/// clones or serializes the payload.
///
/// # Examples
///
/// ```
/// use airssys_rt::envelope::MessageEnvelope;
/// use airssys_rt::{ActorAddress, Message};
///
/// #[derive(Message)]
/// struct Tick;
///
/// let target = ActorAddress::from_id(std::num::NonZeroU64::new(7).unwrap());
/// let envelope = MessageEnvelope::new(Tick).to(target);
/// assert_eq!(envelope.routing_key, target.routing_key());
/// assert_eq!(envelope.sender, None);
/// ```
#[derive(Debug)]
pub struct MessageEnvelope<M: Message> {
    /// The message itself, owned.
    pub message: M,
    /// Who sent it, when the sender is an actor that wants to be known.
    pub sender: Option<ActorAddress>,
    /// When the envelope was made.
    pub timestamp: Instant,
    /// The target's routing key, computed once when its [`ActorAddress`] was made;
    /// [`MessageEnvelope::UNADDRESSED`] until [`to`](MessageEnvelope::to) sets it.
    pub routing_key: u64,
}

impl<M: Message> MessageEnvelope<M> {
    /// The routing key of an envelope that has no target yet. No [`ActorAddress`] has this key.
    pub const UNADDRESSED: u64 = 0;

    /// Wraps `message`, stamped with the current time, with no sender and no target yet.
    pub fn new(message: M) -> Self {
        MessageEnvelope {
            message,
            sender: None,
            timestamp: Instant::now(),
            routing_key: Self::UNADDRESSED,
        }
    }

    /// Addresses the envelope to `target`, copying its pre-computed routing key.
    #[must_use]
    pub fn to(mut self, target: ActorAddress) -> Self {
        self.routing_key = target.routing_key();
        self
    }

    /// Records who sent the message.
    #[must_use]
    pub fn from(mut self, sender: ActorAddress) -> Self {
        self.sender = Some(sender);
        self
    }

    /// Erases the message's type for storage in a mailbox; see [`ErasedEnvelope::new`].
    ///
    /// The sender, timestamp and routing key have done their work once the envelope reaches its mailbox
    /// and are not kept, so that the mailbox slot stays one cache line.
    pub fn erase(self) -> ErasedEnvelope {
        ErasedEnvelope::new(self.message)
    }

    /// Takes the message out of the envelope.
    pub fn into_message(self) -> M {
        self.message
    }
}
