//! [`ActorSystem`]: spawns actors on a tokio runtime and shuts them down.

use core::fmt;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::runtime::Handle;

use crate::actor::actor_ref::Strong;
use crate::actor::dormant::Dormant;
use crate::actor::mailbox::{self, ActorCell, Farewell, MailboxHandle, MailboxKind, Signal};
use crate::actor::run;
use crate::actor::{Actor, ActorId, ActorRef, Context, PreparedActor};
use crate::address::ActorAddress;
use crate::broker::dead_letter::{DeadLetter, DeadLetterReason, DeadLetterSink};
use crate::broker::resolver::{Names, RegisterError};
use crate::broker::routing::{Route, RoutingTable, TypeOf};
use crate::broker::stats::Stats;
use crate::broker::topic::Topics;
use crate::broker::{AddressResolver, MessageBroker};
use crate::supervisor::{Supervision, SupervisionEvents, SupervisionStats};

/// Spawns actors and shuts them down.
///
/// It runs them on the tokio runtime it was created in. Cheap to clone: clones share one system.
///
/// ```
/// use std::time::Duration;
/// use airssys_rt::{ActorSystem, MailboxKind};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let system = ActorSystem::builder().default_mailbox(MailboxKind::Bounded(1024)).build();
/// // ... spawn actors ...
/// let report = system.shutdown(Duration::from_secs(5)).await;
/// assert_eq!(report.killed, 0);
/// # }
/// ```
///
/// # Shutdown
///
/// [`shutdown`](ActorSystem::shutdown) is graceful first, and ordered as an OTP root supervisor stops its
/// children: actors stop one at a time, **newest first** (reverse spawn order), each drained before the
/// next. Drained, an actor refuses new messages, handles the ones already queued, runs `on_stop` and
/// stops ([`StopReason::Drained`](crate::StopReason::Drained)). So in a pipeline whose downstream
/// stages were spawned first (they had to exist for the upstream ones to get their references),
/// every stage has forwarded all it holds before the stages it feeds stop: nothing is lost between
/// actors. Supervised actors are stopped by their supervisors, in reverse start order. Actors spawned
/// while it runs are shut down too. When the timeout expires, every actor still running is killed.
#[derive(Clone)]
pub struct ActorSystem {
    inner: Arc<SystemInner>,
}

struct SystemInner {
    runtime: Handle,
    default_mailbox: MailboxKind,
    next_id: AtomicU64,
    /// Every live actor, by routing key: the system's registry and the broker's routing table.
    routes: RoutingTable,
    names: Names,
    dead_letters: DeadLetterSink,
    topics: Topics,
    stats: Stats,
    supervision: Supervision,
    /// Whether a caught panic is reported on stderr, with the actor's identity.
    panic_reports: bool,
}

/// What an actor's task needs of its system when it stops: to leave the routing table and report its
/// dead letters. Holds the system weakly: actors do not keep their system alive.
#[derive(Clone)]
pub(crate) struct Exit {
    system: std::sync::Weak<SystemInner>,
    address: ActorAddress,
}

impl Exit {
    /// Removes the actor's route and frees its names.
    pub(crate) fn deregister(&self) {
        if let Some(system) = self.system.upgrade() {
            system.routes.remove(&self.address.routing_key());
            system.names.release(self.address);
        }
    }

    /// The system, if it still exists.
    pub(crate) fn system(&self) -> Option<ActorSystem> {
        self.system.upgrade().map(|inner| ActorSystem { inner })
    }
}

/// A system held weakly, by what the system itself holds (its topics) and by watchers (monitors and
/// links), which must not keep it alive.
#[derive(Clone)]
pub(crate) struct WeakSystem(std::sync::Weak<SystemInner>);

impl WeakSystem {
    pub(crate) fn upgrade(&self) -> Option<ActorSystem> {
        self.0.upgrade().map(|inner| ActorSystem { inner })
    }

    /// Reports `payload`, which never reached `target` (or could not be handled there), as a dead
    /// letter, if the system still exists.
    pub(crate) fn dead_letter(
        &self,
        target: &crate::ActorId,
        payload: crate::envelope::ErasedEnvelope,
        reason: DeadLetterReason,
    ) {
        if let Some(system) = self.0.upgrade() {
            system.report_dead_letter(DeadLetter::new(target.clone(), payload, false, reason));
        }
    }
}

impl SystemInner {
    fn report_dead_letter(&self, letter: DeadLetter) {
        self.stats.dead_letters.incr();
        self.dead_letters.report(Arc::new(letter));
    }
}

/// Options for one spawn; see [`ActorSystem::spawn_with`].
#[derive(Debug, Clone, Default)]
pub struct SpawnOptions {
    mailbox: Option<MailboxKind>,
    name: Option<Arc<str>>,
    dedicated_thread: bool,
}

impl SpawnOptions {
    /// The actor's name, shown wherever it is printed: its references, stop reasons, dead letters and
    /// panic reports (see [`ActorId`](crate::ActorId)). For people: it need not be unique, and it
    /// does not register the actor for lookups (the [resolver](crate::broker::AddressResolver) does).
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Runs the actor on a thread of its own instead of the runtime's workers, for handlers that
    /// block (file or database calls through a blocking client, CPU-heavy work): they stall only that
    /// thread. Its references, timers, tied tasks and supervision are the same; a supervised actor gets
    /// a new thread per incarnation. The thread is named after the actor (`worker <Worker 5>`), which
    /// the panic hook prints; the blocking bridges ([`ActorRef::blocking_ask`](crate::ActorRef::blocking_ask))
    /// may be used on it.
    pub fn dedicated_thread(mut self) -> Self {
        self.dedicated_thread = true;
        self
    }

    /// The actor's mailbox, instead of the system's default.
    pub fn mailbox(mut self, kind: MailboxKind) -> Self {
        self.mailbox = Some(kind);
        self
    }
}

/// Configures an [`ActorSystem`]; made by [`ActorSystem::builder`].
#[derive(Debug, Clone)]
pub struct ActorSystemBuilder {
    default_mailbox: MailboxKind,
    runtime: Option<Handle>,
    panic_reports: bool,
}

impl ActorSystemBuilder {
    /// The mailbox actors get unless their [`SpawnOptions`] say otherwise. Default: unbounded.
    pub fn default_mailbox(mut self, kind: MailboxKind) -> Self {
        self.default_mailbox = kind;
        self
    }

    /// Whether a panic caught in an actor is reported on stderr, one line naming the actor, what it
    /// was doing, the panic's message and what happens next (the panic hook has printed where it
    /// happened, on a thread that says nothing of the actor). Default: on. Turn it off when the panics
    /// are observed otherwise ([`StopReason::Panicked`](crate::StopReason::Panicked), supervision
    /// events).
    pub fn panic_reports(mut self, on: bool) -> Self {
        self.panic_reports = on;
        self
    }

    /// The tokio runtime to run actors on. Default: the runtime `build` is called in.
    pub fn runtime(mut self, runtime: Handle) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// Builds the system.
    ///
    /// # Panics
    ///
    /// Without [`runtime`](ActorSystemBuilder::runtime), when called outside a tokio runtime; and when
    /// the runtime has no time driver (built without `enable_time`), which restarts and timeouts need.
    pub fn build(self) -> ActorSystem {
        let runtime = self.runtime.unwrap_or_else(|| {
            Handle::try_current()
                .expect("ActorSystem needs a tokio runtime: build it inside one, or pass `runtime`")
        });
        // Restarts, backoff, `ask(..).timeout(..)` and `send_after` need tokio's timers: without them
        // the first would panic much later, far from the cause. Building a timer panics at once
        // without the driver (it is never polled, so it registers nothing).
        let timers = {
            let _entered = runtime.enter();
            std::panic::catch_unwind(|| drop(tokio::time::sleep(Duration::ZERO))).is_ok()
        };
        assert!(
            timers,
            "ActorSystem needs a tokio runtime with its time driver: build the runtime with \
             `enable_time()` (or `enable_all()`); `#[tokio::main]` and `#[tokio::test]` enable it"
        );
        ActorSystem {
            inner: Arc::new(SystemInner {
                runtime,
                default_mailbox: self.default_mailbox,
                next_id: AtomicU64::new(1),
                routes: RoutingTable::default(),
                names: Names::default(),
                dead_letters: DeadLetterSink::default(),
                topics: Topics::default(),
                stats: Stats::default(),
                supervision: Supervision::default(),
                panic_reports: self.panic_reports,
            }),
        }
    }
}

/// What [`ActorSystem::shutdown`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Actors that stopped within the timeout, other than by a kill.
    pub stopped: usize,
    /// Actors killed: when the timeout expired, or by their supervisor when their own
    /// [`Shutdown`](crate::supervisor::Shutdown) timeout did.
    pub killed: usize,
}

impl ActorSystem {
    /// A system with the default configuration (unbounded mailboxes), on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime, or in one without its time driver (see
    /// [`ActorSystemBuilder::build`]).
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Configures a system.
    pub fn builder() -> ActorSystemBuilder {
        ActorSystemBuilder {
            default_mailbox: MailboxKind::Unbounded,
            runtime: None,
            panic_reports: true,
        }
    }

    /// Starts `actor` in its own task with the default mailbox, and returns a reference to it.
    ///
    /// The actor's `on_start` runs in its task; messages sent meanwhile wait in its mailbox.
    #[must_use = "an actor stops once its last reference is dropped: keep this `ActorRef` (or register a name for the actor)"]
    pub fn spawn<A: Actor>(&self, actor: A) -> ActorRef<A> {
        self.spawn_with(actor, SpawnOptions::default())
    }

    /// Starts `actor` with `options`.
    ///
    /// # Panics
    ///
    /// If the options ask for a bounded mailbox of capacity 0.
    #[must_use = "an actor stops once its last reference is dropped: keep this `ActorRef` (or register a name for the actor)"]
    pub fn spawn_with<A: Actor>(&self, actor: A, options: SpawnOptions) -> ActorRef<A> {
        self.prepare_with::<A>(options).start(actor)
    }

    /// An actor's mailbox and reference, before the actor exists: wire rings and mutual references
    /// first, then [`start`](PreparedActor::start) it. See [`PreparedActor`].
    pub fn prepare<A: Actor>(&self) -> PreparedActor<A> {
        self.prepare_with(SpawnOptions::default())
    }

    /// As [`prepare`](ActorSystem::prepare), with `options`.
    ///
    /// # Panics
    ///
    /// If the options ask for a bounded mailbox of capacity 0.
    pub fn prepare_with<A: Actor>(&self, options: SpawnOptions) -> PreparedActor<A> {
        let (handle, dormant) = self.create::<A>(options);
        PreparedActor::new(handle, dormant, self.clone())
    }

    /// Starts `actor` and waits until its `on_start` has returned: a start barrier.
    ///
    /// # Errors
    ///
    /// The reason it stopped instead ([`StopReason::Panicked`](crate::StopReason::Panicked) if
    /// `on_start` panicked).
    pub async fn spawn_started<A: Actor>(
        &self,
        actor: A,
    ) -> Result<ActorRef<A>, crate::StopReason> {
        self.prepare::<A>().start_and_wait(actor).await
    }

    /// Runs `actor` in a task of its own on the mailbox of `dormant`.
    pub(crate) fn launch<A: Actor>(
        &self,
        actor: A,
        handle: Arc<MailboxHandle>,
        dormant: Dormant,
        on_started: Option<tokio::sync::oneshot::Sender<()>>,
    ) {
        let ctx = Context::new(handle, self.clone());
        let cell = dormant.cell.clone();
        let task = run::run(actor, dormant, ctx, None, false, on_started);
        crate::actor::blocking::spawn_incarnation(self.runtime(), &cell, task);
    }

    /// A new actor's mailbox, cell and route, with no incarnation running yet.
    pub(crate) fn create<A: Actor>(&self, options: SpawnOptions) -> (Arc<MailboxHandle>, Dormant) {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let address = ActorAddress::from_id(NonZeroU64::new(id).expect("actor ids start at 1"));
        let mailbox = options.mailbox.unwrap_or(self.inner.default_mailbox);
        let id = ActorId::new(address, <A as TypeOf>::ACTOR_TYPE, options.name);
        let cell = Arc::new(ActorCell::new(
            id,
            mailbox,
            options.dedicated_thread,
            WeakSystem(Arc::downgrade(&self.inner)),
        ));
        let receiver = mailbox::MailboxReceiver::new(cell.clone());
        let handle = cell.clone();
        self.inner.routes.insert(
            address.routing_key(),
            Route {
                handle: handle.clone(),
                actor: <A as TypeOf>::ACTOR_TYPE,
            },
        );
        let exit = Exit {
            system: Arc::downgrade(&self.inner),
            address,
        };
        (handle, Dormant::new::<A>(receiver, cell, exit))
    }

    /// Reports a panic caught in an actor, unless reports are off: `then` says what happens next.
    pub(crate) fn report_panic(&self, panic: &crate::ActorPanic, then: &str) {
        if self.inner.panic_reports {
            eprintln!("airssys-rt: {panic}; {then}");
        }
    }

    /// How many actors are running.
    pub fn actor_count(&self) -> usize {
        self.inner.routes.len()
    }

    /// The broker: routes messages by address, routing key or name, without the actor's type; topics;
    /// dead letters; statistics.
    pub fn broker(&self) -> MessageBroker {
        MessageBroker::new(self.clone())
    }

    /// Names for actors.
    pub fn resolver(&self) -> AddressResolver {
        AddressResolver::new(self.clone())
    }

    /// Stops every actor, newest first, each drained before the next; kills those still running when
    /// `timeout` expires. See [Shutdown](ActorSystem#shutdown).
    pub async fn shutdown(&self, timeout: Duration) -> ShutdownReport {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut report = ShutdownReport {
            stopped: 0,
            killed: 0,
        };
        let mut count = |reason: crate::StopReason| {
            // A supervised child its supervisor killed at its own shutdown timeout was killed too.
            if reason == crate::StopReason::Killed {
                report.killed += 1;
            } else {
                report.stopped += 1;
            }
        };
        let mut expired = false;
        // Loop: actors spawned during the shutdown are shut down too.
        loop {
            let mut actors: Vec<Arc<MailboxHandle>> = self
                .inner
                .routes
                .iter()
                .map(|entry| entry.value().handle.clone())
                .collect();
            if actors.is_empty() {
                return report;
            }
            // Newest first, as an OTP root supervisor stops its children in reverse start order: an
            // actor may still send to those spawned before it (a pipeline's later stages), so they stop
            // after it has drained. Supervised actors are stopped by their supervisors.
            actors.sort_unstable_by_key(|actor| core::cmp::Reverse(actor.address.id()));
            let (roots, supervised): (Vec<_>, Vec<_>) =
                actors.into_iter().partition(|actor| !actor.is_supervised());
            if expired {
                // Spawned after the deadline.
                for root in &roots {
                    root.signal(Signal::Kill);
                }
            }
            for (index, root) in roots.iter().enumerate() {
                if !expired {
                    root.farewell(Farewell::Drain);
                    match tokio::time::timeout_at(deadline, root.wait_for_stop()).await {
                        Ok(reason) => {
                            count(reason);
                            continue;
                        }
                        // Time is up: kill every root left, at once. A supervisor that dies kills its
                        // children; killing a child directly would only have it restarted.
                        Err(_) => expired = true,
                    }
                    for root in &roots[index..] {
                        root.signal(Signal::Kill);
                    }
                }
                count(root.wait_for_stop().await);
            }
            // They stopped with their supervisors (killed, if those were).
            for child in supervised {
                count(child.wait_for_stop().await);
            }
        }
    }

    /// Every [`SupervisionEvent`](crate::supervisor::SupervisionEvent) from now on: each start, exit,
    /// restart and escalation of a supervised actor.
    pub fn supervision_events(&self) -> SupervisionEvents {
        SupervisionEvents(self.inner.supervision.events.subscribe())
    }

    /// Totals of what the system's supervisors did.
    pub fn supervision_stats(&self) -> SupervisionStats {
        self.inner.supervision.snapshot()
    }

    pub(crate) fn supervision(&self) -> &Supervision {
        &self.inner.supervision
    }

    pub(crate) fn downgrade(&self) -> WeakSystem {
        WeakSystem(Arc::downgrade(&self.inner))
    }

    pub(crate) fn runtime(&self) -> &Handle {
        &self.inner.runtime
    }

    pub(crate) fn routes(&self) -> &RoutingTable {
        &self.inner.routes
    }

    pub(crate) fn names(&self) -> &Names {
        &self.inner.names
    }

    pub(crate) fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    pub(crate) fn topics(&self) -> &Topics {
        &self.inner.topics
    }

    pub(crate) fn dead_letter_sink(&self) -> &DeadLetterSink {
        &self.inner.dead_letters
    }

    pub(crate) fn report_dead_letter(&self, letter: DeadLetter) {
        self.inner.report_dead_letter(letter);
    }

    /// The route of the actor at `address`, if it is alive (held as a read lock on its shard).
    pub(crate) fn live_route(
        &self,
        address: ActorAddress,
    ) -> Option<dashmap::mapref::one::Ref<'_, u64, Route>> {
        self.inner
            .routes
            .get(&address.routing_key())
            .filter(|route| route.handle.address == address && !route.handle.is_stopped())
    }

    /// Registers `name` for the live actor at `address`. The route's read lock is held while the name
    /// is inserted, so the actor's deregistration (which removes the route first, then frees its names)
    /// either sees the name or happens before and refuses it: no name outlives its actor.
    pub(crate) fn register_name(
        &self,
        name: Arc<str>,
        address: ActorAddress,
    ) -> Result<(), RegisterError> {
        let route = self
            .live_route(address)
            .ok_or(RegisterError::NoSuchActor(address))?;
        self.inner
            .names
            .register(name, address, || Strong::new(route.handle.clone()))
    }
}

impl Default for ActorSystem {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ActorSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorSystem")
            .field("actors", &self.inner.routes.len())
            .field("default_mailbox", &self.inner.default_mailbox)
            .finish()
    }
}
