//! The requests made of an actor from outside its task, and how its incarnations consume them.
//!
//! Two atomics, raised from any thread and read by the actor's task and its supervisor:
//!
//! - the **signal** of the current incarnation ([`Signal`]): what its message loop must do next. A
//!   supervisor resets it when it starts a new incarnation, so that the kill or the group-restart stop
//!   that ended the last one does not end the next one too;
//! - the **farewell** ([`Farewell`]): a request to end the actor *for good* ([`ActorRef::stop`],
//!   [`ActorRef::drain`], a system shutdown, a supervisor removing the child). It is never reset: a
//!   supervisor does not restart an actor that was asked to stop or drain, and its references refuse new
//!   messages from the moment it was asked.
//!
//! The race this module exists for: a farewell raised while a supervisor is between two incarnations
//! of the actor (after a crash, during a backoff delay) must not be wiped by the restart. Starting an
//! incarnation ([`Signals::begin_incarnation`]) swaps the signal out, *then* reads the farewell, and
//! raising one ([`Signals::farewell`]) writes the farewell, *then* raises the signal: whichever comes
//! second in the signal's modification order sees the other's write, so the new incarnation either
//! starts with the farewell pending or receives it as a signal. The loom tests below check every
//! interleaving (`RUSTFLAGS="--cfg loom" cargo test -p airssys-rt --lib --release signal`).
//!
//! [`ActorRef::stop`]: crate::ActorRef::stop
//! [`ActorRef::drain`]: crate::ActorRef::drain

#[cfg(loom)]
use loom::sync::atomic::{AtomicU8, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicU8, Ordering};

/// A request to the actor's task, checked between messages: it overtakes queued messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(crate) enum Signal {
    None = 0,
    /// Refuse new messages, handle the queued ones, then stop.
    Drain = 1,
    /// Stop after the current message.
    Stop = 2,
    /// Stop now.
    Kill = 3,
}

impl Signal {
    #[inline]
    fn from_u8(value: u8) -> Signal {
        match value {
            0 => Signal::None,
            1 => Signal::Drain,
            2 => Signal::Stop,
            _ => Signal::Kill,
        }
    }
}

/// A request to end the actor for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(crate) enum Farewell {
    None = 0,
    /// Handle what is queued, then stop; do not restart.
    Drain = 1,
    /// Stop after the current message; do not restart.
    Stop = 2,
}

impl Farewell {
    #[inline]
    fn from_u8(value: u8) -> Farewell {
        match value {
            0 => Farewell::None,
            1 => Farewell::Drain,
            _ => Farewell::Stop,
        }
    }

    fn signal(self) -> Signal {
        match self {
            Farewell::None => Signal::None,
            Farewell::Drain => Signal::Drain,
            Farewell::Stop => Signal::Stop,
        }
    }
}

/// The signal of the current incarnation and the farewell of the actor.
#[derive(Debug)]
pub(crate) struct Signals {
    signal: AtomicU8,
    farewell: AtomicU8,
}

impl Signals {
    pub(crate) fn new() -> Self {
        Signals {
            signal: AtomicU8::new(Signal::None as u8),
            farewell: AtomicU8::new(Farewell::None as u8),
        }
    }

    /// Raises `signal` for the current incarnation; a weaker one than already raised changes nothing.
    pub(crate) fn raise(&self, signal: Signal) {
        self.signal.fetch_max(signal as u8, Ordering::AcqRel);
    }

    /// Asks the actor to end for good, then raises the matching signal (in that order: see the module
    /// documentation).
    pub(crate) fn farewell(&self, farewell: Farewell) {
        self.farewell.fetch_max(farewell as u8, Ordering::Release);
        self.raise(farewell.signal());
    }

    /// The current incarnation's signal. Read before every message.
    #[inline]
    pub(crate) fn pending(&self) -> Signal {
        Signal::from_u8(self.signal.load(Ordering::Acquire))
    }

    /// The farewell asked so far. Read by every send: a relaxed load, since a send that starts after
    /// `stop` or `drain` returned sees the write by coherence, and one racing them may go either way.
    #[inline]
    pub(crate) fn farewell_asked(&self) -> Farewell {
        Farewell::from_u8(self.farewell.load(Ordering::Relaxed))
    }

    /// Starts a new incarnation: clears what ended the last one (a kill, a supervisor's stop for a
    /// group restart) and returns the farewell, which stays raised as the new incarnation's signal.
    pub(crate) fn begin_incarnation(&self) -> Farewell {
        self.signal.swap(Signal::None as u8, Ordering::AcqRel);
        let farewell = Farewell::from_u8(self.farewell.load(Ordering::Acquire));
        if farewell != Farewell::None {
            self.raise(farewell.signal());
        }
        farewell
    }
}

#[cfg(all(test, loom))]
mod tests {
    use loom::sync::Arc;
    use loom::thread;

    use super::*;

    /// A farewell raised while a supervisor starts a new incarnation is never lost: after both, either
    /// the supervisor saw it (and would not restart, or restarts to drain), or the new incarnation's
    /// signal carries it.
    #[test]
    fn a_farewell_racing_a_restart_is_never_lost() {
        for farewell in [Farewell::Stop, Farewell::Drain] {
            loom::model(move || {
                let signals = Arc::new(Signals::new());
                // The last incarnation was ended by a kill.
                signals.raise(Signal::Kill);
                let user = thread::spawn({
                    let signals = signals.clone();
                    move || signals.farewell(farewell)
                });
                let seen = signals.begin_incarnation();
                user.join().unwrap();
                assert!(
                    seen == farewell || signals.pending() >= farewell.signal(),
                    "farewell {farewell:?} lost: supervisor saw {seen:?}, signal {:?}",
                    signals.pending()
                );
                assert_ne!(
                    signals.pending(),
                    Signal::Kill,
                    "the last incarnation's kill leaked into the next"
                );
                assert_eq!(signals.farewell_asked(), farewell);
            });
        }
    }

    /// A kill raised while an incarnation starts either ends the new incarnation or, raised before the
    /// start, is consumed with the old one: it never survives to a third.
    #[test]
    fn a_kill_racing_a_restart_ends_at_most_one_incarnation() {
        loom::model(|| {
            let signals = Arc::new(Signals::new());
            let killer = thread::spawn({
                let signals = signals.clone();
                move || signals.raise(Signal::Kill)
            });
            signals.begin_incarnation();
            killer.join().unwrap();
            let after = signals.pending();
            assert!(after == Signal::Kill || after == Signal::None);
            signals.begin_incarnation();
            assert_eq!(signals.pending(), Signal::None);
        });
    }
}
