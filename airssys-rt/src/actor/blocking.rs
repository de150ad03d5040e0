//! Bridges to code that does not run in the runtime (`blocking_send`, `blocking_ask`), and actors that
//! run on a thread of their own ([`SpawnOptions::dedicated_thread`](crate::SpawnOptions::dedicated_thread)).
//!
//! ```
//! use airssys_rt::prelude::*;
//!
//! #[derive(Message)]
//! #[message(result = u64)]
//! struct Add(u64);
//!
//! struct Counter(u64);
//!
//! #[actor]
//! impl Counter {
//!     fn add(&mut self, Add(n): Add) -> u64 {
//!         self.0 += n;
//!         self.0
//!     }
//! }
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let system = runtime.block_on(async { ActorSystem::new() });
//! let counter = system.spawn(Counter(0));
//! // The runtime runs on a thread of its own (a multi-thread runtime needs none) ...
//! std::thread::spawn(move || runtime.block_on(std::future::pending::<()>()));
//! // ... and this is plain synchronous code: a CLI, a callback of a C library, a test.
//! counter.blocking_send(Add(2))?;
//! assert_eq!(counter.blocking_ask(Add(3))?, 5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Blocking a runtime's worker thread stalls every task on it, and can deadlock it (the actor that
//! would answer may be waiting for that very thread). So the blocking calls panic when called inside
//! a tokio runtime, as tokio's own `blocking_recv` does, with a message that says what to do instead;
//! they are allowed on an actor's dedicated thread, which is its own.

use core::future::Future;
use core::pin::{Pin, pin};
use core::task::{Context, Poll, Waker};
use std::cell::Cell;
use std::sync::Arc;
use std::task::Wake;
use std::thread::{self, Thread};
use std::time::Instant;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

use crate::actor::error::{AskError, SendError};
use crate::actor::{Actor, ActorRef, Handler, Recipient};
use crate::core::mailbox::{Abort, ActorCell};
use crate::message::Message;

thread_local! {
    /// Set on the thread of an actor spawned with a dedicated thread: blocking there blocks only it.
    static DEDICATED: Cell<bool> = const { Cell::new(false) };
}

/// Panics, naming `what`, when called inside a tokio runtime but not on an actor's own thread.
#[track_caller]
pub(crate) fn assert_may_block(what: &str) {
    if Handle::try_current().is_ok() && !DEDICATED.with(Cell::get) {
        panic!(
            "`{what}` was called inside a tokio runtime, where blocking stalls the runtime's thread \
             and can deadlock it: `.await` the async form instead, or call it from \
             `tokio::task::spawn_blocking`, a thread of your own, or an actor spawned with \
             `SpawnOptions::dedicated_thread`"
        );
    }
}

/// Wakes a thread parked in [`block_on`].
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread, parking between polls, until it is ready or `deadline` passes
/// (then `None`; the future is left as it was).
pub(crate) fn block_on<F: Future>(
    mut future: Pin<&mut F>,
    deadline: Option<Instant>,
) -> Option<F::Output> {
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
        match deadline {
            None => thread::park(),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return None;
                }
                thread::park_timeout(deadline - now);
            }
        }
    }
}

/// Runs an incarnation's future: as a task of `runtime`, or on a thread of its own if the actor asks
/// for one. Either way, a kill drops the future (whose stop guard publishes the stop).
pub(crate) fn spawn_incarnation(
    runtime: &Handle,
    cell: &Arc<ActorCell>,
    incarnation: impl Future<Output = ()> + Send + 'static,
) {
    if !cell.dedicated_thread {
        let task = runtime.spawn(incarnation);
        cell.set_task(Abort::Task(task.abort_handle()));
        return;
    }
    let (kill, killed) = oneshot::channel::<()>();
    cell.set_task(Abort::Thread(kill));
    let runtime = runtime.clone();
    let spawned = thread::Builder::new()
        .name(cell.id.to_string())
        .spawn(move || {
            DEDICATED.with(|dedicated| dedicated.set(true));
            // In the runtime's context (its timers, `tokio::spawn`), driven by this thread.
            runtime.block_on(async move {
                tokio::select! {
                    biased;
                    // A dropped sender (the cell gone) is no kill: that branch is then disabled.
                    Ok(()) = killed => {}
                    () = incarnation => {}
                }
            });
        });
    if let Err(error) = spawned {
        // Out of threads: there is nowhere to run it. Its future (and stop guard) went with the
        // closure, so the stop is published; say why.
        eprintln!(
            "airssys-rt: could not start a thread for {}: {error}",
            cell.id
        );
    }
}

impl<A: Actor> ActorRef<A> {
    /// As [`send`](ActorRef::send), for synchronous code outside the runtime: blocks this thread
    /// until a bounded mailbox has room.
    ///
    /// # Errors
    ///
    /// As [`send`](ActorRef::send): the message comes back.
    ///
    /// # Panics
    ///
    /// When called inside a tokio runtime (but on an actor's dedicated thread); see the
    /// [module documentation](self).
    #[track_caller]
    pub fn blocking_send<M>(&self, message: M) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        assert_may_block("ActorRef::blocking_send");
        let sent = block_on(pin!(self.send(message)), None);
        sent.expect("no deadline")
    }

    /// As [`ask`](ActorRef::ask), for synchronous code outside the runtime: blocks this thread until
    /// the reply comes. For a deadline, `actor.ask(message).timeout(d).blocking()`.
    ///
    /// # Errors
    ///
    /// As [`ask`](ActorRef::ask).
    ///
    /// # Panics
    ///
    /// When called inside a tokio runtime (but on an actor's dedicated thread); see the
    /// [module documentation](self).
    #[track_caller]
    pub fn blocking_ask<M>(&self, message: M) -> Result<M::Result, AskError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        assert_may_block("ActorRef::blocking_ask");
        self.ask(message).wait_blocking()
    }
}

impl<M: Message> Recipient<M> {
    /// As [`ActorRef::blocking_send`].
    ///
    /// # Errors
    ///
    /// As [`ActorRef::send`]: the message comes back.
    ///
    /// # Panics
    ///
    /// As [`ActorRef::blocking_send`].
    #[track_caller]
    pub fn blocking_send(&self, message: M) -> Result<(), SendError<M>> {
        assert_may_block("Recipient::blocking_send");
        let sent = block_on(pin!(self.send(message)), None);
        sent.expect("no deadline")
    }

    /// As [`ActorRef::blocking_ask`].
    ///
    /// # Errors
    ///
    /// As [`ActorRef::ask`].
    ///
    /// # Panics
    ///
    /// As [`ActorRef::blocking_ask`].
    #[track_caller]
    pub fn blocking_ask(&self, message: M) -> Result<M::Result, AskError<M>> {
        assert_may_block("Recipient::blocking_ask");
        self.ask(message).wait_blocking()
    }
}
