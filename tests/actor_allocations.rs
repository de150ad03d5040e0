//! Allocation claims of the actor runtime, counted by a global allocator in steady state: a `tell` of
//! an inline message allocates nothing; an `ask` allocates once (its reply channel).
//!
//! Everything runs on one current-thread runtime, so the per-thread counter sees the senders and the
//! actor alike.

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
