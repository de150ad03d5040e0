//! [`ActorSystem`]: spawns actors on a tokio runtime and shuts them down.

use core::fmt;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dashmap::DashMap;
use tokio::runtime::Handle;

use crate::actor::mailbox::{self, ActorCell, MailboxHandle, MailboxKind, Signal};
use crate::actor::{Actor, ActorRef, Context, run};
use crate::address::ActorAddress;

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
/// [`shutdown`](ActorSystem::shutdown) is graceful first: every actor refuses new messages, handles the
/// ones already queued, runs `on_stop` and stops ([`StopReason::Drained`](crate::StopReason::Drained)).
/// Actors still running when the timeout expires are killed. Actors spawned while it runs are shut down
/// too.
#[derive(Clone)]
pub struct ActorSystem {
    inner: Arc<SystemInner>,
}

struct SystemInner {
    runtime: Handle,
    default_mailbox: MailboxKind,
    next_id: AtomicU64,
    actors: DashMap<u64, Arc<MailboxHandle>>,
}

/// Options for one spawn; see [`ActorSystem::spawn_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SpawnOptions {
    mailbox: Option<MailboxKind>,
}

impl SpawnOptions {
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
}

impl ActorSystemBuilder {
    /// The mailbox actors get unless their [`SpawnOptions`] say otherwise. Default: unbounded.
    pub fn default_mailbox(mut self, kind: MailboxKind) -> Self {
        self.default_mailbox = kind;
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
    /// Without [`runtime`](ActorSystemBuilder::runtime), panics when called outside a tokio runtime.
    pub fn build(self) -> ActorSystem {
        let runtime = self.runtime.unwrap_or_else(|| {
            Handle::try_current()
                .expect("ActorSystem needs a tokio runtime: build it inside one, or pass `runtime`")
        });
        ActorSystem {
            inner: Arc::new(SystemInner {
                runtime,
                default_mailbox: self.default_mailbox,
                next_id: AtomicU64::new(1),
                actors: DashMap::new(),
            }),
        }
    }
}

/// What [`ActorSystem::shutdown`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Actors that stopped within the timeout.
    pub stopped: usize,
    /// Actors killed when the timeout expired.
    pub killed: usize,
}

impl ActorSystem {
    /// A system with the default configuration (unbounded mailboxes), on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Configures a system.
    pub fn builder() -> ActorSystemBuilder {
        ActorSystemBuilder {
            default_mailbox: MailboxKind::Unbounded,
            runtime: None,
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
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let address = ActorAddress::from_id(NonZeroU64::new(id).expect("actor ids start at 1"));
        let (sender, receiver) =
            mailbox::mailbox(options.mailbox.unwrap_or(self.inner.default_mailbox));
        let cell = Arc::new(ActorCell::new(address));
        let handle = Arc::new(MailboxHandle {
            sender,
            cell: cell.clone(),
        });
        // The first reference exists before the task starts, so it never sees zero references.
        let actor_ref = ActorRef::new(handle.clone());
        self.inner.actors.insert(id, handle.clone());
        let ctx = Context::new(handle, self.clone());
        let system = Arc::downgrade(&self.inner);
        let deregister = Box::new(move || {
            if let Some(system) = system.upgrade() {
                system.actors.remove(&id);
            }
        });
        let task =
            self.inner
                .runtime
                .spawn(run::run(actor, receiver, ctx, cell.clone(), deregister));
        let _ = cell.abort.set(task.abort_handle());
        if cell.pending_signal() == Signal::Kill {
            task.abort();
        }
        actor_ref
    }

    /// How many actors are running.
    pub fn actor_count(&self) -> usize {
        self.inner.actors.len()
    }

    /// Stops every actor: drains them, waits up to `timeout`, then kills those still running. See
    /// [Shutdown](ActorSystem#shutdown).
    pub async fn shutdown(&self, timeout: Duration) -> ShutdownReport {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut report = ShutdownReport {
            stopped: 0,
            killed: 0,
        };
        // Loop: actors spawned during the shutdown are drained too.
        loop {
            let actors: Vec<Arc<MailboxHandle>> = self
                .inner
                .actors
                .iter()
                .map(|entry| entry.value().clone())
                .collect();
            if actors.is_empty() {
                return report;
            }
            for actor in &actors {
                actor.signal(Signal::Drain);
            }
            for actor in &actors {
                if tokio::time::timeout_at(deadline, actor.cell.wait_for_stop())
                    .await
                    .is_ok()
                {
                    report.stopped += 1;
                } else {
                    actor.signal(Signal::Kill);
                    actor.cell.wait_for_stop().await;
                    report.killed += 1;
                }
            }
        }
    }

    pub(crate) fn runtime(&self) -> &Handle {
        &self.inner.runtime
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
            .field("actors", &self.inner.actors.len())
            .field("default_mailbox", &self.inner.default_mailbox)
            .finish()
    }
}
