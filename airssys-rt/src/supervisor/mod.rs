//! Supervision trees with Erlang/OTP semantics: supervisors restart the children that fail.
//!
//! A [`Supervisor`] is an actor that starts, watches, restarts and stops other actors, its children,
//! as its [`SupervisorSpec`] says. A child is declared with a [`ChildSpec`]: an id and a *factory*
//! that builds a fresh state for each incarnation. Supervisors nest: a child can be a supervisor
//! ([`ChildSpec::supervisor`]), so a tree of them isolates failures and escalates those it cannot fix.
//!
//! ```
//! use std::time::Duration;
//! use airssys_rt::prelude::*;
//! use airssys_rt::supervisor::{ChildSpec, Restart, Strategy, SupervisorSpec};
//!
//! #[derive(Message)]
//! #[message(result = u64)]
//! struct Charge(u64);
//!
//! struct Billing {
//!     total: u64,
//! }
//!
//! #[actor]
//! impl Billing {
//!     fn charge(&mut self, Charge(cents): Charge) -> u64 {
//!         assert!(cents > 0, "a charge of nothing");
//!         self.total += cents;
//!         self.total
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let system = ActorSystem::new();
//! let root = SupervisorSpec::new(Strategy::OneForOne)
//!     .intensity(3, Duration::from_secs(5))
//!     .child(ChildSpec::new("billing", || Billing { total: 0 }))
//!     .spawn(&system);
//! let billing = root.child::<Billing>("billing").await.unwrap();
//!
//! assert_eq!(billing.ask(Charge(5)).await.unwrap(), 5);
//! // The handler panics: the ask fails, and the supervisor restarts the actor with fresh state.
//! assert!(matches!(billing.ask(Charge(0)).await, Err(AskError::Panicked(_))));
//! // The same reference, the same mailbox: only the message that failed was lost.
//! assert_eq!(billing.ask(Charge(7)).await.unwrap(), 7);
//! # }
//! ```
//!
//! # Restarts
//!
//! When a child stops, its [`Restart`] policy and its stop reason decide whether it is restarted
//! (permanent: always; transient: after an abnormal stop; temporary: never), and the [`Strategy`]
//! which children restart with it. A restart builds a fresh state with the child's factory; the old
//! state's `on_stop` has run before, and the new one's `on_start` runs after, never overlapping.
//!
//! - **References stay valid.** A child keeps its address, its [`ActorRef`]s, its registered names
//!   and its mailbox across restarts: messages sent while it restarts wait in the mailbox. Only the
//!   message being handled when it failed is lost; if it was an `ask`, the caller gets
//!   [`AskError::Panicked`].
//! - **Starts are failures too.** A panic in the factory or in `on_start` counts as a failure of the
//!   child, restarted (or not) like any other.
//! - **Ordered.** Children start one after another, in order, each once the previous one's
//!   `on_start` has returned (it runs in the supervisor's task, as OTP's `init` blocks its supervisor);
//!   they stop in reverse order.
//! - **Intensity.** More than `max_restarts` restarts within `period` (default, as OTP: 1 in 5 s) and
//!   the supervisor gives up: it stops all its children and stops with
//!   [`StopReason::Escalated`], which its own supervisor handles as a
//!   failure, up to the root. Each restart of a group (one-for-all, rest-for-one) counts once.
//! - **Backoff.** With a [`Backoff`], restarts wait exponentially longer delays, with jitter.
//!
//! **Asked to end, a child is not restarted.** A child stopped or drained through a reference
//! ([`ActorRef::stop`](crate::ActorRef::stop), [`ActorRef::drain`](crate::ActorRef::drain)) is
//! removed once it has stopped, whatever its restart policy, as in Akka, where stopping a child is not
//! a failure. This holds when the request comes while the child waits for a restart (after a crash,
//! during a backoff delay): a stopped child is then not started again, and a drained one is started
//! once, to handle what is queued, then removed. A [`kill`](crate::ActorRef::kill) is a failure:
//! restarted as the policy says. A child that stops itself ([`Context::stop`]) is restarted as its
//! policy says: a permanent child is, a transient one is not, as in OTP.
//!
//! # Stopping
//!
//! A supervisor stops its children in reverse start order, each as its [`Shutdown`] says: asked to
//! drain its mailbox (handle what is queued, then stop) within a timeout, then killed. It does this
//! when it stops for any reason but a kill (killing a supervisor kills its children), when it gives
//! up, and for [`remove_child`](ActorRef::remove_child). [`ActorSystem::shutdown`](crate::ActorSystem::shutdown) stops supervisors,
//! which stop their children. When the supervisor restarts a group, it asks the others to stop
//! (`stop`: queued messages wait for the next incarnation) within the same timeouts.
//!
//! A supervisor keeps its children alive; it stops, like any actor, when the last reference to it is
//! dropped (a nested supervisor is referenced by its parent). A child that a supervisor does not
//! restart, or that is removed, stops for good: its references then see it stopped, its queued
//! messages become dead letters, and its monitors and links fire.
//!
//! # Departures from Erlang/OTP
//!
//! - A child that fails to start when its supervisor starts is handled as a failure (restarted within
//!   the intensity), rather than failing the supervisor's start: [`SupervisorSpec::spawn`] returns at
//!   once. A child added with [`add_child`](ActorRef::add_child) that fails its first start is not
//!   added, and the error says why, as in OTP.
//! - Monitors and links watch a child's identity, which survives restarts: see [`crate::actor::link`].
//! - A child that is not restarted is removed from its supervisor (OTP keeps the spec of a stopped
//!   permanent or transient child); add it again to restart it.
//!
//! # Observability
//!
//! Every start, exit, scheduled restart, restart, removal and escalation is a [`SupervisionEvent`] on
//! [`ActorSystem::supervision_events`](crate::ActorSystem::supervision_events);
//! [`ActorSystem::supervision_stats`](crate::ActorSystem::supervision_stats) counts them over the system,
//! [`ActorRef::<Supervisor>::stats`](ActorRef::stats) per supervisor.

mod event;
mod spec;

use core::any::TypeId;
use core::fmt;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::actor::actor_ref::Strong;
use crate::actor::mailbox::{Farewell, MailboxHandle, Signal, Slot};
use crate::actor::run::Dormant;
use crate::actor::{Actor, ActorRef, AskError, Context, Handler, StopReason, TimerId};
use crate::address::ActorAddress;
use crate::envelope::ErasedEnvelope;
use crate::message::Message;

pub(crate) use event::Supervision;
pub use event::{SupervisionEvent, SupervisionEventKind, SupervisionEvents, SupervisionStats};
use spec::ErasedChildSpec;
pub use spec::{Backoff, ChildSpec, Restart, Shutdown, Strategy, SupervisorSpec};

/// An actor that supervises others; made by [`SupervisorSpec::spawn`] or, nested, by
/// [`ChildSpec::supervisor`]. See the [module documentation](self).
///
/// Its [`ActorRef`] has the methods to manage its children at run time:
/// [`add_child`](ActorRef::add_child), [`remove_child`](ActorRef::remove_child),
/// [`child`](ActorRef::child), [`children`](ActorRef::children) and [`stats`](ActorRef::stats).
pub struct Supervisor {
    spec: SupervisorSpec,
    children: Vec<Child>,
    /// Where the incarnations of children report that they stopped.
    exits: mpsc::UnboundedReceiver<ChildExit>,
    exits_sender: mpsc::UnboundedSender<ChildExit>,
    /// Exits received while waiting for another child's, handled next.
    stashed: VecDeque<ChildExit>,
    /// When the restarts within the intensity period happened.
    restarts: VecDeque<Instant>,
    next_key: u64,
    random: u64,
    stats: SupervisorStats,
    given_up: bool,
    /// Restarts waiting for their backoff delay, cancelled if the supervisor stops first.
    delayed: Vec<TimerId>,
}

/// One child: its spec, its persistent identity, and what it is doing.
struct Child {
    key: u64,
    spec: ErasedChildSpec,
    /// Keeps the child alive across incarnations (it never stops for lack of references).
    strong: Strong,
    state: ChildState,
    /// Restarts so far.
    restarts: u32,
    /// Restarts since it last ran for the backoff's reset period.
    consecutive: u32,
    /// Whether a start was attempted (so the next start is a restart).
    attempted: bool,
    /// When the running incarnation started.
    started_at: Option<Instant>,
}

enum ChildState {
    Running,
    /// Between incarnations (waiting for a restart) or just stopped.
    Dormant(Dormant),
    /// Its incarnation is being started (`on_start` runs).
    Starting,
}

impl Drop for Child {
    /// A child dropped while it runs (its supervisor was killed) is killed: it finds its supervisor
    /// gone and stops for good.
    fn drop(&mut self) {
        if matches!(self.state, ChildState::Running) {
            self.strong.handle().signal(Signal::Kill);
        }
    }
}

/// An incarnation of a child that stopped, with the child's mailbox: what its supervisor receives.
pub(crate) struct ChildExit {
    key: u64,
    dormant: Dormant,
}

/// How an incarnation of a supervised child reaches its supervisor when it stops.
pub(crate) struct Parent {
    key: u64,
    exits: mpsc::UnboundedSender<ChildExit>,
    /// The supervisor's mailbox, to wake it. Not a counted reference: children do not keep their
    /// supervisor alive.
    supervisor: Arc<MailboxHandle>,
}

impl Parent {
    /// Hands the stopped incarnation to the supervisor; if the supervisor is gone, the child stops for
    /// good (the dormant actor drops).
    pub(crate) fn report(self, dormant: Dormant) {
        let exit = ChildExit {
            key: self.key,
            dormant,
        };
        if self.exits.send(exit).is_ok() {
            // The supervisor's mailbox is unbounded; if it is closed, the supervisor is stopping and
            // reads its exits directly.
            let _ = self.supervisor.sender.try_send(Slot {
                message: ErasedEnvelope::new(ChildExited),
                index: <Supervisor as Handler<ChildExited>>::__INDEX,
                timer: 0,
            });
        }
    }
}

// The messages a supervisor handles: hidden, public only because `#[actor]` implements `Handler` for
// them.

/// A child's incarnation stopped: its exit is waiting in the supervisor's exit queue.
#[doc(hidden)]
#[derive(Debug)]
pub struct ChildExited;

/// A backoff delay is over: restart these children (by key).
#[doc(hidden)]
#[derive(Debug)]
pub struct RestartDue {
    keys: Vec<u64>,
}

#[doc(hidden)]
pub struct AddChild {
    spec: ErasedChildSpec,
}

#[doc(hidden)]
#[derive(Debug)]
pub struct RemoveChild {
    id: Arc<str>,
}

#[doc(hidden)]
#[derive(Debug)]
pub struct GetChild {
    id: Arc<str>,
}

#[doc(hidden)]
#[derive(Debug)]
pub struct WhichChildren;

#[doc(hidden)]
#[derive(Debug)]
pub struct GetStats;

macro_rules! supervisor_messages {
    ($($name:ident => $result:ty;)*) => {$(
        impl Message for $name {
            const MESSAGE_TYPE: &'static str = concat!("airssys_rt::supervisor::", stringify!($name));
            type Result = $result;
        }
    )*};
}

supervisor_messages! {
    ChildExited => ();
    RestartDue => ();
    AddChild => Result<ChildRef, ChildError>;
    RemoveChild => Result<StopReason, ChildError>;
    GetChild => Result<ChildRef, ChildError>;
    WhichChildren => Vec<ChildInfo>;
    GetStats => SupervisorStats;
}

impl fmt::Debug for AddChild {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AddChild({})", self.spec.id)
    }
}

/// A child's handle, before it is typed.
#[doc(hidden)]
pub struct ChildRef {
    handle: Arc<MailboxHandle>,
    type_id: TypeId,
    type_name: &'static str,
}

impl fmt::Debug for ChildRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ChildRef<{}>({})",
            self.type_name, self.handle.cell.address
        )
    }
}

impl ChildRef {
    fn typed<A: Actor>(self, id: &str) -> Result<ActorRef<A>, ChildError> {
        if self.type_id == TypeId::of::<A>() {
            Ok(ActorRef::new(self.handle))
        } else {
            Err(ChildError::WrongType {
                id: id.into(),
                actual: self.type_name,
                expected: core::any::type_name::<A>(),
            })
        }
    }
}

/// One child, as [`ActorRef::<Supervisor>::children`](ActorRef::children) lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildInfo {
    /// Its id.
    pub id: Arc<str>,
    /// Its address.
    pub address: ActorAddress,
    /// Its actor type's name.
    pub actor: &'static str,
    /// Its restart policy.
    pub restart: Restart,
    /// Whether an incarnation is running (not waiting for a restart).
    pub running: bool,
    /// How many times it was restarted (a restart whose start failed counts too).
    pub restarts: u32,
}

/// One supervisor's counters, from [`ActorRef::<Supervisor>::stats`](ActorRef::stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SupervisorStats {
    /// Children it has now.
    pub children: usize,
    /// Children running now.
    pub running: usize,
    /// Incarnations of its children that stopped on their own.
    pub exits: u64,
    /// Restarts it made, including those whose start failed.
    pub restarts: u64,
}

/// Why a request to a supervisor failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChildError {
    /// No child has this id.
    NoSuchChild(Arc<str>),
    /// A child with this id already exists.
    DuplicateId(Arc<str>),
    /// The child is of another actor type.
    WrongType {
        /// The child's id.
        id: Arc<str>,
        /// Its actor type.
        actual: &'static str,
        /// The type asked for.
        expected: &'static str,
    },
    /// The child added with `add_child` failed its first start, for this reason; it was not added.
    StartFailed(StopReason),
    /// The supervisor has stopped (or is giving up).
    SupervisorStopped,
}

impl fmt::Display for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildError::NoSuchChild(id) => write!(f, "the supervisor has no child `{id}`"),
            ChildError::DuplicateId(id) => {
                write!(
                    f,
                    "the supervisor already has a child `{id}`: child ids are unique"
                )
            }
            ChildError::WrongType {
                id,
                actual,
                expected,
            } => write!(f, "child `{id}` is a `{actual}`, not a `{expected}`"),
            ChildError::StartFailed(reason) => write!(f, "the child failed to start: {reason}"),
            ChildError::SupervisorStopped => f.write_str("the supervisor has stopped"),
        }
    }
}

impl std::error::Error for ChildError {}

impl<M> From<AskError<M>> for ChildError {
    fn from(_: AskError<M>) -> Self {
        ChildError::SupervisorStopped
    }
}

/// How a supervisor stops a child.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StopMode {
    /// For a group restart: `stop`, the mailbox stays open for the next incarnation.
    Restart,
    /// For good: `drain`, the queued messages are handled first.
    Terminate,
}

impl Supervisor {
    pub(crate) fn new(spec: SupervisorSpec) -> Self {
        let (exits_sender, exits) = mpsc::unbounded_channel();
        Supervisor {
            spec,
            children: Vec::new(),
            exits,
            exits_sender,
            stashed: VecDeque::new(),
            restarts: VecDeque::new(),
            next_key: 0,
            random: 0,
            stats: SupervisorStats::default(),
            given_up: false,
            delayed: Vec::new(),
        }
    }

    fn position(&self, key: u64) -> Option<usize> {
        self.children.iter().position(|child| child.key == key)
    }

    fn event(&self, ctx: &Context<Self>, index: usize, kind: SupervisionEventKind) {
        let supervision = ctx.system().supervision();
        if supervision.events.has_subscribers() {
            let child = &self.children[index];
            supervision.events.report(SupervisionEvent {
                supervisor: ctx.address(),
                child: child.spec.id.clone(),
                address: child.strong.handle().cell.address,
                at: Instant::now(),
                kind,
            });
        }
    }

    /// Adds a child, not started yet.
    fn insert(&mut self, spec: ErasedChildSpec, ctx: &Context<Self>) -> u64 {
        let (handle, dormant) = spec.start.create(ctx.system(), spec.options.clone());
        handle.cell.set_supervised(true);
        self.next_key += 1;
        let key = self.next_key;
        self.children.push(Child {
            key,
            spec,
            strong: Strong::new(handle),
            state: ChildState::Dormant(dormant),
            restarts: 0,
            consecutive: 0,
            attempted: false,
            started_at: None,
        });
        key
    }

    /// Starts the dormant children among `keys`, in the order they were added. A failed start is
    /// queued as an exit, handled by [`process`](Supervisor::process).
    async fn start_group(&mut self, keys: &[u64], ctx: &mut Context<Self>) {
        for index in 0..self.children.len() {
            if keys.contains(&self.children[index].key) {
                self.start(index, ctx).await;
            }
        }
    }

    async fn start(&mut self, index: usize, ctx: &mut Context<Self>) {
        let child = &mut self.children[index];
        let ChildState::Dormant(mut dormant) =
            core::mem::replace(&mut child.state, ChildState::Starting)
        else {
            return;
        };
        if child.strong.handle().cell.farewell_asked() == Farewell::Stop {
            // Stopped for good while it waited for this start: it is not started, and `process`
            // removes it.
            dormant.reason = StopReason::Stopped;
            let key = child.key;
            self.stashed.push_back(ChildExit { key, dormant });
            return;
        }
        let parent = Parent {
            key: child.key,
            exits: self.exits_sender.clone(),
            supervisor: ctx.handle().clone(),
        };
        let start = child.spec.start.clone();
        let handle = child.strong.handle().clone();
        let first = !core::mem::replace(&mut child.attempted, true);
        if !first {
            // Every restart counts, whether the new incarnation starts or fails to.
            child.restarts += 1;
            self.stats.restarts += 1;
            ctx.system().supervision().restarts.incr();
        }
        match start.start(dormant, handle, ctx.system(), parent).await {
            Ok(()) => {
                let child = &mut self.children[index];
                child.state = ChildState::Running;
                child.started_at = Some(Instant::now());
                let kind = if first {
                    SupervisionEventKind::Started
                } else {
                    SupervisionEventKind::Restarted(child.restarts)
                };
                self.event(ctx, index, kind);
            }
            Err(dormant) => {
                let key = self.children[index].key;
                self.stashed.push_back(ChildExit { key, dormant });
            }
        }
    }

    /// Handles every exit received, until none is left.
    async fn process(&mut self, ctx: &mut Context<Self>) {
        loop {
            while let Ok(exit) = self.exits.try_recv() {
                self.stashed.push_back(exit);
            }
            let Some(exit) = self.stashed.pop_front() else {
                return;
            };
            self.handle_exit(exit, ctx).await;
        }
    }

    async fn handle_exit(&mut self, exit: ChildExit, ctx: &mut Context<Self>) {
        let ChildExit { key, dormant } = exit;
        let Some(index) = self.position(key) else {
            return;
        };
        if self.given_up {
            return;
        }
        let reason = dormant.reason.clone();
        self.stats.exits += 1;
        ctx.system().supervision().exits.incr();
        let child = &mut self.children[index];
        child.state = ChildState::Dormant(dormant);
        let ran_for = child.started_at.take().map(|started| started.elapsed());
        // Asked to stop or drain for good (or its mailbox closed): never restarted.
        let ended = child.strong.handle().refuses();
        let restart = !ended
            && match child.spec.restart {
                Restart::Permanent => true,
                Restart::Transient => !reason.is_normal(),
                Restart::Temporary => false,
            };
        self.event(ctx, index, SupervisionEventKind::Exited(reason.clone()));
        if !restart {
            self.remove(index, ctx);
            return;
        }
        if !self.allow_restart() {
            self.give_up(index, reason, ctx).await;
            return;
        }
        let (first, last) = match self.spec.strategy {
            Strategy::OneForOne => (index, index),
            Strategy::OneForAll => (0, self.children.len() - 1),
            Strategy::RestForOne => (index, self.children.len() - 1),
        };
        for other in (first..=last).rev() {
            if other != index {
                self.stop(other, StopMode::Restart, ctx).await;
            }
        }
        // Temporary children stopped with the group are not restarted.
        let group: Vec<u64> = self.children[first..=last]
            .iter()
            .map(|child| child.key)
            .collect();
        let mut keys = Vec::with_capacity(group.len());
        for key in group {
            let Some(position) = self.position(key) else {
                continue;
            };
            if self.children[position].spec.restart == Restart::Temporary {
                self.remove(position, ctx);
            } else {
                keys.push(key);
            }
        }
        let Some(index) = self.position(key) else {
            return;
        };
        let delay = self.backoff(index, ran_for);
        if delay.is_zero() && ran_for.is_some() {
            self.start_group(&keys, ctx).await;
        } else if delay.is_zero() {
            // It failed to start: restart it through the mailbox, so that a child whose start always
            // fails, under a permissive intensity, does not keep the supervisor from its other
            // messages (`stats`, a kill) in an endless loop of starts.
            let _ = ctx.actor_ref().tell(RestartDue { keys });
        } else {
            self.event(ctx, index, SupervisionEventKind::RestartScheduled(delay));
            self.delayed.retain(|&timer| ctx.is_pending(timer));
            self.delayed
                .push(ctx.send_after(RestartDue { keys }, delay));
        }
    }

    /// Records a restart; whether it is within the intensity.
    fn allow_restart(&mut self) -> bool {
        let now = Instant::now();
        self.restarts.push_back(now);
        // Only whether there are more than `max_restarts` matters: keep at most one more.
        let keep = (self.spec.max_restarts as usize).saturating_add(1);
        while let Some(&oldest) = self.restarts.front() {
            if now.duration_since(oldest) >= self.spec.period || self.restarts.len() > keep {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        self.restarts.len() <= self.spec.max_restarts as usize
    }

    /// The delay before restarting the child at `index`, whose last incarnation ran for `ran_for`
    /// (`None`: it failed to start), as the backoff says.
    fn backoff(&mut self, index: usize, ran_for: Option<Duration>) -> Duration {
        let Some(backoff) = self.spec.backoff else {
            return Duration::ZERO;
        };
        let child = &mut self.children[index];
        if ran_for.is_some_and(|ran_for| ran_for >= backoff.reset_after_period()) {
            child.consecutive = 0;
        }
        let attempt = child.consecutive;
        child.consecutive += 1;
        // SplitMix64 over a per-supervisor sequence: jitter without a dependency.
        self.random = self.random.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.random ^ child.strong.handle().cell.address.routing_key();
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let random = (z >> 11) as f64 / (1_u64 << 53) as f64;
        backoff.delay(attempt, random)
    }

    /// Stops the running child at `index` as its shutdown says, and waits until it has.
    async fn stop(&mut self, index: usize, mode: StopMode, ctx: &Context<Self>) {
        let child = &self.children[index];
        if !matches!(child.state, ChildState::Running) {
            return;
        }
        let key = child.key;
        let handle = child.strong.handle().clone();
        let shutdown = child.spec.shutdown;
        match (shutdown, mode) {
            (Shutdown::Brutal, _) => handle.signal(Signal::Kill),
            // This incarnation only: the mailbox stays open for the next.
            (_, StopMode::Restart) => handle.signal(Signal::Stop),
            (_, StopMode::Terminate) => handle.farewell(Farewell::Drain),
        }
        let dormant = match shutdown {
            Shutdown::Timeout(timeout) => {
                match tokio::time::timeout(timeout, self.wait_for_exit(key)).await {
                    Ok(dormant) => dormant,
                    Err(_) => {
                        handle.signal(Signal::Kill);
                        self.wait_for_exit(key).await
                    }
                }
            }
            Shutdown::Brutal | Shutdown::Infinity => self.wait_for_exit(key).await,
        };
        let reason = dormant.reason.clone();
        self.children[index].state = ChildState::Dormant(dormant);
        self.event(ctx, index, SupervisionEventKind::Exited(reason));
    }

    /// The exit of child `key`, stashing the others received meanwhile.
    async fn wait_for_exit(&mut self, key: u64) -> Dormant {
        if let Some(position) = self.stashed.iter().position(|exit| exit.key == key)
            && let Some(exit) = self.stashed.remove(position)
        {
            return exit.dormant;
        }
        loop {
            let exit = self
                .exits
                .recv()
                .await
                .expect("the supervisor holds a sender of its own exit queue");
            if exit.key == key {
                return exit.dormant;
            }
            self.stashed.push_back(exit);
        }
    }

    /// Removes the dormant child at `index`: it stops for good, with `reason`.
    /// Removes the child at `index`, which has stopped: it stops for good, with the reason of its last
    /// incarnation, which this returns.
    fn remove(&mut self, index: usize, ctx: &Context<Self>) -> StopReason {
        // A child whose start failed has its exit waiting in the stash.
        let key = self.children[index].key;
        if matches!(self.children[index].state, ChildState::Starting)
            && let Some(position) = self.stashed.iter().position(|exit| exit.key == key)
            && let Some(exit) = self.stashed.remove(position)
        {
            self.children[index].state = ChildState::Dormant(exit.dormant);
        }
        let reason = match &self.children[index].state {
            ChildState::Dormant(dormant) => dormant.reason.clone(),
            // Not reached: the supervisor removes only children that have stopped.
            ChildState::Running | ChildState::Starting => StopReason::Stopped,
        };
        self.event(ctx, index, SupervisionEventKind::Removed(reason.clone()));
        let child = self.children.remove(index);
        child.strong.handle().cell.set_supervised(false);
        reason
    }

    fn child_ref(&self, index: usize) -> ChildRef {
        let child = &self.children[index];
        ChildRef {
            handle: child.strong.handle().clone(),
            type_id: child.spec.start.type_id(),
            type_name: child.spec.start.type_name(),
        }
    }

    /// Stops every child, in reverse order, for good.
    async fn terminate_all(&mut self, ctx: &mut Context<Self>) {
        for timer in self.delayed.drain(..) {
            ctx.cancel_timer(timer);
        }
        while let Some(last) = self.children.len().checked_sub(1) {
            self.stop(last, StopMode::Terminate, ctx).await;
            self.remove(last, ctx);
        }
        self.stashed.clear();
    }

    async fn give_up(&mut self, index: usize, reason: StopReason, ctx: &mut Context<Self>) {
        self.given_up = true;
        ctx.system().supervision().escalations.incr();
        self.event(ctx, index, SupervisionEventKind::Escalated(reason.clone()));
        let child = self.children[index].spec.id.clone();
        self.terminate_all(ctx).await;
        ctx.stop_with(StopReason::Escalated {
            child,
            reason: Arc::new(reason),
        });
    }
}

#[crate::actor(crate = "crate")]
impl Supervisor {
    async fn on_start(&mut self, ctx: &mut Context<Self>) {
        let specs = core::mem::take(&mut self.spec.children);
        let keys: Vec<u64> = specs
            .into_iter()
            .map(|spec| self.insert(spec, ctx))
            .collect();
        self.start_group(&keys, ctx).await;
        self.process(ctx).await;
    }

    async fn on_stop(&mut self, ctx: &mut Context<Self>, _reason: &StopReason) {
        self.terminate_all(ctx).await;
    }

    async fn child_exited(&mut self, _: ChildExited, ctx: &mut Context<Self>) {
        self.process(ctx).await;
    }

    async fn restart_due(&mut self, RestartDue { keys }: RestartDue, ctx: &mut Context<Self>) {
        if !self.given_up {
            self.start_group(&keys, ctx).await;
            self.process(ctx).await;
        }
    }

    async fn add_child(
        &mut self,
        AddChild { spec }: AddChild,
        ctx: &mut Context<Self>,
    ) -> Result<ChildRef, ChildError> {
        if self.given_up {
            return Err(ChildError::SupervisorStopped);
        }
        if self.children.iter().any(|child| child.spec.id == spec.id) {
            return Err(ChildError::DuplicateId(spec.id));
        }
        let key = self.insert(spec, ctx);
        let index = self.children.len() - 1;
        self.start(index, ctx).await;
        // A failed first start is the caller's error, as in OTP: the child is not added.
        if self.stashed.iter().any(|exit| exit.key == key) {
            let reason = self.remove(index, ctx);
            self.process(ctx).await;
            return Err(ChildError::StartFailed(reason));
        }
        let reply = self.child_ref(index);
        self.process(ctx).await;
        Ok(reply)
    }

    async fn remove_child(
        &mut self,
        RemoveChild { id }: RemoveChild,
        ctx: &mut Context<Self>,
    ) -> Result<StopReason, ChildError> {
        let Some(index) = self.children.iter().position(|child| child.spec.id == id) else {
            return Err(ChildError::NoSuchChild(id));
        };
        self.stop(index, StopMode::Terminate, ctx).await;
        let key = self.children[index].key;
        let index = self.position(key).expect("a child is removed only here");
        let reason = self.remove(index, ctx);
        self.process(ctx).await;
        Ok(reason)
    }

    fn get_child(&mut self, GetChild { id }: GetChild) -> Result<ChildRef, ChildError> {
        let index = self
            .children
            .iter()
            .position(|child| child.spec.id == id)
            .ok_or(ChildError::NoSuchChild(id))?;
        Ok(self.child_ref(index))
    }

    fn which_children(&mut self, _: WhichChildren) -> Vec<ChildInfo> {
        self.children
            .iter()
            .map(|child| ChildInfo {
                id: child.spec.id.clone(),
                address: child.strong.handle().cell.address,
                actor: child.spec.start.type_name(),
                restart: child.spec.restart,
                running: matches!(child.state, ChildState::Running),
                restarts: child.restarts,
            })
            .collect()
    }

    fn get_stats(&mut self, _: GetStats) -> SupervisorStats {
        SupervisorStats {
            children: self.children.len(),
            running: self
                .children
                .iter()
                .filter(|child| matches!(child.state, ChildState::Running))
                .count(),
            ..self.stats
        }
    }
}

impl fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervisor")
            .field("strategy", &self.spec.strategy)
            .field("children", &self.children.len())
            .finish_non_exhaustive()
    }
}

/// Managing a supervisor's children at run time.
impl ActorRef<Supervisor> {
    /// Adds a child and starts it, after the existing ones; returns a reference to it, valid across its
    /// restarts.
    ///
    /// # Errors
    ///
    /// [`ChildError::DuplicateId`] if the id is taken; [`ChildError::StartFailed`] if its factory or
    /// `on_start` panicked (it is not added); [`ChildError::SupervisorStopped`].
    pub async fn add_child<A: Actor>(&self, spec: ChildSpec<A>) -> Result<ActorRef<A>, ChildError> {
        let id = spec.id.clone();
        self.ask(AddChild { spec: spec.erase() }).await??.typed(&id)
    }

    /// Stops the child `id` for good (as its [`Shutdown`] says) and removes it; returns why it stopped.
    ///
    /// # Errors
    ///
    /// [`ChildError::NoSuchChild`]; [`ChildError::SupervisorStopped`].
    pub async fn remove_child(&self, id: &str) -> Result<StopReason, ChildError> {
        self.ask(RemoveChild { id: id.into() }).await?
    }

    /// A reference to the child `id`, an `A`.
    ///
    /// # Errors
    ///
    /// [`ChildError::NoSuchChild`]; [`ChildError::WrongType`] if it is not an `A`;
    /// [`ChildError::SupervisorStopped`].
    pub async fn child<A: Actor>(&self, id: &str) -> Result<ActorRef<A>, ChildError> {
        self.ask(GetChild { id: id.into() }).await??.typed(id)
    }

    /// Every child, in start order.
    ///
    /// # Errors
    ///
    /// [`ChildError::SupervisorStopped`].
    pub async fn children(&self) -> Result<Vec<ChildInfo>, ChildError> {
        Ok(self.ask(WhichChildren).await?)
    }

    /// The supervisor's counters.
    ///
    /// # Errors
    ///
    /// [`ChildError::SupervisorStopped`].
    pub async fn stats(&self) -> Result<SupervisorStats, ChildError> {
        Ok(self.ask(GetStats).await?)
    }
}
