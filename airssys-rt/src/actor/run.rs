//! The actor's task: start, the message loop, stop.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context as TaskContext, Poll};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use pin_project_lite::pin_project;
use tokio::sync::oneshot;

use crate::actor::ActorId;
use crate::actor::error::{ActorPanic, StopReason};
use crate::actor::reply;
use crate::actor::running::RunningAs;
use crate::actor::{Actor, AfterPanic, Context};
use crate::core::Core;
use crate::core::cell::ActorState;
use crate::core::dormant::{Dormant, Parent};
use crate::core::mailbox::{
    ActorCell, Empty, MailboxHandle, MailboxReceiver, ReplyTo, Signal, Slot,
};
use crate::envelope::ErasedEnvelope;
use crate::observe;

/// Messages handled in a row before the task yields to the scheduler, for fairness.
const BATCH: u32 = 64;

pin_project! {
    /// Runs a future, turning a panic inside it into an `Err`. The future that panicked is dropped at
    /// once, as dropped by the panic, so that the asks whose [`ReplySender`](crate::ReplySender)s it
    /// held fail with that panic.
    struct CatchUnwind<F> {
        #[pin]
        inner: Option<F>,
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let mut inner = self.project().inner;
        let Some(future) = inner.as_mut().as_pin_mut() else {
            panic!("`CatchUnwind` polled after it completed");
        };
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                // Its `Drop` is user code too: a second panic there is contained with the first.
                let _ = catch_unwind(AssertUnwindSafe(|| {
                    reply::dropping_panicked(|| inner.set(None));
                }));
                Poll::Ready(Err(payload))
            }
        }
    }
}

pin_project! {
    /// Runs actor code (a hook or a handler) as [`CatchUnwind`], and turns a panic into the
    /// [`ActorPanic`] that names the actor and what it was doing. A named future rather than an
    /// `async fn`: an `async fn` wrapper would hold the wrapped future twice (its argument, and the
    /// future it awaits), and these wrappers nest inside every actor's task.
    struct Guarded<'a, F, D> {
        #[pin]
        inner: CatchUnwind<F>,
        actor: &'a ActorId,
        during: Option<D>,
    }
}

impl<F: Future, D: FnOnce() -> String> Future for Guarded<'_, F, D> {
    type Output = Result<F::Output, ActorPanic>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.inner.poll(cx) {
            Poll::Ready(Ok(output)) => Poll::Ready(Ok(output)),
            Poll::Ready(Err(payload)) => {
                let during = this
                    .during
                    .take()
                    .map_or_else(String::new, |during| during());
                Poll::Ready(Err(actor_panic(&*payload, this.actor, during)))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

fn guarded<F: Future, D: FnOnce() -> String>(
    future: F,
    actor: &ActorId,
    during: D,
) -> Guarded<'_, F, D> {
    Guarded {
        inner: CatchUnwind {
            inner: Some(future),
        },
        actor,
        during: Some(during),
    }
}

/// Runs synchronous actor code as [`guarded`] runs a future.
fn guarded_sync<R>(
    code: impl FnOnce() -> R,
    actor: &ActorId,
    during: &str,
) -> Result<R, ActorPanic> {
    catch_unwind(AssertUnwindSafe(code))
        .map_err(|payload| actor_panic(&*payload, actor, during.to_owned()))
}

/// The panic caught in `actor`'s code, once the asks its unwind orphaned have failed with it.
fn actor_panic(payload: &(dyn Any + Send), actor: &ActorId, during: String) -> ActorPanic {
    let panic = ActorPanic::new(payload, actor, during);
    reply::fail_orphans(Some(&panic));
    panic
}

/// Ends an incarnation however its task ends, including when it is aborted (killed): then the future
/// is dropped and so is this guard, with `Killed` (or the reason a link gave). An unsupervised actor
/// stops for good (its [`Dormant`] drops); a supervised one goes to its supervisor, which decides.
///
/// The reason is the `Dormant`'s own, `Killed` until the incarnation ends in another way.
struct StopGuard {
    dormant: Option<Dormant>,
    parent: Option<Parent>,
}

impl StopGuard {
    fn dormant(&mut self) -> &mut Dormant {
        match &mut self.dormant {
            Some(dormant) => dormant,
            None => unreachable!("the actor leaves the guard only when it drops"),
        }
    }
}

impl Drop for StopGuard {
    fn drop(&mut self) {
        let Some(mut dormant) = self.dormant.take() else {
            return;
        };
        if dormant.reason == StopReason::Killed {
            dormant.reason = dormant.cell.kill_reason();
        }
        observe::stopped(&dormant.cell.id, &dormant.reason);
        match self.parent.take() {
            Some(parent) => parent.report(dormant),
            None => drop(dormant),
        }
    }
}

/// Runs one incarnation of an actor in its task: `on_start` (unless `started`), the message loop,
/// `on_stop`. A supervised actor (`parent`) keeps its mailbox open when it stops: the supervisor may
/// start a new incarnation on it.
///
/// The stop guard is made here, before the future exists, so that it is part of the future from the
/// start: a task killed before its first poll still reports its stop (to its supervisor, or for good).
pub(crate) fn run<A: Actor>(
    actor: A,
    mut dormant: Dormant,
    ctx: Context<A>,
    parent: Option<Parent>,
    started: bool,
    on_started: Option<oneshot::Sender<()>>,
    span: observe::ActorSpan,
) -> impl Future<Output = ()> + Send {
    // Until this incarnation ends otherwise, it ends killed (not as the last one ended).
    dormant.reason = StopReason::Killed;
    let guard = StopGuard {
        dormant: Some(dormant),
        parent,
    };
    let task = RunningAs::new(
        ctx.address(),
        run_guarded(actor, guard, ctx, started, on_started),
    );
    observe::in_span(task, span)
}

/// What an incarnation's task owns, in the order it drops: the actor's state and its context (with its
/// timers and tasks) before the guard, which publishes the stop. Whoever waits for the stop then finds
/// the state dropped, however the task ended (returned, or dropped by a kill).
struct Incarnation<A> {
    actor: A,
    ctx: Context<A>,
    guard: StopGuard,
}

/// `on_started`, if any, is told once `on_start` has returned; dropped unsent if the start failed or
/// the actor was killed first (the waiter then reads the stop reason).
#[allow(
    clippy::manual_async_fn,
    reason = "an `async fn` would keep a second copy of its arguments"
)]
fn run_guarded<A: Actor>(
    actor: A,
    guard: StopGuard,
    ctx: Context<A>,
    started: bool,
    on_started: Option<oneshot::Sender<()>>,
) -> impl Future<Output = ()> + Send {
    let mut incarnation = Incarnation { actor, ctx, guard };
    // An `async` block over the arguments, not an `async fn`: an `async fn` keeps a second copy of
    // its arguments in its state (the actor, its context and its guard: this task's largest part).
    async move {
        let Incarnation { actor, ctx, guard } = &mut incarnation;
        let cell = guard.dormant().cell.clone();
        if cell.pending_signal() == Signal::Kill {
            return;
        }
        if !started
            && let Err(panic) =
                guarded(actor.on_start(ctx), &cell.id, || "on_start".to_owned()).await
        {
            // A failed start is not a stop: `on_stop` runs only for actors that started.
            ctx.core().report_panic(&panic, stops(&cell));
            guard.dormant().reason = StopReason::Panicked(panic);
            return;
        }
        cell.set_state(ActorState::Running);
        observe::started(&cell.id);
        if let Some(on_started) = on_started {
            let _ = on_started.send(());
        }
        let reason = message_loop(actor, &mut guard.dormant().mailbox, ctx, &cell).await;
        cell.set_state(ActorState::Stopping);
        if reason == StopReason::Killed {
            // Killed between two messages: as a kill anywhere else, no `on_stop`.
            return;
        }
        if guard.parent.is_none() {
            // Refuse new messages at once: senders get theirs back instead of queueing them for nobody.
            guard.dormant().mailbox.close();
        }
        let reason = match guarded(actor.on_stop(ctx, &reason), &cell.id, || {
            "on_stop".to_owned()
        })
        .await
        {
            Ok(()) => reason,
            Err(panic) => {
                ctx.core().report_panic(&panic, "it stops all the same");
                if reason.is_normal() {
                    StopReason::Panicked(panic)
                } else {
                    reason
                }
            }
        };
        // An unsupervised actor's queued messages become dead letters when the guard drops.
        guard.dormant().reason = reason;
    }
}

/// Runs `actor` in a task of its own on the mailbox of `dormant`: its first incarnation, unsupervised.
pub(crate) fn launch<A: Actor>(
    system: &Core,
    actor: A,
    handle: Arc<MailboxHandle>,
    dormant: Dormant,
    on_started: Option<oneshot::Sender<()>>,
) {
    let ctx = Context::new(handle, system.clone());
    let cell = dormant.cell.clone();
    let span = observe::actor_span(&cell.id);
    let task = run(actor, dormant, ctx, None, false, on_started, span);
    crate::actor::blocking::spawn_incarnation(system.runtime(), &cell, task);
}

/// Starts an incarnation of a supervised actor: builds its state with `factory` and runs its
/// `on_start` in the caller's task (the supervisor's, so that children start one after another, each
/// once the previous one has started), then runs it in a task of its own. A panic in the factory or in
/// `on_start` is a failed start: the dormant actor comes back with the reason.
pub(crate) async fn start_supervised<A: Actor>(
    factory: &(dyn Fn() -> A + Send + Sync),
    mut dormant: Dormant,
    handle: Arc<MailboxHandle>,
    system: &Core,
    parent: Parent,
) -> Result<(), Dormant> {
    dormant.cell.begin_incarnation();
    let mut actor = match catch_unwind(AssertUnwindSafe(factory)) {
        Ok(actor) => actor,
        Err(payload) => {
            let panic =
                ActorPanic::new(&*payload, &dormant.cell.id, "building the actor".to_owned());
            system.report_panic(&panic, stops(&dormant.cell));
            dormant.reason = StopReason::Panicked(panic);
            return Err(dormant);
        }
    };
    let mut ctx = Context::new(handle, system.clone());
    // `on_start` runs in the supervisor's task, but as the child's code.
    let span = observe::actor_span(&dormant.cell.id);
    let on_start = observe::in_span(
        RunningAs::new(ctx.address(), actor.on_start(&mut ctx)),
        span.clone(),
    );
    if let Err(panic) = guarded(on_start, &dormant.cell.id, || "on_start".to_owned()).await {
        system.report_panic(&panic, stops(&dormant.cell));
        dormant.reason = StopReason::Panicked(panic);
        return Err(dormant);
    }
    let cell = dormant.cell.clone();
    // The incarnation's one span: its `on_start` ran in it too.
    let task = run(actor, dormant, ctx, Some(parent), true, None, span);
    crate::actor::blocking::spawn_incarnation(system.runtime(), &cell, task);
    Ok(())
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
        // A stop the last handler (or `on_start`) asked for.
        if let Some(reason) = ctx.take_stop() {
            return reason;
        }
        match cell.pending_signal() {
            Signal::None => {}
            Signal::Drain => {
                if closed_with.is_none() {
                    mailbox.close();
                    closed_with = Some(StopReason::Drained);
                    cell.set_state(ActorState::Stopping);
                }
            }
            Signal::Stop => return StopReason::Stopped,
            Signal::Kill => return StopReason::Killed,
        }
        // The slot lives in this block only, and in one binding however it came (the priority lane,
        // the queue, or after the idle wait), so that its storage is not kept across the handler's
        // await below (it is consumed by then).
        let mut reply = ReplyTo::default();
        let (handled, span, message_type, began) = {
            let slot = match cell.pop_priority() {
                Some(slot) => slot,
                None => match mailbox.try_recv() {
                    Ok(slot) => slot,
                    Err(Empty::Closed) => {
                        return closed_with.unwrap_or(StopReason::NoReferences);
                    }
                    Err(Empty::Now) => {
                        if !cell.has_refs() && closed_with.is_none() {
                            // Nobody can send any more (but through a weak reference, which the close now
                            // refuses): handle what raced in, then stop.
                            mailbox.close();
                            closed_with = Some(StopReason::NoReferences);
                            continue;
                        }
                        handled_in_a_row = 0;
                        if reply::has_orphans() {
                            // Dropped by a panic that a handler caught itself: nothing will fail them with it.
                            reply::fail_orphans(None);
                        }
                        // Sleep until a message arrives, or until something the loop checks above changes:
                        // a signal, the last reference, the priority lane (each wakes the task). Those are
                        // looked at first, so that a stop raised while a message was arriving still
                        // overtakes it, and again after the poll has registered the waker.
                        let changed = || {
                            cell.pending_signal() != Signal::None
                                || cell.has_priority()
                                || (!cell.has_refs() && closed_with.is_none())
                        };
                        let woken = core::future::poll_fn(|cx| {
                            if changed() {
                                return Poll::Ready(None);
                            }
                            match mailbox.poll_recv(cx) {
                                Poll::Ready(next) => Poll::Ready(Some(next)),
                                Poll::Pending if changed() => Poll::Ready(None),
                                Poll::Pending => Poll::Pending,
                            }
                        })
                        .await;
                        match woken {
                            Some(Some(slot)) => slot,
                            Some(None) => return closed_with.unwrap_or(StopReason::NoReferences),
                            None => continue,
                        }
                    }
                },
            };
            if slot.timer != 0 && !ctx.timers.admit(slot.timer) {
                // A message of a timer cancelled since it was sent (or of an incarnation that has ended):
                // cancelled means not received. Its `Drop` is user code, contained.
                let _ = catch_unwind(AssertUnwindSafe(move || drop(slot)));
                continue;
            }
            let span = slot.span();
            let message_type = slot.message.message_type();
            let began = cell.mailbox.meters.begin(slot.sent_at());
            let handled = observe::entered(&span, || handle(actor, slot, ctx, &mut reply));
            (handled, span, message_type, began)
        };
        let outcome = match handled {
            // The span is consumed on every path, so that it is not kept across the awaits below.
            Handled::Done => {
                observe::end(span);
                Ok(())
            }
            Handled::Async(message, index) => {
                let handling = handle_async(actor, message, index, ctx, &mut reply, &cell.id);
                observe::in_span(handling, span).await
            }
            Handled::Panicked(payload) => {
                observe::end(span);
                Err(ActorPanic::new(&*payload, &cell.id, during(message_type)))
            }
        };
        // Counted however the handler ended: a panic is handled too.
        cell.count_handled();
        cell.mailbox.meters.end(began, || cell.depth());
        if let Err(panic) = outcome {
            reply.fail(&panic);
            let resume = guarded_sync(|| actor.on_panic(ctx, &panic), &cell.id, "on_panic");
            let system = ctx.core();
            match resume {
                Ok(AfterPanic::Resume) => system.report_panic(&panic, "on_panic resumes it"),
                Ok(AfterPanic::Stop) => {
                    system.report_panic(&panic, stops(cell));
                    return StopReason::Panicked(panic);
                }
                Err(hook_panic) => {
                    system.report_panic(&panic, "then on_panic panicked");
                    system.report_panic(&hook_panic, stops(cell));
                    return StopReason::Panicked(hook_panic);
                }
            }
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
    let Slot { message, index, .. } = slot;
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

fn handle_async<'a, A: Actor>(
    actor: &'a mut A,
    message: ErasedEnvelope,
    index: u32,
    ctx: &'a mut Context<A>,
    reply: &'a mut ReplyTo,
    actor_id: &'a ActorId,
) -> impl Future<Output = Result<(), ActorPanic>> + 'a {
    let message_type = message.message_type();
    guarded(
        actor.__dispatch(message, index, reply, ctx),
        actor_id,
        move || during(message_type),
    )
}

/// What happens to an actor that stops after a panic, for the panic report.
fn stops(cell: &ActorCell) -> &'static str {
    if cell.is_supervised() {
        "it stops, and its supervisor decides what follows"
    } else {
        "it stops"
    }
}

fn during(message_type: &str) -> String {
    format!("handling `{message_type}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Idle;

    #[derive(crate::Message)]
    #[message(crate = "crate")]
    struct Ping;

    #[crate::actor(crate = "crate")]
    impl Idle {
        fn ping(&mut self, _: Ping) {}
    }

    /// The task of every actor is this future: its size is most of what an idle actor costs. Guards the
    /// named-future wrappers and the `async` block of `run_guarded`, each of which removed a copy of
    /// what it wraps (1,224 bytes before them), and the one binding of a message's slot, in a block
    /// that keeps it out of the handler's await (728 bytes before it; 752 with `tracing`), and the
    /// dormant actor reaching its system through its cell (16 bytes less). 680 bytes; 704 with
    /// `tracing` (two boxed spans, and a pointer more per slot).
    #[test]
    fn an_actors_task_stays_small() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            let system = crate::ActorSystem::new().core().clone();
            let (handle, dormant) = system.create::<Idle>(crate::SpawnOptions::default());
            let ctx = Context::new(handle, system.clone());
            let span = observe::actor_span(&dormant.cell.id);
            let task = run(Idle, dormant, ctx, None, false, None, span);
            let size = size_of_val(&task);
            assert!(size <= 704, "the task of an idle actor is {size} bytes");
        });
    }
}
