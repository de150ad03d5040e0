//! Regression tests for the guarantees an adversarial harness found broken: each failed before its fix.
//! The races are stress tests bounded in time, on two worker threads and three sender threads; the rest
//! are deterministic (events, paused time).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use airssys_rt::prelude::*;
use airssys_rt::supervisor::{
    Backoff, ChildSpec, Strategy, SupervisionEventKind, SupervisionEvents, Supervisor,
    SupervisorSpec,
};
use airssys_rt::{MailboxKind, SpawnOptions};
use airssys_rt_suite::wait_for;
use tokio::sync::Notify;

#[derive(Message)]
struct Tick;

#[derive(Message)]
struct Block(Arc<Notify>, Arc<Notify>);

#[derive(Message)]
#[message(result = u32)]
struct Ping;

#[derive(Message)]
struct Crash;

#[derive(Message)]
struct KillMe;

struct Sink {
    handled: Arc<AtomicU64>,
    stopped: Arc<AtomicU32>,
}

#[actor]
impl Sink {
    fn tick(&mut self, _: Tick) {
        self.handled.fetch_add(1, Ordering::Relaxed);
    }

    /// Tells the test it entered, then waits for it.
    async fn block(&mut self, Block(entered, go): Block) {
        entered.notify_one();
        go.notified().await;
    }

    fn ping(&mut self, _: Ping) -> u32 {
        7
    }

    fn crash(&mut self, _: Crash) {
        panic!("crash requested");
    }

    /// Kills itself while handling a message: the kill is seen between two messages.
    fn kill_me(&mut self, _: KillMe, ctx: &mut Context<Self>) {
        ctx.actor_ref().kill();
    }

    fn on_stop(&mut self) {
        self.stopped.fetch_add(1, Ordering::SeqCst);
    }
}

fn sink() -> (Sink, Arc<AtomicU64>, Arc<AtomicU32>) {
    let handled = Arc::new(AtomicU64::new(0));
    let stopped = Arc::new(AtomicU32::new(0));
    let sink = Sink {
        handled: handled.clone(),
        stopped: stopped.clone(),
    };
    (sink, handled, stopped)
}

/// How an actor is ended while senders race it.
#[derive(Clone, Copy, Debug)]
enum End {
    Stop,
    Kill,
    Drain,
}

/// Rounds of: spawn an actor, three threads tell it in a loop, end it as `end` says, wait for its stop,
/// then account exactly: every accepted message was handled or reported as a dead letter. Runs for at
/// most `budget`.
fn tells_racing_an_end_are_never_lost(end: End, mailbox: MailboxKind, budget: Duration) {
    let runtime = airssys_rt_suite::two_workers();
    let system = runtime.block_on(async { ActorSystem::new() });
    let started = Instant::now();
    let mut rounds = 0_u64;
    while started.elapsed() < budget {
        rounds += 1;
        let (actor, handled, _) = sink();
        let options = SpawnOptions::default().mailbox(mailbox);
        let actor = runtime.block_on(async { system.spawn_with(actor, options) });
        let dead_before = system.broker().stats().dead_letters;
        let go = Arc::new(AtomicBool::new(false));
        let senders: Vec<_> = (0..3)
            .map(|_| {
                let (actor, go) = (actor.clone(), go.clone());
                std::thread::spawn(move || {
                    while !go.load(Ordering::Acquire) {
                        std::hint::spin_loop();
                    }
                    let mut accepted = 0_u64;
                    loop {
                        match actor.tell(Tick) {
                            Ok(()) => accepted += 1,
                            Err(SendError::Full(_)) => std::thread::yield_now(),
                            Err(SendError::Stopped(_)) => return accepted,
                        }
                    }
                })
            })
            .collect();
        go.store(true, Ordering::Release);
        // Let some messages queue, then end the actor in the middle of the stream.
        while handled.load(Ordering::Relaxed) < 50 {
            std::thread::yield_now();
        }
        match end {
            End::Stop => actor.stop(),
            End::Kill => actor.kill(),
            End::Drain => actor.drain(),
        }
        runtime.block_on(actor.wait_for_stop());
        let accepted: u64 = senders.into_iter().map(|s| s.join().unwrap()).sum();
        let dead = system.broker().stats().dead_letters - dead_before;
        let handled = handled.load(Ordering::SeqCst);
        assert_eq!(
            handled + dead,
            accepted,
            "round {rounds} ({end:?}, {mailbox:?}): {accepted} accepted, {handled} handled, {dead} \
             dead letters: {} vanished",
            accepted as i64 - (handled + dead) as i64
        );
        if let End::Drain = end {
            assert_eq!(dead, 0, "a drain handles every message it accepted");
        }
    }
    assert!(rounds > 10, "only {rounds} rounds ran");
}

const RACE_BUDGET: Duration = Duration::from_secs(2);

#[test]
fn tells_racing_a_stop_are_handled_or_dead_lettered() {
    tells_racing_an_end_are_never_lost(End::Stop, MailboxKind::Unbounded, RACE_BUDGET);
}

#[test]
fn tells_racing_a_kill_are_handled_or_dead_lettered() {
    tells_racing_an_end_are_never_lost(End::Kill, MailboxKind::Unbounded, RACE_BUDGET);
}

#[test]
fn tells_racing_a_drain_are_all_handled() {
    tells_racing_an_end_are_never_lost(End::Drain, MailboxKind::Unbounded, RACE_BUDGET);
}

#[test]
fn tells_into_a_bounded_mailbox_racing_a_kill_are_handled_or_dead_lettered() {
    tells_racing_an_end_are_never_lost(End::Kill, MailboxKind::Bounded(16), RACE_BUDGET);
}

#[tokio::test]
async fn a_kill_seen_between_two_messages_does_not_run_on_stop() {
    let system = ActorSystem::new();
    let (actor, _, stopped) = sink();
    let actor = system.spawn(actor);
    actor.tell(KillMe).unwrap();
    assert_eq!(actor.wait_for_stop().await, StopReason::Killed);
    assert_eq!(
        stopped.load(Ordering::SeqCst),
        0,
        "on_stop ran after a kill"
    );
}

#[tokio::test]
async fn stop_and_drain_refuse_new_messages_at_once() {
    let system = ActorSystem::new();
    for drain in [false, true] {
        let (actor, handled, _) = sink();
        let actor = system.spawn(actor);
        let (entered, go) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        actor.tell(Block(entered.clone(), go.clone())).unwrap();
        entered.notified().await;
        actor.tell(Tick).unwrap();
        // The handler is still running: the loop has not looked at its signals yet.
        if drain {
            actor.drain();
        } else {
            actor.stop();
        }
        assert!(
            matches!(actor.tell(Tick), Err(SendError::Stopped(Tick))),
            "accepted after {}",
            if drain { "drain" } else { "stop" }
        );
        assert!(matches!(
            actor.ask(Ping).await,
            Err(AskError::Send(SendError::Stopped(Ping)))
        ));
        go.notify_one();
        let reason = actor.wait_for_stop().await;
        let expected = if drain { 1 } else { 0 };
        assert_eq!(
            handled.load(Ordering::SeqCst),
            expected,
            "{reason:?}: the tick queued before"
        );
    }
}

/// A message whose `Drop` panics: the runtime runs it when it buries the message.
#[derive(Message)]
struct Booby;

impl Drop for Booby {
    fn drop(&mut self) {
        panic!("a message's Drop panicked");
    }
}

struct Blocker;

#[actor]
impl Blocker {
    async fn block(&mut self, Block(entered, go): Block) {
        entered.notify_one();
        go.notified().await;
    }

    fn booby(&mut self, message: Booby) {
        core::mem::forget(message);
    }
}

struct Monitor(tokio::sync::mpsc::UnboundedSender<StopReason>);

#[actor]
impl Monitor {
    fn down(&mut self, down: Down) {
        let _ = self.0.send(down.reason);
    }

    fn watch(&mut self, Watch(target): Watch, ctx: &mut Context<Self>) {
        ctx.monitor(&target);
    }
}

/// Monitor this actor; asked, so that the reply says the monitor is set.
#[derive(Message)]
#[message(result = ())]
struct Watch(ActorRef<Blocker>);

#[tokio::test]
async fn queued_messages_whose_drop_panics_do_not_stop_the_stop() {
    let system = ActorSystem::new();
    let blocker = system.spawn(Blocker);
    let (downs, mut down) = tokio::sync::mpsc::unbounded_channel();
    let monitor = system.spawn(Monitor(downs));
    monitor.ask(Watch(blocker.clone())).await.unwrap();
    let (entered, go) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    blocker.tell(Block(entered.clone(), go.clone())).unwrap();
    entered.notified().await;
    // Two of them: a second panic while the first unwinds would abort the process.
    blocker.tell(Booby).unwrap();
    blocker.tell(Booby).unwrap();
    let dead_before = system.broker().stats().dead_letters;
    blocker.stop();
    go.notify_one();
    assert_eq!(blocker.wait_for_stop().await, StopReason::Stopped);
    assert_eq!(
        down.recv().await,
        Some(StopReason::Stopped),
        "the monitor fired"
    );
    assert_eq!(system.broker().stats().dead_letters - dead_before, 2);
}

// ---------------------------------------------------------------------------------------------
// Supervised children: a farewell is honoured whenever it comes.

/// A supervisor with one `Sink` child `s` that restarts after a one-second backoff; counts starts.
async fn supervised_sink(
    system: &ActorSystem,
) -> (
    ActorRef<Supervisor>,
    ActorRef<Sink>,
    Arc<AtomicU32>,
    Arc<AtomicU64>,
) {
    let starts = Arc::new(AtomicU32::new(0));
    let handled = Arc::new(AtomicU64::new(0));
    let spec = ChildSpec::new("s", {
        let (starts, handled) = (starts.clone(), handled.clone());
        move || {
            starts.fetch_add(1, Ordering::SeqCst);
            Sink {
                handled: handled.clone(),
                stopped: Arc::default(),
            }
        }
    });
    let second = Duration::from_secs(1);
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(10, Duration::from_secs(60))
        .backoff(Backoff::exponential(second, second))
        .child(spec)
        .spawn(system);
    let child = root.child::<Sink>("s").await.unwrap();
    (root, child, starts, handled)
}

/// Crashes the child; returns once its restart is scheduled, a second from now.
async fn crash_and_wait_for_the_restart_delay(
    child: &ActorRef<Sink>,
    events: &mut SupervisionEvents,
) {
    child.tell(Crash).unwrap();
    wait_for(events, |event| {
        matches!(event.kind, SupervisionEventKind::RestartScheduled(_))
    })
    .await;
}

/// The child's stop reason; fails (on the paused clock, so at once) if it is restarted instead.
async fn stopped_within_a_minute(child: &ActorRef<Sink>) -> StopReason {
    tokio::time::timeout(Duration::from_secs(60), child.wait_for_stop())
        .await
        .expect("the child was restarted instead of stopping")
}

#[tokio::test(start_paused = true)]
async fn a_child_stopped_while_it_waits_for_its_restart_is_not_restarted() {
    let system = ActorSystem::new();
    let mut events = system.supervision_events();
    let (root, child, starts, handled) = supervised_sink(&system).await;
    crash_and_wait_for_the_restart_delay(&child, &mut events).await;
    child.tell(Tick).unwrap(); // waits for the next incarnation
    child.stop(); // between two incarnations
    assert_eq!(stopped_within_a_minute(&child).await, StopReason::Stopped);
    let removed = wait_for(&mut events, |event| {
        matches!(event.kind, SupervisionEventKind::Removed(_))
    })
    .await
    .kind;
    assert_eq!(removed, SupervisionEventKind::Removed(StopReason::Stopped));
    assert_eq!(starts.load(Ordering::SeqCst), 1, "restarted after a stop");
    assert_eq!(
        handled.load(Ordering::SeqCst),
        0,
        "a stop handles nothing queued"
    );
    assert!(root.children().await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_child_drained_while_it_waits_for_its_restart_handles_its_queue_then_is_removed() {
    let system = ActorSystem::new();
    let mut events = system.supervision_events();
    let (root, child, starts, handled) = supervised_sink(&system).await;
    crash_and_wait_for_the_restart_delay(&child, &mut events).await;
    child.tell(Tick).unwrap();
    child.drain();
    assert!(matches!(child.tell(Tick), Err(SendError::Stopped(_))));
    assert_eq!(child.wait_for_stop().await, StopReason::Drained);
    assert_eq!(starts.load(Ordering::SeqCst), 2, "restarted once, to drain");
    assert_eq!(
        handled.load(Ordering::SeqCst),
        1,
        "the queued tick was handled"
    );
    assert!(root.children().await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_running_permanent_child_that_is_stopped_is_removed_not_restarted() {
    let system = ActorSystem::new();
    let (root, child, starts, _) = supervised_sink(&system).await;
    assert_eq!(child.ask(Ping).await.unwrap(), 7);
    child.stop();
    assert_eq!(stopped_within_a_minute(&child).await, StopReason::Stopped);
    assert!(root.children().await.unwrap().is_empty());
    assert_eq!(starts.load(Ordering::SeqCst), 1);
}

struct NeverStarts;

#[actor]
impl NeverStarts {
    fn on_start(&mut self) {
        panic!("never starts");
    }

    fn ping(&mut self, _: Ping) -> u32 {
        0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_whose_start_always_fails_does_not_starve_its_supervisor() {
    let system = ActorSystem::new();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(u32::MAX, Duration::from_secs(3600))
        .child(ChildSpec::new("never", || NeverStarts))
        .spawn(&system);
    // Before the fix the supervisor looped on failed starts in one handler: nothing else got in. The
    // timeout only turns that hang into a failure.
    let supervisor_answers = async {
        loop {
            let stats = root.stats().await.unwrap();
            if stats.restarts >= 20 {
                return stats;
            }
        }
    };
    let stats = tokio::time::timeout(Duration::from_secs(30), supervisor_answers)
        .await
        .expect("the supervisor answered while its child kept failing to start");
    assert_eq!(stats.running, 0);
    root.kill();
    assert_eq!(root.wait_for_stop().await, StopReason::Killed);
}

// ---------------------------------------------------------------------------------------------
// Hazards: rejected with a clear error instead of a hang or a late panic.

#[derive(Message)]
#[message(result = bool)]
struct AskYourself;

#[derive(Message)]
#[message(result = u32)]
struct AskYourselfElsewhere;

struct Narcissus;

#[actor]
impl Narcissus {
    async fn ask_yourself(&mut self, _: AskYourself, ctx: &mut Context<Self>) -> bool {
        let me = ctx.actor_ref();
        match me.ask(Ping).timeout(Duration::from_secs(3600)).await {
            Err(AskError::AskedItself(Ping)) => true,
            other => panic!("a self-ask got {other:?}"),
        }
    }

    /// Asking yourself from another task is no deadlock: the handler returns before the reply is due.
    fn ask_yourself_elsewhere(&mut self, _: AskYourselfElsewhere, ctx: &mut Context<Self>) -> u32 {
        let me = ctx.actor_ref();
        tokio::spawn(async move { me.ask(Ping).await.unwrap() });
        0
    }

    fn ping(&mut self, _: Ping) -> u32 {
        7
    }
}

#[tokio::test(start_paused = true)]
async fn an_actor_asking_itself_gets_its_message_back_at_once() {
    let system = ActorSystem::new();
    let narcissus = system.spawn(Narcissus);
    assert!(narcissus.ask(AskYourself).await.unwrap());
    assert_eq!(narcissus.ask(AskYourselfElsewhere).await.unwrap(), 0);
    // The actor is not stuck: it answers the test, and its own spawned ask.
    assert_eq!(narcissus.ask(Ping).await.unwrap(), 7);
    let error = AskError::AskedItself(Ping);
    assert!(error.to_string().contains("asked itself"), "{error}");
}

#[test]
#[should_panic(expected = "ActorSystem needs a tokio runtime with its time driver")]
fn a_runtime_without_timers_is_rejected_when_the_system_is_built() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _ = ActorSystem::builder()
        .runtime(runtime.handle().clone())
        .build();
}

#[derive(Message)]
struct Hang;

struct Stubborn;

#[actor]
impl Stubborn {
    async fn hang(&mut self, _: Hang) {
        std::future::pending::<()>().await;
    }
}

#[tokio::test(start_paused = true)]
async fn the_shutdown_report_counts_children_their_supervisor_killed() {
    use airssys_rt::supervisor::Shutdown;
    let system = ActorSystem::new();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .child(
            ChildSpec::new("stubborn", || Stubborn)
                .shutdown(Shutdown::Timeout(Duration::from_secs(1))),
        )
        .spawn(&system);
    let stubborn = root.child::<Stubborn>("stubborn").await.unwrap();
    stubborn.tell(Hang).unwrap();
    let report = system.shutdown(Duration::from_secs(10)).await;
    assert_eq!(stubborn.wait_for_stop().await, StopReason::Killed);
    assert_eq!((report.stopped, report.killed), (1, 1), "{report:?}");
}

/// 1 MiB, taken by value by an `async` handler.
#[derive(Message)]
struct Huge([u8; 1 << 20]);

struct Archive(usize);

#[actor]
impl Archive {
    async fn huge(&mut self, Huge(bytes): Huge) {
        tokio::task::yield_now().await;
        self.0 += bytes.len();
    }

    fn ping(&mut self, _: Ping) -> u32 {
        7
    }
}

#[test]
fn an_actor_with_a_handler_of_a_huge_message_spawns_on_a_worker_thread() {
    let runtime = airssys_rt_suite::two_workers();
    runtime.block_on(async {
        let system = ActorSystem::new();
        // Spawned from a worker, whose stack is 2 MiB: the task's future used to hold the handler's
        // future, over 1 MiB, moved through the stack at spawn, and overflowed it.
        let archive = tokio::spawn({
            let system = system.clone();
            async move { system.spawn(Archive(0)) }
        })
        .await
        .unwrap();
        assert_eq!(archive.ask(Ping).await.unwrap(), 7);
    });
}

/// Asks itself in `on_start`, which for a supervised child runs in its supervisor's task.
struct AsksInStart(Arc<AtomicBool>);

#[actor]
impl AsksInStart {
    async fn on_start(&mut self, ctx: &mut Context<Self>) {
        let me = ctx.actor_ref();
        let refused = matches!(me.ask(Ping).await, Err(AskError::AskedItself(Ping)));
        self.0.store(refused, Ordering::SeqCst);
    }

    fn ping(&mut self, _: Ping) -> u32 {
        7
    }
}

#[tokio::test]
async fn a_supervised_child_asking_itself_in_on_start_is_refused_not_deadlocked() {
    let system = ActorSystem::new();
    let refused = Arc::new(AtomicBool::new(false));
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::new("asks", {
            let refused = refused.clone();
            move || AsksInStart(refused.clone())
        }))
        .spawn(&system);
    let child = root.child::<AsksInStart>("asks").await.unwrap();
    assert_eq!(child.ask(Ping).await.unwrap(), 7);
    assert!(refused.load(Ordering::SeqCst));
}
