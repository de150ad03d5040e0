//! What supervisors do, as an event stream and counters.

use core::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::actor::StopReason;
use crate::address::ActorAddress;
use crate::core::stats::Counter;
use crate::sink::Sink;

/// Something a supervisor did to one of its children, from
/// [`ActorSystem::supervision_events`](crate::ActorSystem::supervision_events).
#[derive(Debug, Clone, PartialEq)]
pub struct SupervisionEvent {
    /// The supervisor.
    pub supervisor: ActorAddress,
    /// The child's id in its [`ChildSpec`](crate::supervisor::ChildSpec).
    pub child: Arc<str>,
    /// The child's address (the same across its restarts).
    pub address: ActorAddress,
    /// When it happened (tokio's clock, so that tests with paused time see the virtual time).
    pub at: Instant,
    /// What happened.
    pub kind: SupervisionEventKind,
}

/// What a [`SupervisionEvent`] reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SupervisionEventKind {
    /// The child started for the first time.
    Started,
    /// An incarnation of the child stopped, for this reason (a failure, or the supervisor stopping it).
    Exited(StopReason),
    /// The child will be restarted after this delay ([`Backoff`](crate::supervisor::Backoff)).
    RestartScheduled(Duration),
    /// The child was restarted; this many times so far.
    Restarted(u32),
    /// The child was removed from its supervisor and stopped for good, with this reason.
    Removed(StopReason),
    /// The child's failure exceeded the supervisor's restart intensity: the supervisor stops its
    /// children and itself, with [`StopReason::Escalated`].
    Escalated(StopReason),
}

impl fmt::Display for SupervisionEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let child = &self.child;
        let address = self.address;
        match &self.kind {
            SupervisionEventKind::Started => write!(f, "`{child}` {address} started"),
            SupervisionEventKind::Exited(reason) => write!(f, "`{child}` {address} {reason}"),
            SupervisionEventKind::RestartScheduled(delay) => {
                write!(f, "`{child}` {address} restarts in {delay:?}")
            }
            SupervisionEventKind::Restarted(restarts) => {
                write!(f, "`{child}` {address} restarted ({restarts} so far)")
            }
            SupervisionEventKind::Removed(reason) => {
                write!(f, "`{child}` {address} removed: {reason}")
            }
            SupervisionEventKind::Escalated(reason) => write!(
                f,
                "supervisor {} gives up after `{child}` {reason}",
                self.supervisor
            ),
        }
    }
}

/// A subscription to supervision events, from
/// [`ActorSystem::supervision_events`](crate::ActorSystem::supervision_events). Dropping it unsubscribes.
#[derive(Debug)]
pub struct SupervisionEvents(pub(crate) mpsc::UnboundedReceiver<SupervisionEvent>);

impl SupervisionEvents {
    /// The next event. Never `None` while the system is alive.
    pub async fn recv(&mut self) -> Option<SupervisionEvent> {
        self.0.recv().await
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<SupervisionEvent> {
        self.0.try_recv().ok()
    }
}

/// Totals over every supervisor of a system, from
/// [`ActorSystem::supervision_stats`](crate::ActorSystem::supervision_stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SupervisionStats {
    /// Incarnations of supervised actors that stopped on their own (not stopped by their supervisor).
    pub exits: u64,
    /// Restarts.
    pub restarts: u64,
    /// Supervisors that gave up.
    pub escalations: u64,
}

/// A system's supervision events and counters.
#[derive(Debug, Default)]
pub(crate) struct Supervision {
    pub(crate) events: Sink<SupervisionEvent>,
    pub(crate) exits: Counter,
    pub(crate) restarts: Counter,
    pub(crate) escalations: Counter,
}

impl Supervision {
    pub(crate) fn snapshot(&self) -> SupervisionStats {
        SupervisionStats {
            exits: self.exits.get(),
            restarts: self.restarts.get(),
            escalations: self.escalations.get(),
        }
    }
}
