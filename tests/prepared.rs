//! Prepared actors (mailbox and references before the actor exists) and start barriers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use airssys_rt::prelude::*;

/// Goes round the ring with `tell`, one hop per node, until `hops` is spent; the last node reports.
#[derive(Message)]
struct Token {
    hops: u32,
    done: tokio::sync::mpsc::UnboundedSender<u32>,
}

struct Node {
    id: u32,
    next: ActorRef<Node>,
}

#[actor]
impl Node {
    fn token(&mut self, Token { hops, done }: Token) {
        if hops == 0 {
            let _ = done.send(self.id);
        } else {
            self.next
                .tell(Token {
                    hops: hops - 1,
                    done,
                })
                .unwrap();
        }
    }
}

#[tokio::test]
async fn a_ring_is_wired_before_any_of_its_actors_exists() {
    let system = ActorSystem::new();
    let prepared: Vec<_> = (0..3).map(|_| system.prepare::<Node>()).collect();
    let refs: Vec<_> = prepared.iter().map(|p| p.actor_ref()).collect();
    for (i, node) in prepared.into_iter().enumerate() {
        // `refs` keeps every node alive.
        let _ = node.start(Node {
            id: i as u32,
            next: refs[(i + 1) % refs.len()].clone(),
        });
    }
    let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
    // 3,001 hops from node 0: a thousand times round, and one more.
    refs[0].tell(Token { hops: 3_001, done }).unwrap();
    assert_eq!(finished.recv().await, Some(1));
}

#[derive(Message)]
#[message(result = u32)]
struct Count;

#[derive(Message)]
struct Add(u32);

/// Counts; records that its `on_start` ran; panics in it if told to.
struct Counter {
    total: u32,
    started: Arc<AtomicBool>,
    fail: bool,
}

#[actor]
impl Counter {
    async fn on_start(&mut self) {
        tokio::task::yield_now().await;
        assert!(!self.fail, "not ready");
        self.started.store(true, Ordering::SeqCst);
    }

    fn add(&mut self, Add(n): Add) {
        self.total += n;
    }

    fn count(&self, _: Count) -> u32 {
        self.total
    }
}

fn counter(fail: bool) -> (Counter, Arc<AtomicBool>) {
    let started = Arc::new(AtomicBool::new(false));
    let counter = Counter {
        total: 0,
        started: started.clone(),
        fail,
    };
    (counter, started)
}

#[tokio::test]
async fn messages_sent_before_the_start_wait_for_it() {
    let system = ActorSystem::new();
    let prepared = system.prepare::<Counter>();
    let early = prepared.actor_ref();
    for n in 1..=3 {
        early.tell(Add(n)).unwrap();
    }
    let (state, _) = counter(false);
    let counter = prepared.start(state);
    assert_eq!(counter.ask(Count).await.unwrap(), 6);
    assert_eq!(counter, early);
}

#[tokio::test]
async fn a_start_barrier_returns_once_on_start_has() {
    let system = ActorSystem::new();
    let (state, started) = counter(false);
    let counter = system.spawn_started(state).await.unwrap();
    assert!(started.load(Ordering::SeqCst), "on_start had not returned");
    assert_eq!(counter.ask(Count).await.unwrap(), 0);
}

#[tokio::test]
async fn a_start_barrier_gives_the_reason_a_start_failed() {
    let system = ActorSystem::new();
    let (state, started) = counter(true);
    match system.spawn_started(state).await {
        Err(StopReason::Panicked(panic)) => {
            assert_eq!(panic.during(), "on_start");
            assert_eq!(panic.message(), "not ready");
        }
        other => panic!("expected a failed start, got {other:?}"),
    }
    assert!(!started.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_prepared_actor_dropped_unstarted_stops_and_its_messages_are_dead_letters() {
    let system = ActorSystem::new();
    let mut dead = system.broker().dead_letters();
    let prepared = system.prepare::<Counter>();
    let early = prepared.actor_ref();
    early.tell(Add(1)).unwrap();
    drop(prepared);
    assert_eq!(early.wait_for_stop().await, StopReason::Stopped);
    assert!(matches!(
        early.tell(Add(2)),
        Err(SendError::Stopped(Add(2)))
    ));
    let letter = dead.recv().await.unwrap();
    assert!(matches!(letter.take::<Add>(), Some(Add(1))));
    assert_eq!(system.actor_count(), 0);
}
