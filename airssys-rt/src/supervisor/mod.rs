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

mod api;
mod event;
mod messages;
mod restart;
mod spec;

use core::any::TypeId;
use core::fmt;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::actor::{Actor, ActorRef, AskError, Context, Handler, StopReason, TimerId};
use crate::address::ActorAddress;
use crate::core::cell::Strong;
use crate::core::dormant::{ChildExit, Dormant, Parent};
use crate::core::mailbox::{Farewell, MailboxHandle, Signal, Slot};
use crate::envelope::ErasedEnvelope;
use crate::message::Message;

pub(crate) use event::Supervision;
pub use event::{SupervisionEvent, SupervisionEventKind, SupervisionEvents, SupervisionStats};
pub use messages::*;
use restart::StopMode;
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

impl Supervisor {
    /// The message that wakes a supervisor to read the exits of its children.
    pub(crate) fn child_exited_message() -> Slot {
        Slot::new(
            ErasedEnvelope::new(ChildExited),
            <Supervisor as Handler<ChildExited>>::__INDEX,
            0,
        )
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
                address: child.strong.handle().address,
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
