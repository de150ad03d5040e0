//! The future of an `ask`: enqueue with a reply channel, wait for the reply, within an optional
//! deadline, giving the message back if it was never delivered.

use core::fmt;
use core::future::Future;
use core::mem;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;
use tokio::sync::oneshot;
use tokio::time::Sleep;

use crate::actor::error::{AskError, SendError};
use crate::actor::reply::{NoReply, Reply, ReplyResult};
use crate::core::mailbox::{Ask, MailboxHandle, Refused, Room, Slot};
use crate::envelope::ErasedEnvelope;
use crate::message::Message;

/// A wait for room in a full bounded mailbox. Boxed: only an ask that finds the mailbox full pays for
/// it, and the ask's own future stays small.
type Reserve<'a> = Pin<Box<dyn Future<Output = Result<Room<'a>, ()>> + Send + 'a>>;

enum State<'a, M> {
    /// Not sent yet.
    Start(M),
    /// The bounded mailbox was full: waiting for room, still holding the message.
    Reserving(M, Reserve<'a>),
    /// Delivered: waiting for the reply.
    Waiting(oneshot::Receiver<ReplyResult>),
    Done,
}

pin_project! {
    /// An ask: `.await` it, or set a [`timeout`](AskRequest::timeout) first. Made by
    /// [`ActorRef::ask`](crate::ActorRef::ask) and [`Recipient::ask`](crate::Recipient::ask); it does
    /// nothing until awaited (or [`blocking`](AskRequest::blocking)).
    ///
    /// # Cancel safety
    ///
    /// Nothing is lost silently. Dropped before it is first polled, it has sent nothing and drops the
    /// message. Dropped while it waits for room in a full bounded mailbox, it leaves the message as a
    /// dead letter ([`DeadLetterReason::SendCancelled`](crate::broker::DeadLetterReason::SendCancelled)),
    /// as a cancelled [`send`](crate::ActorRef::send) does. Dropped after delivery, it leaves the
    /// message to be handled; the reply is discarded.
    #[must_use = "an ask does nothing until it is awaited: add `.await`"]
    pub struct AskRequest<'a, M: Message> {
        handle: &'a MailboxHandle,
        index: u32,
        state: State<'a, M>,
        timeout: Option<Duration>,
        #[pin]
        deadline: Option<Sleep>,
    }

    impl<'a, M: Message> PinnedDrop for AskRequest<'a, M> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Checked before the state is moved out: most asks end `Done`, and pay one compare.
            if !matches!(this.state, State::Reserving(..)) {
                return;
            }
            if let State::Reserving(message, _) = mem::replace(this.state, State::Done) {
                this.handle.cancelled(ErasedEnvelope::new(message), true);
            }
        }
    }
}

impl<'a, M: Message> AskRequest<'a, M> {
    pub(crate) fn new(handle: &'a MailboxHandle, index: u32, message: M) -> Self {
        AskRequest {
            handle,
            index,
            state: State::Start(message),
            timeout: None,
            deadline: None,
        }
    }

    /// Gives up after `timeout`, counted from when the ask is first polled (awaited).
    ///
    /// If the deadline passes while a bounded mailbox is still full, the ask fails with
    /// [`AskError::Send`]`(`[`SendError::Full`]`(message))`: the message comes back. If it passes
    /// after the message was delivered, the ask fails with [`AskError::Timeout`] and the message may
    /// still be handled (its reply is then discarded).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Waits for the reply by blocking this thread instead of `.await`: for synchronous code outside
    /// the runtime. The [`timeout`](AskRequest::timeout), if set, applies as it does to `.await`.
    ///
    /// # Errors
    ///
    /// As `.await`: see [`AskError`].
    ///
    /// # Panics
    ///
    /// When called inside a tokio runtime (but on an actor's dedicated thread), where blocking would
    /// stall the runtime; see [`blocking`](crate::actor::blocking).
    #[track_caller]
    pub fn blocking(self) -> Result<M::Result, AskError<M>> {
        crate::actor::blocking::assert_may_block("AskRequest::blocking");
        self.wait_blocking()
    }

    /// [`blocking`](AskRequest::blocking), once the caller has checked that it may block.
    pub(crate) fn wait_blocking(mut self) -> Result<M::Result, AskError<M>> {
        // The deadline is kept by the blocking loop, with the thread's clock: no runtime needed.
        let deadline = self.timeout.take().map(|timeout| Instant::now() + timeout);
        let mut ask = Box::pin(self);
        match crate::actor::blocking::block_on(ask.as_mut(), deadline) {
            Some(result) => result,
            None => ask.as_mut().expire(),
        }
    }
}

impl<M: Message> fmt::Debug for AskRequest<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AskRequest")
            .field("message", &M::MESSAGE_TYPE)
            .field("to", &self.handle.address)
            .finish_non_exhaustive()
    }
}

/// The slot of an ask of `message` to handler `index`, and where its reply comes.
pub(crate) fn slot<M: Message>(message: M, index: u32) -> (Slot, oneshot::Receiver<ReplyResult>) {
    let (reply, receiver) = oneshot::channel();
    let slot = Slot::new(ErasedEnvelope::new(Ask { message, reply }), index, 0);
    (slot, receiver)
}

/// The message back out of an ask's refused slot; its reply channel is dropped.
fn unsent<M: Message>(slot: Slot) -> M {
    slot.into_message::<Ask<M>>().message
}

impl<M: Message> AskRequest<'_, M> {
    /// What the ask fails with when its deadline passes now: the message back if it is still
    /// waiting for room, else a timeout.
    fn expire(self: Pin<&mut Self>) -> Result<M::Result, AskError<M>> {
        let this = self.project();
        match mem::replace(this.state, State::Done) {
            State::Start(message) | State::Reserving(message, _) => Err(AskError::Send(
                this.handle.refused(SendError::Full(message)),
            )),
            State::Waiting(_) | State::Done => Err(AskError::Timeout),
        }
    }
}

impl<'a, M: Message> Future for AskRequest<'a, M> {
    type Output = Result<M::Result, AskError<M>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let handle = self.handle;
        match self.poll_ask(cx) {
            // Counted once, here: a message given back to the asker.
            Poll::Ready(Err(AskError::Send(error))) => {
                Poll::Ready(Err(AskError::Send(handle.refused(error))))
            }
            other => other,
        }
    }
}

impl<'a, M: Message> AskRequest<'a, M> {
    fn poll_ask(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<<Self as Future>::Output> {
        let mut this = self.project();
        if let Some(timeout) = this.timeout.take() {
            this.deadline.set(Some(tokio::time::sleep(timeout)));
        }
        let expired = |deadline: Pin<&mut Option<Sleep>>, cx: &mut Context<'_>| {
            deadline
                .as_pin_mut()
                .is_some_and(|sleep| sleep.poll(cx).is_ready())
        };
        loop {
            match mem::replace(this.state, State::Done) {
                State::Start(message) => {
                    if crate::actor::running::running_actor() == Some(this.handle.address) {
                        return Poll::Ready(Err(AskError::AskedItself(message)));
                    }
                    let (slot, receiver) = slot(message, *this.index);
                    match this.handle.offer::<M>(slot) {
                        Ok(()) => *this.state = State::Waiting(receiver),
                        Err(Refused::Stopped(slot)) => {
                            return Poll::Ready(Err(AskError::Send(SendError::Stopped(unsent(
                                slot,
                            )))));
                        }
                        Err(Refused::Full(slot)) => {
                            let handle: &'a MailboxHandle = this.handle;
                            let reserve: Reserve<'a> = Box::pin(handle.mailbox.reserve());
                            *this.state = State::Reserving(unsent(slot), reserve);
                        }
                    }
                }
                State::Reserving(message, mut reserve) => match reserve.as_mut().poll(cx) {
                    // Asked to stop or drain while the ask waited for room: refused, as a new send.
                    Poll::Ready(Ok(_)) if this.handle.refuses() => {
                        return Poll::Ready(Err(AskError::Send(SendError::Stopped(message))));
                    }
                    Poll::Ready(Ok(room)) => {
                        let (slot, receiver) = slot(message, *this.index);
                        match room.send(slot) {
                            Ok(()) => {
                                crate::observe::sent(&this.handle.id, M::MESSAGE_TYPE);
                                *this.state = State::Waiting(receiver);
                            }
                            Err(slot) => {
                                return Poll::Ready(Err(AskError::Send(SendError::Stopped(
                                    unsent(slot),
                                ))));
                            }
                        }
                    }
                    Poll::Ready(Err(_)) => {
                        return Poll::Ready(Err(AskError::Send(SendError::Stopped(message))));
                    }
                    Poll::Pending if expired(this.deadline.as_mut(), cx) => {
                        return Poll::Ready(Err(AskError::Send(SendError::Full(message))));
                    }
                    Poll::Pending => {
                        *this.state = State::Reserving(message, reserve);
                        return Poll::Pending;
                    }
                },
                State::Waiting(mut receiver) => match Pin::new(&mut receiver).poll(cx) {
                    Poll::Ready(reply) => return Poll::Ready(reply_of::<M>(reply.ok())),
                    Poll::Pending if expired(this.deadline.as_mut(), cx) => {
                        return Poll::Ready(Err(AskError::Timeout));
                    }
                    Poll::Pending => {
                        *this.state = State::Waiting(receiver);
                        return Poll::Pending;
                    }
                },
                State::Done => panic!("`AskRequest` polled after it completed"),
            }
        }
    }
}

/// What an ask gets from its reply channel: the handler's reply, or why there is none.
pub(crate) fn reply_of<M: Message>(reply: Option<ReplyResult>) -> Result<M::Result, AskError<M>> {
    match reply {
        Some(Ok(reply)) => match reply.downcast::<Reply<M::Result>>() {
            Ok(Reply(result)) => Ok(result),
            Err(_) => unreachable!("the handler of `M` replies with `M::Result`"),
        },
        Some(Err(NoReply::Panicked(panic))) => Err(AskError::Panicked(panic)),
        Some(Err(NoReply::Dropped)) => Err(AskError::Unanswered),
        // The channel dropped unanswered: the actor stopped with the message unhandled.
        None => Err(AskError::Stopped),
    }
}

/// The former name of [`AskRequest`], which is the ask's future itself.
pub type AskFuture<'a, M> = AskRequest<'a, M>;
