//! Timers: one-shot and interval, to the actor itself and to others, keyed, cancelled, and owned by
//! the incarnation that started them. On tokio's paused clock: deterministic, microseconds of real time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use airssys_rt::prelude::*;
use tokio::time::Instant;

const SECOND: Duration = Duration::from_secs(1);

#[derive(Message, Clone, Debug, PartialEq)]
struct Tick(u32);

/// What the test asks the clock actor to do, from inside a handler (timers are started through the
/// actor's `Context`).
#[derive(Message)]
enum Arm {
    After(u32, Duration),
    Every(u32, Duration),
    Keyed(&'static str, u32, Duration),
    #[cfg_attr(not(feature = "testkit"), allow(dead_code))]
    EveryTo(Recipient<Tick>, Duration),
    /// Arms a one-shot timer, sleeps past it (so its message is queued), then cancels it.
    CancelQueued,
}

/// Records each tick with the incarnation that handled it and when.
type TickLog = Arc<Mutex<Vec<(u32, u32, Instant)>>>;

struct Clock {
    incarnation: u32,
    log: TickLog,
}

#[actor]
impl Clock {
    async fn arm(&mut self, arm: Arm, ctx: &mut Context<Self>) {
        match arm {
            Arm::After(n, delay) => {
                ctx.send_after(Tick(n), delay);
            }
            Arm::Every(n, period) => {
                ctx.send_interval(Tick(n), period);
            }
            Arm::Keyed(key, n, delay) => {
                ctx.start_timer(key, Tick(n), delay);
            }
            Arm::EveryTo(recipient, period) => {
                ctx.send_interval_to(&recipient, Tick(0), period);
            }
            Arm::CancelQueued => {
                let timer = ctx.send_after(Tick(99), SECOND);
                tokio::time::sleep(2 * SECOND).await; // the tick is in the mailbox now
                assert!(
                    ctx.cancel_timer(timer),
                    "a queued one-shot timer is still pending"
                );
            }
        }
    }

    fn tick(&mut self, Tick(n): Tick) {
        self.log
            .lock()
            .unwrap()
            .push((self.incarnation, n, Instant::now()));
    }
}

fn clock(system: &ActorSystem) -> (ActorRef<Clock>, TickLog) {
    let log = TickLog::default();
    let clock = system.spawn(Clock {
        incarnation: 1,
        log: log.clone(),
    });
    (clock, log)
}

fn ticks(log: &TickLog) -> Vec<u32> {
    log.lock().unwrap().iter().map(|&(_, n, _)| n).collect()
}

#[tokio::test(start_paused = true)]
async fn a_one_shot_timer_fires_once_after_its_delay() {
    let system = ActorSystem::new();
    let (clock, log) = clock(&system);
    let armed = Instant::now();
    clock.tell(Arm::After(1, 3 * SECOND)).unwrap();
    tokio::time::sleep(10 * SECOND).await;
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].2 - armed, 3 * SECOND);
}

#[tokio::test(start_paused = true)]
async fn an_interval_ticks_once_a_period() {
    let system = ActorSystem::new();
    let (clock, log) = clock(&system);
    clock.tell(Arm::Every(7, SECOND)).unwrap();
    tokio::time::sleep(Duration::from_millis(5500)).await;
    assert_eq!(ticks(&log), [7, 7, 7, 7, 7]);
}

#[tokio::test(start_paused = true)]
async fn re_arming_a_key_replaces_its_timer() {
    let system = ActorSystem::new();
    let (clock, log) = clock(&system);
    clock.tell(Arm::Keyed("retry", 1, SECOND)).unwrap();
    clock.tell(Arm::Keyed("retry", 2, 2 * SECOND)).unwrap();
    tokio::time::sleep(10 * SECOND).await;
    assert_eq!(ticks(&log), [2]);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_timer_is_not_received_even_if_its_message_was_queued() {
    let system = ActorSystem::new();
    let (clock, log) = clock(&system);
    clock.tell(Arm::CancelQueued).unwrap();
    clock.tell(Arm::After(1, SECOND)).unwrap(); // handled after the cancel: proves the actor went on
    tokio::time::sleep(10 * SECOND).await;
    assert_eq!(ticks(&log), [1]);
}

/// The tests written with the test kit (the suite's default feature `testkit`).
#[cfg(feature = "testkit")]
mod with_the_kit {
    use std::sync::atomic::{AtomicU32, Ordering};

    use airssys_rt::supervisor::{ChildSpec, Strategy, SupervisionEventKind, SupervisorSpec};
    use airssys_rt::testkit::{TestSystem, expect_stopped};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_interval_to_another_actor_ends_with_the_incarnation_that_started_it() {
        let system = TestSystem::new();
        let (owner, _) = clock(&system);
        let mut target = system.probe::<Tick>();
        owner
            .tell(Arm::EveryTo(target.recipient(), SECOND))
            .unwrap();
        for second in 1..=3 {
            target.expect_message_eq(Tick(0)).await;
            assert_eq!(system.elapsed(), second * SECOND);
        }
        owner.stop();
        expect_stopped(&owner, StopReason::Stopped).await;
        // The owner's timer did not outlive it.
        target.expect_no_message(10 * SECOND).await;
    }

    #[derive(Message)]
    struct Crash;

    /// Arms an interval in `on_start`, as a service's heartbeat would.
    struct Beating {
        incarnation: u32,
        log: TickLog,
    }

    #[actor]
    impl Beating {
        fn on_start(&mut self, ctx: &mut Context<Self>) {
            ctx.start_interval("beat", Tick(self.incarnation), SECOND);
        }

        fn tick(&mut self, Tick(n): Tick) {
            assert_eq!(n, self.incarnation, "a tick of an earlier incarnation");
            self.log
                .lock()
                .unwrap()
                .push((self.incarnation, n, Instant::now()));
        }

        /// Sleeps past a tick, so that the tick is queued when it crashes.
        async fn crash(&mut self, _: Crash) {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            panic!("crash");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn timers_of_a_failed_incarnation_never_reach_the_restarted_one() {
        let system = TestSystem::with_system(ActorSystem::builder().panic_reports(false).build());
        let log = TickLog::default();
        let incarnations = Arc::new(AtomicU32::new(0));
        let root = SupervisorSpec::new(Strategy::OneForOne)
            .intensity(10, Duration::from_secs(600))
            .child(ChildSpec::new("beating", {
                let (log, incarnations) = (log.clone(), incarnations.clone());
                move || Beating {
                    incarnation: incarnations.fetch_add(1, Ordering::SeqCst) + 1,
                    log: log.clone(),
                }
            }))
            .spawn(&system);
        let beating = root.child::<Beating>("beating").await.unwrap();
        let mut events = system.supervision_probe();
        // Five crashes, each with a tick of the crashing incarnation queued behind it.
        for _ in 0..5 {
            beating.tell(Crash).unwrap();
        }
        events.set_timeout(Duration::from_secs(60));
        events
            .fish_for(|event| event.kind == SupervisionEventKind::Restarted(5))
            .await;
        assert_eq!(incarnations.load(Ordering::SeqCst), 6);
        let restarted = Instant::now();
        log.lock().unwrap().clear();
        tokio::time::sleep(Duration::from_millis(10_500)).await;
        let log = log.lock().unwrap();
        // One timer, not six: ten ticks in ten seconds, all of the sixth incarnation.
        assert_eq!(log.len(), 10, "{log:?}");
        assert!(log.iter().all(|&(incarnation, _, _)| incarnation == 6));
        assert!(log[0].2 - restarted >= SECOND - Duration::from_millis(100));
    }
}
