//! [`SendPermit`]: room reserved in an actor's mailbox, for sends that must not lose their message when
//! the wait for room is cancelled.
//!
//! `ActorRef::send(message).await` owns the message while it waits for room: dropped (a `select!` branch
//! that lost, a timeout), it drops the message. Reserve the room first, and only then part with the
//! message; dropping the wait for a permit loses nothing, and the permit's `send` cannot find the mailbox
//! full:
//!
//! ```
//! use std::time::Duration;
//! use airssys_rt::prelude::*;
//!
//! #[derive(Message)]
//! struct Job(u32);
//!
//! struct Worker;
//!
//! #[actor]
//! impl Worker {
//!     fn job(&mut self, _: Job) {}
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let system = ActorSystem::new();
//! let worker = system.spawn_with(Worker, SpawnOptions::default().mailbox(MailboxKind::Bounded(1)));
//! let job = Job(1);
//! tokio::select! {
//!     permit = worker.reserve() => permit?.send(job)?,
//!     _ = tokio::time::sleep(Duration::from_secs(1)) => {
//!         // Gave up waiting for room: `job` is still here, to retry or to report.
//!         drop(job);
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use core::fmt;
use core::marker::PhantomData;

use crate::actor::error::SendError;
use crate::actor::{Actor, ActorRef, Handler};
use crate::core::mailbox::{MailboxHandle, Room, Slot};
use crate::envelope::ErasedEnvelope;
use crate::message::Message;

/// Room for one message in an actor's mailbox, reserved by [`ActorRef::reserve`]. Dropping it gives
/// the room back.
#[must_use = "a permit holds room in the mailbox until it is used or dropped"]
pub struct SendPermit<'a, A> {
    handle: &'a MailboxHandle,
    /// The reserved room.
    room: Room<'a>,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> SendPermit<'_, A> {
    /// Sends `message` into the reserved room: never `Full`.
    ///
    /// # Errors
    ///
    /// [`SendError::Stopped`] with the message, if the actor was asked to stop (or stopped) since the
    /// room was reserved.
    pub fn send<M>(self, message: M) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        let slot = Slot::new(ErasedEnvelope::new(message), <A as Handler<M>>::__INDEX, 0);
        if self.handle.refuses() {
            return Err(self.handle.refused(SendError::Stopped(slot.into_message())));
        }
        let handle = self.handle;
        self.room
            .send(slot)
            .map_err(|slot| handle.refused(SendError::Stopped(slot.into_message())))?;
        crate::observe::sent(&handle.id, M::MESSAGE_TYPE);
        Ok(())
    }
}

/// Why [`ActorRef::reserve`] found no room: the actor stopped, or was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the actor has stopped: no room was reserved")
    }
}

impl std::error::Error for Stopped {}

impl<A> fmt::Debug for SendPermit<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendPermit")
            .field("to", &self.handle.id)
            .finish_non_exhaustive()
    }
}

impl<A: Actor> ActorRef<A> {
    /// Waits for room in the actor's mailbox (at once for an unbounded one) and reserves it; then
    /// [`SendPermit::send`] the message. Unlike [`send`](ActorRef::send), cancelling the wait loses
    /// nothing: the message has not been given up yet. See [`permit`](crate::actor::permit).
    ///
    /// # Errors
    ///
    /// [`Stopped`] if the actor stopped, or was asked to stop, before room was found.
    pub async fn reserve(&self) -> Result<SendPermit<'_, A>, Stopped> {
        let handle = &**self.handle();
        if handle.refuses() {
            return Err(Stopped);
        }
        let room = handle.mailbox.reserve().await.map_err(|()| Stopped)?;
        Ok(SendPermit {
            handle,
            room,
            _actor: PhantomData,
        })
    }
}
