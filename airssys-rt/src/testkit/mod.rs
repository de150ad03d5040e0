//! The test kit (feature `testkit`): probes, mocks, virtual time, and behaviour tests of one actor.
//!
//! Turn it on in the dev-dependencies only: `[dev-dependencies] airssys-rt = { ..., features =
//! ["testkit"] }` (cargo merges it with the normal dependency for tests). Without the feature, the
//! hooks it records through are compiled out; with it and no kit recording, each costs a load and a
//! branch (BENCHMARKS.md).
//!
//! # Guide
//!
//! **A test system on virtual time.** [`TestSystem`] is an [`ActorSystem`] on tokio's paused clock:
//! timers, intervals, ask timeouts, supervisor backoff and every expectation's deadline run on virtual
//! time, so a test of an hour of timers takes microseconds and always sees the same order. Write the
//! test as `#[tokio::test(start_paused = true)]`, or as a plain `#[test]` that calls [`run`].
//! [`TestSystem::advance`] moves the clock, firing every timer due on the way in order, each once the
//! actors have handled what the last one sent; [`TestSystem::settle`] lets every actor with work run
//! until none has any, without moving the clock.
//!
//! **Probes.** A [`TestProbe<M>`] is what an actor under test sends to: hand its
//! [`recipient`](TestProbe::recipient) to the actor, then [`expect_message`](TestProbe::expect_message),
//! [`expect_no_message`](TestProbe::expect_no_message), [`receive_n`](TestProbe::receive_n),
//! [`fish_for`](TestProbe::fish_for), [`expect_ask`](TestProbe::expect_ask) (to answer it yourself). An
//! [`ActorProbe<A>`] stands in for an actor of type `A` behind an [`ActorRef<A>`](crate::ActorRef), so
//! the actor under test needs no change to take it. Each expectation waits on the (virtual) clock and
//! fails with a panic that names the probe, says what it expected and what came, and lists what came
//! before. [`DeadLetterProbe`] and [`SupervisionProbe`] watch what the system reports;
//! [`expect_stopped`] waits for an actor's stop and checks its reason.
//!
//! **Mocks.** [`TestProbe::answer`] and [`ActorProbe::answer`] answer asks by a closure, as the real
//! dependency would: the actor under test runs against them in isolation.
//!
//! **Behaviour tests.** A [`BehaviorTestKit`] runs one actor's hooks and handlers itself, to their
//! end, with a real [`Context`](crate::Context), and records what they did ([`Effect`]s: messages sent
//! and to whom, actors spawned, timers started and cancelled, tasks spawned, deferred replies, stops
//! asked for); the test checks the effects, the replies ([`Reply`]) and the actor's state.
//!
//! ```
//! use std::time::Duration;
//! use airssys_rt::prelude::*;
//! use airssys_rt::testkit::TestSystem;
//!
//! #[derive(Message, Debug, PartialEq)]
//! #[message(result = u64)]
//! struct Price(&'static str);
//!
//! #[derive(Message, Debug, PartialEq)]
//! struct Quote(&'static str, u64);
//!
//! /// Answers each request with a quote, from a price service, to whoever subscribed.
//! struct Quoter {
//!     prices: Recipient<Price>,
//!     out: Recipient<Quote>,
//! }
//!
//! #[derive(Message)]
//! struct Request(&'static str);
//!
//! #[actor]
//! impl Quoter {
//!     async fn request(&mut self, Request(item): Request) {
//!         let price = self.prices.ask(Price(item)).timeout(Duration::from_secs(1)).await.unwrap();
//!         self.out.tell(Quote(item, price)).unwrap();
//!     }
//! }
//!
//! #[tokio::test(start_paused = true)]
//! # async fn fake_main() {}
//! async fn quotes_from_the_price_service() {
//!     let system = TestSystem::new();
//!     let prices = system.probe::<Price>();
//!     prices.answer(|Price(item)| if *item == "tea" { 3 } else { 7 }); // a mock
//!     let mut out = system.probe::<Quote>();
//!     let quoter = system.spawn(Quoter { prices: prices.recipient(), out: out.recipient() });
//!
//!     quoter.tell(Request("tea")).unwrap();
//!     out.expect_message_eq(Quote("tea", 3)).await;
//!     out.expect_no_message(Duration::from_secs(10)).await; // ten virtual seconds, no real wait
//! }
//! # airssys_rt::testkit::run(|_| quotes_from_the_price_service());
//! ```
//!
//! # Rules
//!
//! - A probe is an actor of its system: it has an identity, can be named, looked up, monitored, and
//!   stops with the system. Dropping it stops it; what it received and the test never took becomes
//!   dead letters, so nothing is lost silently there either.
//! - A probe takes messages in the order its actor received them; an ask taken by
//!   [`expect_message`](TestProbe::expect_message) is left unanswered (its asker gets
//!   [`AskError::Unanswered`](crate::AskError::Unanswered)).
//! - A [`BehaviorTestKit`]'s actor has no task: a system [`shutdown`](ActorSystem::shutdown) waits
//!   for it, so drop the kit first. What it records is what its own code does while the kit runs it;
//!   a timer's message, sent later by the timer, is a message in its mailbox, not an effect.

mod behavior;
mod events;
mod forward;
mod inbox;
mod probe;

use core::future::Future;
use core::pin::Pin;
use std::time::Duration;

pub use behavior::{BehaviorTestKit, Effect, Effects, Reply};
pub use events::{DeadLetterProbe, EventProbe, SupervisionProbe};
pub use inbox::DEFAULT_TIMEOUT;
pub use probe::{ActorProbe, TestProbe};

use crate::actor::{Actor, ActorRef, StopReason};
use crate::message::Message;
use crate::system::ActorSystem;

/// A step of a test that names a message type its actor must handle ([`BehaviorTestKit::tell`],
/// [`ActorProbe::expect_message`]): `.await` it. Boxed, so that a message the actor does not handle is
/// one compile error, at the call.
pub type Step<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs `test` on a fresh single-threaded tokio runtime on the paused clock, with a new
/// [`TestSystem`]: a plain `#[test]` function with virtual time.
///
/// ```
/// # use airssys_rt::testkit::TestSystem;
/// # use std::time::Duration;
/// airssys_rt::testkit::run(|system: TestSystem| async move {
///     system.advance(Duration::from_secs(3600)).await; // an hour, in microseconds
///     assert_eq!(system.elapsed(), Duration::from_secs(3600));
/// });
/// ```
///
/// # Panics
///
/// If `test` does, and inside a tokio runtime (tokio does not nest them).
pub fn run<F, Fut>(test: F)
where
    F: FnOnce(TestSystem) -> Fut,
    Fut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread tokio runtime builds");
    runtime.block_on(async { test(TestSystem::new()).await });
}

/// An [`ActorSystem`] on tokio's paused clock, with probes and the means to move time: see the
/// [module documentation](self). Dereferences to the `ActorSystem`.
#[derive(Debug)]
pub struct TestSystem {
    system: ActorSystem,
    started: tokio::time::Instant,
}

/// Rounds of the scheduler in a row in which nothing changes (no actor or tied task polled, nothing
/// handled, queued or dead-lettered) that make the system settled: a timer's task, which is not counted,
/// delivers in one poll, seen in the next round as a message queued.
const QUIET_ROUNDS: u32 = 3;

/// Rounds after which [`TestSystem::settle`] gives up: actors that keep each other busy for ever.
const MAX_ROUNDS: u32 = 1_000_000;

impl TestSystem {
    /// A new system, with the default settings, on the paused clock. In a current-thread runtime
    /// whose clock runs (a plain `#[tokio::test]`), it pauses the clock itself; timers then fire on
    /// tokio's millisecond ticks counted from the runtime's start, up to a millisecond after their
    /// deadline. With `start_paused = true` (or [`run`]) they fire on it exactly.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime; and in a multi-threaded one whose clock runs (tokio pauses only a
    /// current-thread runtime's clock): use `#[tokio::test(start_paused = true)]` or [`run`].
    pub fn new() -> Self {
        Self::with_system(ActorSystem::new())
    }

    /// `system` (made with [`ActorSystem::builder`], for settings of its own), on the paused clock.
    ///
    /// # Panics
    ///
    /// As [`new`](TestSystem::new).
    pub fn with_system(system: ActorSystem) -> Self {
        pause_clock();
        TestSystem {
            system,
            started: tokio::time::Instant::now(),
        }
    }

    /// The system.
    pub fn system(&self) -> &ActorSystem {
        &self.system
    }

    /// Virtual time since the test system was made.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Lets every actor (and task) that has work run, until none has any: each mailbox is handled to
    /// its end, and what that sends is handled too. The clock does not move: an actor waiting for a
    /// timer waits on.
    ///
    /// # Panics
    ///
    /// If the system never settles (actors that keep each other busy for ever).
    pub async fn settle(&self) {
        let mut last = None;
        let mut quiet = 0;
        for _ in 0..MAX_ROUNDS {
            tokio::task::yield_now().await;
            let now = self.activity();
            if last == Some(now) {
                quiet += 1;
                if quiet == QUIET_ROUNDS {
                    return;
                }
            } else {
                quiet = 0;
                last = Some(now);
            }
        }
        panic!(
            "the system did not settle: its actors kept each other busy for {MAX_ROUNDS} rounds"
        );
    }

    /// What changes while actors work: polls of their tasks, actors alive, messages handled and
    /// waiting, dead letters.
    fn activity(&self) -> (u64, usize, u64, usize, u64) {
        let core = self.system.core();
        let (mut handled, mut queued) = (0, 0);
        for route in core.routes().iter() {
            handled += route.value().handle.handled();
            queued += route.value().handle.depth();
        }
        let dead = core.stats().dead_letters.get();
        let polls = crate::observe::polls();
        (polls, core.routes().len(), handled, queued, dead)
    }

    /// Moves the virtual clock by `duration`, firing the timers due on the way in order (each once
    /// the actors have handled what the last one sent), then [settles](TestSystem::settle).
    pub async fn advance(&self, duration: Duration) {
        self.settle().await;
        // On the paused clock a sleep moves time only when every task is idle, from one timer's
        // deadline to the next: the order of a real run, in no real time.
        tokio::time::sleep(duration).await;
        self.settle().await;
    }

    /// A probe of `M` in this system.
    pub fn probe<M: Message>(&self) -> TestProbe<M> {
        TestProbe::new(&self.system)
    }

    /// A probe standing in for an actor of type `A` in this system.
    pub fn actor_probe<A: Actor>(&self) -> ActorProbe<A> {
        ActorProbe::new(&self.system)
    }

    /// A probe of this system's dead letters, from now on.
    pub fn dead_letter_probe(&self) -> DeadLetterProbe {
        DeadLetterProbe::new(&self.system)
    }

    /// A probe of this system's supervision events, from now on.
    pub fn supervision_probe(&self) -> SupervisionProbe {
        SupervisionProbe::new(&self.system)
    }

    /// A behaviour test of `actor` in this system.
    pub fn behavior<A: Actor>(&self, actor: A) -> BehaviorTestKit<A> {
        BehaviorTestKit::new(&self.system, actor)
    }
}

impl Default for TestSystem {
    fn default() -> Self {
        Self::new()
    }
}

impl core::ops::Deref for TestSystem {
    type Target = ActorSystem;

    fn deref(&self) -> &ActorSystem {
        &self.system
    }
}

/// Pauses tokio's clock, unless it is paused already.
fn pause_clock() {
    let runtime = tokio::runtime::Handle::try_current()
        .expect("a TestSystem needs a tokio runtime: use `#[tokio::test(start_paused = true)]`, or `testkit::run`");
    // A paused clock stands still outside the runtime's idle moments: a real pause shows it.
    let before = tokio::time::Instant::now();
    std::thread::sleep(Duration::from_micros(10));
    if tokio::time::Instant::now() == before {
        return;
    }
    assert!(
        runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread,
        "a TestSystem needs tokio's paused clock, which only a current-thread runtime has: use \
         `#[tokio::test(start_paused = true)]` (not `flavor = \"multi_thread\"`), or `testkit::run`"
    );
    tokio::time::pause();
}

/// Waits up to [`DEFAULT_TIMEOUT`] (virtual, on the paused clock) for `actor` to stop for good, and
/// checks that it stopped with `reason`.
///
/// # Panics
///
/// If it does not stop in time, or stops with another reason, with the reason.
pub async fn expect_stopped<A: Actor>(actor: &ActorRef<A>, reason: StopReason) {
    expect_stopped_with(actor, |stopped| *stopped == reason, &reason.to_string()).await;
}

/// As [`expect_stopped`], for a reason that matches `matches` (described as `what` in the failure):
/// `expect_stopped_with(&actor, |reason| matches!(reason, StopReason::Panicked(_)), "a panic")`.
///
/// # Panics
///
/// If it does not stop in time, or its reason does not match.
pub async fn expect_stopped_with<A: Actor>(
    actor: &ActorRef<A>,
    matches: impl FnOnce(&StopReason) -> bool,
    what: &str,
) -> StopReason {
    let id = actor.id();
    match tokio::time::timeout(DEFAULT_TIMEOUT, actor.wait_for_stop()).await {
        Ok(reason) if matches(&reason) => reason,
        Ok(reason) => panic!("expected {id} to stop with {what}, but it stopped with {reason}"),
        Err(_) => panic!(
            "expected {id} to stop with {what} within {DEFAULT_TIMEOUT:?}, but it is still {}",
            actor.handle().state()
        ),
    }
}
