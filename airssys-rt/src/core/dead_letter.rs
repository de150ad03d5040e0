//! Dead letters: messages accepted for delivery that could then not be handled.

use core::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

use crate::actor::ActorId;
use crate::actor::StopReason;
use crate::address::ActorAddress;
use crate::envelope::ErasedEnvelope;
use crate::message::Message;
use crate::sink::Sink;

/// Why a message became a dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeadLetterReason {
    /// The target stopped, for this reason, with the message still in its mailbox (a
    /// [`stop`](crate::ActorRef::stop) or [`kill`](crate::ActorRef::kill), a panic, or the system's
    /// shutdown when its timeout expired).
    Stopped(StopReason),
    /// The target's mailbox was closed when the message reached it: a [timer](crate::actor::timer)'s
    /// message, or a monitor's `Down`, whose target had stopped.
    Closed,
    /// The target's bounded mailbox was full: a message [published](crate::broker::Topic::publish) to
    /// a subscriber that could not take it.
    MailboxFull,
    /// A [`send`](crate::ActorRef::send) waiting for room in the target's full bounded mailbox was
    /// dropped (cancelled: a `select!` branch that lost, a timeout) with the message. To keep the
    /// message instead, [`reserve`](crate::ActorRef::reserve) room first.
    SendCancelled,
}

impl fmt::Display for DeadLetterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeadLetterReason::Stopped(reason) => {
                write!(f, "the target stopped ({reason}) with it queued")
            }
            DeadLetterReason::Closed => f.write_str("the target's mailbox was closed"),
            DeadLetterReason::MailboxFull => f.write_str("the target's mailbox was full"),
            DeadLetterReason::SendCancelled => {
                f.write_str("a send waiting for room in the target's mailbox was cancelled")
            }
        }
    }
}

/// A message that was accepted for delivery and then could not be handled, with its payload.
///
/// Every subscriber of the [dead-letter sink](crate::broker::MessageBroker::dead_letters) receives the
/// same `DeadLetter`: all of them can read what it was, and one of them can [`take`](DeadLetter::take)
/// the payload back. An asked message is reported as the message itself; its asker has already
/// received [`AskError::Stopped`](crate::AskError::Stopped).
pub struct DeadLetter {
    target: ActorId,
    message_type: &'static str,
    reason: DeadLetterReason,
    was_ask: bool,
    payload: Mutex<Option<ErasedEnvelope>>,
}

impl DeadLetter {
    pub(crate) fn new(
        target: ActorId,
        payload: ErasedEnvelope,
        was_ask: bool,
        reason: DeadLetterReason,
    ) -> Self {
        DeadLetter {
            target,
            message_type: payload.message_type(),
            reason,
            was_ask,
            payload: Mutex::new(Some(payload)),
        }
    }

    /// The address of the actor it was for.
    pub fn target(&self) -> ActorAddress {
        self.target.address()
    }

    /// The actor it was for: its address, type and name.
    pub fn target_id(&self) -> &ActorId {
        &self.target
    }

    /// The message's [`MESSAGE_TYPE`](Message::MESSAGE_TYPE).
    pub fn message_type(&self) -> &'static str {
        self.message_type
    }

    /// Why it could not be handled.
    pub fn reason(&self) -> &DeadLetterReason {
        &self.reason
    }

    /// Whether it was sent with `ask`.
    pub fn was_ask(&self) -> bool {
        self.was_ask
    }

    /// Whether the payload is an `M` and has not been taken.
    pub fn is<M: Message>(&self) -> bool {
        self.lock().as_ref().is_some_and(ErasedEnvelope::is::<M>)
    }

    /// Takes the payload, if it is an `M` and no one took it before.
    pub fn take<M: Message>(&self) -> Option<M> {
        let mut payload = self.lock();
        match payload.take()?.downcast::<M>() {
            Ok(message) => Some(message),
            Err(envelope) => {
                *payload = Some(envelope);
                None
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<ErasedEnvelope>> {
        // A panic while holding this lock cannot leave the `Option` half-written.
        self.payload.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for DeadLetter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeadLetter")
            .field("target", &self.target)
            .field("message_type", &self.message_type)
            .field("reason", &self.reason)
            .field("was_ask", &self.was_ask)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for DeadLetter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dead letter: `{}` for {}: {}",
            self.message_type, self.target, self.reason
        )
    }
}

/// Where dead letters go: every live subscriber.
pub(crate) type DeadLetterSink = Sink<Arc<DeadLetter>>;

/// A subscription to dead letters, from
/// [`MessageBroker::dead_letters`](crate::broker::MessageBroker::dead_letters). Dropping it unsubscribes.
#[derive(Debug)]
pub struct DeadLetters(pub(crate) mpsc::UnboundedReceiver<Arc<DeadLetter>>);

impl DeadLetters {
    /// The next dead letter. Never `None` while the system is alive.
    pub async fn recv(&mut self) -> Option<Arc<DeadLetter>> {
        self.0.recv().await
    }

    /// The next dead letter if one is waiting.
    pub fn try_recv(&mut self) -> Option<Arc<DeadLetter>> {
        self.0.try_recv().ok()
    }
}
