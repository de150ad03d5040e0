#![doc = include_str!("../../README.md")]
//!
//! # Guide to the API
//!
//! | topic | where |
//! |---|---|
//! | messages: the contract, names, inline or boxed storage | [`mod@message`], [`trait@Message`], [`macro@Message`] |
//! | actors: handlers, hooks, delivery order, panics, stopping | [`mod@actor`], [`macro@actor`], [`Context`] |
//! | references: typed, by message, weak; tell, send, ask | [`ActorRef`], [`Recipient`], [`WeakActorRef`], [`AskRequest`](actor::AskRequest) |
//! | mailboxes and spawning: bounded or not, names, dedicated threads | [`MailboxKind`], [`SpawnOptions`], [`ActorSystem`] |
//! | replying later | [`actor::reply`], [`ReplySender`] |
//! | work and streams tied to an actor | [`actor::task`], [`StreamMessage`] |
//! | timers | [`actor::timer`] |
//! | code outside the runtime, blocking handlers | [`actor::blocking`] |
//! | identity in logs and errors | [`ActorId`], [`StopReason`], [`ActorPanic`] |
//! | monitors and links | [`actor::link`], [`Down`], [`Exited`] |
//! | routing by address and name, dead letters, topics, pools | [`broker`] |
//! | supervision trees | [`supervisor`] |
//! | envelopes and type erasure | [`envelope`] |
//! | testing: probes, mocks, virtual time, behaviour tests | `testkit` (feature `testkit`) |
//!
//! **Testing.** The test kit, module `testkit` (feature `testkit`), gives a system on tokio's paused
//! clock (timers, timeouts and backoff in virtual time, deterministically), probes and mocks that stand
//! in for an actor's neighbours, and behaviour tests that run one actor's handlers and record what they
//! did; its module documentation is the guide. **Observing a running system**: [`ActorSystem::supervision_events`] and
//! [`ActorSystem::supervision_stats`], [dead letters](broker::MessageBroker::dead_letters), [routing
//! statistics](broker::MessageBroker::stats), and the one-line panic reports
//! ([`ActorSystemBuilder::panic_reports`]); and the three below.
//!
//! # Observability
//!
//! **A live view**: [`ActorSystem::snapshot`] ([`introspection`]) gives each actor's identity,
//! supervisor, state, mailbox depth, messages handled and restarts, and prints the supervision tree.
//!
//! **Tracing** (feature `tracing`, on by default): spans and events through the `tracing` facade,
//! all with the target `airssys_rt` (`RUST_LOG=airssys_rt=debug` shows them all). Without a
//! subscriber, or with one that filters them out, each costs a relaxed load and a branch.
//!
//! | span or event | level | fields | when |
//! |---|---|---|---|
//! | span `actor` | INFO | `actor` (its `ActorId`, as printed), `actor.type`, `actor.name` (if named), `actor.address` | one per incarnation: everything the actor's code does runs in it (a supervised child's `on_start` too) |
//! | span `message` | DEBUG | `message.type` | one per handled message, inside the `actor` span; it *follows from* the span the message was sent in (a handler of another actor, a request's span), carried in the mailbox slot only while a subscriber records DEBUG |
//! | event `actor started` | DEBUG | `actor` | `on_start` returned |
//! | event `actor stopped` | DEBUG, WARN if abnormal | `actor`, `reason` | an incarnation ended |
//! | event `actor panicked` | ERROR | `actor`, `during` (the hook or the handler's message type), `panic` (its message), `then` (what happens next) | a handler or hook panicked |
//! | event `child started`, `child exited`, `child removed` | DEBUG | `supervisor`, `child`, `spec` (the child's id in its spec), `reason` | what a supervisor did |
//! | event `child restart scheduled`, `child restarted` | INFO | as above, `delay`, `restarts` | |
//! | event `child failure escalated` | ERROR | as above | restart intensity exceeded |
//!
//! The slot of a mailbox grows from 56 to 64 bytes with the feature (the sender's span, boxed), so
//! that the erased envelope itself stays at 48; BENCHMARKS.md has the costs.
//!
//! **Metrics** (feature `metrics`, off by default): through the `metrics` facade, to whatever
//! exporter the application installs (Prometheus, StatsD, OpenTelemetry; the suite's
//! `examples/observability.rs` scrapes Prometheus). Each actor registers its handles once, at spawn;
//! a message then costs the handles' updates and three clock reads (when it is sent, when its handler
//! begins and ends). Labels: `actor_type` (its type, without module paths) on all, `actor_name` where
//! the actor has a name (a supervised child's is its id in the spec), and `reason` where listed.
//! Unnamed actors of one type share their series.
//!
//! | metric | kind | labels | what |
//! |---|---|---|---|
//! | `airssys_messages_sent_total` | counter | type, name | messages accepted into the actor's mailbox (either lane) |
//! | `airssys_messages_refused_total` | counter | type, name, `reason` = `full` or `stopped` | messages given back to their sender (`SendError`, `AskError::Send`) |
//! | `airssys_messages_handled_total` | counter | type, name | messages handled (a handler that panicked included) |
//! | `airssys_messages_dead_lettered_total` | counter | type, name (of the target), `reason` = `stopped`, `closed`, `mailbox_full`, `send_cancelled` | dead letters, whether or not anyone subscribes to them |
//! | `airssys_handler_duration_seconds` | histogram | type, name | how long each handler ran (an `async` one to its end) |
//! | `airssys_mailbox_wait_seconds` | histogram | type, name | from send (before any wait for room) to the handler's start |
//! | `airssys_mailbox_depth` | gauge | type, name | messages waiting, set after each handled message; 0 when it stops |
//! | `airssys_actors_live` | gauge | type | actors spawned and not yet stopped for good |
//! | `airssys_restarts_total` | counter | type, name (of the child) | restarts by a supervisor |
//! | `airssys_escalations_total` | counter | type, name (of the supervisor) | failures a supervisor escalated |
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod actor;
pub mod address;
pub mod broker;
mod core;
pub mod envelope;
pub mod introspection;
pub mod message;
mod observe;
mod sink;
pub mod supervisor;
mod system;
#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub mod testkit;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use crate::core::SpawnOptions;
pub use actor::{
    Actor, ActorId, ActorPanic, ActorRef, AfterPanic, AskError, Context, Down, Exited, Handler,
    MailboxKind, MonitorRef, Recipient, ReplySender, SendError, SendPermit, StopReason,
    StreamMessage, TaskHandle, WeakActorRef,
};
pub use address::ActorAddress;
pub use message::{Message, Storage};
pub use system::{ActorSystem, ActorSystemBuilder, ShutdownReport};

/// Derives [`Message`] for a struct or an enum.
///
/// ```
/// use airssys_rt::Message;
///
/// #[derive(Message)]
/// #[message(result = u64)]
/// struct Add(u64);
/// ```
///
/// # Attributes
///
/// All go in `#[message(...)]`, separated by commas; each at most once.
///
/// | attribute | meaning | default |
/// |---|---|---|
/// | `result = Type` | the reply type, [`Message::Result`]: what `ask` returns | `()` |
/// | `priority = "high"` | [`Message::PRIORITY`]: the actor's priority lane, ahead of queued messages | `"normal"` |
/// | `name = "..."` | [`Message::MESSAGE_TYPE`], the stable name used in errors, dead letters and routing | `module::path::TypeName` |
/// | `inline` | demand inline storage; a compile error, naming the type and both sizes, if it does not fit | chosen by size |
/// | `boxed` | force boxed storage | chosen by size |
/// | `crate = "path"` | where the runtime crate is, if it was renamed or re-exported | `::airssys_rt` |
///
/// # Accepted and rejected shapes
///
/// Named, tuple and unit structs, and enums, generic or not: generic parameters get the bounds
/// `Send + 'static` that every message needs. Rejected, each with an error at the offending tokens:
/// unions, lifetime parameters (a message owns its data), unknown or repeated attribute keys, and
/// `inline` with `boxed`. A type that is not `Send` fails to compile with rustc's own error naming it.
pub use airssys_rt_macros::Message;

/// Turns an inherent `impl` block into an actor: its methods that take a message become handlers.
///
/// See the [`actor` module](mod@crate::actor) for handlers, hooks, and the guarantees.
///
/// ```
/// use airssys_rt::prelude::*;
///
/// #[derive(Message)]
/// #[message(result = String)]
/// struct Greet(String);
///
/// struct Greeter {
///     greeting: &'static str,
/// }
///
/// #[actor]
/// impl Greeter {
///     fn greet(&mut self, Greet(name): Greet) -> String {
///         format!("{}, {name}!", self.greeting)
///     }
///
///     fn on_start(&mut self, ctx: &mut Context<Self>) {
///         println!("greeter {} started", ctx.address());
///     }
/// }
/// ```
///
/// # Arguments
///
/// `#[actor(crate = "path")]`: where the runtime crate is, if it was renamed or re-exported.
///
/// # Errors at compile time
///
/// On anything but an inherent impl block; for a handler whose parameter is not a message, that takes
/// two messages, that is generic, or that takes `self` by value; for two handlers of one message type; for
/// a hook with the wrong signature, or a method named like a hook that is not one. The reply type and
/// the `Send`-ness of async handlers are checked by rustc, with errors at the handler.
pub use airssys_rt_macros::actor;

/// Marks a method of an [`#[actor]`](macro@actor) block as a plain method, not a handler, whatever it
/// takes: `#[helper] fn scale(&self, factor: u64) -> u64`. Outside an `#[actor]` block it is an error.
pub use airssys_rt_macros::helper;

/// The names almost every user of the crate needs.
pub mod prelude {
    pub use crate::actor::MailboxKind;
    pub use crate::actor::{
        Actor, ActorId, ActorPanic, ActorRef, AfterPanic, AskError, Context, Down, Exited,
        Recipient, ReplySender, SendError, StopReason, StreamMessage, WeakActorRef,
    };
    pub use crate::address::ActorAddress;
    pub use crate::core::SpawnOptions;
    pub use crate::message::Storage;
    pub use crate::system::{ActorSystem, ShutdownReport};
    /// The `Message` trait and its derive.
    pub use crate::{Message, actor, helper};
}
