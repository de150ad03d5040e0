//! [`Context`]: what a handler knows about the actor it runs in.

use core::fmt;
use core::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::actor::mailbox::MailboxHandle;
use crate::actor::{Actor, ActorRef, Handler, WeakActorRef};
use crate::address::ActorAddress;
use crate::broker::dead_letter::{DeadLetter, DeadLetterReason};
use crate::envelope::ErasedEnvelope;
use crate::message::Message;
use crate::system::ActorSystem;

/// The actor's view of itself, passed to handlers and hooks that ask for it
/// (`ctx: &mut Context<Self>`).
pub struct Context<A> {
    handle: Arc<MailboxHandle>,
    system: ActorSystem,
    stop_requested: bool,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> Context<A> {
    pub(crate) fn new(handle: Arc<MailboxHandle>, system: ActorSystem) -> Self {
        Context {
            handle,
            system,
            stop_requested: false,
            _actor: PhantomData,
        }
    }

    /// The actor's address.
    pub fn address(&self) -> ActorAddress {
        self.handle.cell.address
    }

    /// A reference to the actor itself. Like every [`ActorRef`], it keeps the actor running while it
    /// exists: store a [`weak_ref`](Context::weak_ref) to refer to yourself without that.
    pub fn actor_ref(&self) -> ActorRef<A> {
        ActorRef::new(self.handle.clone())
    }

    /// A weak reference to the actor itself.
    pub fn weak_ref(&self) -> WeakActorRef<A> {
        WeakActorRef::new(&self.handle)
    }

    /// The system the actor runs in, to spawn other actors.
    pub fn system(&self) -> &ActorSystem {
        &self.system
    }

    /// Stops the actor after the current handler returns, as [`ActorRef::stop`] does.
    pub fn stop(&mut self) {
        self.stop_requested = true;
    }

    pub(crate) fn stop_requested(&self) -> bool {
        self.stop_requested
    }

    /// Delivers `message` to the actor itself after `delay`, as a [`send`](ActorRef::send).
    ///
    /// The pending delivery holds a reference to the actor, so it keeps the actor running until it is
    /// delivered or [cancelled](DelayedMessage::cancel). If the actor has stopped by then, the message is
    /// dropped.
    pub fn send_after<M>(&self, message: M, delay: Duration) -> DelayedMessage
    where
        A: Handler<M>,
        M: Message,
    {
        let target = self.actor_ref();
        let system = self.system.downgrade();
        let task = self.system.runtime().spawn(async move {
            tokio::time::sleep(delay).await;
            if let Err(refused) = target.send(message).await
                && let Some(system) = system.upgrade()
            {
                system.report_dead_letter(DeadLetter::new(
                    target.address(),
                    ErasedEnvelope::new(refused.into_message()),
                    false,
                    DeadLetterReason::Closed,
                ));
            }
        });
        DelayedMessage {
            task: task.abort_handle(),
        }
    }
}

impl<A> fmt::Debug for Context<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Context<{}>({})",
            core::any::type_name::<A>(),
            self.handle.cell.address
        )
    }
}

/// A message scheduled with [`Context::send_after`].
#[derive(Debug)]
pub struct DelayedMessage {
    task: tokio::task::AbortHandle,
}

impl DelayedMessage {
    /// Cancels the delivery if it has not happened yet; the message is dropped.
    pub fn cancel(&self) {
        self.task.abort();
    }
}
