//! The actor's cell: what its references, its task and the system share (the mailbox, the signals,
//! the reference count, the priority lane, the watchers), and the sending operations on it.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use crate::actor::error::{SendError, StopReason};
use crate::actor::identity::ActorId;
use crate::address::ActorAddress;
use crate::core::mailbox::{Mailbox, MailboxKind, Refused, Slot};
use crate::core::signal::Signals;
use crate::core::signal::{Farewell, Signal};
pub use crate::core::state::ActorState;
use crate::message::Message;

/// What an actor's references, its task and the system share. It outlives the actor's incarnations:
/// a supervised actor that restarts keeps its cell, so references to it stay valid.
pub(crate) struct ActorCell {
    /// Its messages.
    pub(crate) mailbox: Mailbox,
    /// Its system, held weakly: where a message that could not be delivered is reported.
    system: crate::core::WeakSystem,
    pub(crate) address: ActorAddress,
    /// Its address, type and name, for people.
    pub(crate) id: ActorId,
    /// What the current incarnation is asked to do, and whether the actor is asked to end for good.
    signals: Signals,
    /// Strong references ([`ActorRef`](crate::ActorRef), [`Recipient`](crate::Recipient)) alive.
    refs: AtomicUsize,
    /// Set once the actor has stopped for good (its reason is in `watchers`).
    stopped: AtomicBool,
    /// Aborts the current incarnation's task.
    abort: Mutex<Option<Abort>>,
    /// Whether its incarnations run on a thread of their own.
    pub(crate) dedicated_thread: bool,
    /// The priority lane: high-priority messages, handled before the mailbox's queue.
    lane: Mutex<Lane>,
    /// Whether `lane` holds a message: what the loop reads before every message, without the lock.
    has_priority: AtomicBool,
    /// The reason a kill reports instead of `Killed`: set by a link before it kills the actor.
    exit_reason: Mutex<Option<StopReason>>,
    /// The handler index of [`Exited`](crate::Exited) if the actor traps exits, else [`NOT_TRAPPING`].
    trap: AtomicU32,
    /// Run once when the actor stops for good: monitors and links.
    watchers: Mutex<Watchers>,
    /// Whether a supervisor owns the actor (then the supervisor, not the system, stops it).
    /// The id of its supervisor's address, 0 if no supervisor owns it: then the supervisor, not the
    /// system, stops it.
    parent: AtomicU64,
    /// The last id given to one of the actor's timers, over all its incarnations.
    last_timer: AtomicU32,
    /// Where it is in its life: an [`ActorState`], for introspection.
    state: AtomicU8,
    /// Restarts by its supervisor, over all its incarnations.
    restarts: AtomicU32,
    /// Messages handled, over all its incarnations. Written only by the actor's task (a load and a
    /// store, no read-modify-write), read by introspection.
    handled: AtomicU64,
}

/// A counted reference to a cell: while one exists, the actor does not stop for lack of references.
/// What [`ActorRef`](crate::ActorRef), [`Recipient`](crate::Recipient), a registered name and a timer
/// hold.
#[derive(Debug)]
pub(crate) struct Strong(Arc<MailboxHandle>);

impl Strong {
    pub(crate) fn new(handle: Arc<MailboxHandle>) -> Self {
        handle.add_ref();
        Strong(handle)
    }

    pub(crate) fn handle(&self) -> &Arc<MailboxHandle> {
        &self.0
    }
}

impl Clone for Strong {
    fn clone(&self) -> Self {
        Strong::new(self.0.clone())
    }
}

impl Drop for Strong {
    fn drop(&mut self) {
        self.0.remove_ref();
    }
}

/// How to abort an incarnation: its tokio task, or the thread it runs on.
pub(crate) enum Abort {
    Task(AbortHandle),
    /// Tells the actor's thread to drop the incarnation's future, as an abort would.
    Thread(oneshot::Sender<()>),
}

impl Abort {
    fn abort(self) {
        match self {
            Abort::Task(task) => task.abort(),
            Abort::Thread(kill) => {
                let _ = kill.send(());
            }
        }
    }
}

const NOT_TRAPPING: u32 = u32::MAX;

/// An actor's priority lane. `VecDeque::new` allocates nothing: an actor that never gets a
/// high-priority message pays a lock and a flag in its cell, no more.
#[derive(Default)]
struct Lane {
    slots: std::collections::VecDeque<Slot>,
    /// Set by the final drain: a send that finds it refused, so that nothing is queued after it.
    closed: bool,
}

/// What runs when an actor stops for good, with its reason.
pub(crate) type Watcher = Box<dyn FnOnce(&StopReason) + Send>;

#[derive(Default)]
struct Watchers {
    next_id: u64,
    list: Vec<(u64, Watcher)>,
    /// The stop reason, once the watchers have run: later ones run at once.
    stopped: Option<StopReason>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here leaves its data consistent, even if a watcher panics outside it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl core::fmt::Debug for ActorCell {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ActorCell")
            .field("address", &self.address)
            .field("signal", &self.pending_signal())
            .finish_non_exhaustive()
    }
}

impl ActorCell {
    pub(crate) fn new(
        id: ActorId,
        kind: MailboxKind,
        dedicated_thread: bool,
        system: crate::core::WeakSystem,
    ) -> Self {
        ActorCell {
            mailbox: Mailbox::new(kind, &id),
            system,
            address: id.address(),
            id,
            dedicated_thread,
            lane: Mutex::new(Lane::default()),
            has_priority: AtomicBool::new(false),
            signals: Signals::new(),
            refs: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
            abort: Mutex::new(None),
            exit_reason: Mutex::new(None),
            trap: AtomicU32::new(NOT_TRAPPING),
            watchers: Mutex::new(Watchers::default()),
            parent: AtomicU64::new(0),
            last_timer: AtomicU32::new(0),
            state: AtomicU8::new(ActorState::Starting as u8),
            restarts: AtomicU32::new(0),
            handled: AtomicU64::new(0),
        }
    }

    /// Its system, if it still exists.
    pub(crate) fn system(&self) -> Option<crate::core::Core> {
        self.system.upgrade()
    }

    /// Records `signal` (a weaker one than already requested changes nothing); the caller wakes the
    /// task. A kill also aborts the task.
    fn raise(&self, signal: Signal) {
        self.signals.raise(signal);
        if signal == Signal::Kill
            && let Some(abort) = lock(&self.abort).take()
        {
            abort.abort();
        }
    }

    /// Records the task of a new incarnation; aborts it at once if a kill is already pending.
    pub(crate) fn set_task(&self, task: Abort) {
        let mut abort = lock(&self.abort);
        if self.pending_signal() == Signal::Kill {
            task.abort();
        } else {
            *abort = Some(task);
        }
    }

    /// Clears what ended the last incarnation (a kill, a supervisor's stop), before a restart; a
    /// farewell stays raised, and is returned.
    pub(crate) fn begin_incarnation(&self) -> Farewell {
        self.set_state(ActorState::Starting);
        lock(&self.exit_reason).take();
        self.signals.begin_incarnation()
    }

    #[inline]
    pub(crate) fn pending_signal(&self) -> Signal {
        self.signals.pending()
    }

    /// Whether the actor was asked to end for good ([`Farewell`]), and how.
    #[inline]
    pub(crate) fn farewell_asked(&self) -> Farewell {
        self.signals.farewell_asked()
    }

    /// The reason to report for a kill: the one a link set, or `Killed`.
    pub(crate) fn kill_reason(&self) -> StopReason {
        lock(&self.exit_reason)
            .clone()
            .unwrap_or(StopReason::Killed)
    }

    pub(crate) fn add_ref(&self) {
        self.refs.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether that was the last strong reference (then the caller wakes the task).
    fn drop_ref(&self) -> bool {
        self.refs.fetch_sub(1, Ordering::AcqRel) == 1
    }

    pub(crate) fn has_refs(&self) -> bool {
        self.refs.load(Ordering::Acquire) > 0
    }

    /// Queues `slot` in the priority lane; refused if the lane is closed (the actor stopped).
    fn push_priority(&self, slot: Slot) -> Result<(), Slot> {
        let mut lane = lock(&self.lane);
        if lane.closed {
            return Err(slot);
        }
        lane.slots.push_back(slot);
        self.has_priority.store(true, Ordering::Release);
        Ok(())
    }

    /// Whether the priority lane holds a message.
    #[inline]
    pub(crate) fn has_priority(&self) -> bool {
        self.has_priority.load(Ordering::Acquire)
    }

    /// How many messages wait for the actor, in both lanes: a snapshot.
    pub(crate) fn depth(&self) -> usize {
        let lane = if self.has_priority() {
            lock(&self.lane).slots.len()
        } else {
            0
        };
        self.mailbox.len() + lane
    }

    /// The next high-priority message, if any: one atomic load when there is none.
    #[inline]
    pub(crate) fn pop_priority(&self) -> Option<Slot> {
        if !self.has_priority.load(Ordering::Acquire) {
            return None;
        }
        let mut lane = lock(&self.lane);
        let slot = lane.slots.pop_front();
        if lane.slots.is_empty() {
            self.has_priority.store(false, Ordering::Release);
        }
        slot
    }

    /// Closes the priority lane for good and gives back what it held: the final drain's.
    pub(crate) fn close_priority(&self) -> std::collections::VecDeque<Slot> {
        let mut lane = lock(&self.lane);
        lane.closed = true;
        self.has_priority.store(false, Ordering::Release);
        core::mem::take(&mut lane.slots)
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// A new timer id, never 0 (which marks messages that are not a timer's). Unique across the actor's
    /// incarnations, so that a timer of one is never taken for a timer of the next.
    pub(crate) fn next_timer_id(&self) -> u32 {
        loop {
            let id = self
                .last_timer
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_add(1);
            if id != 0 {
                return id;
            }
        }
    }

    /// Records the supervisor that owns the actor from now on (`None`: none does).
    pub(crate) fn set_parent(&self, parent: Option<ActorAddress>) {
        let id = parent.map_or(0, |address| address.id());
        self.parent.store(id, Ordering::Release);
    }

    /// The supervisor that owns the actor, if one does.
    pub(crate) fn parent(&self) -> Option<ActorAddress> {
        let id = core::num::NonZeroU64::new(self.parent.load(Ordering::Acquire))?;
        Some(ActorAddress::from_id(id))
    }

    pub(crate) fn is_supervised(&self) -> bool {
        self.parent.load(Ordering::Acquire) != 0
    }

    /// Records where the actor is in its life.
    pub(crate) fn set_state(&self, state: ActorState) {
        self.state.store(state as u8, Ordering::Relaxed);
    }

    pub(crate) fn state(&self) -> ActorState {
        ActorState::ALL[usize::from(self.state.load(Ordering::Relaxed))]
    }

    /// Counts a handled message. Only the actor's task calls it: a load and a store suffice.
    #[inline]
    pub(crate) fn count_handled(&self) {
        let handled = self.handled.load(Ordering::Relaxed);
        self.handled.store(handled + 1, Ordering::Relaxed);
    }

    pub(crate) fn handled(&self) -> u64 {
        self.handled.load(Ordering::Relaxed)
    }

    /// Counts a restart by the actor's supervisor.
    pub(crate) fn count_restart(&self) {
        self.restarts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn restarts(&self) -> u32 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// Makes the actor receive exits of linked actors as messages, at handler `index`.
    pub(crate) fn trap_exits(&self, index: u32) {
        self.trap.store(index, Ordering::Release);
    }

    /// The handler index of `Exited`, if the actor traps exits.
    pub(crate) fn trapping(&self) -> Option<u32> {
        let index = self.trap.load(Ordering::Acquire);
        (index != NOT_TRAPPING).then_some(index)
    }

    /// Publishes that the actor stopped for good, then runs its watchers.
    pub(crate) fn publish_stop(&self, reason: StopReason) {
        let list = {
            let mut watchers = lock(&self.watchers);
            watchers.stopped = Some(reason.clone());
            self.set_state(ActorState::Stopped);
            self.stopped.store(true, Ordering::Release);
            core::mem::take(&mut watchers.list)
        };
        for (_, watcher) in list {
            watcher(&reason);
        }
    }

    /// Registers the watcher `make` builds from its id; it runs when the actor stops for good, or now
    /// if it already has. Returns the id, for [`unwatch`](ActorCell::unwatch).
    pub(crate) fn watch_with_id(&self, make: impl FnOnce(u64) -> Watcher) -> u64 {
        let mut watchers = lock(&self.watchers);
        watchers.next_id += 1;
        let id = watchers.next_id;
        let watcher = make(id);
        match watchers.stopped.clone() {
            Some(reason) => {
                drop(watchers);
                watcher(&reason);
            }
            None => watchers.list.push((id, watcher)),
        }
        id
    }

    /// Removes a watcher that has not run yet.
    pub(crate) fn unwatch(&self, id: u64) {
        lock(&self.watchers)
            .list
            .retain(|(watcher, _)| *watcher != id);
    }

    /// Makes the next kill report `reason` instead of `Killed`, then kills.
    pub(crate) fn exit_with(&self, reason: StopReason) {
        lock(&self.exit_reason).get_or_insert(reason);
        self.raise(Signal::Kill);
    }

    /// Waits for the stop reason: a watcher that answers through a oneshot, registered only while
    /// someone waits (a `watch` channel per actor cost an allocation at every spawn), and removed if the
    /// wait is dropped first.
    pub(crate) async fn wait_for_stop(&self) -> StopReason {
        let (tell, told) = oneshot::channel::<StopReason>();
        // Run at once if the actor has stopped already: `told` is then ready.
        let id = self.watch_with_id(|_| {
            Box::new(move |reason: &StopReason| {
                let _ = tell.send(reason.clone());
            })
        });
        /// Removes the watcher of a wait that ends before the stop.
        struct Unwatch<'a>(&'a ActorCell, u64);
        impl Drop for Unwatch<'_> {
            fn drop(&mut self) {
                self.0.unwatch(self.1);
            }
        }
        let _unwatch = Unwatch(self, id);
        match told.await {
            Ok(reason) => reason,
            // The watcher was dropped unrun: only when the cell is torn down without a stop, which
            // `&self` rules out; report what the cell knows.
            Err(_) => lock(&self.watchers)
                .stopped
                .clone()
                .unwrap_or(StopReason::Killed),
        }
    }
}

/// The actor's cell as every reference to one actor, and the system, hold it (`Arc<MailboxHandle>`):
/// one allocation per actor, and one pointer from a reference to the mailbox.
pub(crate) type MailboxHandle = ActorCell;

impl MailboxHandle {
    /// Requests `signal` of the current incarnation and wakes the actor.
    pub(crate) fn signal(&self, signal: Signal) {
        self.raise(signal);
        self.wake();
    }

    /// Asks the actor to end for good: from now on its mailbox refuses new messages, a supervisor does
    /// not restart it, and its task is woken to act on it.
    pub(crate) fn farewell(&self, farewell: Farewell) {
        self.signals.farewell(farewell);
        self.wake();
    }

    /// Enqueues without waiting; refused once the actor was asked to end for good.
    #[inline]
    pub(crate) fn try_send(&self, slot: Slot) -> Result<(), Refused> {
        if self.farewell_asked() != Farewell::None {
            return Err(Refused::Stopped(slot));
        }
        self.mailbox.try_send(slot)
    }

    /// Counts a message given back to its sender (feature `metrics`), and returns the error.
    #[inline]
    pub(crate) fn refused<M: Message>(&self, error: SendError<M>) -> SendError<M> {
        self.mailbox.meters.refused(error.is_full());
        error
    }

    /// Reports the message of a send or an ask whose wait for room was dropped (cancelled) as a dead
    /// letter ([`DeadLetterReason::SendCancelled`]).
    ///
    /// [`DeadLetterReason::SendCancelled`]: crate::core::dead_letter::DeadLetterReason::SendCancelled
    pub(crate) fn cancelled(&self, message: crate::envelope::ErasedEnvelope, was_ask: bool) {
        let reason = crate::core::dead_letter::DeadLetterReason::SendCancelled;
        self.system.dead_letter(&self.id, message, was_ask, reason);
    }

    /// Enqueues, waiting for room in a bounded mailbox; refused once the actor was asked to end for
    /// good. `Err` gives the slot back. A wait for room that is dropped (cancelled) reports its message
    /// as a dead letter ([`DeadLetterReason::SendCancelled`]): nothing is dropped silently.
    ///
    /// [`DeadLetterReason::SendCancelled`]: crate::core::dead_letter::DeadLetterReason::SendCancelled
    pub(crate) async fn send(&self, slot: Slot) -> Result<(), Slot> {
        if self.farewell_asked() != Farewell::None {
            return Err(slot);
        }
        let message_type = slot.message.message_type();
        let slot = match self.mailbox.try_send(slot) {
            Ok(()) => {
                crate::observe::sent(&self.id, message_type);
                return Ok(());
            }
            Err(Refused::Stopped(slot)) => return Err(slot),
            Err(Refused::Full(slot)) => slot,
        };
        /// The message of a send waiting for room; a dead letter if the wait is dropped.
        struct Waiting<'a> {
            slot: Option<Slot>,
            cell: &'a ActorCell,
        }
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                if let Some(slot) = self.slot.take() {
                    self.cell.cancelled(slot.message, false);
                }
            }
        }
        let mut waiting = Waiting {
            slot: Some(slot),
            cell: self,
        };
        let room = self.mailbox.reserve().await;
        let Some(slot) = waiting.slot.take() else {
            unreachable!("the slot is taken once, here or by the drop")
        };
        match room {
            Ok(room) => {
                room.send(slot)?;
                crate::observe::sent(&self.id, message_type);
                Ok(())
            }
            Err(()) => Err(slot),
        }
    }

    /// Whether the actor refuses new messages: it was asked to end for good, or its mailbox is
    /// closed (it stopped, or is stopping).
    pub(crate) fn refuses(&self) -> bool {
        self.farewell_asked() != Farewell::None || self.mailbox.is_closed()
    }

    pub(crate) fn remove_ref(&self) {
        if self.drop_ref() {
            self.wake();
        }
    }

    /// Queues a slot holding an `M` in the lane `M` asks for ([`Message::PRIORITY`], a constant:
    /// the branch is decided at compile time), without waiting.
    #[inline]
    pub(crate) fn offer<M: Message>(&self, slot: Slot) -> Result<(), Refused> {
        self.offer_in(slot, M::PRIORITY)
    }

    /// Queues `slot` in `lane`, without waiting.
    #[inline]
    pub(crate) fn offer_in(
        &self,
        slot: Slot,
        lane: crate::message::Priority,
    ) -> Result<(), Refused> {
        let message_type = slot.message.message_type();
        match lane {
            crate::message::Priority::High => self.try_send_priority(slot),
            crate::message::Priority::Normal => self.try_send(slot),
        }?;
        crate::observe::sent(&self.id, message_type);
        Ok(())
    }

    /// Queues `slot` in the priority lane, and wakes the actor if it is idle; refused once the actor
    /// was asked to end for good, or its mailbox closed.
    pub(crate) fn try_send_priority(&self, slot: Slot) -> Result<(), Refused> {
        if self.refuses() {
            return Err(Refused::Stopped(slot));
        }
        self.push_priority(slot).map_err(Refused::Stopped)?;
        self.mailbox.meters.sent();
        self.wake();
        Ok(())
    }

    /// Wakes the actor's task if it is idle, to look at its signals, references and priority lane:
    /// through the mailbox's one waker slot, not a message.
    fn wake(&self) {
        self.mailbox.wake();
    }
}
