//! Actors: state behind a mailbox, written as a plain `impl` block.
//!
//! ```
//! use airssys_rt::prelude::*;
//!
//! #[derive(Message)]
//! #[message(result = u64)]
//! struct Add(u64);
//!
//! #[derive(Message)]
//! struct Reset;
//!
//! struct Counter {
//!     total: u64,
//! }
//!
//! #[actor]
//! impl Counter {
//!     fn add(&mut self, Add(n): Add) -> u64 {
//!         self.total += n;
//!         self.total
//!     }
//!
//!     async fn reset(&mut self, _: Reset, ctx: &mut Context<Self>) {
//!         println!("{} resets", ctx.address());
//!         self.total = 0;
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let system = ActorSystem::new();
//! let counter = system.spawn(Counter { total: 0 });
//! counter.tell(Add(5))?; // fire and forget; on failure the error holds the message
//! assert_eq!(counter.ask(Add(1)).await?, 6); // request-reply, typed by `Add::Result`
//! counter.tell(Reset)?;
//! assert_eq!(counter.ask(Add(0)).await?, 0);
//! # Ok(())
//! # }
//! ```
//!
//! # Handlers
//!
//! In an `#[actor]` block, every method that takes `&mut self` or `&self` and a message is a handler:
//! `fn name(&mut self, message: M) -> M::Result`, optionally with a third parameter
//! `ctx: &mut Context<Self>`, optionally `async`. The return type must be the message's reply type
//! (`()` when it has none). Methods without a message (`fn total(&self) -> u64`) and associated
//! functions (`fn new() -> Self`) are left as they are; a method that takes a non-message argument but
//! is not a handler is marked `#[helper]`. Everything is checked at compile time: a handler whose
//! parameter is not a message, two handlers of one message, a reply of the wrong type, a handler future
//! that is not `Send`, and sending a message the actor does not handle are all compile errors.
//!
//! # Lifecycle hooks
//!
//! Methods with these names, in the same block, are hooks; each may take `ctx: &mut Context<Self>`:
//!
//! | hook | when | signature |
//! |---|---|---|
//! | `on_start` | before the first message | `fn on_start(&mut self, ctx)`, may be `async` |
//! | `on_stop` | after the last message, unless killed or the start failed | `fn on_stop(&mut self, ctx, reason: &StopReason)`, may be `async` |
//! | `on_panic` | after a handler panicked | `fn on_panic(&mut self, ctx, panic: &ActorPanic) -> AfterPanic` |
//!
//! A method whose name looks like a hook but is not one (`on_strat`, `on_stopped`) is an error, so a
//! misspelt hook does not silently never run.
//!
//! # Delivery and order
//!
//! - **Order:** messages from one sender to one actor are handled in the order they were sent.
//! - **At most once:** every message a mailbox accepts is handled once, or, if the actor stops first,
//!   not at all; an ask then fails with [`AskError::Stopped`]. A message the
//!   mailbox refuses comes back to the sender in the error.
//! - **Signals overtake messages:** [`stop`](ActorRef::stop) and [`kill`](ActorRef::kill) take effect
//!   after the current message, before the queued ones; [`drain`](ActorRef::drain) lets the queued ones
//!   be handled first. `stop` and `drain` refuse new messages from the moment they are called.
//! - **Nothing lost in a race:** a send racing a stop, drain or kill is either refused (the message
//!   comes back in the error) or accepted, and then handled or reported as a
//!   [dead letter](crate::broker::DeadLetter). The final drain of a stopped actor's mailbox waits for
//!   sends that were already writing into it. `examples/soak.rs` checks this, and every rule here, with
//!   exact per-message accounting under load.
//! - **No self-deadlock:** an actor that asks itself (from a handler or hook) gets
//!   [`AskError::AskedItself`] with its message at once: it could never reply while it waits. A cycle
//!   of asks between two actors is not detected: give such asks a
//!   [`timeout`](AskRequest::timeout).
//! - **Batches:** the actor handles up to 64 queued messages in a row before it yields to the scheduler.
//!
//! # Panics
//!
//! A panic in a handler or hook is caught: the runtime and other actors carry on. An ask whose handler
//! panicked fails with [`AskError::Panicked`]. Then `on_panic` decides:
//! [`AfterPanic::Stop`] (the default) stops the actor with [`StopReason::Panicked`]; [`AfterPanic::Resume`]
//! keeps its state and goes on with the next message.
//!
//! # Stopping
//!
//! An actor stops when asked to ([`stop`](ActorRef::stop), [`drain`](ActorRef::drain),
//! [`kill`](ActorRef::kill), [`Context::stop`]), when its system shuts down, after an unhandled panic,
//! when an actor it is [linked](Context::link) to fails, or when the last [`ActorRef`] and
//! [`Recipient`] to it are dropped (after handling what is left in its mailbox).
//! [`ActorRef::wait_for_stop`] says which. A [supervised](crate::supervisor) actor that stops may be
//! restarted instead: a new incarnation, built by its factory, takes over the same mailbox and
//! references; `wait_for_stop`, monitors and links see only its final stop. A supervised actor asked to
//! [`stop`](ActorRef::stop) or [`drain`](ActorRef::drain) is not restarted.
//!
//! A kill never runs `on_stop`, wherever it lands: during a handler, between two messages, or before
//! the task first ran. The messages still queued when an actor stops are dropped by the runtime, which
//! runs their `Drop`: a panic there is contained, so the stop is always published.

pub(crate) mod actor_ref;
pub(crate) mod ask;
pub mod blocking;
mod context;
pub(crate) mod error;
pub(crate) mod identity;
pub mod link;
pub mod permit;
mod prepared;
pub mod reply;
pub(crate) mod run;
pub(crate) mod running;
pub mod task;
pub mod timer;

use core::future::Future;
use std::any::TypeId;

pub use crate::core::mailbox::MailboxKind;
pub use actor_ref::{ActorRef, Recipient, WeakActorRef};
pub use ask::{AskFuture, AskRequest};
pub use context::Context;
pub use error::{ActorPanic, AskError, SendError, StopReason};
pub use identity::ActorId;
pub use link::{Down, Exited, MonitorRef};
pub use permit::SendPermit;
pub use prepared::PreparedActor;
pub use reply::ReplySender;
#[doc(hidden)]
pub use reply::ReplyTo;
pub use task::{StreamMessage, TaskHandle, TaskOutput};
pub use timer::TimerId;

use crate::envelope::ErasedEnvelope;
use crate::message::Message;

/// A type that runs as an actor. Implemented by `#[actor]`; see the [module documentation](self).
///
/// The hooks have default implementations that do nothing (and `on_panic` stops the actor); the
/// `#[actor]` block overrides those it defines.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an actor",
    label = "`{Self}` does not implement `Actor`",
    note = "add `#[actor]` to an `impl` block of its type that defines its handlers; if its type is generic \
            and has one, these type arguments do not meet that block's bounds (an actor's type parameters \
            must also be `Send + 'static`)"
)]
pub trait Actor: ActorByActorMacro {
    /// Runs in the actor's task before the first message. A panic here stops the actor with
    /// [`StopReason::Panicked`], without `on_stop`.
    fn on_start(&mut self, ctx: &mut Context<Self>) -> impl Future<Output = ()> + Send {
        let _ = ctx;
        async {}
    }

    /// Runs after the last message, with the reason the actor is stopping; not after a kill or a failed
    /// start.
    fn on_stop(
        &mut self,
        ctx: &mut Context<Self>,
        reason: &StopReason,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, reason);
        async {}
    }

    /// Decides what happens after a handler panicked.
    fn on_panic(&mut self, ctx: &mut Context<Self>, panic: &ActorPanic) -> AfterPanic {
        let _ = (ctx, panic);
        AfterPanic::Stop
    }
}

/// What `#[actor]` generates besides the hooks: the dispatch and the table of handled messages. A
/// supertrait of [`Actor`], so that an `Actor` written by hand is one clear error instead of a runtime
/// failure.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` implements `Actor` by hand, which does not work",
    label = "`Actor` is implemented by `#[actor]`",
    note = "remove this impl, and put `#[actor]` on an `impl {Self}` block: its methods that take a message are \
            the handlers, and `on_start`, `on_stop` and `on_panic` there are the hooks"
)]
pub trait ActorByActorMacro: Send + Sized + 'static {
    /// The message types this actor handles, in handler-index order. ActorByActorMacro by `#[actor]`.
    const __HANDLED: &'static [HandledMessage];

    /// Handles the message of handler `index` if that handler is synchronous, in place, without a
    /// future; gives the message back if it is `async`. ActorByActorMacro by `#[actor]`.
    fn __dispatch_sync(
        &mut self,
        message: ErasedEnvelope,
        index: u32,
        reply: &mut ReplyTo,
        ctx: &mut Context<Self>,
    ) -> Option<ErasedEnvelope>;

    /// A queued message of handler `index` as a dead letter: an `Ask<M>` gives up its reply channel
    /// (dropping it, so the asker learns at once) and becomes its `M`. Returns whether it was an ask.
    /// ActorByActorMacro by `#[actor]`.
    fn __unwrap_ask(message: ErasedEnvelope, index: u32) -> (ErasedEnvelope, bool);

    /// Handles the message of `async` handler `index`. ActorByActorMacro by `#[actor]`.
    fn __dispatch<'a>(
        &'a mut self,
        message: ErasedEnvelope,
        index: u32,
        reply: &'a mut ReplyTo,
        ctx: &'a mut Context<Self>,
    ) -> impl Future<Output = ()> + Send + 'a;
}

/// Implemented by `#[actor]` for each message type an actor handles; what `tell` and `ask` require.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not handle `{M}`",
    label = "`{Self}` has no handler for `{M}`",
    note = "add a method that takes `{M}` to the `#[actor]` impl block of `{Self}`"
)]
pub trait Handler<M>: Actor + HandlerByActorMacro<M> {
    /// This handler's position in [`ActorByActorMacro::__HANDLED`]. ActorByActorMacro by `#[actor]`.
    #[doc(hidden)]
    const __INDEX: u32 = <Self as HandlerByActorMacro<M>>::__INDEX;
}

/// Where `#[actor]` puts a handler's index, apart from [`Handler`], so that a `Handler` written by
/// hand is one clear error instead of a message dispatched to the wrong handler.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` implements `Handler<{M}>` by hand, which does not work",
    label = "`Handler` is implemented by `#[actor]`",
    note = "remove this impl, and add a method that takes `{M}` to the `#[actor]` impl block of `{Self}`"
)]
pub trait HandlerByActorMacro<M> {
    /// The handler's position in [`ActorByActorMacro::__HANDLED`].
    const __INDEX: u32;
}

/// The message type of an actor's handler `INDEX`, as `#[actor]` declares it: the one place where
/// the compiler checks that a handler's parameter is a message, so that one that is not is one error.
#[doc(hidden)]
pub trait HandlerMessage<const INDEX: u32> {
    /// The handler's message.
    type Message: Message;
}

/// `M` itself, if it is a message. `#[actor]` declares a handler's message as `<M as IsMessage>::Itself`:
/// for a type that is not a message, that is one error, and the type is then an error type, which
/// rustc reports nowhere else.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a message",
    label = "`{Self}` does not implement `Message`",
    note = "add `#[derive(Message)]` to the definition of `{Self}`"
)]
pub trait IsMessage {
    /// `Self`.
    type Itself: Message;
}

#[diagnostic::do_not_recommend]
impl<M: Message> IsMessage for M {
    type Itself = M;
}

/// A message no one can send (it has no values). Every actor handles it, so that every actor has at
/// least two `Handler` impls: with only one, rustc would infer a `tell`'s message type from it and
/// report "expected `Add`, found `Reset`" instead of "`Counter` does not handle `Reset`".
#[doc(hidden)]
#[derive(Debug)]
pub enum Unhandled {}

#[diagnostic::do_not_recommend]
impl Message for Unhandled {
    const MESSAGE_TYPE: &'static str = "airssys_rt::Unhandled";
    type Result = ();
}

impl<A: Actor> Handler<Unhandled> for A {}

impl<A: Actor> HandlerByActorMacro<Unhandled> for A {
    const __INDEX: u32 = u32::MAX;
}

/// A second message no one can send, handled by every actor like [`Unhandled`]: an actor with no
/// handler of its own still has two `Handler` impls, so that rustc does not infer a `tell`'s message
/// type from the only one and name it in the error.
#[doc(hidden)]
#[derive(Debug)]
pub enum NoHandler {}

#[diagnostic::do_not_recommend]
impl Message for NoHandler {
    const MESSAGE_TYPE: &'static str = "airssys_rt::NoHandler";
    type Result = ();
}

impl<A: Actor> Handler<NoHandler> for A {}

impl<A: Actor> HandlerByActorMacro<NoHandler> for A {
    const __INDEX: u32 = u32::MAX;
}

/// Checks, at compile time, that an `async` handler's future can move between threads (an actor's task
/// may run on any worker). Called by the code `#[actor]` generates; its name is what a user reads in
/// the error when a handler holds something that is not `Send` across an `.await`.
#[doc(hidden)]
pub fn handler_futures_must_be_send<F: Future + Send>(_: &F) {}

/// Checks, at compile time, that an `async` handler's future resolves to its message's reply type.
/// Called by the code `#[actor]` generates, at the handler's return type.
#[doc(hidden)]
pub fn async_handlers_reply_with_the_message_result<M: Message, F>(_: &F)
where
    F: Future<Output: RepliesWith<M::Result>>,
{
}

/// Checks, at compile time, that a synchronous handler returns its message's reply type. Called by the
/// code `#[actor]` generates, at the handler's return type.
#[doc(hidden)]
pub fn handlers_reply_with_the_message_result<M: Message, R: RepliesWith<M::Result>>(_: &R) {}

/// A handler's return type `Self` is its message's reply type `R`: implemented only for `R` itself, so
/// that a mismatch is one error that says which two types differ and what to change.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "the handler returns `{Self}`, but its message's reply type is `{R}`",
    label = "expected `{R}` here",
    note = "return `{R}`, or change the reply type in the message's `#[message(result = ..)]`"
)]
pub trait RepliesWith<R> {}

impl<R> RepliesWith<R> for R {}

/// What an actor does after one of its handlers panicked; returned by its `on_panic` hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterPanic {
    /// Stop, with [`StopReason::Panicked`]. The default.
    Stop,
    /// Keep the current state and go on with the next message.
    Resume,
}

/// One message type an actor handles: its identity and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandledMessage {
    /// The message's `TypeId`.
    pub type_id: TypeId,
    /// The message's [`MESSAGE_TYPE`](Message::MESSAGE_TYPE).
    pub message_type: &'static str,
}

impl HandledMessage {
    /// The entry for `M`.
    pub const fn of<M: Message>() -> Self {
        HandledMessage {
            type_id: TypeId::of::<M>(),
            message_type: M::MESSAGE_TYPE,
        }
    }
}
