//! Mailboxes: the queue of an actor's messages, the slot each message occupies, and the state an
//! actor's references share with its task.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use crate::actor::error::StopReason;
use crate::actor::identity::ActorId;
pub(crate) use crate::actor::reply::{ReplyResult, ReplyTo};
use crate::actor::signal::Signals;
pub(crate) use crate::actor::signal::{Farewell, Signal};
use crate::address::ActorAddress;
use crate::envelope::ErasedEnvelope;
use crate::message::Message;

pub(crate) mod queue;

/// The kind of mailbox an actor gets; see [`SpawnOptions`](crate::SpawnOptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailboxKind {
    /// No limit: [`tell`](crate::ActorRef::tell) always succeeds while the actor runs.
    Unbounded,
    /// At most this many queued messages. When it is full, `tell` returns the message
    /// ([`SendError::Full`](crate::SendError::Full)) and `send` and `ask` wait for room: backpressure.
    /// Must be at least 1.
    Bounded(usize),
}

/// An asked message: the message with its reply channel, erased together so that a mailbox slot needs
/// no room for a reply channel that most messages do not have.
pub(crate) struct Ask<M: Message> {
    pub(crate) message: M,
    pub(crate) reply: oneshot::Sender<ReplyResult>,
}

impl<M: Message> Message for Ask<M> {
    const MESSAGE_TYPE: &'static str = M::MESSAGE_TYPE;
    type Result = M::Result;
}

/// One message in a mailbox: the erased message (an `M`, or an [`Ask<M>`]) and the index of the
/// receiving actor's handler, fixed at compile time by `#[actor]`. Less than a cache line.
pub(crate) struct Slot {
    pub(crate) message: ErasedEnvelope,
    pub(crate) index: u32,
    /// The id of the timer of the receiving actor that sent it, 0 for every other message: the loop
    /// discards a timer's message once that timer was cancelled (see [`timer`](crate::actor::timer)).
    /// It fits in what would be padding.
    pub(crate) timer: u32,
}

static_assertions::const_assert_eq!(size_of::<Slot>(), 56);

impl Slot {
    /// The message back out of a slot that was refused (the sender knows its type).
    pub(crate) fn into_message<M: Message>(self) -> M {
        match self.message.downcast::<M>() {
            Ok(message) => message,
            Err(_) => unreachable!("a refused slot holds the message its sender put in"),
        }
    }
}

pub(crate) enum Refused {
    Full(Slot),
    Stopped(Slot),
}

/// The queue of an actor's messages, and the room left in it if it is bounded. Lives in the actor's
/// [cell](ActorCell): a mailbox allocates nothing until its first message, and an idle one holds no
/// block of slots ([`queue`]).
pub(crate) struct Mailbox {
    queue: queue::Queue<Slot>,
    /// A bounded mailbox's free room: one permit per message it can still take. Fair (waiting senders
    /// are served in order), and closed with the mailbox, which wakes them all with their message back.
    room: Option<tokio::sync::Semaphore>,
}

/// Room reserved in a mailbox, for one message: see [`Mailbox::reserve`].
pub(crate) struct Room<'a> {
    mailbox: &'a Mailbox,
    /// A bounded mailbox's permit; an unbounded one always has room.
    permit: Option<tokio::sync::SemaphorePermit<'a>>,
}

impl Room<'_> {
    /// Queues `slot` in the reserved room; `Err` gives it back if the mailbox closed meanwhile.
    pub(crate) fn send(self, slot: Slot) -> Result<(), Slot> {
        if let Some(permit) = self.permit {
            // The permit now belongs to the queued message; the consumer adds it back when it takes it.
            permit.forget();
        }
        self.mailbox.queue.push(slot)
    }
}

impl Mailbox {
    fn new(kind: MailboxKind) -> Self {
        let room = match kind {
            MailboxKind::Unbounded => None,
            MailboxKind::Bounded(capacity) => {
                assert!(
                    capacity > 0,
                    "a bounded mailbox needs a capacity of at least 1"
                );
                Some(tokio::sync::Semaphore::new(capacity))
            }
        };
        Mailbox {
            queue: queue::Queue::new(),
            room,
        }
    }

    /// Enqueues without waiting.
    #[inline]
    pub(crate) fn try_send(&self, slot: Slot) -> Result<(), Refused> {
        if let Some(room) = &self.room {
            match room.try_acquire() {
                Ok(permit) => permit.forget(),
                Err(tokio::sync::TryAcquireError::NoPermits) => return Err(Refused::Full(slot)),
                Err(tokio::sync::TryAcquireError::Closed) => return Err(Refused::Stopped(slot)),
            }
        }
        self.queue.push(slot).map_err(Refused::Stopped)
    }

    /// Waits for room (at once in an unbounded mailbox) and reserves it. `Err` once the mailbox is
    /// closed. Cancel safe: a wait dropped before it ends reserves nothing, and keeps no place in line.
    pub(crate) async fn reserve(&self) -> Result<Room<'_>, ()> {
        let permit = match &self.room {
            Some(room) => Some(room.acquire().await.map_err(|_| ())?),
            None => None,
        };
        if self.queue.is_closed() {
            return Err(());
        }
        Ok(Room {
            mailbox: self,
            permit,
        })
    }

    /// Whether the mailbox is closed: the actor stopped, or is stopping.
    pub(crate) fn is_closed(&self) -> bool {
        self.queue.is_closed()
    }

    /// Wakes the actor's task if it waits for a message, to look at its signals and references.
    #[inline]
    fn wake(&self) {
        self.queue.wake();
    }
}

/// What [`MailboxReceiver::try_recv`] found instead of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Empty {
    /// Nothing now; a message or a signal wakes the actor.
    Now,
    /// Closed, and every message it accepted was taken: nothing can arrive any more.
    Closed,
}

/// The receiving side of a mailbox: the only one that takes messages out of it. There is one per actor
/// (made with the cell, never cloned), owned by the task of its current incarnation, or by the actor's
/// [`Dormant`](crate::actor::run::Dormant) between two.
pub(crate) struct MailboxReceiver {
    /// `None` in place of a receiver handed to another owner: closed and empty.
    cell: Option<std::sync::Arc<ActorCell>>,
}

impl MailboxReceiver {
    /// The receiver of `cell`'s mailbox. Called once per cell.
    pub(crate) fn new(cell: std::sync::Arc<ActorCell>) -> Self {
        MailboxReceiver { cell: Some(cell) }
    }

    /// A receiver of no mailbox, closed: what is left in place of one handed to another owner.
    pub(crate) fn closed() -> Self {
        MailboxReceiver { cell: None }
    }

    /// The next message, if one is ready. A send still writing its message counts as `Now`: its sender
    /// wakes the actor when it is done.
    #[inline]
    pub(crate) fn try_recv(&mut self) -> Result<Slot, Empty> {
        let Some(cell) = &self.cell else {
            return Err(Empty::Closed);
        };
        let mailbox = &cell.mailbox;
        // SAFETY: this receiver is the mailbox's one consumer (see the type), and `&mut self` keeps
        // its calls one at a time.
        match unsafe { mailbox.queue.pop() } {
            queue::Pop::Item(slot) => {
                if let Some(room) = &mailbox.room {
                    room.add_permits(1);
                }
                Ok(slot)
            }
            queue::Pop::Empty | queue::Pop::Busy => Err(Empty::Now),
            queue::Pop::Closed => Err(Empty::Closed),
        }
    }

    /// Polls for the next message: `Ready(None)` only once the mailbox is closed, empty, and no send
    /// into it is in flight. Before it returns `Pending`, an empty mailbox gives its block of slots
    /// back: an idle actor holds none.
    pub(crate) fn poll_recv(
        &mut self,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Option<Slot>> {
        let Some(cell) = &self.cell else {
            return core::task::Poll::Ready(None);
        };
        let mailbox = &cell.mailbox;
        // SAFETY: as in `try_recv`.
        let next = unsafe { mailbox.queue.poll_pop(cx) };
        if let (core::task::Poll::Ready(Some(_)), Some(room)) = (&next, &mailbox.room) {
            room.add_permits(1);
        }
        next
    }

    pub(crate) async fn recv(&mut self) -> Option<Slot> {
        core::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Refuses new messages; those already queued can still be received. Senders waiting for room
    /// are woken, with their message back.
    pub(crate) fn close(&mut self) {
        if let Some(cell) = &self.cell {
            // SAFETY: as in `try_recv`.
            unsafe { cell.mailbox.queue.close() };
            if let Some(room) = &cell.mailbox.room {
                room.close();
            }
        }
    }
}

/// What an actor's references, its task and the system share. It outlives the actor's incarnations:
/// a supervised actor that restarts keeps its cell, so references to it stay valid.
pub(crate) struct ActorCell {
    /// Its messages.
    pub(crate) mailbox: Mailbox,
    /// Its system, held weakly: where a message that could not be delivered is reported.
    system: crate::system::WeakSystem,
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
    supervised: AtomicBool,
    /// The last id given to one of the actor's timers, over all its incarnations.
    last_timer: AtomicU32,
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
        system: crate::system::WeakSystem,
    ) -> Self {
        ActorCell {
            mailbox: Mailbox::new(kind),
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
            supervised: AtomicBool::new(false),
            last_timer: AtomicU32::new(0),
        }
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

    pub(crate) fn set_supervised(&self, supervised: bool) {
        self.supervised.store(supervised, Ordering::Release);
    }

    pub(crate) fn is_supervised(&self) -> bool {
        self.supervised.load(Ordering::Acquire)
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

    /// Enqueues, waiting for room in a bounded mailbox; refused once the actor was asked to end for
    /// good. `Err` gives the slot back. A wait for room that is dropped (cancelled) reports its message
    /// as a dead letter ([`DeadLetterReason::SendCancelled`]): nothing is dropped silently.
    ///
    /// [`DeadLetterReason::SendCancelled`]: crate::broker::DeadLetterReason::SendCancelled
    pub(crate) async fn send(&self, slot: Slot) -> Result<(), Slot> {
        if self.farewell_asked() != Farewell::None {
            return Err(slot);
        }
        let slot = match self.mailbox.try_send(slot) {
            Ok(()) => return Ok(()),
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
                    self.cell.cancelled(slot);
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
            Ok(room) => room.send(slot),
            Err(()) => Err(slot),
        }
    }

    /// Reports the message of a cancelled send as a dead letter (or counts it, if no one listens).
    #[cold]
    fn cancelled(&self, slot: Slot) {
        let Some(system) = self.system.upgrade() else {
            return;
        };
        let reason = crate::broker::DeadLetterReason::SendCancelled;
        let letter = crate::broker::DeadLetter::new(self.id.clone(), slot.message, false, reason);
        system.report_dead_letter(letter);
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
        match lane {
            crate::message::Priority::High => self.try_send_priority(slot),
            crate::message::Priority::Normal => self.try_send(slot),
        }
    }

    /// Queues `slot` in the priority lane, and wakes the actor if it is idle; refused once the actor
    /// was asked to end for good, or its mailbox closed.
    pub(crate) fn try_send_priority(&self, slot: Slot) -> Result<(), Refused> {
        if self.refuses() {
            return Err(Refused::Stopped(slot));
        }
        self.push_priority(slot).map_err(Refused::Stopped)?;
        self.wake();
        Ok(())
    }

    /// Wakes the actor's task if it is idle, to look at its signals, references and priority lane:
    /// through the mailbox's one waker slot, not a message.
    fn wake(&self) {
        self.mailbox.wake();
    }
}
