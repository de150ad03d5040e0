//! Replies to asks: the channel an asked message carries, and [`ReplySender`], the reply obligation a
//! handler can take with it to answer later.
//!
//! A handler that takes a `ReplySender<M::Result>` after its message (`#[actor]` recognises the
//! parameter) does not reply by returning: it answers with [`ReplySender::send`], now or later, from
//! a task it spawned, a later message, or another actor it sent the sender to. Meanwhile the actor
//! goes on with its mailbox, so one actor can have many requests in flight.
//!
//! ```
//! use airssys_rt::prelude::*;
//!
//! #[derive(Message)]
//! #[message(result = String)]
//! struct Fetch(u32);
//!
//! struct Gateway;
//!
//! #[actor]
//! impl Gateway {
//!     fn fetch(&mut self, Fetch(id): Fetch, reply: ReplySender<String>, ctx: &mut Context<Self>) {
//!         // The slow part runs in a task tied to the actor; the mailbox is free meanwhile.
//!         ctx.spawn(async move {
//!             let page = format!("page {id}"); // an HTTP call, say
//!             reply.send(page);
//!         });
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let system = ActorSystem::new();
//! let gateway = system.spawn(Gateway);
//! assert_eq!(gateway.ask(Fetch(7)).await?, "page 7");
//! # Ok(())
//! # }
//! ```
//!
//! A `ReplySender` dropped without an answer fails the ask at once with [`AskError::Unanswered`]
//! (never a hang); dropped by a panic in the actor's handler, with [`AskError::Panicked`] and that
//! panic. A told message gets a sender with no one to answer: [`ReplySender::send`] then does
//! nothing, and [`is_asked`](ReplySender::is_asked) says so.

use core::cell::RefCell;
use core::fmt;
use core::marker::PhantomData;

use tokio::sync::oneshot;

use crate::actor::error::ActorPanic;
#[cfg(doc)]
use crate::actor::error::AskError;
use crate::envelope::ErasedEnvelope;
use crate::message::Message;

/// What an ask's reply channel carries: the reply (type-erased as `Reply<M::Result>`), or why there is
/// none.
pub(crate) type ReplyResult = Result<ErasedEnvelope, NoReply>;

/// Why an ask got no reply although its message was handled.
#[derive(Debug)]
pub(crate) enum NoReply {
    /// The handler panicked.
    Panicked(ActorPanic),
    /// The handler's [`ReplySender`] was dropped unanswered.
    Dropped,
}

/// The reply to an ask, type-erased so that one mailbox carries every message type.
pub(crate) struct Reply<R>(pub(crate) R);

impl<R: Send + 'static> Message for Reply<R> {
    const MESSAGE_TYPE: &'static str = "airssys_rt::Reply";
    type Result = ();
}

pub(crate) fn reply<R: Send + 'static>(channel: oneshot::Sender<ReplyResult>, result: R) {
    // An asker that gave up (a timeout, a dropped future) is not an error.
    let _ = channel.send(Ok(ErasedEnvelope::new(Reply(result))));
}

/// Where the reply to the message being handled goes, if it was an ask. Owned by the actor's loop, so
/// that it can report a panic to the asker.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct ReplyTo(pub(crate) Option<oneshot::Sender<ReplyResult>>);

impl ReplyTo {
    /// Sends the handler's result to the asker, if any.
    pub(crate) fn send<R: Send + 'static>(&mut self, result: R) {
        if let Some(channel) = self.0.take() {
            reply(channel, result);
        }
    }

    /// Reports a handler's panic to its asker, and to the asks whose [`ReplySender`]s the panic
    /// dropped.
    pub(crate) fn fail(&mut self, panic: &ActorPanic) {
        if let Some(channel) = self.0.take() {
            let _ = channel.send(Err(NoReply::Panicked(panic.clone())));
        }
        fail_orphans(Some(panic));
    }
}

thread_local! {
    /// Reply channels of [`ReplySender`]s dropped by a panic in an actor's code on this thread, waiting
    /// for the code that caught the panic to fail them with it (see [`fail_orphans`]).
    static ORPHANS: RefCell<Vec<oneshot::Sender<ReplyResult>>> = const { RefCell::new(Vec::new()) };

    /// Set while the future of an `async` handler or hook that panicked is being dropped: its
    /// `ReplySender`s are dropped by that panic, though the thread is no longer unwinding.
    static DROPPING_PANICKED: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Runs `drop_it` (the drop of a future that panicked) so that the [`ReplySender`]s it drops count as
/// dropped by the panic.
pub(crate) fn dropping_panicked(drop_it: impl FnOnce()) {
    DROPPING_PANICKED.with(|flag| flag.set(true));
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            DROPPING_PANICKED.with(|flag| flag.set(false));
        }
    }
    let _reset = Reset;
    drop_it();
}

/// Fails the asks whose [`ReplySender`]s a panic dropped on this thread: with the panic, once the
/// code that caught it knows it, or as unanswered (`None`) when the actor carries on without one (a
/// handler that caught a panic itself).
pub(crate) fn fail_orphans(panic: Option<&ActorPanic>) {
    let orphans = ORPHANS.with(|orphans| core::mem::take(&mut *orphans.borrow_mut()));
    for channel in orphans {
        let failure = match panic {
            Some(panic) => NoReply::Panicked(panic.clone()),
            None => NoReply::Dropped,
        };
        let _ = channel.send(Err(failure));
    }
}

/// Whether a [`ReplySender`] was dropped by a panic on this thread.
pub(crate) fn has_orphans() -> bool {
    ORPHANS.with(|orphans| !orphans.borrow().is_empty())
}

/// The obligation to answer one ask, typed by the message's reply type `R` (`M::Result`).
///
/// A handler gets it by taking a `ReplySender<M::Result>` parameter after its message; see the
/// [module documentation](self). It is `Send`: move it into a task, keep it in the actor's state, or
/// send it to another actor inside a message, and answer with [`send`](ReplySender::send). Dropping it
/// unanswered fails the ask with [`AskError::Unanswered`].
#[must_use = "dropping a `ReplySender` fails the ask with `AskError::Unanswered`; answer it with `send`"]
pub struct ReplySender<R> {
    channel: Option<oneshot::Sender<ReplyResult>>,
    message_type: &'static str,
    _reply: PhantomData<fn(R)>,
}

impl<R: Send + 'static> ReplySender<R> {
    pub(crate) fn new(
        channel: Option<oneshot::Sender<ReplyResult>>,
        message_type: &'static str,
    ) -> Self {
        ReplySender {
            channel,
            message_type,
            _reply: PhantomData,
        }
    }

    /// Answers the ask. Does nothing if the message was told, or if the asker gave up (a timeout).
    pub fn send(mut self, reply: R) {
        crate::observe::replied(self.message_type);
        if let Some(channel) = self.channel.take() {
            self::reply(channel, reply);
        }
    }

    /// Whether the message was asked (someone waits for this reply) rather than told.
    pub fn is_asked(&self) -> bool {
        self.channel.is_some()
    }

    /// Whether no one waits for the reply any more: the message was told, or the asker gave up (its
    /// timeout passed, or its future was dropped). Work done only for the reply can be skipped.
    pub fn is_closed(&self) -> bool {
        self.channel
            .as_ref()
            .is_none_or(|channel| channel.is_closed())
    }

    /// The [`MESSAGE_TYPE`](Message::MESSAGE_TYPE) of the message this replies to.
    pub fn message_type(&self) -> &'static str {
        self.message_type
    }
}

impl<R> Drop for ReplySender<R> {
    fn drop(&mut self) {
        let Some(channel) = self.channel.take() else {
            return;
        };
        let by_panic = std::thread::panicking() || DROPPING_PANICKED.with(core::cell::Cell::get);
        if by_panic && crate::actor::running::running_actor().is_some() {
            // Dropped by a panic in an actor's handler: the code that catches it fails the ask with
            // the panic, which is only known there.
            ORPHANS.with(|orphans| orphans.borrow_mut().push(channel));
        } else {
            let _ = channel.send(Err(NoReply::Dropped));
        }
    }
}

impl<R> fmt::Debug for ReplySender<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplySender")
            .field("message", &self.message_type)
            .field("asked", &self.channel.is_some())
            .finish()
    }
}
