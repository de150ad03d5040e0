//! The test kit itself: each probe expectation passes when it should and fails, with a message that
//! says what came, when it should not; mocks answer asks; the behaviour kit records each kind of
//! effect; virtual time runs an hour of timers in no real time.
#![cfg(feature = "testkit")]

use std::time::Duration;

use airssys_rt::prelude::*;
use airssys_rt::supervisor::{ChildSpec, Strategy, SupervisionEventKind, SupervisorSpec};
use airssys_rt::testkit::{
    self, ActorProbe, BehaviorTestKit, Effect, TestProbe, TestSystem, expect_stopped,
};
use airssys_rt_suite::fixtures::{Add, Counter, Crash};

#[derive(Message, Debug, PartialEq, Clone)]
#[message(result = u64)]
struct Ping(u64);

#[derive(Message, Debug, PartialEq)]
struct Pong(u64);

/// Forwards each `Ping` to a recipient as a `Pong`.
struct Relay {
    to: Recipient<Pong>,
}

#[actor]
impl Relay {
    fn ping(&mut self, Ping(n): Ping) -> u64 {
        self.to.tell(Pong(n)).unwrap();
        n
    }
}

/// The panic message of `test`, run in a task of its own; fails if it does not panic.
async fn failure(test: impl Future<Output = ()> + Send + 'static) -> String {
    let panic = tokio::spawn(test)
        .await
        .expect_err("the expectation should have failed")
        .into_panic();
    panic_message(panic)
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    match panic.downcast::<String>() {
        Ok(message) => *message,
        Err(panic) => (*panic.downcast::<&str>().unwrap()).to_owned(),
    }
}

#[tokio::test(start_paused = true)]
async fn probe_expectations_take_what_came_in_order() {
    let system = TestSystem::new();
    let mut probe = system.probe::<Pong>();
    let relay = system.spawn(Relay {
        to: probe.recipient(),
    });
    for n in 1..=6 {
        relay.tell(Ping(n)).unwrap();
    }
    assert_eq!(probe.expect_message().await, Pong(1));
    probe.expect_message_eq(Pong(2)).await;
    assert_eq!(probe.receive_n(2).await, [Pong(3), Pong(4)]);
    assert_eq!(probe.fish_for(|Pong(n)| *n == 6).await, Pong(6));
    probe.expect_no_message(Duration::from_secs(60)).await;
    relay.tell(Ping(7)).unwrap();
    assert_eq!(
        probe.expect_message_within(Duration::from_millis(1)).await,
        Pong(7)
    );
}

/// A probe of `Pong`s that has received `sent`, in order.
fn probe_after(system: &TestSystem, sent: &[u64]) -> TestProbe<Pong> {
    let probe = system.probe::<Pong>();
    for &n in sent {
        probe.recipient().tell(Pong(n)).unwrap();
    }
    probe
}

#[tokio::test(start_paused = true)]
async fn each_probe_expectation_fails_saying_what_came() {
    let system = TestSystem::new();
    let mut probe = system.probe::<Pong>();
    let name = probe.id().to_string();
    assert!(name.contains("TestProbe<Pong>"), "{name}");

    let message = failure(async move {
        probe.expect_message().await;
    })
    .await;
    assert!(
        message.contains(&name)
            && message.contains("expected a `testkit::Pong` within 3s, got none")
            && message.contains("nothing arrived before"),
        "{message}"
    );

    let mut probe = TestProbe::<Pong>::named(&system, "out");
    let out = probe.recipient();
    out.tell(Pong(1)).unwrap();
    out.tell(Pong(3)).unwrap();
    let message = failure(async move {
        probe.expect_message().await;
        probe.expect_message_eq(Pong(2)).await;
    })
    .await;
    assert!(
        message.contains("probe `out <TestProbe<Pong>")
            && message.contains("expected Pong(2), got Pong(3)")
            && message.contains("2 arrived so far, in order:\n    Pong(1)\n    Pong(3)"),
        "{message}"
    );

    let mut probe = probe_after(&system, &[5]);
    let message =
        failure(async move { probe.expect_no_message(Duration::from_secs(1)).await }).await;
    assert!(
        message.contains("expected nothing for 1s, got Pong(5) after 0ns"),
        "{message}"
    );

    let mut probe = probe_after(&system, &[1, 2]);
    let message = failure(async move {
        probe.receive_n(3).await;
    })
    .await;
    assert!(
        message.contains("expected 3 `testkit::Pong` messages within 3s, got 2: Pong(1), Pong(2)"),
        "{message}"
    );

    let mut probe = probe_after(&system, &[1, 2]);
    let message = failure(async move {
        probe.fish_for(|Pong(n)| *n > 2).await;
    })
    .await;
    assert!(
        message.contains("none matched (skipped Pong(1), Pong(2))"),
        "{message}"
    );

    let mut probe = system.probe::<Ping>();
    probe.recipient().tell(Ping(1)).unwrap();
    let message = failure(async move {
        let _ = probe.expect_ask().await;
    })
    .await;
    assert!(
        message.contains("expected an ask of `testkit::Ping`, got Ping(1), which was not an ask"),
        "{message}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_actor_probe_stands_in_for_a_typed_reference() {
    let system = TestSystem::new();
    let mut counter = ActorProbe::<Counter>::named(&system, "counter");
    let counter_ref: ActorRef<Counter> = counter.actor_ref();
    assert_eq!(
        counter.id().to_string(),
        format!("counter <Counter {}>", counter_ref.address().id())
    );

    counter_ref.tell(Add(2)).unwrap();
    counter_ref.tell(Crash).unwrap();
    assert_eq!(counter.expect_message::<Add>().await.0, 2);
    counter.expect_message::<Crash>().await;

    // An ask, answered by the test.
    let asked = {
        let counter_ref = counter_ref.clone();
        tokio::spawn(async move { counter_ref.ask(Add(5)).await })
    };
    let (Add(n), reply) = counter.expect_ask::<Add>().await;
    reply.send(n * 10);
    assert_eq!(asked.await.unwrap().unwrap(), 50);

    // A message of another type than expected.
    counter_ref.tell(Crash).unwrap();
    let message = failure(async move {
        counter.expect_message::<Add>().await;
    })
    .await;
    assert!(
        message.contains("expected a `")
            && message.contains("Add`, got a `")
            && message.contains("Crash`"),
        "{message}"
    );
}

#[tokio::test(start_paused = true)]
async fn mocks_answer_asks_by_a_closure() {
    let system = TestSystem::new();
    // A mock of a dependency reached through a recipient...
    let mut prices = system.probe::<Ping>();
    prices.answer(|Ping(n)| n * 2);
    let asker = prices.recipient();
    assert_eq!(asker.ask(Ping(21)).await.unwrap(), 42);
    // ... which still shows what it was asked.
    assert_eq!(prices.expect_message().await, Ping(21));

    // And one of a typed actor.
    let counter = ActorProbe::<Counter>::new(&system);
    counter.answer(|Add(n): &Add| n + 1);
    assert_eq!(counter.actor_ref().ask(Add(1)).await.unwrap(), 2);
    // Told messages are left for the test to take.
    counter.actor_ref().tell(Add(9)).unwrap();
}

#[tokio::test(start_paused = true)]
async fn stop_reasons_and_supervision_events_have_probes() {
    let system = TestSystem::new();
    let counter = system.spawn(Counter(0));
    counter.stop();
    expect_stopped(&counter, StopReason::Stopped).await;

    let other = system.spawn(Counter(0));
    other.kill();
    let message = failure(async move { expect_stopped(&other, StopReason::Stopped).await }).await;
    assert!(
        message.contains("to stop with stopped, but it stopped with killed"),
        "{message}"
    );

    let mut events = system.supervision_probe();
    let supervisor = SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::new("counter", || Counter(0)))
        .spawn(&system);
    let child = events
        .fish_for(|event| event.kind == SupervisionEventKind::Started)
        .await;
    assert_eq!(child.child.as_ref(), "counter");
    let counter: ActorRef<Counter> = supervisor.child("counter").await.unwrap();
    counter.tell(Crash).unwrap();
    events
        .fish_for(|event| matches!(event.kind, SupervisionEventKind::Restarted(1)))
        .await;
    drop(supervisor);
}

#[tokio::test(start_paused = true)]
async fn dead_letters_have_a_probe_and_a_dropped_probe_loses_nothing() {
    let system = TestSystem::new();
    let mut letters = system.dead_letter_probe();
    let probe = system.probe::<Pong>();
    let out = probe.recipient();
    out.tell(Pong(1)).unwrap();
    system.settle().await;
    // Received by the probe, never taken by the test: a dead letter when it is dropped.
    drop(probe);
    let (letter, Pong(n)) = letters.expect_dead_letter_of::<Pong>().await;
    assert_eq!(n, 1);
    assert!(letter.to_string().contains("TestProbe<Pong>"), "{letter}");
    // And what is sent after, too.
    assert!(out.tell(Pong(2)).is_err());
    letters.expect_no_event(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn a_system_with_probes_shuts_down() {
    let system = TestSystem::new();
    let probe = system.probe::<Pong>();
    let _counter = ActorProbe::<Counter>::new(&system);
    let report = system.shutdown(Duration::from_secs(1)).await;
    assert_eq!((report.stopped, report.killed), (2, 0));
    assert!(probe.recipient().tell(Pong(1)).is_err());
}

/// A chain: each stage works a while, adds one and passes the number on.
struct Stage {
    next: Option<ActorRef<Stage>>,
    out: Recipient<Pong>,
}

#[actor]
impl Stage {
    async fn ping(&mut self, Ping(n): Ping) -> u64 {
        // Work that takes the scheduler many rounds, and queues nothing meanwhile.
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        match &self.next {
            Some(next) => next.tell(Ping(n + 1)).unwrap(),
            None => self.out.tell(Pong(n + 1)).unwrap(),
        }
        n
    }
}

#[tokio::test(start_paused = true)]
async fn settle_runs_every_actor_that_has_work() {
    let system = TestSystem::new();
    let mut probe = system.probe::<Pong>();
    let mut next = None;
    for _ in 0..10 {
        next = Some(system.spawn(Stage {
            next: next.take(),
            out: probe.recipient(),
        }));
    }
    next.unwrap().tell(Ping(0)).unwrap();
    system.settle().await;
    assert_eq!(system.elapsed(), Duration::ZERO);
    // Through all ten stages by now: no wait left.
    assert_eq!(probe.expect_message_within(Duration::ZERO).await, Pong(10));
}

#[derive(Message, Clone, Debug)]
struct Tick;

#[derive(Message, Debug)]
#[message(result = u64)]
struct WhenTicked(u64);

#[derive(Message, Debug)]
struct Cancel;

/// Ticks every second; answers `WhenTicked(n)` once it has ticked `n` times: a deferred reply.
struct Ticker {
    ticks: u64,
    waiting: Vec<(u64, ReplySender<u64>)>,
    out: Recipient<Pong>,
}

#[actor]
impl Ticker {
    fn on_start(&mut self, ctx: &mut Context<Self>) {
        ctx.start_interval("tick", Tick, Duration::from_secs(1));
    }

    fn tick(&mut self, _: Tick) {
        self.ticks += 1;
        let ticks = self.ticks;
        for (_, reply) in self.waiting.extract_if(.., |(n, _)| *n <= ticks) {
            reply.send(ticks);
        }
        self.out.tell(Pong(ticks)).unwrap();
    }

    fn when_ticked(&mut self, WhenTicked(n): WhenTicked, reply: ReplySender<u64>) {
        self.waiting.push((n, reply));
    }

    fn cancel(&mut self, _: Cancel, ctx: &mut Context<Self>) {
        ctx.cancel_key("tick");
        ctx.stop();
    }
}

#[test]
fn an_hour_of_interval_timers_and_a_deferred_reply_take_no_real_time() {
    let wall = std::time::Instant::now();
    testkit::run(|system| async move {
        let mut out = system.probe::<Pong>();
        let ticker = system.spawn(Ticker {
            ticks: 0,
            waiting: Vec::new(),
            out: out.recipient(),
        });
        let reply = ticker.ask(WhenTicked(3600));
        assert_eq!(reply.await.unwrap(), 3600);
        assert_eq!(system.elapsed(), Duration::from_secs(3600));
        assert_eq!(out.receive_n(3600).await.last(), Some(&Pong(3600)));
    });
    // An hour of virtual time, 3,600 ticks: the run takes a small fraction of it in real time.
    let wall = wall.elapsed();
    println!("an hour of virtual time took {wall:?}");
    assert!(wall < Duration::from_secs(60), "{wall:?}");
}

#[tokio::test(start_paused = true)]
async fn the_behaviour_kit_records_every_kind_of_effect() {
    let system = TestSystem::new();
    let mut out = system.probe::<Pong>();
    let mut kit = system.behavior(Ticker {
        ticks: 0,
        waiting: Vec::new(),
        out: out.recipient(),
    });
    kit.start().await;
    let effects = kit.take_effects();
    assert_eq!(
        effects.expect_timer::<Tick>(),
        (Duration::from_secs(1), Some(Duration::from_secs(1)))
    );
    assert!(
        matches!(&effects.0[..], [Effect::TimerStarted { key: Some(key), to, .. }]
            if &**key == "tick" && to == kit.id()),
        "{effects:?}"
    );

    // A deferred reply: none yet...
    let mut reply = kit.ask(WhenTicked(2)).await;
    assert!(reply.try_reply().is_none());
    kit.take_effects().expect_none();

    // ... then two ticks of virtual time, handled by the test.
    system.advance(Duration::from_secs(2)).await;
    assert_eq!(kit.queued(), 2);
    assert_eq!(kit.run_queued().await, 2);
    assert_eq!(reply.await.unwrap(), 2);
    assert_eq!(kit.state().ticks, 2);
    let effects = kit.take_effects();
    effects.expect_replied::<WhenTicked>();
    assert_eq!(effects.expect_sent::<Pong>(out.id()), 2);
    assert_eq!(out.receive_n(2).await, [Pong(1), Pong(2)]);

    kit.tell(Cancel).await;
    let effects = kit.take_effects();
    assert!(
        matches!(
            &effects.0[..],
            [
                Effect::TimerCancelled { .. },
                Effect::StopRequested(StopReason::Stopped)
            ]
        ),
        "{effects:?}"
    );
    assert_eq!(effects.expect_stop(), StopReason::Stopped);
    // The timer is cancelled: no more ticks.
    system.advance(Duration::from_secs(5)).await;
    assert_eq!(kit.run_queued().await, 0);
}

/// Spawns a worker per job, and hands it on; answers with a count.
struct Boss {
    workers: Vec<ActorRef<Counter>>,
}

#[derive(Message, Debug)]
#[message(result = usize)]
struct Hire;

#[actor]
impl Boss {
    fn hire(&mut self, _: Hire, ctx: &mut Context<Self>) -> usize {
        let worker = ctx.system().spawn(Counter(0));
        worker.tell(Add(1)).unwrap();
        self.workers.push(worker);
        ctx.spawn(async {});
        ctx.actor_ref().tell(Ping(0)).unwrap();
        self.workers.len()
    }

    fn ping(&mut self, _: Ping) -> u64 {
        0
    }
}

#[tokio::test(start_paused = true)]
async fn the_behaviour_kit_records_spawns_sends_and_tasks_and_fails_listing_them() {
    let system = TestSystem::new();
    let mut kit = BehaviorTestKit::new(
        &system,
        Boss {
            workers: Vec::new(),
        },
    );
    assert_eq!(kit.ask(Hire).await.expect_reply(), 1);
    let effects = kit.take_effects();
    let worker = effects.expect_spawned();
    assert_eq!(worker, kit.state().workers[0].address());
    assert_eq!(effects.expect_sent::<Add>(&worker), 1);
    assert_eq!(effects.expect_sent::<Ping>(kit.id()), 1);
    assert!(effects.iter().any(|effect| *effect == Effect::TaskSpawned));
    // The self-sent ping waits for the test.
    assert_eq!(kit.queued(), 1);
    assert!(kit.run_one().await);
    assert!(!kit.run_one().await);

    let message = failure(async move {
        effects.expect_stop();
    })
    .await;
    assert!(
        message.contains("expected a stop requested; the effects recorded were:")
            && message.contains("spawned <Counter")
            && message.contains("sent a `airssys_rt_suite::fixtures::Add` to <Counter")
            && message.contains("spawned a task"),
        "{message}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_other_expectations_fail_saying_what_came_too() {
    let system = TestSystem::new();

    // A report probe with nothing to report.
    let mut events = system.supervision_probe();
    let message = failure(async move {
        events.expect_event_within(Duration::from_millis(250)).await;
    })
    .await;
    assert!(
        message.contains("the supervision probe: expected a report within 250ms, got none"),
        "{message}"
    );

    // A dead letter of another type than expected.
    let mut letters = system.dead_letter_probe();
    let counter = system.spawn(Counter(0));
    counter.stop();
    counter.wait_for_stop().await;
    let _ = counter.recipient::<Add>().tell(Add(1)); // refused: not a dead letter
    let gone = ActorProbe::<Counter>::new(&system);
    gone.actor_ref().tell(Add(3)).unwrap();
    system.settle().await;
    drop(gone);
    let message = failure(async move {
        letters.expect_dead_letter_of::<Pong>().await;
    })
    .await;
    assert!(
        message.contains("expected a dead letter of a `testkit::Pong`, got")
            && message.contains("Add"),
        "{message}"
    );

    // An actor that does not stop.
    let running = system.spawn(Counter(0));
    let message = failure(async move {
        expect_stopped(&running, StopReason::Stopped).await;
    })
    .await;
    assert!(
        message.contains("to stop with stopped within 3s, but it is still running"),
        "{message}"
    );

    // A reply that is not there yet, and effects that are not there.
    let out = system.probe::<Pong>();
    let mut kit = system.behavior(Ticker {
        ticks: 0,
        waiting: Vec::new(),
        out: out.recipient(),
    });
    let reply = kit.ask(WhenTicked(1)).await;
    let message = failure(async move { reply.expect_reply() }.map_unit()).await;
    assert!(
        message.contains("the handler has not replied yet (it keeps its ReplySender"),
        "{message}"
    );
    let effects = kit.take_effects();
    for (expectation, expected) in [
        (
            Box::new({
                let effects = effects.clone();
                move || {
                    let _ = effects.expect_timer::<Tick>();
                }
            }) as Box<dyn FnOnce() + Send>,
            "expected a timer of `testkit::Tick` started; the effects recorded were: none",
        ),
        (
            Box::new({
                let effects = effects.clone();
                move || {
                    let _ = effects.expect_spawned();
                }
            }),
            "expected an actor spawned",
        ),
        (
            Box::new({
                let effects = effects.clone();
                move || effects.expect_replied::<WhenTicked>()
            }),
            "expected a deferred reply to `testkit::WhenTicked`",
        ),
    ] {
        let message = failure(async move { expectation() }).await;
        assert!(message.contains(expected), "{message}");
    }
    kit.tell(Tick).await;
    let effects = kit.take_effects();
    let message = failure(async move { effects.expect_none() }).await;
    assert!(
        message.contains("expected no effect; the effects recorded were:")
            && message.contains("replied to a `testkit::WhenTicked`")
            && message.contains("sent a `testkit::Pong` to <TestProbe<Pong>"),
        "{message}"
    );
}

/// `async { .. }` blocks whose value is dropped, for [`failure`].
trait MapUnit: Future + Sized {
    fn map_unit(self) -> impl Future<Output = ()> {
        async move {
            let _ = self.await;
        }
    }
}

impl<F: Future> MapUnit for F {}

#[tokio::test]
async fn a_test_system_pauses_the_clock_of_a_current_thread_test() {
    let system = TestSystem::new();
    let wall = std::time::Instant::now();
    system.advance(Duration::from_secs(24 * 3600)).await;
    // Paused mid-tick, the clock's timers fire on tokio's millisecond ticks: up to one late.
    let late = system.elapsed() - Duration::from_secs(24 * 3600);
    assert!(late <= Duration::from_millis(1), "{late:?}");
    assert!(
        wall.elapsed() < Duration::from_secs(60),
        "{:?}",
        wall.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_system_on_a_running_clock_says_what_to_do() {
    let message = panic_message(std::panic::catch_unwind(TestSystem::new).unwrap_err());
    assert!(
        message.contains("a TestSystem needs tokio's paused clock")
            && message.contains("#[tokio::test(start_paused = true)]"),
        "{message}"
    );
}
