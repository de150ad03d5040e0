//! The dormant actor: its mailbox and identity with no incarnation running, and how it stops for good
//! (the final drain, dead letters, the published stop).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::actor::Actor;
use crate::actor::error::StopReason;
use crate::core::Core;
use crate::core::cell::ActorState;
use crate::core::dead_letter::{DeadLetter, DeadLetterReason};
use crate::core::mailbox::{ActorCell, Empty, MailboxHandle, MailboxReceiver, Slot};
use crate::envelope::ErasedEnvelope;

/// An actor's mailbox and identity with no incarnation running: between two incarnations of a
/// supervised actor, or an actor that is stopping for good.
///
/// Dropping it stops the actor for good, with `reason`: it closes the mailbox, leaves the routing table,
/// reports every message still queued as a dead letter (an ask among them fails with
/// `AskError::Stopped` as its reply channel drops), and publishes the stop reason (which runs monitors
/// and links), in that order. However a dormant actor is lost (a supervisor that drops it, or is killed
/// while holding it), nothing queued is lost silently:
///
/// - **Sends in flight.** A send that passed the mailbox's closed check just before the close is still
///   writing its message when the drain finds the queue empty; tokio's `try_recv` then says `Empty`, not
///   `Disconnected`. The drain therefore ends only when a poll of the closed mailbox says it is both
///   empty *and* idle (no send in flight, no room reserved); otherwise a task waits for those sends and
///   buries what they deliver, and the stop is published after it.
/// - **User `Drop` code.** Burying a message drops it, which runs its `Drop`: a panic there is caught
///   (the message is counted as a dead letter all the same), so the stop is always published.
pub(crate) struct Dormant {
    pub(crate) mailbox: MailboxReceiver,
    pub(crate) cell: Arc<ActorCell>,
    /// The actor type's [`Actor::__unwrap_ask`], for its dead letters.
    unwrap_ask: fn(ErasedEnvelope, u32) -> (ErasedEnvelope, bool),
    /// Why the last incarnation stopped.
    pub(crate) reason: StopReason,
    /// Set on the copy that finishes a drain in a task of its own: that one publishes even if its
    /// mailbox is still not idle (its task was dropped with its runtime).
    settling: bool,
}

impl Dormant {
    pub(crate) fn new<A: Actor>(mailbox: MailboxReceiver, cell: Arc<ActorCell>) -> Self {
        Dormant {
            mailbox,
            cell,
            unwrap_ask: A::__unwrap_ask,
            reason: StopReason::Killed,
            settling: false,
        }
    }

    /// Buries every message the closed mailbox holds now; returns whether it is also idle: no send in
    /// flight, so nothing can arrive any more.
    fn bury_queued(&mut self, system: Option<&Core>) -> bool {
        let to = Graves::of(system);
        // The priority lane first: closed here, so that no send queues in it after this drain.
        for slot in self.cell.close_priority() {
            self.bury(slot, to);
        }
        loop {
            match self.mailbox.try_recv() {
                Ok(slot) => self.bury(slot, to),
                Err(Empty::Closed) => return true,
                // A send that was accepted before the close is still writing its message.
                Err(Empty::Now) => return false,
            }
        }
    }

    /// Reports one queued message as a dead letter (or counts it, if no one listens) and drops it.
    fn bury(&self, slot: Slot, to: Option<Graves<'_>>) {
        let Some(Graves { system, report }) = to else {
            // The system is gone: nobody can be told. The drop is still contained.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(slot)));
            return;
        };
        let target = self.cell.id.clone();
        let unwrap_ask = self.unwrap_ask;
        let reason = &self.reason;
        // The payload's `Drop` is user code, run here, in the runtime's teardown: a panic in it must not
        // escape before the stop is published (nor abort the process, with a second one).
        let _ = catch_unwind(AssertUnwindSafe(move || {
            let reason = DeadLetterReason::Stopped(reason.clone());
            if report {
                let (payload, was_ask) = unwrap_ask(slot.message, slot.index);
                system.report_dead_letter(DeadLetter::new(target, payload, was_ask, reason));
            } else {
                system.count_dead_letter(&target, &reason);
                drop(slot);
            }
        }));
    }

    /// Waits for the sends in flight into the closed mailbox, burying what they deliver.
    async fn settle(mut self) {
        while let Some(slot) = self.mailbox.recv().await {
            // The system is not held across the wait: actors do not keep it alive.
            let system = self.cell.system();
            self.bury(slot, Graves::of(system.as_ref()));
        }
    }
}

/// Where buried messages go: the system, and whether anyone listens for dead letters (asked once per
/// drain, not per message: it takes the sink's lock).
#[derive(Clone, Copy)]
struct Graves<'a> {
    system: &'a Core,
    report: bool,
}

impl<'a> Graves<'a> {
    fn of(system: Option<&'a Core>) -> Option<Self> {
        system.map(|system| Graves {
            system,
            report: system.dead_letter_sink().has_subscribers(),
        })
    }
}

impl Drop for Dormant {
    fn drop(&mut self) {
        self.mailbox.close();
        // The system (and the cell's way to it) is held weakly: actors do not keep it alive.
        let system = self.cell.system();
        if let Some(system) = &system {
            system.deregister(self.cell.address);
        }
        if !self.settling {
            self.cell.mailbox.meters.left();
        }
        if !self.bury_queued(system.as_ref()) && !self.settling {
            let runtime = system
                .as_ref()
                .map(|system| system.runtime().clone())
                .or_else(|| tokio::runtime::Handle::try_current().ok());
            if let Some(runtime) = runtime {
                // Hand the mailbox to a task that waits for the sends in flight; it publishes the stop
                // when it is done (or when it is dropped with its runtime).
                let rest = Dormant {
                    mailbox: core::mem::replace(&mut self.mailbox, MailboxReceiver::closed()),
                    cell: self.cell.clone(),
                    unwrap_ask: self.unwrap_ask,
                    reason: self.reason.clone(),
                    settling: true,
                };
                runtime.spawn(rest.settle());
                return;
            }
        }
        self.cell.publish_stop(self.reason.clone());
    }
}

/// An incarnation of a child that stopped, with the child's mailbox: what its supervisor receives.
pub(crate) struct ChildExit {
    pub(crate) key: u64,
    pub(crate) dormant: Dormant,
}

/// How an incarnation of a supervised child reaches its supervisor when it stops.
pub(crate) struct Parent {
    pub(crate) key: u64,
    pub(crate) exits: mpsc::UnboundedSender<ChildExit>,
    /// The supervisor's mailbox, to wake it. Not a counted reference: children do not keep their
    /// supervisor alive.
    pub(crate) supervisor: Arc<MailboxHandle>,
    /// The message that wakes it.
    pub(crate) wake: fn() -> Slot,
}

impl Parent {
    /// Hands the stopped incarnation to the supervisor; if the supervisor is gone, the child stops for
    /// good (the dormant actor drops).
    pub(crate) fn report(self, dormant: Dormant) {
        dormant.cell.set_state(ActorState::Restarting);
        let exit = ChildExit {
            key: self.key,
            dormant,
        };
        if self.exits.send(exit).is_ok() {
            // The supervisor's mailbox is unbounded; if it is closed, the supervisor is stopping and
            // reads its exits directly.
            let _ = self.supervisor.mailbox.try_send((self.wake)());
        }
    }
}
