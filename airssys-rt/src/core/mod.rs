//! The core of the runtime, which the actors, the broker and supervision build on: the actor's cell
//! and mailbox, the registry of live actors (by routing key and by name), dead letters and counters,
//! and [`Core`], the shared state of one system. The public
//! [`ActorSystem`](crate::ActorSystem), in `system.rs`, is a facade on top of all of them.
//!
//! Nothing in here imports the layers above (the run loop, references and context of `actor/`,
//! `broker/`, `supervisor/`, `system.rs`) beyond the types it stores: the `Actor` trait, an actor's
//! identity and stop reason, the reply channel of an ask, and the supervision counters. They import
//! it. `tests/layering.rs` checks this.

pub(crate) mod cell;
pub(crate) mod dead_letter;
pub(crate) mod dormant;
pub(crate) mod mailbox;
pub(crate) mod names;
pub(crate) mod registry;
pub(crate) mod signal;
pub(crate) mod state;
pub(crate) mod stats;

use core::fmt;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::runtime::Handle;

use crate::actor::Actor;
use crate::actor::identity::{ActorId, TypeOf};
use crate::address::ActorAddress;
use crate::core::cell::{ActorCell, MailboxHandle, Strong};
use crate::core::dead_letter::{DeadLetter, DeadLetterReason, DeadLetterSink};
use crate::core::dormant::Dormant;
use crate::core::mailbox::{MailboxKind, MailboxReceiver};
use crate::core::names::{Names, RegisterError};
use crate::core::registry::{Route, RoutingTable, Topics};
use crate::core::stats::Stats;
use crate::supervisor::Supervision;

impl fmt::Debug for Core {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Core")
            .field("actors", &self.inner.routes.len())
            .finish_non_exhaustive()
    }
}

/// A handle to the shared state of one system: what the actors, the broker and supervision use. The
/// public [`ActorSystem`](crate::ActorSystem) wraps it. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Core {
    pub(crate) inner: Arc<Shared>,
}

/// What every part of the runtime shares: the registry of live actors and their names, the dead
/// letters, the counters, and the tokio runtime they run on.
pub(crate) struct Shared {
    pub(crate) runtime: Handle,
    pub(crate) default_mailbox: MailboxKind,
    pub(crate) next_id: AtomicU64,
    /// Every live actor, by routing key: the system's registry and the broker's routing table.
    pub(crate) routes: RoutingTable,
    pub(crate) names: Names,
    pub(crate) dead_letters: DeadLetterSink,
    pub(crate) topics: Topics,
    pub(crate) stats: Stats,
    pub(crate) supervision: Supervision,
    /// Whether a caught panic is reported on stderr, with the actor's identity.
    pub(crate) panic_reports: bool,
}

/// A system held weakly, by what the system itself holds (its topics) and by watchers (monitors and
/// links), which must not keep it alive.
#[derive(Clone)]
pub(crate) struct WeakSystem(std::sync::Weak<Shared>);

impl WeakSystem {
    pub(crate) fn upgrade(&self) -> Option<Core> {
        self.0.upgrade().map(|inner| Core { inner })
    }

    /// Reports `payload`, which never reached `target` (or could not be handled there), as a dead
    /// letter, if the system still exists. `was_ask`: whether it was asked.
    pub(crate) fn dead_letter(
        &self,
        target: &crate::ActorId,
        payload: crate::envelope::ErasedEnvelope,
        was_ask: bool,
        reason: DeadLetterReason,
    ) {
        if let Some(system) = self.0.upgrade() {
            system.report_dead_letter(DeadLetter::new(target.clone(), payload, was_ask, reason));
        }
    }
}

impl Shared {
    /// Counts a dead letter to `target`: in the broker's statistics and the `metrics` feature's.
    fn count_dead_letter(&self, target: &ActorId, reason: &DeadLetterReason) {
        self.stats.dead_letters.incr();
        crate::observe::dead_lettered(target, reason);
    }

    fn report_dead_letter(&self, letter: DeadLetter) {
        self.count_dead_letter(letter.target_id(), letter.reason());
        self.dead_letters.report(Arc::new(letter));
    }
}

/// Options for one spawn; see [`ActorSystem::spawn_with`](crate::ActorSystem::spawn_with).
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

impl Core {
    pub(crate) fn new(runtime: Handle, default_mailbox: MailboxKind, panic_reports: bool) -> Self {
        let inner = Arc::new(Shared {
            runtime,
            default_mailbox,
            next_id: AtomicU64::new(1),
            routes: RoutingTable::default(),
            names: Names::default(),
            dead_letters: DeadLetterSink::default(),
            topics: Topics::default(),
            stats: Stats::default(),
            supervision: Supervision::default(),
            panic_reports,
        });
        Core { inner }
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
            self.downgrade(),
        ));
        let receiver = MailboxReceiver::new(cell.clone());
        let handle = cell.clone();
        self.inner.routes.insert(
            address.routing_key(),
            Route {
                handle: handle.clone(),
                actor: <A as TypeOf>::ACTOR_TYPE,
            },
        );
        crate::observe::spawned(&handle.id);
        (handle, Dormant::new::<A>(receiver, cell))
    }

    /// Removes the route of the actor at `address`, which stopped for good, and frees its names.
    pub(crate) fn deregister(&self, address: ActorAddress) {
        self.inner.routes.remove(&address.routing_key());
        self.inner.names.release(address);
    }

    /// Reports a panic caught in an actor, unless reports are off: `then` says what happens next.
    pub(crate) fn report_panic(&self, panic: &crate::ActorPanic, then: &str) {
        crate::observe::panicked(panic, then);
        if self.inner.panic_reports {
            eprintln!("airssys-rt: {panic}; {then}");
        }
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

    /// Counts a dead letter that nobody listens for, without building it.
    pub(crate) fn count_dead_letter(&self, target: &ActorId, reason: &DeadLetterReason) {
        self.inner.count_dead_letter(target, reason);
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

    /// The route of the live actor registered as `name`, resolved through this thread's name cache.
    pub(crate) fn named_route(&self, name: &str) -> Option<Route> {
        let address = self.inner.names.resolve(name, &self.inner.stats)?;
        self.live_route(address).map(|route| route.clone())
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
