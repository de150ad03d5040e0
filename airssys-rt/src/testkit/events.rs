//! Probes of what the system reports: dead letters and supervision events.

use core::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::broker::DeadLetter;
use crate::message::Message;
use crate::supervisor::SupervisionEvent;
use crate::testkit::inbox::Inbox;

/// A probe of a stream of reports: [`DeadLetterProbe`] and [`SupervisionProbe`]. It receives every
/// report made from its creation on; its expectations and failures are those of
/// [`TestProbe`](super::TestProbe).
pub struct EventProbe<T> {
    inbox: Inbox<T>,
}

/// A probe of the system's [dead letters](crate::broker::MessageBroker::dead_letters).
pub type DeadLetterProbe = EventProbe<Arc<DeadLetter>>;

/// A probe of the system's [supervision events](crate::ActorSystem::supervision_events).
pub type SupervisionProbe = EventProbe<SupervisionEvent>;

impl DeadLetterProbe {
    /// A probe of the dead letters of `system`.
    pub fn new(system: &crate::ActorSystem) -> Self {
        let letters = system.broker().dead_letters().0;
        EventProbe {
            inbox: Inbox::new(letters, "the dead-letter probe".to_owned()),
        }
    }

    /// The next dead letter, which must hold an `M`: the letter, and the message taken out of it.
    ///
    /// # Panics
    ///
    /// If none comes within the probe's timeout, or it holds another type of message (or its payload
    /// was already taken by another subscriber).
    pub async fn expect_dead_letter_of<M: Message + fmt::Debug>(&mut self) -> (Arc<DeadLetter>, M) {
        let within = self.inbox.timeout;
        let what = format!("a dead letter of a `{}`", M::MESSAGE_TYPE);
        self.inbox
            .expect(within, &what, |letter| match letter.take::<M>() {
                Some(message) => {
                    let described = format!("{letter} ({message:?})");
                    Ok(((letter, message), described))
                }
                None => {
                    let described = letter.to_string();
                    Err((letter, described))
                }
            })
            .await
    }
}

impl SupervisionProbe {
    /// A probe of the supervision events of `system`.
    pub fn new(system: &crate::ActorSystem) -> Self {
        let events = system.supervision_events().0;
        EventProbe {
            inbox: Inbox::new(events, "the supervision probe".to_owned()),
        }
    }
}

impl<T: fmt::Display> EventProbe<T> {
    /// How long the expectations without a duration wait.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.inbox.timeout = timeout;
    }

    /// The next report, waiting up to the probe's timeout.
    ///
    /// # Panics
    ///
    /// If none comes in time.
    pub async fn expect_event(&mut self) -> T {
        let within = self.inbox.timeout;
        self.expect_event_within(within).await
    }

    /// The next report, waiting up to `within`.
    ///
    /// # Panics
    ///
    /// If none comes in time.
    pub async fn expect_event_within(&mut self, within: Duration) -> T {
        self.inbox
            .expect(within, "a report", |event| {
                let described = event.to_string();
                Ok((event, described))
            })
            .await
    }

    /// Waits `during`, and checks that no report comes meanwhile.
    ///
    /// # Panics
    ///
    /// If one does.
    pub async fn expect_no_event(&mut self, during: Duration) {
        self.inbox.expect_none(during, T::to_string).await;
    }

    /// The next `n` reports, within the probe's timeout.
    ///
    /// # Panics
    ///
    /// If fewer come in time.
    pub async fn receive_n(&mut self, n: usize) -> Vec<T> {
        let within = self.inbox.timeout;
        self.inbox
            .receive_n(n, within, "reports", |event| {
                let described = event.to_string();
                Ok((event, described))
            })
            .await
    }

    /// Skips reports until one matches `matches`, within the probe's timeout, and returns it.
    ///
    /// # Panics
    ///
    /// If none does in time, with those it skipped.
    pub async fn fish_for(&mut self, matches: impl FnMut(&T) -> bool) -> T {
        let within = self.inbox.timeout;
        self.inbox
            .fish_for(
                within,
                "a matching report",
                |event| {
                    let described = event.to_string();
                    Ok((event, described))
                },
                matches,
            )
            .await
    }
}

impl<T> fmt::Debug for EventProbe<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventProbe").finish_non_exhaustive()
    }
}
