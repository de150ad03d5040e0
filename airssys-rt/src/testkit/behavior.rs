//! [`BehaviorTestKit`]: one actor's handlers and hooks run by the test itself, without a task of their
//! own, with a real [`Context`], recording what they did ([`Effect`]s).

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context as TaskContext, Poll};

use tokio::sync::oneshot;

use crate::actor::running::RunningAs;
use crate::actor::{Actor, ActorId, ActorRef, AskError, Context, Handler, ReplyTo, StopReason};
use crate::core::SpawnOptions;
use crate::core::dormant::Dormant;
use crate::core::mailbox::{Empty, ReplyResult, Slot};
use crate::envelope::ErasedEnvelope;
use crate::message::Message;
pub use crate::observe::Effect;
use crate::observe::Recorded;
use crate::testkit::Step;

/// One actor, not spawned: the test hands it messages and runs its hooks, each to its end, and checks
/// its replies, its state and the [`Effect`]s its code had, as Akka's `BehaviorTestKit` does.
///
/// The actor has a real mailbox, address and [`Context`]: handlers that take `ctx` work as they do in
/// a running actor. What they send to the actor itself (through [`ctx.actor_ref()`](Context::actor_ref),
/// a [timer](crate::actor::timer), a [tied task](crate::actor::task)) waits in its mailbox until the
/// test runs it with [`run_one`](BehaviorTestKit::run_one) or
/// [`run_queued`](BehaviorTestKit::run_queued). Other actors (and [probes](super::TestProbe)) are real,
/// in the kit's system. A handler that panics panics the test.
///
/// ```
/// use std::time::Duration;
/// use airssys_rt::prelude::*;
/// use airssys_rt::testkit::{BehaviorTestKit, Effect, TestSystem};
///
/// #[derive(Message, Clone, Debug)]
/// struct Tick;
///
/// #[derive(Message)]
/// #[message(result = u32)]
/// struct Count;
///
/// struct Heartbeat(u32);
///
/// #[actor]
/// impl Heartbeat {
///     fn on_start(&mut self, ctx: &mut Context<Self>) {
///         ctx.start_interval("beat", Tick, Duration::from_secs(1));
///     }
///     fn tick(&mut self, _: Tick) {
///         self.0 += 1;
///     }
///     fn count(&self, _: Count) -> u32 {
///         self.0
///     }
/// }
///
/// airssys_rt::testkit::run(|system: TestSystem| async move {
///     let mut kit = BehaviorTestKit::new(&system, Heartbeat(0));
///     kit.start().await;
///     let started = kit.take_effects();
///     let (delay, period) = started.expect_timer::<Tick>();
///     assert_eq!((delay, period), (Duration::from_secs(1), Some(Duration::from_secs(1))));
///
///     system.advance(Duration::from_secs(3)).await; // virtual time: no real wait
///     assert_eq!(kit.run_queued().await, 3);
///     assert_eq!(kit.ask(Count).await.expect_reply(), 3);
/// });
/// ```
pub struct BehaviorTestKit<A: Actor> {
    actor: A,
    ctx: Context<A>,
    effects: Vec<Effect>,
    /// The mailbox and its receiving side; dropped last, which stops the actor for good.
    dormant: Dormant,
}

impl<A: Actor> BehaviorTestKit<A> {
    /// `actor` in `system`, not started: its `on_start` runs on [`start`](BehaviorTestKit::start).
    pub fn new(system: &crate::ActorSystem, actor: A) -> Self {
        Self::with_options(system, actor, SpawnOptions::default())
    }

    /// As [`new`](BehaviorTestKit::new), with a name or a mailbox of its own.
    pub fn with_options(system: &crate::ActorSystem, actor: A, options: SpawnOptions) -> Self {
        let core = system.core();
        let (handle, mut dormant) = core.create::<A>(options);
        // Dropped with the kit: stopped, as a prepared actor never started.
        dormant.reason = StopReason::Stopped;
        BehaviorTestKit {
            actor,
            ctx: Context::new(handle, core.clone()),
            effects: Vec::new(),
            dormant,
        }
    }

    /// A reference to the actor: what is sent through it waits in its mailbox, for
    /// [`run_one`](BehaviorTestKit::run_one).
    pub fn actor_ref(&self) -> ActorRef<A> {
        self.ctx.actor_ref()
    }

    /// The actor's identity.
    pub fn id(&self) -> &ActorId {
        self.ctx.id()
    }

    /// The actor's state.
    pub fn state(&self) -> &A {
        &self.actor
    }

    /// The actor's state, to change.
    pub fn state_mut(&mut self) -> &mut A {
        &mut self.actor
    }

    /// Runs `on_start`.
    pub async fn start(&mut self) {
        let BehaviorTestKit { actor, ctx, .. } = self;
        let on_start = actor.on_start(ctx);
        record(&mut self.effects, self.dormant.cell.address, on_start).await;
        self.dormant
            .cell
            .set_state(crate::core::cell::ActorState::Running);
        self.note_stop();
    }

    /// Runs `on_stop` with `reason`, as the runtime does when the actor stops.
    pub async fn stop(&mut self, reason: StopReason) {
        self.dormant
            .cell
            .set_state(crate::core::cell::ActorState::Stopping);
        let BehaviorTestKit { actor, ctx, .. } = self;
        let on_stop = actor.on_stop(ctx, &reason);
        record(&mut self.effects, self.dormant.cell.address, on_stop).await;
    }

    /// Handles `message`, told, to the end of its handler (`.await` it).
    pub fn tell<M>(&mut self, message: M) -> Step<'_, ()>
    where
        A: Handler<M>,
        M: Message,
    {
        let slot = Slot::new(ErasedEnvelope::new(message), <A as Handler<M>>::__INDEX, 0);
        Box::pin(self.handle(slot))
    }

    /// Handles `message`, asked, to the end of its handler (`.await` it), and gives the [`Reply`]: there at once
    /// if the handler replied, later if it kept its [`ReplySender`](crate::ReplySender).
    pub fn ask<M>(&mut self, message: M) -> Step<'_, Reply<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        let (slot, reply) = crate::actor::ask::slot(message, <A as Handler<M>>::__INDEX);
        #[allow(
            clippy::async_yields_async,
            reason = "the handler has run once this resolves; the reply, awaitable, may come later"
        )]
        Box::pin(async move {
            self.handle(slot).await;
            Reply {
                channel: Some(reply),
                _message: core::marker::PhantomData,
            }
        })
    }

    /// How many messages wait in the actor's mailbox (both lanes).
    pub fn queued(&self) -> usize {
        self.dormant.cell.depth()
    }

    /// Handles the next message waiting in the actor's mailbox (the priority lane first); returns
    /// whether there was one. A message of a timer cancelled since is discarded, as the runtime does.
    pub async fn run_one(&mut self) -> bool {
        loop {
            let slot = match self.dormant.cell.pop_priority() {
                Some(slot) => slot,
                None => match self.dormant.mailbox.try_recv() {
                    Ok(slot) => slot,
                    Err(Empty::Now | Empty::Closed) => return false,
                },
            };
            if slot.timer != 0 && !self.ctx.timers.admit(slot.timer) {
                continue;
            }
            self.handle(slot).await;
            return true;
        }
    }

    /// Handles the messages waiting in the actor's mailbox, and those they queue, until it is empty;
    /// returns how many.
    pub async fn run_queued(&mut self) -> usize {
        let mut handled = 0;
        while self.run_one().await {
            handled += 1;
        }
        handled
    }

    /// The effects recorded since the last call, oldest first.
    pub fn take_effects(&mut self) -> Effects {
        Effects(core::mem::take(&mut self.effects))
    }

    async fn handle(&mut self, slot: Slot) {
        let BehaviorTestKit { actor, ctx, .. } = self;
        let Slot { message, index, .. } = slot;
        let handling = async move {
            let mut reply = ReplyTo::default();
            if let Some(message) = actor.__dispatch_sync(message, index, &mut reply, ctx) {
                actor.__dispatch(message, index, &mut reply, ctx).await;
            }
        };
        record(&mut self.effects, self.dormant.cell.address, handling).await;
        self.dormant.cell.count_handled();
        self.note_stop();
    }

    /// A stop the code asked for is an effect (the kit does not stop the actor: the test decides).
    fn note_stop(&mut self) {
        if let Some(reason) = self.ctx.take_stop() {
            self.effects.push(Effect::StopRequested(reason));
        }
    }
}

/// Runs `code` as the actor at `address`, recording its effects.
async fn record<F: Future>(effects: &mut Vec<Effect>, address: crate::ActorAddress, code: F) {
    Recorded::new(address, effects, RunningAs::new(address, code)).await;
}

impl<A: Actor> fmt::Debug for BehaviorTestKit<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BehaviorTestKit({})", self.ctx.id())
    }
}

/// The reply to an ask a [`BehaviorTestKit`] ran: at once if the handler replied, later if it kept
/// its [`ReplySender`](crate::ReplySender). `.await` it for the reply as an ask would get it.
pub struct Reply<M: Message> {
    channel: Option<oneshot::Receiver<ReplyResult>>,
    _message: core::marker::PhantomData<fn() -> M>,
}

impl<M: Message> Reply<M> {
    /// The reply if there is one by now, or why there is none; `None` while it may still come.
    pub fn try_reply(&mut self) -> Option<Result<M::Result, AskError<M>>> {
        let channel = self.channel.as_mut()?;
        let reply = match channel.try_recv() {
            Ok(reply) => Some(reply),
            Err(oneshot::error::TryRecvError::Empty) => return None,
            Err(oneshot::error::TryRecvError::Closed) => None,
        };
        self.channel = None;
        Some(crate::actor::ask::reply_of::<M>(reply))
    }

    /// The reply, which must be there by now.
    ///
    /// # Panics
    ///
    /// If the handler has not replied yet (it kept its `ReplySender`), or there is no reply (the
    /// sender was dropped unanswered).
    #[track_caller]
    pub fn expect_reply(mut self) -> M::Result {
        match self.try_reply() {
            Some(Ok(reply)) => reply,
            Some(Err(error)) => panic!(
                "expected a reply to the `{}` ask, but there is none: {error}",
                M::MESSAGE_TYPE
            ),
            None => panic!(
                "expected a reply to the `{}` ask, but the handler has not replied yet (it keeps \
                 its ReplySender: run what answers it, then `.await` the reply)",
                M::MESSAGE_TYPE
            ),
        }
    }
}

impl<M: Message> Future for Reply<M> {
    type Output = Result<M::Result, AskError<M>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let Some(channel) = self.channel.as_mut() else {
            panic!("`Reply` polled after it completed");
        };
        let reply = core::task::ready!(Pin::new(channel).poll(cx));
        self.channel = None;
        Poll::Ready(crate::actor::ask::reply_of::<M>(reply.ok()))
    }
}

impl<M: Message> fmt::Debug for Reply<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reply<{}>", M::MESSAGE_TYPE)
    }
}

/// The [`Effect`]s a [`BehaviorTestKit`] recorded, with expectations on them; each failure lists them
/// all.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Effects(pub Vec<Effect>);

impl Effects {
    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The effects, oldest first.
    pub fn iter(&self) -> core::slice::Iter<'_, Effect> {
        self.0.iter()
    }

    #[track_caller]
    fn fail(&self, what: &str) -> ! {
        let mut listed = String::new();
        for effect in &self.0 {
            listed.push_str("\n    ");
            listed.push_str(&describe(effect));
        }
        if listed.is_empty() {
            listed.push_str(" none");
        }
        panic!("expected {what}; the effects recorded were:{listed}");
    }

    /// Checks that nothing was recorded.
    ///
    /// # Panics
    ///
    /// If something was, with what.
    #[track_caller]
    pub fn expect_none(&self) {
        if !self.is_empty() {
            self.fail("no effect");
        }
    }

    /// Checks that an `M` was sent to the actor `to`, and returns how many were.
    ///
    /// # Panics
    ///
    /// If none was.
    #[track_caller]
    pub fn expect_sent<M: Message>(&self, to: &ActorId) -> usize {
        let sent = self
            .iter()
            .filter(|effect| {
                matches!(effect, Effect::Sent { to: target, message_type }
                    if target == to && *message_type == M::MESSAGE_TYPE)
            })
            .count();
        if sent == 0 {
            self.fail(&format!("a `{}` sent to {to}", M::MESSAGE_TYPE));
        }
        sent
    }

    /// The actors spawned, in order.
    pub fn spawned(&self) -> Vec<ActorId> {
        self.iter()
            .filter_map(|effect| match effect {
                Effect::Spawned { child } => Some(child.clone()),
                _ => None,
            })
            .collect()
    }

    /// The first actor spawned.
    ///
    /// # Panics
    ///
    /// If none was.
    #[track_caller]
    pub fn expect_spawned(&self) -> ActorId {
        match self.spawned().into_iter().next() {
            Some(child) => child,
            None => self.fail("an actor spawned"),
        }
    }

    /// The first timer of `M` started: its delay, and its period if it repeats.
    ///
    /// # Panics
    ///
    /// If none was.
    #[track_caller]
    pub fn expect_timer<M: Message>(&self) -> (std::time::Duration, Option<std::time::Duration>) {
        let started = self.iter().find_map(|effect| match effect {
            Effect::TimerStarted {
                message_type,
                delay,
                period,
                ..
            } if *message_type == M::MESSAGE_TYPE => Some((*delay, *period)),
            _ => None,
        });
        match started {
            Some(timer) => timer,
            None => self.fail(&format!("a timer of `{}` started", M::MESSAGE_TYPE)),
        }
    }

    /// The reason of the stop the actor asked for.
    ///
    /// # Panics
    ///
    /// If it did not ask to stop.
    #[track_caller]
    pub fn expect_stop(&self) -> StopReason {
        let stop = self.iter().find_map(|effect| match effect {
            Effect::StopRequested(reason) => Some(reason.clone()),
            _ => None,
        });
        match stop {
            Some(reason) => reason,
            None => self.fail("a stop requested"),
        }
    }

    /// Checks that a deferred reply to an `M` was sent.
    ///
    /// # Panics
    ///
    /// If none was.
    #[track_caller]
    pub fn expect_replied<M: Message>(&self) {
        let replied = self.iter().any(|effect| {
            matches!(effect, Effect::Replied { message_type } if *message_type == M::MESSAGE_TYPE)
        });
        if !replied {
            self.fail(&format!("a deferred reply to `{}`", M::MESSAGE_TYPE));
        }
    }
}

impl IntoIterator for Effects {
    type Item = Effect;
    type IntoIter = std::vec::IntoIter<Effect>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// One effect, for people.
fn describe(effect: &Effect) -> String {
    match effect {
        Effect::Sent { to, message_type } => format!("sent a `{message_type}` to {to}"),
        Effect::Spawned { child } => format!("spawned {child}"),
        Effect::TimerStarted {
            timer,
            key,
            message_type,
            to,
            delay,
            period,
        } => {
            let key = key
                .as_ref()
                .map_or(String::new(), |key| format!(" `{key}`"));
            let every = period.map_or(String::new(), |period| format!(", then every {period:?}"));
            format!(
                "started timer {}{key}: a `{message_type}` to {to} in {delay:?}{every}",
                timer.0
            )
        }
        Effect::TimerCancelled { timer } => format!("cancelled timer {}", timer.0),
        Effect::TaskSpawned => "spawned a task".to_owned(),
        Effect::Replied { message_type } => format!("replied to a `{message_type}`"),
        Effect::StopRequested(reason) => format!("asked to stop ({reason})"),
    }
}
