//! Mailboxes: the queue of an actor's messages, the slot each message occupies, and the state an
//! actor's references share with its task.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

use crate::actor::error::StopReason;
use crate::actor::identity::ActorId;
pub(crate) use crate::actor::reply::{ReplyResult, ReplyTo};
use crate::actor::signal::Signals;
pub(crate) use crate::actor::signal::{Farewell, Signal};
use crate::address::ActorAddress;
use crate::envelope::ErasedEnvelope;
use crate::message::Message;

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

/// The sending half of a mailbox.
#[derive(Debug)]
pub(crate) enum MailboxSender {
    Unbounded(mpsc::UnboundedSender<Slot>),
    Bounded(mpsc::Sender<Slot>),
}

/// The receiving half, owned by the actor's task.
pub(crate) enum MailboxReceiver {
    Unbounded(mpsc::UnboundedReceiver<Slot>),
    Bounded(mpsc::Receiver<Slot>),
}

pub(crate) fn mailbox(kind: MailboxKind) -> (MailboxSender, MailboxReceiver) {
    match kind {
        MailboxKind::Unbounded => {
            let (tx, rx) = mpsc::unbounded_channel();
            (MailboxSender::Unbounded(tx), MailboxReceiver::Unbounded(rx))
        }
        MailboxKind::Bounded(capacity) => {
            assert!(
                capacity > 0,
                "a bounded mailbox needs a capacity of at least 1"
            );
            let (tx, rx) = mpsc::channel(capacity);
            (MailboxSender::Bounded(tx), MailboxReceiver::Bounded(rx))
        }
    }
}

impl MailboxSender {
    /// Enqueues without waiting.
    #[inline]
    pub(crate) fn try_send(&self, slot: Slot) -> Result<(), Refused> {
        match self {
            MailboxSender::Unbounded(tx) => {
                tx.send(slot).map_err(|error| Refused::Stopped(error.0))
            }
            MailboxSender::Bounded(tx) => tx.try_send(slot).map_err(|error| match error {
                mpsc::error::TrySendError::Full(slot) => Refused::Full(slot),
                mpsc::error::TrySendError::Closed(slot) => Refused::Stopped(slot),
            }),
        }
    }

    /// Enqueues, waiting for room in a bounded mailbox. `Err` gives the slot back: the actor stopped.
    pub(crate) async fn send(&self, slot: Slot) -> Result<(), Slot> {
        match self {
            MailboxSender::Unbounded(tx) => tx.send(slot).map_err(|error| error.0),
            MailboxSender::Bounded(tx) => tx.send(slot).await.map_err(|error| error.0),
        }
    }

    /// Whether the actor's mailbox is closed: it stopped, or is stopping.
    pub(crate) fn is_closed(&self) -> bool {
        match self {
            MailboxSender::Unbounded(tx) => tx.is_closed(),
            MailboxSender::Bounded(tx) => tx.is_closed(),
        }
    }

    /// A bounded mailbox's sender, for waiting for room without giving up the message.
    pub(crate) fn bounded(&self) -> Option<&mpsc::Sender<Slot>> {
        match self {
            MailboxSender::Bounded(tx) => Some(tx),
            MailboxSender::Unbounded(_) => None,
        }
    }
}

impl MailboxReceiver {
    pub(crate) fn try_recv(&mut self) -> Result<Slot, mpsc::error::TryRecvError> {
        match self {
            MailboxReceiver::Unbounded(rx) => rx.try_recv(),
            MailboxReceiver::Bounded(rx) => rx.try_recv(),
        }
    }

    pub(crate) async fn recv(&mut self) -> Option<Slot> {
        match self {
            MailboxReceiver::Unbounded(rx) => rx.recv().await,
            MailboxReceiver::Bounded(rx) => rx.recv().await,
        }
    }

    /// Polls for the next message: `Ready(None)` only once the mailbox is closed, empty, and no send
    /// into it is in flight.
    pub(crate) fn poll_recv(
        &mut self,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Option<Slot>> {
        match self {
            MailboxReceiver::Unbounded(rx) => rx.poll_recv(cx),
            MailboxReceiver::Bounded(rx) => rx.poll_recv(cx),
        }
    }

    /// A receiver of no mailbox, closed: what is left in place of one handed to another owner.
    pub(crate) fn closed() -> Self {
        let (_, mut rx) = mpsc::unbounded_channel();
        rx.close();
        MailboxReceiver::Unbounded(rx)
    }

    /// Refuses new messages; those already queued can still be received.
    pub(crate) fn close(&mut self) {
        match self {
            MailboxReceiver::Unbounded(rx) => rx.close(),
            MailboxReceiver::Bounded(rx) => rx.close(),
        }
    }
}

/// What an actor's references, its task and the system share. It outlives the actor's incarnations:
/// a supervised actor that restarts keeps its cell, so references to it stay valid.
pub(crate) struct ActorCell {
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
    pub(crate) fn new(id: ActorId, dedicated_thread: bool) -> Self {
        ActorCell {
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
    fn remove_ref(&self) -> bool {
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

/// The mailbox's sender with the actor's cell: what every reference to one actor, and the system,
/// point to.
#[derive(Debug)]
pub(crate) struct MailboxHandle {
    pub(crate) sender: MailboxSender,
    pub(crate) cell: std::sync::Arc<ActorCell>,
}

/// The message of a [`WAKE`] slot: it carries nothing.
struct Wake;

impl Message for Wake {
    const MESSAGE_TYPE: &'static str = "airssys_rt::Wake";
    type Result = ();
}

/// The handler index of a slot that only wakes an idle actor to look at its signals and references.
pub(crate) const WAKE: u32 = u32::MAX - 1;

impl MailboxHandle {
    /// Requests `signal` of the current incarnation and wakes the actor.
    pub(crate) fn signal(&self, signal: Signal) {
        self.cell.raise(signal);
        self.wake();
    }

    /// Asks the actor to end for good: from now on its mailbox refuses new messages, a supervisor does
    /// not restart it, and its task is woken to act on it.
    pub(crate) fn farewell(&self, farewell: Farewell) {
        self.cell.signals.farewell(farewell);
        self.wake();
    }

    /// Enqueues without waiting; refused once the actor was asked to end for good.
    #[inline]
    pub(crate) fn try_send(&self, slot: Slot) -> Result<(), Refused> {
        if self.cell.farewell_asked() != Farewell::None {
            return Err(Refused::Stopped(slot));
        }
        self.sender.try_send(slot)
    }

    /// Enqueues, waiting for room in a bounded mailbox; refused once the actor was asked to end for
    /// good. `Err` gives the slot back.
    pub(crate) async fn send(&self, slot: Slot) -> Result<(), Slot> {
        if self.cell.farewell_asked() != Farewell::None {
            return Err(slot);
        }
        self.sender.send(slot).await
    }

    /// Whether the actor refuses new messages: it was asked to end for good, or its mailbox is
    /// closed (it stopped, or is stopping).
    pub(crate) fn refuses(&self) -> bool {
        self.cell.farewell_asked() != Farewell::None || self.sender.is_closed()
    }

    pub(crate) fn remove_ref(&self) {
        if self.cell.remove_ref() {
            self.wake();
        }
    }

    /// Wakes an idle actor through its own mailbox, so that its idle wait is a plain `recv`. The slot
    /// queues behind other messages, but the actor checks its signals before every message, so a
    /// signal still overtakes them. A full or closed mailbox needs no waking: the actor is busy, or
    /// gone.
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
        self.cell.push_priority(slot).map_err(Refused::Stopped)?;
        self.wake();
        Ok(())
    }

    fn wake(&self) {
        let _ = self.sender.try_send(Slot {
            message: ErasedEnvelope::new(Wake),
            index: WAKE,
            timer: 0,
        });
    }
}
