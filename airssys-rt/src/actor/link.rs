//! Monitors and links: learning that another actor stopped, and stopping with it.
//!
//! Both watch an actor's *identity*, the one its [`ActorRef`](crate::ActorRef)s point to: a supervised
//! actor that is restarted keeps its identity, so its monitors and links fire once, when it stops for
//! good (its supervisor gave up on it, removed it, or stopped), not at each restart. Its supervisor is
//! what handles its failures in between.

use std::sync::{Arc, Weak};

use tokio::runtime::Handle;

use crate::actor::ActorId;
use crate::actor::StopReason;
use crate::address::ActorAddress;
use crate::core::WeakSystem;
use crate::core::dead_letter::DeadLetterReason;
use crate::core::mailbox::{MailboxHandle, Refused, Slot, Watcher};
use crate::envelope::ErasedEnvelope;
use crate::message::Message;

/// The message a monitor delivers: the watched actor stopped for good, and why. See
/// [`Context::monitor`](crate::Context::monitor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Down {
    /// The monitor that fired, as [`monitor`](crate::Context::monitor) returned it.
    pub monitor: MonitorRef,
    /// Why the actor stopped.
    pub reason: StopReason,
}

// `do_not_recommend`: these system messages are not what a user who forgot `#[derive(Message)]`
// meant, so rustc should not list them in that error.
#[diagnostic::do_not_recommend]
impl Message for Down {
    const MESSAGE_TYPE: &'static str = "airssys_rt::Down";
    type Result = ();
}

/// The message a linked actor that [traps exits](crate::Context::trap_exits) receives when the actor
/// it is linked to stops, normally or not. See [`Context::link`](crate::Context::link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exited {
    /// The linked actor that stopped (shared, so that the message stays small enough to travel
    /// inline).
    pub peer: Arc<ActorId>,
    /// Why it stopped.
    pub reason: StopReason,
}

#[diagnostic::do_not_recommend]
impl Message for Exited {
    const MESSAGE_TYPE: &'static str = "airssys_rt::Exited";
    type Result = ();
}

/// Identifies one monitor, to [`demonitor`](crate::Context::demonitor) it or to tell which one a
/// [`Down`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MonitorRef {
    /// The watched actor.
    pub target: ActorAddress,
    id: u64,
}

impl MonitorRef {
    pub(crate) fn id(&self) -> u64 {
        self.id
    }
}

/// Where a system message (a `Down` or an `Exited`) goes: the watcher's mailbox, held weakly so that
/// watching does not keep the watcher alive.
pub(crate) struct Delivery {
    pub(crate) to: Weak<MailboxHandle>,
    pub(crate) index: u32,
    pub(crate) runtime: Handle,
    pub(crate) system: WeakSystem,
}

impl Delivery {
    /// Delivers `message`. A full bounded mailbox does not lose it: a task waits for room. A watcher that
    /// has stopped gets it as a dead letter.
    pub(crate) fn deliver<M: Message>(&self, message: M) {
        let Some(handle) = self.to.upgrade() else {
            return;
        };
        let slot = Slot::new(ErasedEnvelope::new(message), self.index, 0);
        match handle.try_send(slot) {
            Ok(()) => {}
            Err(Refused::Full(slot)) => {
                let system = self.system.clone();
                self.runtime.spawn(async move {
                    if let Err(slot) = handle.send(slot).await {
                        system.dead_letter(
                            &handle.id,
                            slot.message,
                            false,
                            DeadLetterReason::Closed,
                        );
                    }
                });
            }
            Err(Refused::Stopped(slot)) => {
                self.system
                    .dead_letter(&handle.id, slot.message, false, DeadLetterReason::Closed);
            }
        }
    }
}

/// Watches `target` for `delivery`'s actor: a [`Down`] when it stops for good (at once if it has).
pub(crate) fn monitor(target: &MailboxHandle, delivery: Delivery) -> MonitorRef {
    let address = target.address;
    let id = target.watch_with_id(|id| {
        Box::new(move |reason: &StopReason| {
            delivery.deliver(Down {
                monitor: MonitorRef {
                    target: address,
                    id,
                },
                reason: reason.clone(),
            });
        })
    });
    MonitorRef {
        target: address,
        id,
    }
}

/// Links `a` and `b`: each watches the other, with the exit rules of [`Context::link`]
/// (crate::Context::link).
pub(crate) fn link(
    a: &Arc<MailboxHandle>,
    b: &Arc<MailboxHandle>,
    runtime: &Handle,
    system: &WeakSystem,
) {
    if a.address == b.address {
        return;
    }
    b.watch_with_id(|_| exit_signal(a, Arc::new(b.id.clone()), runtime, system));
    a.watch_with_id(|_| exit_signal(b, Arc::new(a.id.clone()), runtime, system));
}

/// What `to` does when the actor at `from` stops: receives `Exited` if it traps exits; otherwise stops
/// too if the reason is abnormal.
fn exit_signal(
    to: &Arc<MailboxHandle>,
    from: Arc<ActorId>,
    runtime: &Handle,
    system: &WeakSystem,
) -> Watcher {
    let to = Arc::downgrade(to);
    let runtime = runtime.clone();
    let system = system.clone();
    Box::new(move |reason: &StopReason| {
        let Some(handle) = to.upgrade() else {
            return;
        };
        if handle.is_stopped() {
            return;
        }
        if let Some(index) = handle.trapping() {
            let delivery = Delivery {
                to,
                index,
                runtime,
                system,
            };
            delivery.deliver(Exited {
                peer: from,
                reason: reason.clone(),
            });
        } else if !reason.is_normal() {
            handle.exit_with(StopReason::Linked {
                peer: from,
                reason: Arc::new(reason.clone()),
            });
        }
    })
}
