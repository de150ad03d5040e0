//! What the code of one actor did, recorded for a [`BehaviorTestKit`](crate::testkit::BehaviorTestKit)
//! (feature `testkit`): messages sent, actors spawned, timers started and cancelled, tasks spawned,
//! deferred replies; and the polls of actors' tasks, by which a test system tells that it has settled.
//! The kit records only while it runs the handler or hook of its actor, and only what
//! that actor's code does (not another actor's task polled meanwhile on the same thread).

#[cfg(not(feature = "testkit"))]
pub(crate) use off::*;
#[cfg(feature = "testkit")]
pub use on::Effect;
#[cfg(feature = "testkit")]
pub(crate) use on::*;

#[cfg(feature = "testkit")]
mod on {
    use core::future::Future;
    use core::pin::Pin;
    use core::task::{Context, Poll};
    use std::cell::RefCell;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::time::Duration;

    use pin_project_lite::pin_project;

    use crate::actor::{ActorId, StopReason, TimerId};
    use crate::address::ActorAddress;

    /// One thing a handler or hook did, as a [`BehaviorTestKit`](crate::testkit::BehaviorTestKit)
    /// records it.
    #[derive(Debug, Clone, PartialEq)]
    #[non_exhaustive]
    pub enum Effect {
        /// A message was accepted into the mailbox of `to`: told, sent, or asked (to the actor
        /// itself too).
        Sent {
            /// The receiving actor.
            to: ActorId,
            /// The message's [`MESSAGE_TYPE`](crate::Message::MESSAGE_TYPE).
            message_type: &'static str,
        },
        /// An actor was spawned (or prepared): a child, a supervisor, a pool's worker.
        Spawned {
            /// The new actor.
            child: ActorId,
        },
        /// A [timer](crate::actor::timer) was started.
        TimerStarted {
            /// Its id, as the handler got it.
            timer: TimerId,
            /// Its key, if it was started under one.
            key: Option<Arc<str>>,
            /// Its message's type.
            message_type: &'static str,
            /// Where its messages go (the actor itself, or a recipient).
            to: ActorId,
            /// When it first fires.
            delay: Duration,
            /// Its period, if it repeats.
            period: Option<Duration>,
        },
        /// A timer was cancelled (or replaced by one started under its key).
        TimerCancelled {
            /// The timer.
            timer: TimerId,
        },
        /// A task tied to the actor was spawned ([`Context::spawn`](crate::Context::spawn) or
        /// [`attach_stream`](crate::Context::attach_stream)).
        TaskSpawned,
        /// A [`ReplySender`](crate::ReplySender) was answered: a deferred reply.
        Replied {
            /// The type of the message answered.
            message_type: &'static str,
        },
        /// The actor asked to stop ([`Context::stop`](crate::Context::stop)), with this reason.
        StopRequested(StopReason),
    }

    struct Recording {
        actor: ActorAddress,
        effects: Vec<Effect>,
    }

    thread_local! {
        /// The recording in progress on this thread, while a kit polls its actor's code.
        static RECORDING: RefCell<Option<Recording>> = const { RefCell::new(None) };
    }

    /// Recordings in progress, on all threads: while there are none (every message of a test that
    /// uses no behaviour kit, and of every actor outside one), an effect costs a load and a branch.
    static RECORDINGS: AtomicUsize = AtomicUsize::new(0);

    /// Records the effect `make` builds, if a kit is recording the actor whose code runs now.
    #[inline(always)]
    fn record(make: impl FnOnce() -> Effect) {
        if RECORDINGS.load(Ordering::Relaxed) != 0 {
            record_here(make);
        }
    }

    #[cold]
    #[inline(never)]
    fn record_here(make: impl FnOnce() -> Effect) {
        RECORDING.with(|recording| {
            if let Some(recording) = recording.borrow_mut().as_mut()
                && crate::actor::running::running_actor() == Some(recording.actor)
            {
                recording.effects.push(make());
            }
        });
    }

    /// A message of type `message_type` was accepted into the mailbox of `to`.
    #[inline]
    pub(crate) fn sent(to: &ActorId, message_type: &'static str) {
        record(|| Effect::Sent {
            to: to.clone(),
            message_type,
        });
    }

    /// An actor was created.
    #[inline]
    pub(crate) fn spawned(child: &ActorId) {
        record(|| Effect::Spawned {
            child: child.clone(),
        });
    }

    /// A timer was armed.
    pub(crate) fn timer_started(
        timer: TimerId,
        key: Option<&Arc<str>>,
        message_type: &'static str,
        to: &ActorId,
        delay: Duration,
        period: Option<Duration>,
    ) {
        record(|| Effect::TimerStarted {
            timer,
            key: key.cloned(),
            message_type,
            to: to.clone(),
            delay,
            period,
        });
    }

    /// A timer was cancelled.
    pub(crate) fn timer_cancelled(timer: TimerId) {
        record(|| Effect::TimerCancelled { timer });
    }

    /// A tied task was spawned.
    pub(crate) fn task_spawned() {
        record(|| Effect::TaskSpawned);
    }

    /// A deferred reply was sent.
    pub(crate) fn replied(message_type: &'static str) {
        record(|| Effect::Replied { message_type });
    }

    /// Polls of actors' tasks and of their tied tasks, on all threads: how a test system tells that
    /// nothing runs any more ([`TestSystem::settle`](crate::testkit::TestSystem::settle)).
    static POLLS: AtomicU64 = AtomicU64::new(0);

    /// An actor's task, or one of its tied tasks, is polled.
    #[inline(always)]
    pub(crate) fn polled() {
        POLLS.fetch_add(1, Ordering::Relaxed);
    }

    /// Polls so far.
    pub(crate) fn polls() -> u64 {
        POLLS.load(Ordering::Relaxed)
    }

    pin_project! {
        /// Counts the polls of a tied task.
        pub(crate) struct Counted<F> {
            #[pin]
            inner: F,
        }
    }

    impl<F: Future> Future for Counted<F> {
        type Output = F::Output;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            polled();
            self.project().inner.poll(cx)
        }
    }

    /// `task`, its polls counted.
    pub(crate) fn counted<F: Future>(task: F) -> Counted<F> {
        Counted { inner: task }
    }

    pin_project! {
        /// Runs `inner` (the actor's code, wrapped in `RunningAs`) recording what it does into
        /// `effects`, during each of its polls (which may happen on different threads).
        pub(crate) struct Recorded<'a, F> {
            #[pin]
            inner: F,
            actor: ActorAddress,
            effects: &'a mut Vec<Effect>,
        }
    }

    /// Takes the recording back when a poll ends, even by a panic.
    struct Stop<'a>(&'a mut Vec<Effect>);

    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            if let Some(recording) = RECORDING.with(|recording| recording.borrow_mut().take()) {
                self.0.extend(recording.effects);
            }
            RECORDINGS.fetch_sub(1, Ordering::Relaxed);
        }
    }

    impl<'a, F> Recorded<'a, F> {
        pub(crate) fn new(actor: ActorAddress, effects: &'a mut Vec<Effect>, inner: F) -> Self {
            Recorded {
                inner,
                actor,
                effects,
            }
        }
    }

    impl<F: Future> Future for Recorded<'_, F> {
        type Output = F::Output;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            let this = self.project();
            RECORDINGS.fetch_add(1, Ordering::Relaxed);
            RECORDING.with(|recording| {
                *recording.borrow_mut() = Some(Recording {
                    actor: *this.actor,
                    effects: Vec::new(),
                });
            });
            let _stop = Stop(this.effects);
            this.inner.poll(cx)
        }
    }
}

#[cfg(not(feature = "testkit"))]
mod off {
    use std::sync::Arc;
    use std::time::Duration;

    use crate::actor::{ActorId, TimerId};

    #[inline(always)]
    pub(crate) fn sent(_: &ActorId, _: &'static str) {}

    #[inline(always)]
    pub(crate) fn spawned(_: &ActorId) {}

    #[inline(always)]
    pub(crate) fn timer_started(
        _: TimerId,
        _: Option<&Arc<str>>,
        _: &'static str,
        _: &ActorId,
        _: Duration,
        _: Option<Duration>,
    ) {
    }

    #[inline(always)]
    pub(crate) fn timer_cancelled(_: TimerId) {}

    #[inline(always)]
    pub(crate) fn task_spawned() {}

    #[inline(always)]
    pub(crate) fn replied(_: &'static str) {}

    #[inline(always)]
    pub(crate) fn polled() {}

    #[inline(always)]
    pub(crate) fn counted<F>(task: F) -> F {
        task
    }
}
