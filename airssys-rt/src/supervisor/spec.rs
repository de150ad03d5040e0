//! What a supervisor is told: its strategy, restart intensity, backoff, and children.

use core::any::TypeId;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::actor::run;
use crate::actor::{Actor, ActorRef, MailboxKind, PreparedActor};
use crate::core::dormant::Dormant;
use crate::core::dormant::Parent;
use crate::core::mailbox::MailboxHandle;
use crate::core::{Core, SpawnOptions};
use crate::supervisor::Supervisor;

/// Which children a supervisor restarts when one of them fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Only the failed child.
    OneForOne,
    /// Every child: the others are stopped (in reverse start order), then all are started again in
    /// order. For children that cannot work without each other.
    OneForAll,
    /// The failed child and those started after it: they are stopped in reverse order, then started
    /// again in order. For children that depend on the ones before them.
    RestForOne,
}

/// When a child that stopped is restarted, as in Erlang/OTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// Always. The default.
    Permanent,
    /// Only after an abnormal stop (see [`StopReason::is_normal`](crate::StopReason::is_normal)).
    Transient,
    /// Never: it is removed from the supervisor when it stops.
    Temporary,
}

/// How a supervisor stops a child, as in Erlang/OTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// Kill it at once ([`ActorRef::kill`]).
    Brutal,
    /// Ask it to stop, and kill it if it has not stopped within this time. The default for workers:
    /// 5 seconds.
    Timeout(Duration),
    /// Ask it to stop and wait as long as it takes. The default for supervisors, which stop their own
    /// children within their own timeouts.
    Infinity,
}

/// Exponential backoff between a child's failure and its restart, with jitter: for a child whose
/// failures come from outside (a database that is down), so that restarts do not hammer it.
///
/// The `n`-th consecutive restart of a child waits `min(max, min × 2ⁿ) × (1 + jitter × r)`, with `r`
/// uniform in `[0, 1)`: `min`, `2 min`, `4 min`, … up to `max`, each stretched by up to `jitter`. A child
/// that then runs for at least `reset_after` (by default `max`) has its count reset to zero. Its
/// mailbox keeps accepting messages while it waits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    jitter: f64,
    reset_after: Duration,
}

impl Backoff {
    /// Delays from `min` doubling up to `max`, without jitter.
    ///
    /// # Panics
    ///
    /// If `min` is longer than `max`.
    pub fn exponential(min: Duration, max: Duration) -> Self {
        assert!(
            min <= max,
            "Backoff::exponential: min ({min:?}) is longer than max ({max:?})"
        );
        Backoff {
            min,
            max,
            jitter: 0.0,
            reset_after: max,
        }
    }

    /// Stretches each delay by a random factor of up to `jitter` (0.2: up to 20% longer), so that
    /// children that failed together do not restart together.
    ///
    /// # Panics
    ///
    /// If `jitter` is negative or not finite.
    pub fn jitter(mut self, jitter: f64) -> Self {
        assert!(
            jitter.is_finite() && jitter >= 0.0,
            "Backoff::jitter must be finite and at least 0, not {jitter}"
        );
        self.jitter = jitter;
        self
    }

    /// How long a child must run after a restart for its next failure to count as the first again.
    pub fn reset_after(mut self, period: Duration) -> Self {
        self.reset_after = period;
        self
    }

    /// The delay before restart number `attempt` (0 for the first), with `random` in `[0, 1)`.
    pub(crate) fn delay(&self, attempt: u32, random: f64) -> Duration {
        let doubled = self
            .min
            .checked_mul(1_u32.checked_shl(attempt).unwrap_or(u32::MAX))
            .unwrap_or(self.max);
        doubled.min(self.max).mul_f64(1.0 + self.jitter * random)
    }

    pub(crate) fn reset_after_period(&self) -> Duration {
        self.reset_after
    }
}

/// How to run one child of a supervisor: its id, how to build its state, and how to restart and stop
/// it.
///
/// ```
/// use std::time::Duration;
/// use airssys_rt::prelude::*;
/// use airssys_rt::supervisor::{ChildSpec, Restart, Shutdown};
///
/// struct Worker {
///     done: u64,
/// }
///
/// #[actor]
/// impl Worker {}
///
/// let spec = ChildSpec::new("worker", || Worker { done: 0 })
///     .restart(Restart::Transient)
///     .shutdown(Shutdown::Timeout(Duration::from_secs(1)));
/// ```
#[must_use = "a child spec does nothing until it is given to a supervisor: `SupervisorSpec::child` or `add_child`"]
pub struct ChildSpec<A> {
    pub(crate) id: Arc<str>,
    factory: Arc<dyn Fn() -> A + Send + Sync>,
    pub(crate) restart: Restart,
    pub(crate) shutdown: Shutdown,
    /// Its mailbox and thread (the name is its id).
    pub(crate) options: SpawnOptions,
}

impl<A: Actor> ChildSpec<A> {
    /// A permanent child with id `id` (unique within its supervisor) whose every incarnation is built
    /// by `factory`: a restart starts from fresh state. Stopped with a 5-second timeout; the system's
    /// default mailbox.
    pub fn new(id: impl Into<Arc<str>>, factory: impl Fn() -> A + Send + Sync + 'static) -> Self {
        ChildSpec {
            id: id.into(),
            factory: Arc::new(factory),
            restart: Restart::Permanent,
            shutdown: Shutdown::Timeout(Duration::from_secs(5)),
            options: SpawnOptions::default(),
        }
    }

    /// When it is restarted. Default: [`Restart::Permanent`].
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// How it is stopped. Default: [`Shutdown::Timeout`] of 5 seconds.
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Its mailbox, instead of the system's default. It survives restarts.
    pub fn mailbox(mut self, kind: MailboxKind) -> Self {
        self.options = self.options.mailbox(kind);
        self
    }

    /// Runs every incarnation on a thread of its own, for handlers that block (see
    /// [`SpawnOptions::dedicated_thread`]).
    pub fn dedicated_thread(mut self) -> Self {
        self.options = self.options.dedicated_thread();
        self
    }

    pub(crate) fn erase(self) -> ErasedChildSpec {
        ErasedChildSpec {
            id: self.id.clone(),
            restart: self.restart,
            shutdown: self.shutdown,
            options: self.options.name(self.id),
            start: Arc::new(Factory(self.factory)),
        }
    }
}

impl ChildSpec<Supervisor> {
    /// A nested supervisor as a child: a permanent child stopped with [`Shutdown::Infinity`] (it stops
    /// its own children within their timeouts). A restart starts it, and its children, afresh.
    pub fn supervisor(id: impl Into<Arc<str>>, spec: SupervisorSpec) -> Self {
        ChildSpec::new(id, move || Supervisor::new(spec.clone()))
            .shutdown(Shutdown::Infinity)
            .mailbox(MailboxKind::Unbounded)
    }
}

impl<A> fmt::Debug for ChildSpec<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("actor", &core::any::type_name::<A>())
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .finish_non_exhaustive()
    }
}

/// A child spec without its actor type: what a supervisor keeps.
#[derive(Clone)]
pub(crate) struct ErasedChildSpec {
    pub(crate) id: Arc<str>,
    pub(crate) restart: Restart,
    pub(crate) shutdown: Shutdown,
    pub(crate) options: SpawnOptions,
    pub(crate) start: Arc<dyn Start>,
}

pub(crate) type StartFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Dormant>> + Send + 'a>>;

/// Creates and starts the incarnations of one actor type.
pub(crate) trait Start: Send + Sync {
    fn type_id(&self) -> TypeId;
    fn type_name(&self) -> &'static str;
    /// The child's mailbox, cell and route, with no incarnation running.
    fn create(&self, system: &Core, options: SpawnOptions) -> (Arc<MailboxHandle>, Dormant);
    /// Starts an incarnation on `dormant`; gives it back with the reason if the start failed.
    fn start<'a>(
        &'a self,
        dormant: Dormant,
        handle: Arc<MailboxHandle>,
        system: &'a Core,
        parent: Parent,
    ) -> StartFuture<'a>;
}

struct Factory<A>(Arc<dyn Fn() -> A + Send + Sync>);

impl<A: Actor> Start for Factory<A> {
    fn type_id(&self) -> TypeId {
        TypeId::of::<A>()
    }

    fn type_name(&self) -> &'static str {
        core::any::type_name::<A>()
    }

    fn create(&self, system: &Core, options: SpawnOptions) -> (Arc<MailboxHandle>, Dormant) {
        system.create::<A>(options)
    }

    fn start<'a>(
        &'a self,
        dormant: Dormant,
        handle: Arc<MailboxHandle>,
        system: &'a Core,
        parent: Parent,
    ) -> StartFuture<'a> {
        Box::pin(run::start_supervised::<A>(
            &*self.0, dormant, handle, system, parent,
        ))
    }
}

/// A supervisor's configuration: strategy, restart intensity, backoff, and the children it starts
/// with. Cheap to clone; a nested supervisor is rebuilt from it at every restart.
///
/// ```
/// use std::time::Duration;
/// use airssys_rt::prelude::*;
/// use airssys_rt::supervisor::{ChildSpec, Strategy, SupervisorSpec};
///
/// struct Cache;
/// #[actor]
/// impl Cache {}
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let system = ActorSystem::new();
/// let root = SupervisorSpec::new(Strategy::OneForOne)
///     .intensity(3, Duration::from_secs(10))
///     .child(ChildSpec::new("cache", || Cache))
///     .spawn(&system);
/// let cache = root.child::<Cache>("cache").await.unwrap();
/// assert!(cache.is_alive());
/// # }
/// ```
#[derive(Clone)]
#[must_use = "a supervisor spec does nothing until it is spawned: `.spawn(&system)`, or given to a parent as `ChildSpec::supervisor`"]
pub struct SupervisorSpec {
    pub(crate) strategy: Strategy,
    pub(crate) max_restarts: u32,
    pub(crate) period: Duration,
    pub(crate) backoff: Option<Backoff>,
    pub(crate) children: Vec<ErasedChildSpec>,
}

impl SupervisorSpec {
    /// A supervisor with `strategy`, no children yet, and Erlang/OTP's default restart intensity: at
    /// most 1 restart within 5 seconds.
    pub fn new(strategy: Strategy) -> Self {
        SupervisorSpec {
            strategy,
            max_restarts: 1,
            period: Duration::from_secs(5),
            backoff: None,
            children: Vec::new(),
        }
    }

    /// The restart intensity: at most `max_restarts` restarts within any `period`. One more and the
    /// supervisor gives up: it stops its children and stops itself with
    /// [`StopReason::Escalated`](crate::StopReason::Escalated), a failure its own supervisor handles.
    pub fn intensity(mut self, max_restarts: u32, period: Duration) -> Self {
        self.max_restarts = max_restarts;
        self.period = period;
        self
    }

    /// Waits before each restart, as `backoff` says. Default: restart at once.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = Some(backoff);
        self
    }

    /// Adds a child, started after those added before it.
    ///
    /// # Panics
    ///
    /// If the supervisor already has a child with this id.
    pub fn child<A: Actor>(mut self, spec: ChildSpec<A>) -> Self {
        assert!(
            self.children.iter().all(|child| child.id != spec.id),
            "a supervisor's child ids are unique: `{}` is given twice",
            spec.id
        );
        self.children.push(spec.erase());
        self
    }

    /// Starts the supervisor in `system`; the public `SupervisorSpec::spawn` is in `system.rs`.
    pub(crate) fn spawn_in(self, system: &Core) -> ActorRef<Supervisor> {
        let options = SpawnOptions::default().mailbox(MailboxKind::Unbounded);
        PreparedActor::new(system, options).start(Supervisor::new(self))
    }
}

impl fmt::Debug for SupervisorSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupervisorSpec")
            .field("strategy", &self.strategy)
            .field("max_restarts", &self.max_restarts)
            .field("period", &self.period)
            .field("backoff", &self.backoff)
            .field(
                "children",
                &self
                    .children
                    .iter()
                    .map(|child| &*child.id)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}
