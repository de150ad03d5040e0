//! Work tied to an actor: tasks whose output comes back to it as a message, and streams whose items
//! do.
//!
//! [`Context::spawn`] runs a future next to the actor, in the system's runtime, and sends its output
//! to the actor as a message (or nothing, for a future of `()`): the actor's mailbox stays free while
//! the work runs, and its state is only ever touched by its handlers. [`Context::attach_stream`] does
//! the same for each item of a stream.
//!
//! ```
//! use airssys_rt::prelude::*;
//!
//! #[derive(Message)]
//! struct Load(u32);
//!
//! #[derive(Message)]
//! struct Loaded(u32, String);
//!
//! #[derive(Message)]
//! #[message(result = usize)]
//! struct Count;
//!
//! #[derive(Default)]
//! struct Cache {
//!     pages: Vec<String>,
//! }
//!
//! #[actor]
//! impl Cache {
//!     fn load(&mut self, Load(id): Load, ctx: &mut Context<Self>) {
//!         // Runs beside the actor; the output comes back as a `Loaded` message.
//!         ctx.spawn(async move { Loaded(id, format!("page {id}")) });
//!     }
//!
//!     fn loaded(&mut self, Loaded(_, page): Loaded) {
//!         self.pages.push(page);
//!     }
//!
//!     async fn count(&mut self, _: Count, ctx: &mut Context<Self>) -> usize {
//!         ctx.join_tasks().await; // the loads in flight, as messages now queued after this one
//!         self.pages.len()
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let system = ActorSystem::new();
//! let cache = system.spawn(Cache::default());
//! cache.tell(Load(1))?;
//! cache.tell(Load(2))?;
//! cache.ask(Count).await?; // both outputs are queued once this returns
//! assert_eq!(cache.ask(Count).await?, 2);
//! # Ok(())
//! # }
//! ```
//!
//! # Rules
//!
//! - **Owned by the incarnation.** Tied tasks and streams are cancelled (dropped at their next
//!   `.await`) when the incarnation that started them ends, however it ends, after its `on_stop`;
//!   `on_stop` can [`join_tasks`](Context::join_tasks) to let them finish first. A supervised actor
//!   that starts its tasks in `on_start` has one set of them, whatever the number of restarts.
//! - **A reference while running.** A running tied task or stream keeps the actor alive, as a message
//!   on its way would: an actor does not stop for lack of references while work it started can still
//!   send to it.
//! - **Nothing lost.** An output the actor can no longer receive (it stopped, or is stopping) becomes a
//!   [dead letter](crate::broker::DeadLetter). A bounded mailbox that is full makes the task wait for
//!   room: a stream is polled for its next item only once the last one is in the mailbox, so a bounded
//!   mailbox is the stream's backpressure. (An unbounded mailbox takes items as fast as the stream
//!   yields them.)
//! - **Panics** end the task only; tokio's panic hook prints them. A
//!   [`ReplySender`](crate::ReplySender) the task held fails its ask with
//!   [`AskError::Unanswered`](crate::AskError::Unanswered).

use core::fmt;
use core::future::Future;
use core::pin::pin;

use futures_core::Stream;
use tokio::task::{AbortHandle, JoinSet};

use crate::actor::{Actor, Context, Handler};
use crate::core::WeakSystem;
use crate::core::cell::Strong;
use crate::core::mailbox::Slot;
use crate::envelope::ErasedEnvelope;
use crate::message::Message;

/// The tasks and streams of one incarnation: aborted when it ends (with its [`Context`]). The set is
/// made by the first task: a `JoinSet` allocates, and most actors never spawn one.
#[derive(Default)]
pub(crate) struct Tasks {
    set: Option<JoinSet<()>>,
}

impl fmt::Debug for Tasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let running = self.set.as_ref().map_or(0, JoinSet::len);
        f.debug_struct("Tasks").field("running", &running).finish()
    }
}

/// What a tied task's output is: a message the actor `A` handles, or `()` for none.
#[diagnostic::on_unimplemented(
    message = "a task spawned by `{A}` returns `{Self}`, which `{A}` does not handle",
    label = "`{A}` has no handler for `{Self}`",
    note = "the output of a task from `ctx.spawn` comes back to the actor as a message: return `()`, \
            or a message type that the actor's `#[actor]` block handles"
)]
pub trait TaskOutput<A>: Send + 'static {
    /// The output as a message to `A` and the index of its handler, or `None` for `()`.
    #[doc(hidden)]
    fn __into_message(self) -> Option<(ErasedEnvelope, u32)>;
}

impl<A: Actor> TaskOutput<A> for () {
    #[inline]
    fn __into_message(self) -> Option<(ErasedEnvelope, u32)> {
        None
    }
}

impl<A: Handler<M>, M: Message> TaskOutput<A> for M {
    #[inline]
    fn __into_message(self) -> Option<(ErasedEnvelope, u32)> {
        Some((ErasedEnvelope::new(self), <A as Handler<M>>::__INDEX))
    }
}

/// One of an actor's stream's events, as the message the actor receives for it; see
/// [`Context::attach_stream`]. The actor handles `StreamMessage<T, S, F>` like any message.
///
/// Every instance shares one [`MESSAGE_TYPE`](Message::MESSAGE_TYPE), `airssys_rt::StreamMessage`;
/// the actor's handlers tell the instances apart by type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamMessage<T, S = (), F = ()> {
    /// The stream is attached: its first message, with the `started` value given to `attach_stream`.
    Started(S),
    /// An item of the stream.
    Next(T),
    /// The stream ended: its last message, with the `finished` value. Not sent if the stream was
    /// cancelled (its actor's incarnation ended first).
    Finished(F),
}

// Not what a user who forgot `#[derive(Message)]` is looking for.
#[diagnostic::do_not_recommend]
impl<T: Send + 'static, S: Send + 'static, F: Send + 'static> Message for StreamMessage<T, S, F> {
    const MESSAGE_TYPE: &'static str = "airssys_rt::StreamMessage";
    type Result = ();
}

/// A tied task or stream, to cancel it early. Dropping the handle does not cancel it.
#[derive(Debug, Clone)]
pub struct TaskHandle(AbortHandle);

impl TaskHandle {
    /// Cancels the task: it is dropped at its next `.await`, and sends nothing more.
    pub fn abort(&self) {
        self.0.abort();
    }

    /// Whether the task has ended (finished, cancelled, or panicked).
    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
}

/// Where a tied task delivers: its actor, counted as a reference.
struct Home {
    strong: Strong,
    system: WeakSystem,
}

impl Home {
    /// Delivers one message, waiting for room; whether the actor still takes messages. A message it
    /// no longer takes is a dead letter.
    async fn deliver(&self, message: ErasedEnvelope, index: u32) -> bool {
        let slot = Slot::new(message, index, 0);
        deliver(&self.strong, &self.system, slot).await
    }
}

/// Sends `slot` to `target`, waiting for room; whether the target still takes messages. A slot it
/// no longer takes is a dead letter. What timers and tied tasks deliver through.
pub(crate) async fn deliver(target: &Strong, system: &WeakSystem, slot: Slot) -> bool {
    match target.handle().send(slot).await {
        Ok(()) => true,
        Err(slot) => {
            // Its mailbox was closed when the message reached it.
            let reason = crate::core::dead_letter::DeadLetterReason::Closed;
            system.dead_letter(&target.handle().id, slot.message, false, reason);
            false
        }
    }
}

impl<A: Actor> Context<A> {
    /// Runs `future` beside the actor, tied to this incarnation, and sends its output back to the
    /// actor as a message (nothing for `()`). The actor goes on with its mailbox meanwhile. See the
    /// [rules](crate::actor::task#rules).
    ///
    /// Whether the actor handles the output is checked at compile time.
    pub fn spawn<T, F>(&mut self, future: F) -> TaskHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: TaskOutput<A>,
    {
        let home = self.home();
        self.spawn_tied(async move {
            if let Some((message, index)) = future.await.__into_message() {
                home.deliver(message, index).await;
            }
        })
    }

    /// Feeds `stream` to the actor: a [`StreamMessage::Started`]`(started)`, then a
    /// [`StreamMessage::Next`] per item, then [`StreamMessage::Finished`]`(finished)` when it ends.
    /// The stream is polled in a task tied to this incarnation, for its next item only once the last
    /// is in the mailbox (see the [rules](crate::actor::task#rules)); it stops early if the actor
    /// no longer takes messages.
    ///
    /// The actor must handle `StreamMessage<T, S, F>`: that is checked at compile time.
    pub fn attach_stream<T, S, F>(
        &mut self,
        stream: impl Stream<Item = T> + Send + 'static,
        started: S,
        finished: F,
    ) -> TaskHandle
    where
        A: Handler<StreamMessage<T, S, F>>,
        T: Send + 'static,
        S: Send + 'static,
        F: Send + 'static,
    {
        let home = self.home();
        let index = <A as Handler<StreamMessage<T, S, F>>>::__INDEX;
        self.spawn_tied(async move {
            let event = |event: StreamMessage<T, S, F>| ErasedEnvelope::new(event);
            if !home
                .deliver(event(StreamMessage::Started(started)), index)
                .await
            {
                return;
            }
            let mut stream = pin!(stream);
            while let Some(item) = core::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
                if !home.deliver(event(StreamMessage::Next(item)), index).await {
                    return;
                }
            }
            home.deliver(event(StreamMessage::Finished(finished)), index)
                .await;
        })
    }

    /// Waits until every task and stream tied to this incarnation has ended. Their outputs are then
    /// in the mailbox, queued after the message being handled.
    pub async fn join_tasks(&mut self) {
        if let Some(set) = &mut self.tasks.set {
            while set.join_next().await.is_some() {}
        }
    }

    /// Cancels every task and stream tied to this incarnation.
    pub fn abort_tasks(&mut self) {
        if let Some(set) = &mut self.tasks.set {
            set.abort_all();
        }
    }

    /// The number of tied tasks and streams still running.
    pub fn running_tasks(&mut self) -> usize {
        self.reap();
        self.tasks.set.as_ref().map_or(0, JoinSet::len)
    }

    fn home(&self) -> Home {
        Home {
            strong: Strong::new(self.handle().clone()),
            system: self.core().downgrade(),
        }
    }

    fn spawn_tied(&mut self, task: impl Future<Output = ()> + Send + 'static) -> TaskHandle {
        self.reap();
        crate::observe::task_spawned();
        let runtime = self.core().runtime().clone();
        let set = self.tasks.set.get_or_insert_with(JoinSet::new);
        TaskHandle(set.spawn_on(crate::observe::counted(task), &runtime))
    }

    /// Forgets the tasks that have ended, so that a long-lived actor's set does not grow.
    fn reap(&mut self) {
        if let Some(set) = &mut self.tasks.set {
            while set.try_join_next().is_some() {}
        }
    }
}
