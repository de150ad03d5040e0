//! Supervision end to end: strategies, restart policies, intensity and escalation, backoff, restart
//! semantics (mailbox, references, the failed ask), shutdown order and timeouts, dynamic children,
//! monitors and links. Deterministic: tests wait on supervision events, replies and stop reasons, and
//! paused tokio time stands in for every delay; nothing sleeps on the wall clock.

use std::future::pending;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use airssys_rt::MonitorRef;
use airssys_rt::prelude::*;
use airssys_rt::supervisor::{
    Backoff, ChildError, ChildSpec, Restart, Shutdown, Strategy, SupervisionEvent,
    SupervisionEventKind, SupervisionEvents, Supervisor, SupervisorSpec,
};
use airssys_rt_suite::{poll_once, wait_for};
use tokio::time::Instant;

// ---------------------------------------------------------------------------------------------
// A worker that logs its hooks, counts its incarnations, and fails on request.

/// What the workers of one test did, in order.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, entry: String) {
        self.0.lock().unwrap().push(entry);
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[derive(Message, Debug)]
#[message(result = u32)]
struct Ping;

#[derive(Message, Debug)]
struct Crash;

#[derive(Message, Debug)]
#[message(result = u64)]
struct CrashAsk;

#[derive(Message, Debug)]
struct Quit;

#[derive(Message, Debug)]
struct Hang;

#[derive(Message, Debug)]
struct Add(u64);

/// Says it has entered its handler, then never returns.
#[derive(Message, Debug)]
struct Stuck(tokio::sync::oneshot::Sender<()>);

#[derive(Message, Debug)]
#[message(result = u64)]
struct Total;

struct Worker {
    name: &'static str,
    log: Log,
    incarnation: u32,
    total: u64,
}

#[actor]
impl Worker {
    fn on_start(&mut self) {
        self.log
            .push(format!("start {}#{}", self.name, self.incarnation));
    }

    fn on_stop(&mut self, _ctx: &mut Context<Self>, reason: &StopReason) {
        let how = if reason.is_normal() { "" } else { " (failed)" };
        self.log
            .push(format!("stop {}#{}{how}", self.name, self.incarnation));
    }

    fn ping(&mut self, _: Ping) -> u32 {
        self.incarnation
    }

    fn crash(&mut self, _: Crash) {
        panic!("{} crashes", self.name);
    }

    fn crash_ask(&mut self, _: CrashAsk) -> u64 {
        panic!("{} crashes", self.name);
    }

    fn quit(&mut self, _: Quit, ctx: &mut Context<Self>) {
        ctx.stop();
    }

    async fn hang(&mut self, _: Hang) {
        pending::<()>().await;
    }

    async fn stuck(&mut self, Stuck(entered): Stuck) {
        let _ = entered.send(());
        pending::<()>().await;
    }

    fn add(&mut self, Add(n): Add) {
        self.total += n;
    }

    fn total(&mut self, _: Total) -> u64 {
        self.total
    }
}

/// A child spec for a worker named `name` whose incarnations are numbered from 1.
fn worker(name: &'static str, log: &Log) -> ChildSpec<Worker> {
    let log = log.clone();
    let incarnations = Arc::new(AtomicU32::new(0));
    ChildSpec::new(name, move || Worker {
        name,
        log: log.clone(),
        incarnation: incarnations.fetch_add(1, Ordering::Relaxed) + 1,
        total: 0,
    })
}

fn restarted(child: &'static str) -> impl Fn(&SupervisionEvent) -> bool {
    move |event| &*event.child == child && matches!(event.kind, SupervisionEventKind::Restarted(_))
}

fn removed(child: &'static str) -> impl Fn(&SupervisionEvent) -> bool {
    move |event| &*event.child == child && matches!(event.kind, SupervisionEventKind::Removed(_))
}

/// Starts workers a, b and c under `strategy` with the default intensity (1 restart in 5 s), crashes
/// b, and waits until the last child to restart has. Returns the supervisor, its children's
/// incarnations (by `Ping`), and the hooks that ran after the start.
async fn crash_b(
    strategy: Strategy,
    last_restarted: &'static str,
) -> (ActorRef<Supervisor>, Vec<u32>, Vec<String>) {
    let system = ActorSystem::new();
    let mut events = system.supervision_events();
    let log = Log::default();
    let root = three_workers(strategy, &log, &system).await;
    root.child::<Worker>("b")
        .await
        .unwrap()
        .tell(Crash)
        .unwrap();
    wait_for(&mut events, restarted(last_restarted)).await;
    let mut incarnations = Vec::new();
    for name in ["a", "b", "c"] {
        let child = root.child::<Worker>(name).await.unwrap();
        incarnations.push(child.ask(Ping).await.unwrap());
    }
    // One failure, however many children it restarts, is one restart against the intensity: the
    // supervisor is still running.
    assert!(root.is_alive());
    assert_eq!(system.supervision_stats().exits, 1);
    (root, incarnations, log.take())
}

async fn three_workers(
    strategy: Strategy,
    log: &Log,
    system: &ActorSystem,
) -> ActorRef<Supervisor> {
    let root = SupervisorSpec::new(strategy)
        .child(worker("a", log))
        .child(worker("b", log))
        .child(worker("c", log))
        .spawn(system);
    // Children start in order, each after the previous one's `on_start`.
    assert_eq!(root.children().await.unwrap().len(), 3);
    assert_eq!(log.take(), ["start a#1", "start b#1", "start c#1"]);
    root
}

// ---------------------------------------------------------------------------------------------
// Strategies

#[tokio::test]
async fn one_for_one_restarts_only_the_failed_child() {
    let (root, incarnations, log) = crash_b(Strategy::OneForOne, "b").await;
    // The old state's stop hook, then the new one's start hook; the siblings are untouched.
    assert_eq!(log, ["stop b#1 (failed)", "start b#2"]);
    assert_eq!(incarnations, [1, 2, 1]);
    assert_eq!(root.stats().await.unwrap().restarts, 1);
}

#[tokio::test]
async fn one_for_all_restarts_every_child_in_order() {
    let (root, incarnations, log) = crash_b(Strategy::OneForAll, "c").await;
    // The others stop in reverse order, then all start in order.
    assert_eq!(
        log,
        [
            "stop b#1 (failed)",
            "stop c#1",
            "stop a#1",
            "start a#2",
            "start b#2",
            "start c#2"
        ]
    );
    assert_eq!(incarnations, [2, 2, 2]);
    assert_eq!(root.stats().await.unwrap().restarts, 3);
}

#[tokio::test]
async fn rest_for_one_restarts_the_failed_child_and_those_after_it() {
    let (root, incarnations, log) = crash_b(Strategy::RestForOne, "c").await;
    assert_eq!(
        log,
        ["stop b#1 (failed)", "stop c#1", "start b#2", "start c#2"]
    );
    assert_eq!(incarnations, [1, 2, 2]);
    assert_eq!(root.stats().await.unwrap().restarts, 2);
}

// ---------------------------------------------------------------------------------------------
// Restart policies, with normal and abnormal exits

/// Runs a child with `restart`, makes it stop normally or by a panic, and says whether it was
/// restarted (or removed).
async fn restarted_after(restart: Restart, normal: bool) -> bool {
    let system = ActorSystem::new();
    let mut events = system.supervision_events();
    let log = Log::default();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .child(worker("w", &log).restart(restart))
        .spawn(&system);
    let w = root.child::<Worker>("w").await.unwrap();
    if normal {
        w.tell(Quit).unwrap();
    } else {
        w.tell(Crash).unwrap();
    }
    let event = wait_for(&mut events, |event| {
        matches!(
            event.kind,
            SupervisionEventKind::Restarted(_) | SupervisionEventKind::Removed(_)
        )
    })
    .await;
    let was_restarted = matches!(event.kind, SupervisionEventKind::Restarted(1));
    if was_restarted {
        assert!(w.is_alive());
        assert_eq!(w.ask(Ping).await.unwrap(), 2);
        assert_eq!(root.children().await.unwrap().len(), 1);
    } else {
        // Removed: the child stopped for good, with the reason of its last incarnation.
        let reason = w.wait_for_stop().await;
        assert_eq!(reason.is_normal(), normal, "{reason}");
        assert!(root.children().await.unwrap().is_empty());
    }
    was_restarted
}

#[tokio::test]
async fn permanent_children_are_always_restarted() {
    assert!(restarted_after(Restart::Permanent, true).await);
    assert!(restarted_after(Restart::Permanent, false).await);
}

#[tokio::test]
async fn transient_children_are_restarted_only_after_a_failure() {
    assert!(!restarted_after(Restart::Transient, true).await);
    assert!(restarted_after(Restart::Transient, false).await);
}

#[tokio::test]
async fn temporary_children_are_never_restarted() {
    assert!(!restarted_after(Restart::Temporary, true).await);
    assert!(!restarted_after(Restart::Temporary, false).await);
}

// ---------------------------------------------------------------------------------------------
// Restart semantics

#[tokio::test]
async fn mailbox_and_references_survive_a_restart_and_only_the_failed_message_is_lost() {
    let system = ActorSystem::new();
    let log = Log::default();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .child(worker("w", &log))
        .spawn(&system);
    let w = root.child::<Worker>("w").await.unwrap();
    let address = w.address();

    // Queued together, before the worker runs: the crash fails its ask, and the messages after it wait
    // in the mailbox for the new incarnation.
    w.tell(Add(1)).unwrap();
    w.tell(Add(2)).unwrap();
    let mut crash = Box::pin(w.ask(CrashAsk).into_future());
    assert!(
        poll_once(&mut crash).await.is_none(),
        "enqueued, not handled yet"
    );
    w.tell(Add(40)).unwrap();
    let mut total = Box::pin(w.ask(Total).into_future());
    assert!(poll_once(&mut total).await.is_none());
    let (crash, total) = (crash.await, total.await);

    match crash {
        Err(AskError::Panicked(panic)) => {
            assert_eq!(panic.message(), "w crashes");
            assert!(panic.during().contains("CrashAsk"), "{}", panic.during());
        }
        other => panic!("expected the handler failure, got {other:?}"),
    }
    // Fresh state (the 1 and 2 went with the old one), but the 40 queued behind the crash was kept.
    assert_eq!(total.unwrap(), 40);
    assert_eq!(w.ask(Ping).await.unwrap(), 2);
    assert_eq!(w.address(), address);
    assert!(w.is_alive());
    // The broker still routes to it by address.
    assert_eq!(system.broker().ask(address, Ping).await.unwrap(), 2);
}

#[tokio::test]
async fn a_killed_child_is_restarted_and_its_queued_messages_wait_for_the_new_incarnation() {
    let system = ActorSystem::new();
    let mut events = system.supervision_events();
    let log = Log::default();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(10, Duration::from_secs(5))
        .child(worker("w", &log))
        .spawn(&system);
    let w = root.child::<Worker>("w").await.unwrap();
    let killed = async |events: &mut SupervisionEvents| {
        let exit = wait_for(events, |event| {
            matches!(event.kind, SupervisionEventKind::Exited(_))
        })
        .await;
        assert_eq!(exit.kind, SupervisionEventKind::Exited(StopReason::Killed));
        wait_for(events, restarted("w")).await;
    };

    // Killed while stuck in a handler: the kill abandons it; the message queued behind it survives.
    let (entered, stuck) = tokio::sync::oneshot::channel();
    w.tell(Stuck(entered)).unwrap();
    w.tell(Add(9)).unwrap();
    stuck.await.unwrap();
    w.kill();
    killed(&mut events).await;
    assert_eq!(w.ask(Total).await.unwrap(), 9);
    assert_eq!(w.ask(Ping).await.unwrap(), 2);

    // A kill has no `on_stop`.
    assert_eq!(log.take(), ["start w#1", "start w#2"]);
}

/// Kills itself in `on_start` in its first incarnation: the kill lands before its task first runs.
struct KillsItself {
    incarnation: u32,
}

#[actor]
impl KillsItself {
    fn on_start(&mut self, ctx: &mut Context<Self>) {
        if self.incarnation == 1 {
            ctx.actor_ref().kill();
        }
    }

    fn ping(&mut self, _: Ping) -> u32 {
        self.incarnation
    }
}

#[tokio::test]
async fn a_child_killed_before_its_task_first_runs_is_restarted() {
    let system = ActorSystem::new();
    let incarnations = Arc::new(AtomicU32::new(0));
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::new("k", move || KillsItself {
            incarnation: incarnations.fetch_add(1, Ordering::Relaxed) + 1,
        }))
        .spawn(&system);
    let k = root.child::<KillsItself>("k").await.unwrap();
    // Its task was aborted before its first poll; it still reported to its supervisor.
    assert_eq!(k.ask(Ping).await.unwrap(), 2);
    assert_eq!(root.stats().await.unwrap().restarts, 1);
}

/// Fails in `on_start` a given number of times, then starts.
struct Flaky {
    failures_left: Arc<AtomicU32>,
}

#[actor]
impl Flaky {
    fn on_start(&mut self) {
        let left = self.failures_left.load(Ordering::Relaxed);
        if left > 0 {
            self.failures_left.store(left - 1, Ordering::Relaxed);
            panic!("not ready ({left} more failures)");
        }
    }

    fn ping(&mut self, _: Ping) -> u32 {
        7
    }
}

fn flaky(id: &'static str, failures: u32) -> ChildSpec<Flaky> {
    let failures_left = Arc::new(AtomicU32::new(failures));
    ChildSpec::new(id, move || Flaky {
        failures_left: failures_left.clone(),
    })
}

#[tokio::test]
async fn a_failed_start_counts_as_a_failure() {
    let system = ActorSystem::new();
    let mut events = system.supervision_events();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(5, Duration::from_secs(5))
        .child(flaky("f", 2))
        .spawn(&system);
    let f = root.child::<Flaky>("f").await.unwrap();
    // Messages sent while it fails to start wait for the incarnation that starts.
    assert_eq!(f.ask(Ping).await.unwrap(), 7);
    let exit = wait_for(&mut events, |event| {
        matches!(event.kind, SupervisionEventKind::Exited(_))
    })
    .await;
    match exit.kind {
        SupervisionEventKind::Exited(StopReason::Panicked(panic)) => {
            assert_eq!(panic.during(), "on_start");
            assert_eq!(panic.message(), "not ready (2 more failures)");
        }
        other => panic!("expected a failed start, got {other:?}"),
    }
    // Two failed starts (the first start and the first restart), then the restart that started: two
    // restarts, since a restart counts whether its start succeeds or not.
    let stats = root.stats().await.unwrap();
    assert_eq!((stats.exits, stats.restarts), (2, 2));
}

// ---------------------------------------------------------------------------------------------
// Intensity and escalation

#[tokio::test(start_paused = true)]
async fn exceeding_the_intensity_escalates_through_a_three_level_tree_to_the_root() {
    let system = ActorSystem::new();
    let mut events = system.supervision_events();
    // Default intensity everywhere (OTP's 1 restart in 5 s); the worker never starts.
    let leaf = SupervisorSpec::new(Strategy::OneForOne).child(flaky("worker", u32::MAX));
    let middle =
        SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::supervisor("leaf", leaf));
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::supervisor("middle", middle))
        .spawn(&system);

    let reason = root.wait_for_stop().await;
    let StopReason::Escalated { child, reason } = reason else {
        panic!("expected the root to give up, got {reason}");
    };
    assert_eq!(&*child, "middle");
    let StopReason::Escalated { child, reason } = &*reason else {
        panic!("expected the middle supervisor to give up, got {reason}");
    };
    assert_eq!(&**child, "leaf");
    let StopReason::Escalated { child, reason } = &**reason else {
        panic!("expected the leaf supervisor to give up, got {reason}");
    };
    assert_eq!(&**child, "worker");
    assert!(matches!(&**reason, StopReason::Panicked(panic) if panic.during() == "on_start"));

    // Every level gave up, the leaf first; the root last.
    let mut gave_up = Vec::new();
    while let Some(event) = events.try_recv() {
        if let SupervisionEventKind::Escalated(_) = event.kind {
            gave_up.push(event.child.to_string());
        }
    }
    assert_eq!(gave_up.first().map(String::as_str), Some("worker"));
    assert_eq!(gave_up.last().map(String::as_str), Some("middle"));
    assert!(gave_up.contains(&"leaf".to_owned()));
    assert!(system.supervision_stats().escalations >= 3);
    assert_eq!(system.actor_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn restarts_outside_the_period_do_not_add_up() {
    let system = ActorSystem::new();
    let mut events = system.supervision_events();
    let log = Log::default();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(1, Duration::from_secs(5))
        .child(worker("w", &log))
        .spawn(&system);
    let w = root.child::<Worker>("w").await.unwrap();
    for incarnation in 2..=4 {
        w.tell(Crash).unwrap();
        wait_for(&mut events, restarted("w")).await;
        assert_eq!(w.ask(Ping).await.unwrap(), incarnation);
        tokio::time::advance(Duration::from_secs(5)).await;
    }
    // Two failures within the period: the supervisor gives up.
    w.tell(Crash).unwrap();
    wait_for(&mut events, restarted("w")).await;
    w.tell(Crash).unwrap();
    assert!(matches!(
        root.wait_for_stop().await,
        StopReason::Escalated { .. }
    ));
    assert!(matches!(w.wait_for_stop().await, StopReason::Panicked(_)));
}

// ---------------------------------------------------------------------------------------------
// Backoff

#[tokio::test(start_paused = true)]
async fn backoff_delays_double_up_to_the_maximum() {
    let system = ActorSystem::new();
    let mut events = system.supervision_events();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(100, Duration::from_secs(60))
        .backoff(Backoff::exponential(
            Duration::from_millis(100),
            Duration::from_millis(1000),
        ))
        .child(flaky("f", 6))
        .spawn(&system);
    let f = root.child::<Flaky>("f").await.unwrap();
    assert_eq!(f.ask(Ping).await.unwrap(), 7);

    let mut scheduled = Vec::new();
    // When each failed start was reported, then when the start that worked was.
    let mut attempts: Vec<Instant> = Vec::new();
    while let Some(event) = events.try_recv() {
        match event.kind {
            SupervisionEventKind::Exited(_) | SupervisionEventKind::Restarted(_) => {
                attempts.push(event.at);
            }
            SupervisionEventKind::RestartScheduled(delay) => scheduled.push(delay.as_millis()),
            _ => {}
        }
    }
    assert_eq!(scheduled, [100, 200, 400, 800, 1000, 1000]);
    // The clock says the same: each start came its delay after the failure before it (paused time).
    let waited: Vec<u128> = attempts
        .windows(2)
        .map(|pair| pair[1].duration_since(pair[0]).as_millis())
        .collect();
    assert_eq!(waited, [100, 200, 400, 800, 1000, 1000]);
}

#[tokio::test(start_paused = true)]
async fn backoff_jitter_stretches_each_delay_within_its_bound() {
    let system = ActorSystem::new();
    let mut events = system.supervision_events();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(100, Duration::from_secs(60))
        .backoff(
            Backoff::exponential(Duration::from_millis(100), Duration::from_millis(400))
                .jitter(0.5),
        )
        .child(flaky("f", 5))
        .spawn(&system);
    root.child::<Flaky>("f")
        .await
        .unwrap()
        .ask(Ping)
        .await
        .unwrap();

    let mut delays = Vec::new();
    while let Some(event) = events.try_recv() {
        if let SupervisionEventKind::RestartScheduled(delay) = event.kind {
            delays.push(delay);
        }
    }
    let bases = [100, 200, 400, 400, 400].map(Duration::from_millis);
    assert_eq!(delays.len(), bases.len());
    for (delay, base) in delays.iter().zip(bases) {
        assert!(
            *delay >= base && *delay < base.mul_f64(1.5),
            "{delay:?} for {base:?}"
        );
    }
    // Jitter: not every delay is its base.
    assert!(delays.iter().zip(bases).any(|(delay, base)| *delay != base));
}

// ---------------------------------------------------------------------------------------------
// Stopping

#[tokio::test(start_paused = true)]
async fn a_child_that_ignores_stop_is_killed_after_its_timeout() {
    let system = ActorSystem::new();
    let log = Log::default();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .child(worker("slow", &log).shutdown(Shutdown::Timeout(Duration::from_secs(2))))
        .spawn(&system);
    let slow = root.child::<Worker>("slow").await.unwrap();
    slow.tell(Hang).unwrap();
    // Let it enter the handler that never returns.
    assert_eq!(root.children().await.unwrap()[0].restarts, 0);

    let started = Instant::now();
    let reason = root.remove_child("slow").await.unwrap();
    assert_eq!(reason, StopReason::Killed);
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert_eq!(slow.wait_for_stop().await, StopReason::Killed);
    assert!(root.children().await.unwrap().is_empty());
}

#[tokio::test]
async fn children_stop_in_reverse_order_when_the_system_shuts_down() {
    let system = ActorSystem::new();
    let log = Log::default();
    let root = three_workers(Strategy::OneForOne, &log, &system).await;
    let a = root.child::<Worker>("a").await.unwrap();

    let report = system.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.killed, 0);
    assert_eq!(log.take(), ["stop c#1", "stop b#1", "stop a#1"]);
    assert_eq!(a.wait_for_stop().await, StopReason::Drained);
    assert!(matches!(root.wait_for_stop().await, StopReason::Drained));
    assert_eq!(system.actor_count(), 0);
}

#[tokio::test]
async fn killing_a_supervisor_kills_its_children() {
    let system = ActorSystem::new();
    let mut dead_letters = system.broker().dead_letters();
    let log = Log::default();
    let root = three_workers(Strategy::OneForOne, &log, &system).await;
    let b = root.child::<Worker>("b").await.unwrap();
    b.tell(Hang).unwrap();
    b.tell(Add(1)).unwrap();

    root.kill();
    assert_eq!(root.wait_for_stop().await, StopReason::Killed);
    assert_eq!(b.wait_for_stop().await, StopReason::Killed);
    // The message queued behind the hung handler is a dead letter, with its payload.
    let letter = dead_letters.recv().await.unwrap();
    assert_eq!(letter.take::<Add>().map(|Add(n)| n), Some(1));
    // A killed actor's `on_stop` does not run.
    assert!(log.take().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Children at run time

#[tokio::test]
async fn children_can_be_added_looked_up_and_removed_at_run_time() {
    let system = ActorSystem::new();
    let mut events = system.supervision_events();
    let log = Log::default();
    let root = SupervisorSpec::new(Strategy::OneForOne).spawn(&system);

    let w = root.add_child(worker("w", &log)).await.unwrap();
    assert_eq!(w.ask(Ping).await.unwrap(), 1);
    assert_eq!(
        root.add_child(worker("w", &log)).await.unwrap_err(),
        ChildError::DuplicateId("w".into())
    );
    assert!(matches!(
        root.child::<Flaky>("w").await,
        Err(ChildError::WrongType { .. })
    ));
    assert_eq!(
        root.child::<Worker>("nobody").await.unwrap_err(),
        ChildError::NoSuchChild("nobody".into())
    );
    // A child whose first start fails is not added, and the caller learns why.
    match root.add_child(flaky("f", 1)).await {
        Err(ChildError::StartFailed(StopReason::Panicked(panic))) => {
            assert_eq!(panic.during(), "on_start");
        }
        other => panic!("expected a failed start, got {other:?}"),
    }

    // A supervised child added at run time is restarted like the others.
    w.tell(Crash).unwrap();
    wait_for(&mut events, restarted("w")).await;
    assert_eq!(w.ask(Ping).await.unwrap(), 2);

    assert_eq!(root.remove_child("w").await.unwrap(), StopReason::Drained);
    wait_for(&mut events, removed("w")).await;
    assert_eq!(w.wait_for_stop().await, StopReason::Drained);
    assert!(root.children().await.unwrap().is_empty());
    assert_eq!(
        root.remove_child("w").await.unwrap_err(),
        ChildError::NoSuchChild("w".into())
    );
}

#[tokio::test]
async fn dropping_the_last_reference_to_a_supervisor_stops_its_tree() {
    let system = ActorSystem::new();
    let log = Log::default();
    let root = three_workers(Strategy::OneForOne, &log, &system).await;
    let c = root.child::<Worker>("c").await.unwrap();
    drop(root);
    assert_eq!(c.wait_for_stop().await, StopReason::Drained);
    assert_eq!(log.take(), ["stop c#1", "stop b#1", "stop a#1"]);
}

// ---------------------------------------------------------------------------------------------
// Monitors and links

struct Watcher {
    downs: tokio::sync::mpsc::UnboundedSender<Down>,
    exits: tokio::sync::mpsc::UnboundedSender<Exited>,
}

#[derive(Message)]
#[message(result = MonitorRef)]
struct Watch(ActorRef<Worker>);

#[derive(Message)]
struct LinkTo(ActorRef<Worker>);

#[derive(Message)]
struct Trap;

#[actor]
impl Watcher {
    fn watch(&mut self, Watch(target): Watch, ctx: &mut Context<Self>) -> MonitorRef {
        ctx.monitor(&target)
    }

    fn link_to(&mut self, LinkTo(target): LinkTo, ctx: &mut Context<Self>) {
        ctx.link(&target);
    }

    fn trap(&mut self, _: Trap, ctx: &mut Context<Self>) {
        ctx.trap_exits();
    }

    fn down(&mut self, down: Down) {
        let _ = self.downs.send(down);
    }

    fn exited(&mut self, exited: Exited) {
        let _ = self.exits.send(exited);
    }
}

fn spawn_watcher(
    system: &ActorSystem,
) -> (
    ActorRef<Watcher>,
    tokio::sync::mpsc::UnboundedReceiver<Down>,
    tokio::sync::mpsc::UnboundedReceiver<Exited>,
) {
    let (downs, down_rx) = tokio::sync::mpsc::unbounded_channel();
    let (exits, exit_rx) = tokio::sync::mpsc::unbounded_channel();
    (system.spawn(Watcher { downs, exits }), down_rx, exit_rx)
}

fn plain_worker(system: &ActorSystem) -> ActorRef<Worker> {
    system.spawn(Worker {
        name: "plain",
        log: Log::default(),
        incarnation: 1,
        total: 0,
    })
}

#[tokio::test]
async fn a_monitor_delivers_down_with_the_reason_even_for_an_actor_already_dead() {
    let system = ActorSystem::new();
    let (watcher, mut downs, _) = spawn_watcher(&system);

    let target = plain_worker(&system);
    let monitor = watcher.ask(Watch(target.clone())).await.unwrap();
    target.tell(Crash).unwrap();
    let down = downs.recv().await.unwrap();
    assert_eq!(down.monitor, monitor);
    assert_eq!(down.monitor.target, target.address());
    assert!(matches!(down.reason, StopReason::Panicked(_)));

    // Already dead: the `Down` comes at once, with the reason it stopped for.
    let monitor = watcher.ask(Watch(target.clone())).await.unwrap();
    let down = downs.recv().await.unwrap();
    assert_eq!(down.monitor, monitor);
    assert!(matches!(down.reason, StopReason::Panicked(_)));

    let stopped = plain_worker(&system);
    stopped.stop();
    stopped.wait_for_stop().await;
    watcher.ask(Watch(stopped.clone())).await.unwrap();
    assert_eq!(downs.recv().await.unwrap().reason, StopReason::Stopped);
    // Monitoring does not stop the watcher.
    assert!(watcher.is_alive());
}

#[tokio::test]
async fn a_monitor_on_a_supervised_actor_fires_when_it_stops_for_good_not_at_restarts() {
    let system = ActorSystem::new();
    let mut events = system.supervision_events();
    let (watcher, mut downs, _) = spawn_watcher(&system);
    let log = Log::default();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .child(worker("w", &log))
        .spawn(&system);
    let w = root.child::<Worker>("w").await.unwrap();
    watcher.ask(Watch(w.clone())).await.unwrap();

    w.tell(Crash).unwrap();
    wait_for(&mut events, restarted("w")).await;
    assert_eq!(w.ask(Ping).await.unwrap(), 2);
    assert!(downs.try_recv().is_err());

    root.remove_child("w").await.unwrap();
    assert_eq!(downs.recv().await.unwrap().reason, StopReason::Drained);
}

#[tokio::test]
async fn a_link_propagates_an_abnormal_stop_both_ways_but_not_a_normal_one() {
    let system = ActorSystem::new();

    // a fails: the linked watcher stops with it.
    let (watcher, _, _) = spawn_watcher(&system);
    let a = plain_worker(&system);
    watcher.ask(Watch(a.clone())).await.unwrap();
    watcher.tell(LinkTo(a.clone())).unwrap();
    watcher.ask(Watch(a.clone())).await.unwrap();
    a.tell(Crash).unwrap();
    match watcher.wait_for_stop().await {
        StopReason::Linked { peer, reason } => {
            assert_eq!(peer.address(), a.address());
            assert!(matches!(*reason, StopReason::Panicked(_)));
        }
        other => panic!("expected a linked stop, got {other}"),
    }

    // The other way: the watcher is killed, b stops with it.
    let (watcher, _, _) = spawn_watcher(&system);
    let b = plain_worker(&system);
    watcher.tell(LinkTo(b.clone())).unwrap();
    watcher.ask(Watch(b.clone())).await.unwrap();
    watcher.kill();
    match b.wait_for_stop().await {
        StopReason::Linked { peer, reason } => {
            assert_eq!(peer.address(), watcher.address());
            assert_eq!(*reason, StopReason::Killed);
        }
        other => panic!("expected a linked stop, got {other}"),
    }

    // A normal stop does not propagate.
    let (watcher, _, _) = spawn_watcher(&system);
    let c = plain_worker(&system);
    watcher.tell(LinkTo(c.clone())).unwrap();
    watcher.ask(Watch(c.clone())).await.unwrap();
    c.tell(Quit).unwrap();
    assert_eq!(c.wait_for_stop().await, StopReason::Stopped);
    watcher.ask(Watch(plain_worker(&system))).await.unwrap();
    assert!(watcher.is_alive());
}

#[tokio::test]
async fn an_actor_that_traps_exits_receives_them_as_messages() {
    let system = ActorSystem::new();
    let (watcher, _, mut exits) = spawn_watcher(&system);
    watcher.tell(Trap).unwrap();

    let a = plain_worker(&system);
    watcher.tell(LinkTo(a.clone())).unwrap();
    watcher.ask(Watch(a.clone())).await.unwrap();
    a.tell(Crash).unwrap();
    let exited = exits.recv().await.unwrap();
    assert_eq!(exited.peer.address(), a.address());
    assert!(matches!(exited.reason, StopReason::Panicked(_)));

    // Normal stops arrive too; and a link to an actor already dead delivers its exit at once.
    let b = plain_worker(&system);
    b.stop();
    b.wait_for_stop().await;
    watcher.tell(LinkTo(b.clone())).unwrap();
    let exited = exits.recv().await.unwrap();
    assert_eq!(
        (exited.peer.address(), exited.reason),
        (b.address(), StopReason::Stopped)
    );
    assert!(watcher.is_alive());
}

#[tokio::test]
async fn linking_to_an_actor_that_already_failed_stops_the_linker() {
    let system = ActorSystem::new();
    let (watcher, _, _) = spawn_watcher(&system);
    let a = plain_worker(&system);
    a.tell(Crash).unwrap();
    a.wait_for_stop().await;
    watcher.tell(LinkTo(a.clone())).unwrap();
    assert!(matches!(
        watcher.wait_for_stop().await,
        StopReason::Linked { .. }
    ));
}

// ---------------------------------------------------------------------------------------------
// Under load, on two threads

#[derive(Message, Debug)]
struct Job {
    id: usize,
    poison: bool,
}

#[derive(Message, Debug)]
#[message(result = ())]
struct Flush;

struct Ledgered {
    ledger: Arc<Vec<AtomicU32>>,
}

#[actor]
impl Ledgered {
    fn job(&mut self, job: Job) {
        assert!(!job.poison, "poison");
        self.ledger[job.id].fetch_add(1, Ordering::Relaxed);
    }

    fn flush(&mut self, _: Flush) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_restarts_under_load_lose_only_the_poison_messages() {
    const JOBS: usize = 40_000;
    let poison = |id: usize| id % 500 == 499;
    let system = ActorSystem::new();
    let ledger: Arc<Vec<AtomicU32>> = Arc::new((0..JOBS).map(|_| AtomicU32::new(0)).collect());
    let mut spec =
        SupervisorSpec::new(Strategy::OneForAll).intensity(1_000, Duration::from_secs(60));
    for id in ["x", "y", "z"] {
        let ledger = ledger.clone();
        spec = spec.child(ChildSpec::new(id, move || Ledgered {
            ledger: ledger.clone(),
        }));
    }
    let root = spec.spawn(&system);
    let mut workers = Vec::new();
    for id in ["x", "y", "z"] {
        workers.push(root.child::<Ledgered>(id).await.unwrap());
    }
    let clients: Vec<_> = (0..2)
        .map(|client| {
            let workers = workers.clone();
            tokio::spawn(async move {
                for id in (client..JOBS).step_by(2) {
                    let job = Job {
                        id,
                        poison: poison(id),
                    };
                    workers[id % 3].send(job).await.expect("accepted");
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    for worker in &workers {
        worker.ask(Flush).await.unwrap();
    }
    for (id, count) in ledger.iter().enumerate() {
        let expected = u32::from(!poison(id));
        assert_eq!(count.load(Ordering::Relaxed), expected, "job {id}");
    }
    // Each failure restarts all three; failures that come while a group restart stops the others are
    // part of that restart (as in OTP), so there are at most as many group restarts as poison jobs.
    let poisoned = (0..JOBS).filter(|id| poison(*id)).count() as u64;
    let restarts = root.stats().await.unwrap().restarts;
    assert!(
        restarts > 0 && restarts.is_multiple_of(3) && restarts <= 3 * poisoned,
        "{restarts}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_that_times_out_kills_the_tree_from_its_root() {
    let system = ActorSystem::new();
    let log = Log::default();
    // A child that waits forever to be stopped, and never stops: only its supervisor's death ends it.
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .child(worker("stuck", &log).shutdown(Shutdown::Infinity))
        .child(worker("fine", &log))
        .spawn(&system);
    let stuck = root.child::<Worker>("stuck").await.unwrap();
    stuck.tell(Hang).unwrap();
    assert_eq!(
        stuck
            .ask(Ping)
            .timeout(Duration::from_millis(1))
            .await
            .unwrap_err()
            .to_string(),
        "no reply to `supervision::Ping` before the timeout"
    );

    let started = Instant::now();
    let report = system.shutdown(Duration::from_secs(3)).await;
    assert_eq!(started.elapsed(), Duration::from_secs(3));
    assert!(report.killed >= 1, "{report:?}");
    // The root was killed at the deadline (it was waiting for `stuck`), and killed `stuck` as it died;
    // `fine`, stopped first (reverse order), had drained.
    assert_eq!(root.wait_for_stop().await, StopReason::Killed);
    assert_eq!(stuck.wait_for_stop().await, StopReason::Killed);
    assert_eq!(log.take(), ["start stuck#1", "start fine#1", "stop fine#1"]);
    assert_eq!(system.actor_count(), 0);
}
