//! The actor's task: start, the message loop, stop.

use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context as TaskContext, Poll};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use pin_project_lite::pin_project;
use tokio::sync::mpsc::error::TryRecvError;

use crate::actor::error::{ActorPanic, StopReason};
use crate::actor::mailbox::{ActorCell, MailboxReceiver, ReplyTo, Signal, Slot, WAKE};
use crate::actor::{Actor, AfterPanic, Context};
use crate::broker::dead_letter::{DeadLetter, DeadLetterReason};
use crate::envelope::ErasedEnvelope;
use crate::system::Exit;

/// Messages handled in a row before the task yields to the scheduler, for fairness.
const BATCH: u32 = 64;

pin_project! {
    /// Runs a future, turning a panic inside it into an `Err`.
    struct CatchUnwind<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let inner = self.project().inner;
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

async fn guarded<F: Future>(
    future: F,
    during: impl FnOnce() -> String,
) -> Result<F::Output, ActorPanic> {
    CatchUnwind { inner: future }
        .await
        .map_err(|payload| ActorPanic::new(&*payload, during()))
}

/// Ends an actor however its task ends, including when it is aborted (killed): then the future is
/// dropped and so is this guard, with `Killed`. It closes the mailbox, leaves the routing table, reports
/// every message still queued as a dead letter (an ask among them fails with `AskError::Stopped` as its
/// reply channel drops), and publishes the stop reason, in that order.
struct StopGuard<A: Actor> {
    cell: Arc<ActorCell>,
    mailbox: MailboxReceiver,
    exit: Exit,
    reason: StopReason,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> Drop for StopGuard<A> {
    fn drop(&mut self) {
        self.mailbox.close();
        self.exit.deregister();
        let report = self.exit.wants_dead_letters();
        while let Ok(slot) = self.mailbox.try_recv() {
            if slot.index == WAKE {
                continue;
            }
            if report {
                let (payload, was_ask) = A::__unwrap_ask(slot.message, slot.index);
                let reason = DeadLetterReason::Stopped(self.reason.clone());
                self.exit
                    .dead_letter(DeadLetter::new(self.cell.address, payload, was_ask, reason));
            } else {
                self.exit.count_dead_letter();
            }
        }
        self.cell.stopped.send_replace(Some(self.reason.clone()));
    }
}

pub(crate) async fn run<A: Actor>(
    mut actor: A,
    mailbox: MailboxReceiver,
    mut ctx: Context<A>,
    cell: Arc<ActorCell>,
    exit: Exit,
) {
    let mut guard = StopGuard::<A> {
        cell: cell.clone(),
        mailbox,
        exit,
        reason: StopReason::Killed,
        _actor: PhantomData,
    };
    if cell.pending_signal() == Signal::Kill {
        return;
    }
    if let Err(panic) = guarded(actor.on_start(&mut ctx), || "on_start".to_owned()).await {
        // A failed start is not a stop: `on_stop` runs only for actors that started.
        guard.reason = StopReason::Panicked(panic);
        return;
    }
    let reason = message_loop(&mut actor, &mut guard.mailbox, &mut ctx, &cell).await;
    // Refuse new messages at once: senders get theirs back instead of queueing them for nobody.
    guard.mailbox.close();
    let reason = match guarded(actor.on_stop(&mut ctx, &reason), || "on_stop".to_owned()).await {
        Ok(()) => reason,
        Err(panic) if reason.is_normal() => StopReason::Panicked(panic),
        Err(_) => reason,
    };
    // Messages still queued become dead letters when the guard drops.
    guard.reason = reason;
}

async fn message_loop<A: Actor>(
    actor: &mut A,
    mailbox: &mut MailboxReceiver,
    ctx: &mut Context<A>,
    cell: &ActorCell,
) -> StopReason {
    // The reason to report once a closed mailbox is empty.
    let mut closed_with: Option<StopReason> = None;
    let mut handled_in_a_row = 0_u32;
    loop {
        match cell.pending_signal() {
            Signal::None => {}
            Signal::Drain => {
                if closed_with.is_none() {
                    mailbox.close();
                    closed_with = Some(StopReason::Drained);
                }
            }
            Signal::Stop => return StopReason::Stopped,
            Signal::Kill => return StopReason::Killed,
        }
        let slot = match mailbox.try_recv() {
            Ok(slot) => slot,
            Err(TryRecvError::Disconnected) => {
                return closed_with.unwrap_or(StopReason::NoReferences);
            }
            Err(TryRecvError::Empty) => {
                if !cell.has_refs() && closed_with.is_none() {
                    // Nobody can send any more (but through a weak reference, which the close now
                    // refuses): handle what raced in, then stop.
                    mailbox.close();
                    closed_with = Some(StopReason::NoReferences);
                    continue;
                }
                handled_in_a_row = 0;
                match mailbox.recv().await {
                    Some(slot) => slot,
                    None => return closed_with.unwrap_or(StopReason::NoReferences),
                }
            }
        };
        if slot.index == WAKE {
            continue;
        }
        let message_type = slot.message.message_type();
        let mut reply = ReplyTo::default();
        let outcome = match handle(actor, slot, ctx, &mut reply) {
            Handled::Done => Ok(()),
            Handled::Async(message, index) => {
                handle_async(actor, message, index, ctx, &mut reply).await
            }
            Handled::Panicked(payload) => Err(ActorPanic::new(&*payload, during(message_type))),
        };
        if let Err(panic) = outcome {
            reply.fail(&panic);
            let resume = guarded(async { actor.on_panic(ctx, &panic) }, || {
                "on_panic".to_owned()
            })
            .await;
            match resume {
                Ok(AfterPanic::Resume) => {}
                Ok(AfterPanic::Stop) => return StopReason::Panicked(panic),
                Err(hook_panic) => return StopReason::Panicked(hook_panic),
            }
        }
        if ctx.stop_requested() {
            return StopReason::Stopped;
        }
        handled_in_a_row += 1;
        if handled_in_a_row == BATCH {
            handled_in_a_row = 0;
            tokio::task::yield_now().await;
        }
    }
}

/// Handles one message; a panic is caught, reported to an asker, and returned.
///
/// A synchronous handler runs in place inside `catch_unwind`, with no future at all: building the
/// future of an `async` handler (several hundred bytes, moved into this task's state) costs more than
/// a small handler itself, so only `async` handlers pay for it.
fn handle<A: Actor>(
    actor: &mut A,
    slot: Slot,
    ctx: &mut Context<A>,
    reply: &mut ReplyTo,
) -> Handled {
    let Slot { message, index } = slot;
    let handled = catch_unwind(AssertUnwindSafe(|| {
        actor.__dispatch_sync(message, index, reply, ctx)
    }));
    match handled {
        Ok(None) => Handled::Done,
        Ok(Some(message)) => Handled::Async(message, index),
        Err(payload) => Handled::Panicked(payload),
    }
}

/// What [`handle`] did with a message.
enum Handled {
    Done,
    /// Its handler is `async`: run it with [`handle_async`].
    Async(ErasedEnvelope, u32),
    Panicked(Box<dyn Any + Send>),
}

async fn handle_async<A: Actor>(
    actor: &mut A,
    message: ErasedEnvelope,
    index: u32,
    ctx: &mut Context<A>,
    reply: &mut ReplyTo,
) -> Result<(), ActorPanic> {
    let message_type = message.message_type();
    guarded(actor.__dispatch(message, index, reply, ctx), || {
        during(message_type)
    })
    .await
}

fn during(message_type: &str) -> String {
    format!("handling `{message_type}`")
}
