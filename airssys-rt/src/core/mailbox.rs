//! Mailboxes: the queue of an actor's messages ([`queue`]), the slot each message occupies, the room
//! of a bounded one, and the receiving side that the actor's task owns.

use tokio::sync::oneshot;

pub(crate) use crate::actor::reply::{ReplyResult, ReplyTo};
pub(crate) use crate::core::cell::{Abort, ActorCell, MailboxHandle, Watcher};
pub(crate) use crate::core::signal::{Farewell, Signal};
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
    /// The span it was sent in, for the span of its handling to follow from: set only while a
    /// subscriber records message spans (else `None`, and nothing is allocated). Boxed, so that a slot
    /// grows by a pointer, not by a `Span`; held, not just its id, so that the sender's span stays
    /// open until the message is handled (an id alone may be reused once its span closes).
    #[cfg(feature = "tracing")]
    pub(crate) cause: crate::observe::ActorSpan,
    /// When it was sent, for its mailbox wait (feature `metrics`).
    #[cfg(feature = "metrics")]
    pub(crate) sent_at: crate::observe::SentAt,
}

// 56 bytes, a 64-byte queue slot with its mark; with `tracing`, a pointer more (see `cause`); with
// `metrics`, an `Instant` more.
static_assertions::const_assert_eq!(
    size_of::<Slot>(),
    56 + if cfg!(feature = "tracing") { 8 } else { 0 }
        + if cfg!(feature = "metrics") { 16 } else { 0 }
);
// And a block of them is recycled: a steady load allocates nothing.
#[cfg(not(loom))]
static_assertions::const_assert!(queue::recycles_blocks_of::<Slot>());

impl Slot {
    /// A slot for `message`, to handler `index` (`timer`: the id of the sending timer, or 0), sent in
    /// the current span.
    #[inline(always)]
    pub(crate) fn new(message: ErasedEnvelope, index: u32, timer: u32) -> Self {
        Slot {
            message,
            index,
            timer,
            #[cfg(feature = "tracing")]
            cause: crate::observe::cause(),
            #[cfg(feature = "metrics")]
            sent_at: crate::observe::sent_at(),
        }
    }

    /// The span of handling this message (feature `tracing`; nothing without it).
    #[inline(always)]
    pub(crate) fn span(&self) -> crate::observe::ActorSpan {
        #[cfg(feature = "tracing")]
        let cause = &self.cause;
        #[cfg(not(feature = "tracing"))]
        let cause = &crate::observe::ActorSpan;
        crate::observe::message_span(self.message.message_type(), cause)
    }

    /// When this message was sent (feature `metrics`; nothing without it).
    #[inline(always)]
    pub(crate) fn sent_at(&self) -> crate::observe::SentAt {
        #[cfg(feature = "metrics")]
        return self.sent_at;
        #[cfg(not(feature = "metrics"))]
        crate::observe::sent_at()
    }

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
    /// Boxed: the 40-byte semaphore would sit in the cell of every unbounded actor too.
    room: Option<Box<Bounded>>,
    /// Its actor's metric handles (feature `metrics`; nothing without it).
    pub(crate) meters: crate::observe::Meters,
}

/// What a bounded mailbox adds: its free room, and its capacity.
struct Bounded {
    free: tokio::sync::Semaphore,
    capacity: usize,
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
        self.mailbox.queue.push(slot)?;
        self.mailbox.meters.sent();
        Ok(())
    }
}

impl Mailbox {
    /// How many messages are queued (not counting the priority lane): a snapshot.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn kind(&self) -> MailboxKind {
        match &self.room {
            None => MailboxKind::Unbounded,
            Some(room) => MailboxKind::Bounded(room.capacity),
        }
    }

    pub(crate) fn new(kind: MailboxKind, id: &crate::actor::ActorId) -> Self {
        let room = match kind {
            MailboxKind::Unbounded => None,
            MailboxKind::Bounded(capacity) => {
                assert!(
                    capacity > 0,
                    "a bounded mailbox needs a capacity of at least 1"
                );
                Some(Box::new(Bounded {
                    free: tokio::sync::Semaphore::new(capacity),
                    capacity,
                }))
            }
        };
        Mailbox {
            queue: queue::Queue::new(),
            room,
            meters: crate::observe::ActorMeters::new(id),
        }
    }

    /// Enqueues without waiting.
    #[inline]
    pub(crate) fn try_send(&self, slot: Slot) -> Result<(), Refused> {
        if let Some(room) = &self.room {
            match room.free.try_acquire() {
                Ok(permit) => permit.forget(),
                Err(tokio::sync::TryAcquireError::NoPermits) => return Err(Refused::Full(slot)),
                Err(tokio::sync::TryAcquireError::Closed) => return Err(Refused::Stopped(slot)),
            }
        }
        self.queue.push(slot).map_err(Refused::Stopped)?;
        self.meters.sent();
        Ok(())
    }

    /// Waits for room (at once in an unbounded mailbox) and reserves it. `Err` once the mailbox is
    /// closed. Cancel safe: a wait dropped before it ends reserves nothing, and keeps no place in line.
    pub(crate) async fn reserve(&self) -> Result<Room<'_>, ()> {
        let permit = match &self.room {
            Some(room) => Some(room.free.acquire().await.map_err(|_| ())?),
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

    /// Gives back the room of a message the actor took (a bounded mailbox's permit).
    #[inline]
    fn took_one(&self) {
        if let Some(room) = &self.room {
            room.free.add_permits(1);
        }
    }

    /// Wakes the actor's task if it waits for a message, to look at its signals and references.
    #[inline]
    pub(crate) fn wake(&self) {
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
/// [`Dormant`](crate::core::dormant::Dormant) between two.
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
                mailbox.took_one();
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
        if let core::task::Poll::Ready(Some(_)) = next {
            mailbox.took_one();
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
                room.free.close();
            }
        }
    }
}
