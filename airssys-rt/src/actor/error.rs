//! Why a send, an ask or an actor failed. Every error that loses a message gives it back.

use core::fmt;
use std::any::Any;
use std::sync::Arc;

use crate::actor::ActorId;
use crate::message::Message;

/// A message that could not be delivered, returned to its sender.
///
/// Like `tokio::sync::mpsc::error::SendError<T>`, it gives the message back so that nothing is lost:
/// retry it, send it elsewhere, or drop it knowingly. `Debug` and `Display` name the message type
/// and do not require the message to be `Debug`.
pub enum SendError<M> {
    /// The actor's bounded mailbox was full (only [`ActorRef::tell`](crate::ActorRef::tell) reports
    /// this; `send` and `ask` wait for room).
    Full(M),
    /// The actor has stopped, or is stopping and no longer accepts messages.
    Stopped(M),
}

impl<M> SendError<M> {
    /// The undelivered message.
    pub fn into_message(self) -> M {
        match self {
            SendError::Full(message) | SendError::Stopped(message) => message,
        }
    }

    /// A reference to the undelivered message.
    pub fn message(&self) -> &M {
        match self {
            SendError::Full(message) | SendError::Stopped(message) => message,
        }
    }

    /// Whether the mailbox was full (as opposed to the actor being stopped).
    pub fn is_full(&self) -> bool {
        matches!(self, SendError::Full(_))
    }
}

impl<M: Message> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let variant = if self.is_full() { "Full" } else { "Stopped" };
        write!(f, "SendError::{variant}({})", M::MESSAGE_TYPE)
    }
}

impl<M: Message> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Full(_) => write!(
                f,
                "the mailbox is full; `{}` was not delivered",
                M::MESSAGE_TYPE
            ),
            SendError::Stopped(_) => {
                write!(
                    f,
                    "the actor has stopped; `{}` was not delivered",
                    M::MESSAGE_TYPE
                )
            }
        }
    }
}

impl<M: Message> std::error::Error for SendError<M> {}

/// Why an [`ask`](crate::ActorRef::ask) got no reply.
pub enum AskError<M> {
    /// The message was not accepted by the mailbox; it is returned. With a
    /// [timeout](crate::actor::AskRequest::timeout), `Full` means the mailbox stayed full until the
    /// deadline.
    Send(SendError<M>),
    /// No reply before the timeout. The message was delivered and may still be handled.
    Timeout,
    /// The handler panicked while handling the message.
    Panicked(ActorPanic),
    /// The actor stopped (or was killed) after accepting the message and before replying to it.
    Stopped,
    /// The handler took the reply obligation (a [`ReplySender`](crate::ReplySender)) and dropped it
    /// without answering: in its own code, in a task it gave the sender to (also when that task
    /// panicked, or was cancelled as the actor stopped), or in another actor.
    Unanswered,
    /// An actor asked itself, from one of its own handlers or hooks: it could only reply once the
    /// handler that waits for the reply has returned, so the ask would never end. Refused before
    /// delivery; the message is returned. Send it with `tell`, or handle it by calling the handler's
    /// method directly.
    AskedItself(M),
}

impl<M> AskError<M> {
    /// The message, if it was never delivered.
    pub fn into_message(self) -> Option<M> {
        match self {
            AskError::Send(error) => Some(error.into_message()),
            AskError::AskedItself(message) => Some(message),
            _ => None,
        }
    }
}

impl<M: Message> fmt::Debug for AskError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AskError::Send(error) => write!(f, "AskError::Send({error:?})"),
            AskError::Timeout => write!(f, "AskError::Timeout({})", M::MESSAGE_TYPE),
            AskError::Panicked(panic) => write!(f, "AskError::Panicked({panic:?})"),
            AskError::Stopped => write!(f, "AskError::Stopped({})", M::MESSAGE_TYPE),
            AskError::Unanswered => write!(f, "AskError::Unanswered({})", M::MESSAGE_TYPE),
            AskError::AskedItself(_) => write!(f, "AskError::AskedItself({})", M::MESSAGE_TYPE),
        }
    }
}

impl<M: Message> fmt::Display for AskError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = M::MESSAGE_TYPE;
        match self {
            AskError::Send(error) => fmt::Display::fmt(error, f),
            AskError::Timeout => write!(f, "no reply to `{name}` before the timeout"),
            AskError::Panicked(panic) => write!(f, "no reply to `{name}`: {panic}"),
            AskError::Stopped => write!(f, "the actor stopped before replying to `{name}`"),
            AskError::Unanswered => write!(
                f,
                "the reply to `{name}` was dropped unanswered: its `ReplySender` was dropped without `send`"
            ),
            AskError::AskedItself(_) => write!(
                f,
                "an actor asked itself `{name}`: it cannot reply while it waits for the reply \
                 (a deadlock); `tell` it instead"
            ),
        }
    }
}

impl<M: Message> std::error::Error for AskError<M> {}

impl<M> From<SendError<M>> for AskError<M> {
    fn from(error: SendError<M>) -> Self {
        AskError::Send(error)
    }
}

/// A panic caught in an actor: its message, the actor, and what it was doing. Cheap to clone.
#[derive(Clone, PartialEq, Eq)]
pub struct ActorPanic {
    inner: Arc<PanicInfo>,
}

#[derive(PartialEq, Eq)]
struct PanicInfo {
    message: String,
    during: String,
    actor: ActorId,
}

impl ActorPanic {
    pub(crate) fn new(payload: &(dyn Any + Send), actor: &ActorId, during: String) -> Self {
        let message = if let Some(text) = payload.downcast_ref::<&'static str>() {
            (*text).to_owned()
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.clone()
        } else {
            "a panic with a non-string payload".to_owned()
        };
        ActorPanic {
            inner: Arc::new(PanicInfo {
                message,
                during,
                actor: actor.clone(),
            }),
        }
    }

    /// The panic's message.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// What the actor was doing: ``handling `app::Add` ``, `on_start`, `on_stop`, `on_panic`,
    /// `building the actor`.
    pub fn during(&self) -> &str {
        &self.inner.during
    }

    /// The actor that panicked.
    pub fn actor(&self) -> &ActorId {
        &self.inner.actor
    }
}

impl fmt::Debug for ActorPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorPanic")
            .field("actor", self.actor())
            .field("message", &self.message())
            .field("during", &self.during())
            .finish()
    }
}

impl fmt::Display for ActorPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} panicked while {}: {}",
            self.actor(),
            self.during(),
            self.message()
        )
    }
}

/// Why an actor stopped, as [`ActorRef::wait_for_stop`](crate::ActorRef::wait_for_stop) reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// [`stop`](crate::ActorRef::stop) was called, on a reference or from the actor's context.
    Stopped,
    /// It handled every queued message and stopped: [`drain`](crate::ActorRef::drain) or
    /// [`ActorSystem::shutdown`](crate::ActorSystem::shutdown).
    Drained,
    /// Every [`ActorRef`](crate::ActorRef) and [`Recipient`](crate::Recipient) was dropped, and it
    /// handled what was left in its mailbox.
    NoReferences,
    /// [`kill`](crate::ActorRef::kill) was called, or a shutdown timed out.
    Killed,
    /// A handler or hook panicked (and `on_panic` did not resume).
    Panicked(ActorPanic),
    /// A [linked](crate::Context::link) actor stopped abnormally, and this one does not trap exits.
    Linked {
        /// The linked actor that stopped (shared: a stop reason is cloned to every watcher, and kept
        /// small).
        peer: Arc<ActorId>,
        /// Why it stopped.
        reason: Arc<StopReason>,
    },
    /// A [`Supervisor`](crate::supervisor::Supervisor) gave up: a child failed more often than its
    /// restart intensity allows. It stopped its children, then itself, with this reason, which its own
    /// supervisor sees as a failure.
    Escalated {
        /// The id of the child whose failure exceeded the intensity.
        child: Arc<str>,
        /// Why that child stopped.
        reason: Arc<StopReason>,
    },
}

impl StopReason {
    /// Whether this is a normal stop (`Stopped`, `Drained`, `NoReferences`) rather than a failure.
    pub fn is_normal(&self) -> bool {
        matches!(
            self,
            StopReason::Stopped | StopReason::Drained | StopReason::NoReferences
        )
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Stopped => f.write_str("stopped"),
            StopReason::Drained => f.write_str("drained its mailbox and stopped"),
            StopReason::NoReferences => f.write_str("stopped: no references left"),
            StopReason::Killed => f.write_str("killed"),
            StopReason::Panicked(panic) => write!(f, "{panic}"),
            StopReason::Linked { peer, reason } => {
                write!(f, "linked actor {peer} stopped: {reason}")
            }
            StopReason::Escalated { child, reason } => write!(
                f,
                "supervisor gave up: child `{child}` failed more often than its restart intensity \
                 allows (last: {reason})"
            ),
        }
    }
}
