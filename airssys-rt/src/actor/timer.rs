//! Timers: messages an actor schedules, to itself or to other actors, owned by its incarnation.
//!
//! ```
//! use std::time::Duration;
//! use airssys_rt::prelude::*;
//!
//! #[derive(Message, Clone)]
//! struct Tick;
//!
//! #[derive(Message)]
//! #[message(result = u32)]
//! struct Ticks;
//!
//! struct Heartbeat(u32);
//!
//! #[actor]
//! impl Heartbeat {
//!     fn on_start(&mut self, ctx: &mut Context<Self>) {
//!         // Re-armed by every incarnation: a restarted actor still ticks once a second.
//!         ctx.start_interval("beat", Tick, Duration::from_secs(1));
//!     }
//!
//!     fn tick(&mut self, _: Tick) {
//!         self.0 += 1;
//!     }
//!
//!     fn ticks(&self, _: Ticks) -> u32 {
//!         self.0
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let system = ActorSystem::new();
//! let heartbeat = system.spawn(Heartbeat(0));
//! tokio::time::sleep(Duration::from_millis(3500)).await;
//! assert_eq!(heartbeat.ask(Ticks).await.unwrap(), 3);
//! # }
//! ```
//!
//! # Rules
//!
//! - **Owned by the incarnation.** Every timer an actor starts through its [`Context`] is cancelled
//!   when that incarnation ends, however it ends (stop, panic, kill). A supervised actor that arms its
//!   timers in `on_start` has exactly one set of them, whatever the number of restarts.
//! - **Cancelled means not received.** A timer's messages to its own actor carry the timer's id; one
//!   that was already queued when its timer was cancelled, re-armed, or when the incarnation that
//!   started it ended, is discarded when it comes up, never handled. (Messages a timer sent to another
//!   actor are ordinary messages there.)
//! - **Keys.** [`start_timer`](Context::start_timer) and [`start_interval`](Context::start_interval)
//!   name a timer: starting one under a key that is in use replaces the old one, as in Akka's
//!   `TimerScheduler`. [`cancel_key`](Context::cancel_key) cancels it by name.
//! - **Intervals** tick at a fixed delay: a tick that could not be delivered on time (a full bounded
//!   mailbox) is not made up later. Each tick is a clone of the message.
//! - **References.** A pending timer keeps its target running, as an [`ActorRef`](crate::ActorRef)
//!   would: an actor with an interval to itself runs until it is stopped.
//! - **A target that stopped** gets a timer's message as a [dead letter](crate::broker::DeadLetter),
//!   and an interval to it ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::AbortHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::actor::{Actor, Context, Handler, Recipient};
use crate::core::WeakSystem;
use crate::core::cell::Strong;
use crate::core::mailbox::Slot;
use crate::core::registry::FxBuild;
use crate::envelope::ErasedEnvelope;
use crate::message::Message;

/// A timer started through a [`Context`]; [`Context::cancel_timer`] cancels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerId(pub(crate) u32);

/// The live timers of one incarnation, and their names. Dropped with its [`Context`] when the
/// incarnation ends, cancelling every timer.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    /// By id. Ids are sequential: Fx hashing spreads them, for a fraction of SipHash's cost.
    live: HashMap<u32, Live, FxBuild>,
    keys: HashMap<Arc<str>, u32>,
}

#[derive(Debug)]
struct Live {
    task: AbortHandle,
    repeating: bool,
    /// To the actor itself: its messages come back through [`Timers::admit`], which ends a one-shot
    /// timer. One to another actor is done when its task is.
    to_self: bool,
    key: Option<Arc<str>>,
}

impl Timers {
    /// Whether a message from timer `id` may be handled: the timer is live. A one-shot timer's message
    /// comes once, so the timer is done.
    pub(crate) fn admit(&mut self, id: u32) -> bool {
        match self.live.get(&id) {
            Some(live) if live.repeating => true,
            Some(_) => {
                self.forget(id);
                true
            }
            None => false,
        }
    }

    fn insert(&mut self, id: u32, live: Live) {
        if let Some(key) = &live.key
            && let Some(old) = self.keys.insert(key.clone(), id)
        {
            self.cancel(old);
        }
        // Finished one-shot timers to other actors never come through `admit`: prune them as timers
        // are added, so that the map stays the size of what is pending. (A finished one to the actor
        // itself has its message queued, still to be admitted.)
        if self.live.len() >= 64 && self.live.len().is_power_of_two() {
            let finished: Vec<u32> = self
                .live
                .iter()
                .filter(|(_, live)| !live.to_self && live.task.is_finished())
                .map(|(id, _)| *id)
                .collect();
            for id in finished {
                self.forget(id);
            }
        }
        self.live.insert(id, live);
    }

    fn forget(&mut self, id: u32) -> Option<Live> {
        let live = self.live.remove(&id)?;
        if let Some(key) = &live.key
            && self.keys.get(key) == Some(&id)
        {
            self.keys.remove(key);
        }
        Some(live)
    }

    fn cancel(&mut self, id: u32) -> bool {
        match self.forget(id) {
            Some(live) => {
                crate::observe::timer_cancelled(TimerId(id));
                live.task.abort();
                true
            }
            None => false,
        }
    }
}

impl Drop for Timers {
    fn drop(&mut self) {
        for live in self.live.values() {
            live.task.abort();
        }
    }
}

/// A repeating timer's period, and how to clone its message for each tick.
type Repeat<M> = (Duration, fn(&M) -> M);

/// Where a timer delivers, and how.
struct Target {
    strong: Strong,
    index: u32,
    /// The timer's id on its messages to its own actor; 0 for messages to others.
    tag: u32,
    system: WeakSystem,
}

impl Target {
    /// Delivers one message, waiting for room; whether the target still runs.
    async fn deliver<M: Message>(&self, message: M) -> bool {
        let slot = Slot::new(ErasedEnvelope::new(message), self.index, self.tag);
        crate::actor::task::deliver(&self.strong, &self.system, slot).await
    }
}

impl<A: Actor> Context<A> {
    /// Sends `message` to the actor itself after `delay`. Cancelled if this incarnation ends first.
    pub fn send_after<M>(&mut self, message: M, delay: Duration) -> TimerId
    where
        A: Handler<M>,
        M: Message,
    {
        self.start(None, message, delay, None)
    }

    /// Sends a clone of `message` to the actor itself every `period`, the first after one `period`,
    /// until cancelled or until this incarnation ends.
    pub fn send_interval<M>(&mut self, message: M, period: Duration) -> TimerId
    where
        A: Handler<M>,
        M: Message + Clone,
    {
        self.start(None, message, period, Some((period, M::clone)))
    }

    /// As [`send_after`](Context::send_after), named `key`: a timer already under `key` is replaced
    /// (its message is not received, even if already queued).
    pub fn start_timer<M>(
        &mut self,
        key: impl Into<Arc<str>>,
        message: M,
        delay: Duration,
    ) -> TimerId
    where
        A: Handler<M>,
        M: Message,
    {
        self.start(Some(key.into()), message, delay, None)
    }

    /// As [`send_interval`](Context::send_interval), named `key`: a timer already under `key` is
    /// replaced.
    pub fn start_interval<M>(
        &mut self,
        key: impl Into<Arc<str>>,
        message: M,
        period: Duration,
    ) -> TimerId
    where
        A: Handler<M>,
        M: Message + Clone,
    {
        self.start(Some(key.into()), message, period, Some((period, M::clone)))
    }

    /// Sends `message` to `recipient` after `delay`, unless this incarnation ends first.
    pub fn send_after_to<M: Message>(
        &mut self,
        recipient: &Recipient<M>,
        message: M,
        delay: Duration,
    ) -> TimerId {
        self.arm_to(recipient, message, delay, None)
    }

    /// Sends a clone of `message` to `recipient` every `period`, until cancelled, until this
    /// incarnation ends, or until the recipient stops.
    pub fn send_interval_to<M: Message + Clone>(
        &mut self,
        recipient: &Recipient<M>,
        message: M,
        period: Duration,
    ) -> TimerId {
        self.arm_to(recipient, message, period, Some((period, M::clone)))
    }

    /// Cancels a timer: its message is not received, even if already queued. Returns whether it was
    /// pending (a one-shot timer whose message was handled is not).
    pub fn cancel_timer(&mut self, timer: TimerId) -> bool {
        self.timers.cancel(timer.0)
    }

    /// Cancels the timer named `key`, as [`cancel_timer`](Context::cancel_timer).
    pub fn cancel_key(&mut self, key: &str) -> bool {
        match self.timers.keys.get(key) {
            Some(&id) => self.timers.cancel(id),
            None => false,
        }
    }

    /// Whether `timer` is pending: not cancelled, and, if it is a one-shot timer to this actor, its
    /// message not handled yet. (A one-shot timer to another actor stays pending until its message
    /// is sent.)
    pub fn is_pending(&self, timer: TimerId) -> bool {
        self.timers
            .live
            .get(&timer.0)
            .is_some_and(|live| live.to_self || live.repeating || !live.task.is_finished())
    }

    /// Whether a timer named `key` is pending.
    pub fn has_timer(&self, key: &str) -> bool {
        self.timers.keys.contains_key(key)
    }

    fn start<M>(
        &mut self,
        key: Option<Arc<str>>,
        message: M,
        delay: Duration,
        repeat: Option<Repeat<M>>,
    ) -> TimerId
    where
        A: Handler<M>,
        M: Message,
    {
        let id = self.handle().next_timer_id();
        let target = self.target_of(
            Strong::new(self.handle().clone()),
            <A as Handler<M>>::__INDEX,
            id,
        );
        self.arm(id, key, message, delay, repeat, target)
    }

    /// A timer to another actor: its messages are ordinary messages there (no timer id).
    fn arm_to<M: Message>(
        &mut self,
        recipient: &Recipient<M>,
        message: M,
        delay: Duration,
        repeat: Option<Repeat<M>>,
    ) -> TimerId {
        let id = self.handle().next_timer_id();
        let target = self.target_of(recipient.strong().clone(), recipient.index(), 0);
        self.arm(id, None, message, delay, repeat, target)
    }

    fn target_of(&self, strong: Strong, index: u32, tag: u32) -> Target {
        Target {
            strong,
            index,
            tag,
            system: self.core().downgrade(),
        }
    }

    fn arm<M: Message>(
        &mut self,
        id: u32,
        key: Option<Arc<str>>,
        message: M,
        delay: Duration,
        repeat: Option<Repeat<M>>,
        target: Target,
    ) -> TimerId {
        let to_self = target.tag != 0;
        crate::observe::timer_started(
            TimerId(id),
            key.as_ref(),
            M::MESSAGE_TYPE,
            &target.strong.handle().id,
            delay,
            repeat.map(|(period, _)| period),
        );
        let task = match repeat {
            None => self.core().runtime().spawn(async move {
                tokio::time::sleep(delay).await;
                target.deliver(message).await;
            }),
            Some((period, clone)) => self.core().runtime().spawn(async move {
                let mut ticks = tokio::time::interval_at(Instant::now() + delay, period);
                ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
                loop {
                    ticks.tick().await;
                    if !target.deliver(clone(&message)).await {
                        return;
                    }
                }
            }),
        };
        self.timers.insert(
            id,
            Live {
                task: task.abort_handle(),
                repeating: repeat.is_some(),
                to_self,
                key,
            },
        );
        TimerId(id)
    }
}
