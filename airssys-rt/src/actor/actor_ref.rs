//! References to actors: typed by actor ([`ActorRef`]), by message ([`Recipient`]), and weak
//! ([`WeakActorRef`]).

use core::fmt;
use core::hash::{Hash, Hasher};
use core::marker::PhantomData;
use std::sync::{Arc, Weak};

use crate::actor::ask::AskRequest;
use crate::actor::error::{SendError, StopReason};
use crate::actor::{Actor, ActorId, Handler};
use crate::address::ActorAddress;
use crate::core::cell::Strong;
use crate::core::mailbox::{Farewell, MailboxHandle, Refused, Signal, Slot};
use crate::envelope::ErasedEnvelope;
use crate::message::Message;

/// Sending through a counted reference: what [`ActorRef`] and [`Recipient`] share.
impl Strong {
    #[inline]
    fn tell<M: Message>(&self, index: u32, message: M) -> Result<(), SendError<M>> {
        self.tell_in::<M>(index, message, M::PRIORITY)
    }

    #[inline]
    fn tell_in<M: Message>(
        &self,
        index: u32,
        message: M,
        lane: crate::message::Priority,
    ) -> Result<(), SendError<M>> {
        let slot = Slot::new(ErasedEnvelope::new(message), index, 0);
        self.handle().offer_in(slot, lane).map_err(|refused| {
            self.handle().refused(match refused {
                Refused::Full(slot) => SendError::Full(slot.into_message()),
                Refused::Stopped(slot) => SendError::Stopped(slot.into_message()),
            })
        })
    }

    async fn send<M: Message>(&self, index: u32, message: M) -> Result<(), SendError<M>> {
        if matches!(M::PRIORITY, crate::message::Priority::High) {
            // The priority lane has no capacity to wait for.
            return self.tell(index, message);
        }
        let slot = Slot::new(ErasedEnvelope::new(message), index, 0);
        self.handle().send(slot).await.map_err(|slot| {
            self.handle()
                .refused(SendError::Stopped(slot.into_message()))
        })
    }
}

/// A typed reference to a running actor of type `A`: the way to send it messages.
///
/// Cheap to clone (one atomic increment) and `Send + Sync`. The actor keeps running while any
/// `ActorRef` or [`Recipient`] to it exists; when the last one is dropped, it handles what is left in
/// its mailbox and stops with [`StopReason::NoReferences`]. [`WeakActorRef`] does not keep it running.
///
/// Sending a message the actor has no handler for does not compile:
///
/// ```compile_fail
/// # use airssys_rt::prelude::*;
/// # #[derive(Message)] struct Add(u64);
/// # #[derive(Message)] struct Reset;
/// # struct Counter(u64);
/// # #[actor] impl Counter { fn add(&mut self, Add(n): Add) { self.0 += n } }
/// # async fn f(counter: ActorRef<Counter>) {
/// counter.tell(Reset); // error: `Counter` does not handle `Reset`
/// # }
/// ```
#[must_use = "an actor stops once its last reference is dropped (a supervisor, with its children): \
              keep this `ActorRef`, or register a name for the actor"]
pub struct ActorRef<A> {
    strong: Strong,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> ActorRef<A> {
    pub(crate) fn new(handle: Arc<MailboxHandle>) -> Self {
        ActorRef {
            strong: Strong::new(handle),
            _actor: PhantomData,
        }
    }

    /// The actor's address.
    pub fn address(&self) -> ActorAddress {
        self.strong.handle().address
    }

    /// The actor's identity: address, type and name (as [`Display`](fmt::Display) prints it).
    pub fn id(&self) -> &ActorId {
        &self.strong.handle().id
    }

    pub(crate) fn handle(&self) -> &Arc<MailboxHandle> {
        self.strong.handle()
    }

    /// Sends `message` without waiting: fire and forget.
    ///
    /// Never awaits and never blocks, so it can be called from synchronous code.
    ///
    /// # Errors
    ///
    /// Gives the message back in [`SendError::Full`] when a bounded mailbox is full, and in
    /// [`SendError::Stopped`] when the actor has stopped.
    pub fn tell<M>(&self, message: M) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        self.strong.tell(<A as Handler<M>>::__INDEX, message)
    }

    /// Sends `message` through the actor's priority lane, whatever its type's
    /// [`PRIORITY`](Message::PRIORITY): it is handled before the normal messages queued now. The lane is
    /// not bounded by the mailbox's capacity. See [`Priority`](crate::message::Priority).
    ///
    /// # Errors
    ///
    /// [`SendError::Stopped`] with the message when the actor has stopped or is stopping.
    pub fn tell_priority<M>(&self, message: M) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        self.strong.tell_in(
            <A as Handler<M>>::__INDEX,
            message,
            crate::message::Priority::High,
        )
    }

    /// Sends `message`, waiting for room in a bounded mailbox: backpressure. Senders that wait are
    /// served in the order they began to wait, ahead of any later `tell`.
    ///
    /// # Errors
    ///
    /// Gives the message back in [`SendError::Stopped`] when the actor has stopped, including to a
    /// sender still waiting for room when it stops.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped while it waits for room, the message was not sent, and
    /// it is not lost either: it becomes a [dead letter](crate::broker::MessageBroker::dead_letters)
    /// ([`DeadLetterReason::SendCancelled`](crate::broker::DeadLetterReason::SendCancelled)), with its
    /// payload. To keep the message in hand instead, [`reserve`](ActorRef::reserve) room first, then
    /// send into the permit.
    pub async fn send<M>(&self, message: M) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        self.strong.send(<A as Handler<M>>::__INDEX, message).await
    }

    /// Sends `message` and waits for the handler's reply, typed by `M::Result`.
    ///
    /// `.await` the returned request; [`.timeout(duration)`](AskRequest::timeout) bounds the wait.
    /// Waits for room in a bounded mailbox. An ask allocates once (its reply channel).
    ///
    /// ```
    /// # use airssys_rt::prelude::*;
    /// # use std::time::Duration;
    /// # #[derive(Message)] #[message(result = u64)] struct Add(u64);
    /// # struct Counter(u64);
    /// # #[actor] impl Counter { fn add(&mut self, Add(n): Add) -> u64 { self.0 += n; self.0 } }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # let system = ActorSystem::new();
    /// let counter = system.spawn(Counter(0));
    /// assert_eq!(counter.ask(Add(2)).await.unwrap(), 2);
    /// assert_eq!(counter.ask(Add(3)).timeout(Duration::from_secs(1)).await.unwrap(), 5);
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// See [`AskError`](crate::AskError): not delivered (with the message), timed out, the handler
    /// panicked, or the actor stopped before replying.
    pub fn ask<M>(&self, message: M) -> AskRequest<'_, M>
    where
        A: Handler<M>,
        M: Message,
    {
        AskRequest::new(self.strong.handle(), <A as Handler<M>>::__INDEX, message)
    }

    /// A reference to this actor keyed by one message type it handles.
    pub fn recipient<M>(&self) -> Recipient<M>
    where
        A: Handler<M>,
        M: Message,
    {
        Recipient {
            strong: self.strong.clone(),
            index: <A as Handler<M>>::__INDEX,
            _message: PhantomData,
        }
    }

    /// A reference that does not keep the actor running.
    pub fn downgrade(&self) -> WeakActorRef<A> {
        WeakActorRef {
            handle: Arc::downgrade(self.strong.handle()),
            _actor: PhantomData,
        }
    }

    /// Asks the actor to stop: it finishes the message it is handling, runs `on_stop`, and stops with
    /// [`StopReason::Stopped`]. It refuses new messages at once (they come back as
    /// [`SendError::Stopped`]). The request overtakes queued messages, which are not handled: each
    /// becomes a dead letter, and each queued ask fails with [`AskError::Stopped`](crate::AskError::Stopped).
    ///
    /// A [supervised](crate::supervisor) actor that is stopped is not restarted, whatever its restart
    /// policy: its supervisor removes it, even if the request came while it waited for a restart.
    pub fn stop(&self) {
        self.strong.handle().farewell(Farewell::Stop);
    }

    /// Asks the actor to stop once its mailbox is empty: it refuses new messages at once (they come back
    /// as [`SendError::Stopped`]), handles every queued one, runs `on_stop`, and stops with
    /// [`StopReason::Drained`].
    ///
    /// A [supervised](crate::supervisor) actor that is drained is not restarted: its supervisor removes
    /// it once it has drained. Drained while it waited for a restart, it is restarted once, to handle
    /// what is queued, and then removed.
    pub fn drain(&self) {
        self.strong.handle().farewell(Farewell::Drain);
    }

    /// Stops the actor at once: the handler running now is abandoned at its next `.await` (a
    /// synchronous handler runs to its end), `on_stop` is not run, queued messages are not handled
    /// (queued asks fail with [`AskError::Stopped`](crate::AskError::Stopped)), and it stops with
    /// [`StopReason::Killed`]. A kill is abnormal: a [supervised](crate::supervisor) actor is restarted
    /// as its policy says (a kill while it waits for a restart changes nothing: it is not running).
    pub fn kill(&self) {
        self.strong.handle().signal(Signal::Kill);
    }

    /// Waits until the actor has stopped, and says why.
    pub async fn wait_for_stop(&self) -> StopReason {
        self.strong.handle().wait_for_stop().await
    }

    /// Whether the actor is still running.
    pub fn is_alive(&self) -> bool {
        !self.strong.handle().is_stopped()
    }
}

impl<A> Clone for ActorRef<A> {
    fn clone(&self) -> Self {
        ActorRef {
            strong: self.strong.clone(),
            _actor: PhantomData,
        }
    }
}

impl<A> PartialEq for ActorRef<A> {
    fn eq(&self, other: &Self) -> bool {
        self.strong.handle().address == other.strong.handle().address
    }
}

impl<A> Eq for ActorRef<A> {}

impl<A> Hash for ActorRef<A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.strong.handle().address.hash(state);
    }
}

impl<A> fmt::Debug for ActorRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActorRef({})", &self.strong.handle().id)
    }
}

/// The actor's identity: `worker-3 <Worker 17>` (see [`ActorId`]).
impl<A> fmt::Display for ActorRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.strong.handle().id, f)
    }
}

/// A reference to an actor that does not keep it running; [`upgrade`](WeakActorRef::upgrade) it to
/// send.
pub struct WeakActorRef<A> {
    handle: Weak<MailboxHandle>,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> WeakActorRef<A> {
    pub(crate) fn new(handle: &Arc<MailboxHandle>) -> Self {
        WeakActorRef {
            handle: Arc::downgrade(handle),
            _actor: PhantomData,
        }
    }

    /// A strong reference, if the actor is still running.
    pub fn upgrade(&self) -> Option<ActorRef<A>> {
        let handle = self.handle.upgrade()?;
        (!handle.is_stopped()).then(|| ActorRef::new(handle))
    }

    /// Sends `message` if the actor still runs, as [`ActorRef::tell`], without keeping it running.
    ///
    /// # Errors
    ///
    /// As [`ActorRef::tell`]; [`SendError::Stopped`] with the message if the actor is gone.
    pub fn tell<M>(&self, message: M) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        match self.upgrade() {
            Some(actor) => actor.tell(message),
            None => Err(SendError::Stopped(message)),
        }
    }

    /// Not available: an ask must keep its actor running until it answers, which a weak reference
    /// does not. Upgrade first: `weak.upgrade()` gives an [`ActorRef`] (or `None` if the actor is gone).
    #[doc(hidden)]
    pub fn ask<M>(&self, _message: M) -> AskRequest<'_, M>
    where
        M: Message,
        Self: UpgradeToAsk,
    {
        unreachable!("`UpgradeToAsk` has no implementation")
    }

    /// Waits until the actor stops for good, without keeping it running, and says why; as
    /// [`ActorRef::wait_for_stop`]. `None` if it stopped so long ago that its state is gone (no
    /// reference, strong or weak, was waiting).
    pub async fn wait_for_stop(&self) -> Option<StopReason> {
        let handle = self.handle.upgrade()?;
        Some(handle.wait_for_stop().await)
    }
}

impl<A> Clone for WeakActorRef<A> {
    fn clone(&self) -> Self {
        WeakActorRef {
            handle: self.handle.clone(),
            _actor: PhantomData,
        }
    }
}

impl<A> fmt::Debug for WeakActorRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WeakActorRef<{}>", core::any::type_name::<A>())
    }
}

/// Never implemented: what makes [`WeakActorRef::ask`] an error that says what to write.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a `WeakActorRef` cannot ask: it does not keep its actor running until it answers",
    label = "upgrade it first",
    note = "`weak.upgrade()` gives an `ActorRef` while the actor runs: `if let Some(actor) = weak.upgrade() {{ actor.ask(..).await }}`"
)]
pub trait UpgradeToAsk {}

/// A reference to any actor that handles `M`, whatever its type: for a component that only sends
/// one kind of message (a logger, a subscriber list).
///
/// Made with [`ActorRef::recipient`]. It keeps the actor running like an [`ActorRef`], and sends
/// with the same cost: the handler is chosen when the recipient is made, not per message.
pub struct Recipient<M> {
    strong: Strong,
    index: u32,
    _message: PhantomData<fn(M)>,
}

impl<M: Message> Recipient<M> {
    /// A recipient of handler `index` of the actor at `handle`; the caller checked the index.
    pub(crate) fn new(handle: Arc<MailboxHandle>, index: u32) -> Self {
        Recipient {
            strong: Strong::new(handle),
            index,
            _message: PhantomData,
        }
    }

    /// The actor's address.
    pub fn address(&self) -> ActorAddress {
        self.strong.handle().address
    }

    /// The actor's identity: address, type and name (as [`Display`](fmt::Display) prints it).
    pub fn id(&self) -> &ActorId {
        &self.strong.handle().id
    }

    /// As [`ActorRef::tell`].
    ///
    /// # Errors
    ///
    /// As [`ActorRef::tell`]: the message comes back.
    pub fn tell(&self, message: M) -> Result<(), SendError<M>> {
        self.strong.tell(self.index, message)
    }

    /// As [`ActorRef::tell_priority`].
    ///
    /// # Errors
    ///
    /// As [`ActorRef::tell_priority`]: the message comes back.
    pub fn tell_priority(&self, message: M) -> Result<(), SendError<M>> {
        self.strong
            .tell_in(self.index, message, crate::message::Priority::High)
    }

    /// As [`ActorRef::send`], including its cancel safety.
    ///
    /// # Errors
    ///
    /// As [`ActorRef::send`]: the message comes back.
    pub async fn send(&self, message: M) -> Result<(), SendError<M>> {
        self.strong.send(self.index, message).await
    }

    /// As [`ActorRef::ask`].
    pub fn ask(&self, message: M) -> AskRequest<'_, M> {
        AskRequest::new(self.strong.handle(), self.index, message)
    }

    /// Whether the actor is still running.
    pub fn is_alive(&self) -> bool {
        !self.strong.handle().is_stopped()
    }

    /// Waits until the actor has stopped, and says why.
    pub async fn wait_for_stop(&self) -> StopReason {
        self.strong.handle().wait_for_stop().await
    }

    pub(crate) fn strong(&self) -> &Strong {
        &self.strong
    }

    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    /// Runs `watcher` when the actor stops for good (at once if it has); returns its id.
    pub(crate) fn watch(&self, watcher: crate::core::mailbox::Watcher) -> u64 {
        self.strong.handle().watch_with_id(|_| watcher)
    }

    /// Removes a watcher that has not run yet.
    pub(crate) fn unwatch(&self, id: u64) {
        self.strong.handle().unwatch(id);
    }

    /// Whether the actor refuses new messages (it stopped, or was asked to stop): sooner than
    /// `!is_alive()`.
    pub(crate) fn is_closed(&self) -> bool {
        self.strong.handle().refuses()
    }
}

impl<M> Clone for Recipient<M> {
    fn clone(&self) -> Self {
        Recipient {
            strong: self.strong.clone(),
            index: self.index,
            _message: PhantomData,
        }
    }
}

impl<M: Message> fmt::Debug for Recipient<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Recipient<{}>({})",
            M::MESSAGE_TYPE,
            &self.strong.handle().id
        )
    }
}

/// The actor's identity: `worker-3 <Worker 17>` (see [`ActorId`]).
impl<M: Message> fmt::Display for Recipient<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.strong.handle().id, f)
    }
}
