//! Allocation claims of the actor runtime, counted by a global allocator in steady state: a `tell` of
//! an inline message allocates nothing; an `ask` allocates once (its reply channel).
//!
//! Everything runs on one current-thread runtime, so the per-thread counter sees the senders and the
//! actor alike.

use std::future::Future;

use airssys_rt::prelude::*;
use airssys_rt_suite::{Allocations, CountingAllocator, current_thread};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[derive(Message)]
struct Add(u64, u64);

#[derive(Message)]
#[message(result = u64)]
struct Total;

#[derive(Message)]
#[message(result = [u64; 4])]
struct Snapshot([u64; 4]);

struct Counter(u64);

#[actor]
impl Counter {
    fn add(&mut self, Add(a, b): Add) {
        self.0 += a + b;
    }

    fn total(&self, _: Total) -> u64 {
        self.0
    }

    async fn snapshot(&mut self, Snapshot(values): Snapshot) -> [u64; 4] {
        self.0 += values[0];
        values
    }
}

/// Tells `tells` messages, then asks once (which also waits until they are all handled).
async fn round(counter: &ActorRef<Counter>, tells: u64) -> u64 {
    for i in 0..tells {
        counter.tell(Add(i, 1)).unwrap();
    }
    counter.ask(Total).await.unwrap()
}

#[test]
fn a_tell_allocates_nothing_and_an_ask_allocates_once() {
    current_thread().block_on(async {
        let system = ActorSystem::new();
        let counter = system.spawn(Counter(0));
        // Warm up: the mailbox's queue blocks and the scheduler's queues reach their working size.
        for _ in 0..100 {
            round(&counter, 64).await;
        }
        const ROUNDS: usize = 1_000;
        let before = Allocations::now();
        for _ in 0..ROUNDS {
            round(&counter, 64).await;
        }
        let counted = Allocations::now().since(before);
        // 64,000 tells and 1,000 asks: exactly one allocation per ask.
        assert_eq!(counted.allocations, ROUNDS, "{counted:?}");
    });
}

#[test]
fn an_async_handler_ask_allocates_once() {
    current_thread().block_on(async {
        let system = ActorSystem::new();
        let counter = system.spawn(Counter(0));
        for _ in 0..100 {
            counter.ask(Snapshot([1, 2, 3, 4])).await.unwrap();
        }
        const ASKS: usize = 1_000;
        let before = Allocations::now();
        for i in 0..ASKS as u64 {
            assert_eq!(
                counter.ask(Snapshot([i, 0, 0, 1])).await.unwrap(),
                [i, 0, 0, 1]
            );
        }
        let counted = Allocations::now().since(before);
        assert_eq!(counted.allocations, ASKS, "{counted:?}");
    });
}

/// 64 KiB, handled by an `async` handler that takes it by value.
#[derive(Message)]
struct Frame([u8; 65_536]);

struct Player(u64);

#[actor]
impl Player {
    async fn frame(&mut self, Frame(pixels): Frame) {
        tokio::task::yield_now().await;
        self.0 += u64::from(pixels[0]);
    }

    fn total(&self, _: Total) -> u64 {
        self.0
    }
}

#[test]
fn an_idle_actor_does_not_carry_the_future_of_its_largest_message() {
    current_thread().block_on(async {
        let system = ActorSystem::new();
        // Warm up the system's tables.
        drop(system.spawn(Counter(0)));
        let (spawned, player) = airssys_rt_suite::allocations(|| system.spawn(Player(0)));
        let (plain, counter) = airssys_rt_suite::allocations(|| system.spawn(Counter(0)));
        // The task of a `Player` held its handler's future, 64 KiB of message several times over (266 KB
        // measured); now the handler's future is boxed when a frame comes, so spawning a `Player` costs
        // what spawning a `Counter` does, give or take its own small state.
        println!(
            "spawn: {} bytes with a 64 KiB async handler, {} without",
            spawned.bytes, plain.bytes
        );
        assert!(
            spawned.bytes < plain.bytes + 1024,
            "spawning an actor with a 64 KiB async handler allocated {} bytes, a plain one {}",
            spawned.bytes,
            plain.bytes
        );
        // And the handler works, frame after frame.
        for _ in 0..3 {
            player.tell(Frame([1; 65_536])).unwrap();
        }
        assert_eq!(player.ask(Total).await.unwrap(), 3);
        assert_eq!(counter.ask(Total).await.unwrap(), 0);
    });
}

#[test]
fn a_wait_for_stop_given_up_leaves_nothing_behind() {
    current_thread().block_on(async {
        let system = ActorSystem::new();
        let counter = system.spawn(Counter(0));
        let poll_once = |counter: &ActorRef<Counter>| {
            let mut wait = Box::pin(counter.wait_for_stop());
            let waker = std::task::Waker::noop();
            let pending = wait
                .as_mut()
                .poll(&mut std::task::Context::from_waker(waker))
                .is_pending();
            assert!(pending, "the actor runs");
        };
        poll_once(&counter); // warm up the watcher list's capacity
        let before = Allocations::now();
        for _ in 0..1_000 {
            poll_once(&counter);
        }
        let held = Allocations::now().since(before);
        // Each wait registered a watcher and a oneshot; each dropped wait removed them again.
        assert_eq!(held.bytes - held.freed, 0, "{held:?}");
        // And a wait that stays sees the stop.
        counter.stop();
        assert_eq!(counter.wait_for_stop().await, StopReason::Stopped);
    });
}
