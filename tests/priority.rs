//! The priority lane: high-priority messages overtake queued normal ones, signals overtake both, order
//! holds within a lane, and nothing in the lane is lost when the actor stops.

use std::sync::{Arc, Mutex};

use airssys_rt::message::Priority;
use airssys_rt::prelude::*;
use tokio::sync::Semaphore;

#[derive(Message)]
struct Work(u32);

#[derive(Message)]
#[message(priority = "high")]
struct Urgent(u32);

#[derive(Message)]
#[message(result = Vec<String>, priority = "high")]
struct Log;

/// Blocks in every `Work` until the gate lets it through; records what it handled, in order.
struct Worker {
    gate: Arc<Semaphore>,
    log: Arc<Mutex<Vec<String>>>,
}

#[actor]
impl Worker {
    async fn work(&mut self, Work(n): Work) {
        self.gate.acquire().await.unwrap().forget();
        self.log.lock().unwrap().push(format!("w{n}"));
    }

    fn urgent(&mut self, Urgent(n): Urgent) {
        self.log.lock().unwrap().push(format!("u{n}"));
    }

    fn read(&self, _: Log) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

struct Setup {
    system: ActorSystem,
    worker: ActorRef<Worker>,
    gate: Arc<Semaphore>,
    log: Arc<Mutex<Vec<String>>>,
}

/// A worker blocked in `Work(0)`, with `Work(1..=3)` queued behind it.
async fn blocked_worker(mailbox: MailboxKind) -> Setup {
    let system = ActorSystem::new();
    let gate = Arc::new(Semaphore::new(0));
    let log = Arc::new(Mutex::new(Vec::new()));
    let worker = system.spawn_with(
        Worker {
            gate: gate.clone(),
            log: log.clone(),
        },
        SpawnOptions::default().mailbox(mailbox),
    );
    worker.tell(Work(0)).unwrap();
    // One thread: the worker runs when this task yields, and parks on the closed gate inside Work(0).
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
    for n in 1..=3 {
        worker.tell(Work(n)).unwrap();
    }
    Setup {
        system,
        worker,
        gate,
        log,
    }
}

async fn settle(setup: &Setup, handled: usize) -> Vec<String> {
    setup.gate.add_permits(16);
    loop {
        let log = setup.log.lock().unwrap().clone();
        if log.len() >= handled {
            return log;
        }
        tokio::task::yield_now().await;
    }
}

#[test]
fn the_derive_sets_the_priority() {
    assert_eq!(Urgent::PRIORITY, Priority::High);
    assert_eq!(Work::PRIORITY, Priority::Normal);
}

#[tokio::test(flavor = "current_thread")]
async fn high_priority_messages_overtake_queued_normal_ones_in_their_own_order() {
    let setup = blocked_worker(MailboxKind::Unbounded).await;
    setup.worker.tell(Urgent(1)).unwrap();
    setup.worker.tell(Urgent(2)).unwrap();
    setup.worker.tell_priority(Work(9)).unwrap(); // a normal type, sent in the priority lane
    let log = settle(&setup, 7).await;
    assert_eq!(log, ["w0", "u1", "u2", "w9", "w1", "w2", "w3"]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_high_priority_ask_is_answered_before_the_queue_and_a_full_mailbox_takes_it() {
    let setup = blocked_worker(MailboxKind::Bounded(3)).await;
    // The bounded mailbox is full (Work 1..=3): a normal tell is refused, the priority lane is not.
    assert!(matches!(
        setup.worker.tell(Work(4)),
        Err(SendError::Full(Work(4)))
    ));
    setup.worker.tell(Urgent(1)).unwrap();
    let read = tokio::spawn({
        let worker = setup.worker.clone();
        async move { worker.ask(Log).await.unwrap() }
    });
    tokio::task::yield_now().await;
    setup.gate.add_permits(1); // Work(0) ends; the lane comes next
    let seen = read.await.unwrap();
    assert_eq!(seen, ["w0", "u1"]);
    settle(&setup, 5).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_stop_overtakes_the_lane_whose_messages_become_dead_letters() {
    let setup = blocked_worker(MailboxKind::Unbounded).await;
    let mut dead_letters = setup.system.broker().dead_letters();
    setup.worker.tell(Urgent(1)).unwrap();
    setup.worker.stop();
    assert!(
        matches!(
            setup.worker.tell(Urgent(2)),
            Err(SendError::Stopped(Urgent(2)))
        ),
        "the lane refuses once the actor is asked to stop"
    );
    setup.gate.add_permits(1);
    assert_eq!(setup.worker.wait_for_stop().await, StopReason::Stopped);
    assert_eq!(*setup.log.lock().unwrap(), ["w0"]);
    let mut buried = Vec::new();
    while let Some(letter) = dead_letters.try_recv() {
        if let Some(Urgent(n)) = letter.take::<Urgent>() {
            buried.push(format!("u{n}"));
        } else if let Some(Work(n)) = letter.take::<Work>() {
            buried.push(format!("w{n}"));
        }
    }
    buried.sort();
    assert_eq!(buried, ["u1", "w1", "w2", "w3"]);
}
