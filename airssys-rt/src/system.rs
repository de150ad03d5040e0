//! The [`ActorSystem`] facade: spawning, shutdown, and the ways in to the broker and supervision. The
//! handle itself and what it holds are in `core/`.

use core::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;

use crate::actor::{Actor, ActorRef, Context, PreparedActor};
use crate::broker::Topic;
use crate::broker::{AddressResolver, MessageBroker};
use crate::core::mailbox::{Farewell, MailboxHandle, MailboxKind, Signal};
use crate::core::{Core, SpawnOptions};
use crate::introspection::SystemSnapshot;
use crate::message::Message;
use crate::supervisor::{SupervisionEvents, SupervisionStats};
use crate::supervisor::{Supervisor, SupervisorSpec};

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
    core: Core,
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
            core: Core::new(runtime, self.default_mailbox, self.panic_reports),
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
    pub fn spawn<A: Actor>(&self, actor: A) -> ActorRef<A> {
        self.spawn_with(actor, SpawnOptions::default())
    }

    /// Starts `actor` with `options`.
    ///
    /// # Panics
    ///
    /// If the options ask for a bounded mailbox of capacity 0.
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
        PreparedActor::new(&self.core, options)
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

    /// How many actors are running.
    pub fn actor_count(&self) -> usize {
        self.core.routes().len()
    }

    /// The broker: routes messages by address, routing key or name, without the actor's type; topics;
    /// dead letters; statistics.
    pub fn broker(&self) -> MessageBroker {
        MessageBroker::new(self.core.clone())
    }

    /// Names for actors.
    pub fn resolver(&self) -> AddressResolver {
        AddressResolver::new(self.core.clone())
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
                .core
                .routes()
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

    /// A snapshot of every live actor (identity, supervisor, state, mailbox depth, messages handled,
    /// restarts) and the supervision tree they form; its `Display` prints the tree. See
    /// [`introspection`](crate::introspection).
    pub fn snapshot(&self) -> SystemSnapshot {
        SystemSnapshot::of(&self.core)
    }

    /// Every [`SupervisionEvent`](crate::supervisor::SupervisionEvent) from now on: each start, exit,
    /// restart and escalation of a supervised actor.
    pub fn supervision_events(&self) -> SupervisionEvents {
        SupervisionEvents(self.core.supervision().events.subscribe())
    }

    /// Totals of what the system's supervisors did.
    pub fn supervision_stats(&self) -> SupervisionStats {
        self.core.supervision().snapshot()
    }

    /// The shared state that the actors, the broker and supervision use.
    #[cfg(any(test, feature = "testkit"))]
    pub(crate) fn core(&self) -> &Core {
        &self.core
    }
}

// The entry points of the lower layers that take or give the system: here, on top of them, so that
// they need not know the facade.

impl<A: Actor> Context<A> {
    /// The system the actor runs in, to spawn other actors.
    pub fn system(&self) -> ActorSystem {
        ActorSystem {
            core: self.core().clone(),
        }
    }
}

impl<M: Message + Sync> Topic<M> {
    /// A topic of its own, not registered by name.
    pub fn new(system: &ActorSystem, name: impl Into<Arc<str>>) -> Self {
        Topic::in_core(&system.core, name)
    }
}

impl SupervisorSpec {
    /// Starts the supervisor in `system`, which starts its children in order. Its mailbox is unbounded,
    /// so that no report of a child's exit is ever refused.
    pub fn spawn(self, system: &ActorSystem) -> ActorRef<Supervisor> {
        self.spawn_in(&system.core)
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
            .field("actors", &self.core.routes().len())
            .field("default_mailbox", &self.core.inner.default_mailbox)
            .finish()
    }
}
