//! `ActorSystem::shutdown` is ordered: top-level actors stop newest first, each drained before the
//! next, so nothing is lost between the stages of a pipeline. Deterministic: no sleeps.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use airssys_rt::prelude::*;

/// Stop hooks in the order they ran.
type StopLog = Arc<Mutex<Vec<&'static str>>>;

#[derive(Message)]
struct Job;

/// Counts the jobs that reach the end of the pipeline.
struct Aggregator {
    received: Arc<AtomicU64>,
    log: StopLog,
}

#[actor]
impl Aggregator {
    fn job(&mut self, _: Job) {
        self.received.fetch_add(1, Ordering::SeqCst);
    }

    fn on_stop(&mut self) {
        self.log.lock().unwrap().push("aggregator");
    }
}

/// Forwards each job downstream from an `async` handler, as a real stage doing I/O would.
struct Stage {
    name: &'static str,
    next: Recipient<Job>,
    log: StopLog,
}

#[actor]
impl Stage {
    async fn job(&mut self, job: Job) {
        tokio::task::yield_now().await;
        self.next
            .send(job)
            .await
            .unwrap_or_else(|_| panic!("{} found the next stage stopped", self.name));
    }

    fn on_stop(&mut self) {
        self.log.lock().unwrap().push(self.name);
    }
}

/// Spawns an aggregator, then `stages` forwarding stages in front of it (each spawned after the one it
/// feeds, as it must be to get its reference); returns the first stage and the aggregator's count.
fn pipeline(
    system: &ActorSystem,
    stages: &[&'static str],
) -> (ActorRef<Stage>, Arc<AtomicU64>, StopLog) {
    let received = Arc::new(AtomicU64::new(0));
    let log = Arc::new(Mutex::new(Vec::new()));
    let aggregator = system.spawn(Aggregator {
        received: received.clone(),
        log: log.clone(),
    });
    let mut next = aggregator.recipient();
    let mut first = None;
    for &name in stages.iter().rev() {
        let stage = system.spawn(Stage {
            name,
            next,
            log: log.clone(),
        });
        next = stage.recipient();
        first = Some(stage);
    }
    (first.expect("at least one stage"), received, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_actor_pipeline_loses_nothing_at_shutdown() {
    let system = ActorSystem::new();
    let (stage, received, log) = pipeline(&system, &["stage"]);
    for _ in 0..400 {
        stage.tell(Job).unwrap();
    }
    drop(stage);
    let report = system.shutdown(Duration::from_secs(20)).await;
    // Drained all at once, the aggregator stopped first and every forward failed: 0 of 400 arrived.
    assert_eq!(received.load(Ordering::SeqCst), 400);
    assert_eq!(*log.lock().unwrap(), ["stage", "aggregator"]);
    assert_eq!((report.stopped, report.killed), (2, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_stage_service_loses_nothing_at_shutdown() {
    let system = ActorSystem::new();
    let (parse, received, log) = pipeline(&system, &["parse", "enrich"]);
    for _ in 0..400 {
        parse.tell(Job).unwrap();
    }
    system.shutdown(Duration::from_secs(20)).await;
    assert_eq!(received.load(Ordering::SeqCst), 400);
    assert_eq!(*log.lock().unwrap(), ["parse", "enrich", "aggregator"]);
}

/// Records its name when it stops.
struct Named(&'static str, StopLog);

#[actor]
impl Named {
    fn job(&mut self, _: Job) {}

    fn on_stop(&mut self) {
        self.1.lock().unwrap().push(self.0);
    }
}

#[tokio::test]
async fn top_level_actors_stop_newest_first() {
    let system = ActorSystem::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let first = system.spawn(Named("first", log.clone()));
    let second = system.spawn(Named("second", log.clone()));
    let third = system.spawn(Named("third", log.clone()));
    let report = system.shutdown(Duration::from_secs(20)).await;
    assert_eq!(*log.lock().unwrap(), ["third", "second", "first"]);
    assert_eq!((report.stopped, report.killed), (3, 0));
    for actor in [first, second, third] {
        assert_eq!(actor.wait_for_stop().await, StopReason::Drained);
    }
    assert_eq!(system.actor_count(), 0);
}

/// Spawns another actor as it stops, and keeps its reference where the test can see it (so that it
/// does not stop by itself for lack of references).
struct Spawner(StopLog, Arc<Mutex<Vec<ActorRef<Named>>>>);

#[actor]
impl Spawner {
    fn job(&mut self, _: Job) {}

    fn on_stop(&mut self, ctx: &mut Context<Self>) {
        let late = ctx.system().spawn(Named("late", self.0.clone()));
        self.1.lock().unwrap().push(late);
        self.0.lock().unwrap().push("spawner");
    }
}

#[tokio::test]
async fn actors_spawned_during_the_shutdown_are_shut_down_too() {
    let system = ActorSystem::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let spawned = Arc::new(Mutex::new(Vec::new()));
    let _spawner = system.spawn(Spawner(log.clone(), spawned.clone()));
    let report = system.shutdown(Duration::from_secs(20)).await;
    assert_eq!(*log.lock().unwrap(), ["spawner", "late"]);
    let late = spawned.lock().unwrap().pop().expect("spawned in on_stop");
    assert_eq!(late.wait_for_stop().await, StopReason::Drained);
    assert_eq!((report.stopped, report.killed), (2, 0));
    assert_eq!(system.actor_count(), 0);
}
