//! Allocation claims of the broker, counted by a global allocator in steady state on one
//! current-thread runtime (so the per-thread counter sees senders and actors alike):
//! - `route` of an inline message allocates nothing;
//! - a publish to 100 subscribers allocates once (the shared `Arc`), whatever the subscriber count;
//! - boxed messages routed through a `MessagePool` allocate (almost) nothing: reported as bytes per
//!   second at 1 M messages per second.

use std::sync::Arc;

use airssys_rt::broker::{MessagePool, Pooled};
use airssys_rt::envelope::MessageEnvelope;
use airssys_rt::prelude::*;
use airssys_rt_suite::{Allocations, CountingAllocator, current_thread};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[derive(Message)]
struct Add(u64);

#[derive(Message)]
struct Tick(u64);

/// 512 bytes: boxed in an envelope unless pooled.
#[derive(Message)]
struct Frame([u64; 64]);

#[derive(Message)]
#[message(result = u64)]
struct Total;

#[derive(Default)]
struct Counter(u64);

#[actor]
impl Counter {
    fn add(&mut self, Add(n): Add) {
        self.0 += n;
    }

    fn tick(&mut self, tick: Arc<Tick>) {
        self.0 += tick.0;
    }

    fn frame(&mut self, frame: Pooled<Frame>) {
        self.0 += frame.0[0];
    }

    fn total(&self, _: Total) -> u64 {
        self.0
    }
}

#[test]
fn routing_an_inline_message_allocates_nothing() {
    current_thread().block_on(async {
        let system = ActorSystem::new();
        let counter = system.spawn(Counter::default());
        let broker = system.broker();
        broker
            .resolver()
            .register("counter", counter.address())
            .unwrap();
        let round = || async {
            // 64 messages a round: the mailbox's queue then reuses its blocks (tokio recycles a few).
            for i in 0..32 {
                broker
                    .route(MessageEnvelope::new(Add(i)).to(counter.address()))
                    .unwrap();
                broker
                    .route_to("counter", MessageEnvelope::new(Add(i)))
                    .unwrap();
            }
            counter.ask(Total).await.unwrap()
        };
        for _ in 0..100 {
            round().await;
        }
        const ROUNDS: usize = 1_000;
        let before = Allocations::now();
        for _ in 0..ROUNDS {
            round().await;
        }
        let counted = Allocations::now().since(before);
        // 64,000 routes (half by name, through the cache) and one ask per round.
        assert_eq!(counted.allocations, ROUNDS, "{counted:?}");
    });
}

#[test]
fn a_publish_allocates_once_whatever_the_subscriber_count() {
    current_thread().block_on(async {
        let system = ActorSystem::new();
        let topic = system.broker().topic::<Tick>("ticks").unwrap();
        let subscribers: Vec<_> = (0..100)
            .map(|_| {
                let subscriber = system.spawn(Counter::default());
                topic.subscribe(subscriber.recipient());
                subscriber
            })
            .collect();
        let round = |n: u64| {
            let topic = &topic;
            let subscribers = &subscribers;
            async move {
                for i in 0..8 {
                    assert_eq!(topic.publish(Tick(n + i)).delivered, 100);
                }
                // Let every subscriber handle its 8 ticks (one ask each: one allocation each).
                for subscriber in subscribers {
                    subscriber.ask(Total).await.unwrap();
                }
            }
        };
        for n in 0..100 {
            round(n).await;
        }
        const ROUNDS: usize = 100;
        let before = Allocations::now();
        for n in 0..ROUNDS as u64 {
            round(n).await;
        }
        let counted = Allocations::now().since(before);
        let asks = ROUNDS * subscribers.len();
        let publishes = ROUNDS * 8;
        // Everything but the asks' reply channels is the publishes' `Arc`s: one each.
        assert_eq!(counted.allocations - asks, publishes, "{counted:?}");
    });
}

#[test]
fn pooled_boxed_messages_allocate_under_1_kb_per_second_at_1_m_per_second() {
    let ask_bytes = ask_bytes();
    current_thread().block_on(async {
        let system = ActorSystem::new();
        let counter = system.spawn(Counter::default());
        let broker = system.broker();
        let pool = MessagePool::<Frame>::new(256);
        let round = || async {
            for i in 0..64 {
                let frame = pool.wrap(Frame([i; 64]));
                broker
                    .route(MessageEnvelope::new(frame).to(counter.address()))
                    .unwrap();
            }
            counter.ask(Total).await.unwrap()
        };
        for _ in 0..100 {
            round().await;
        }
        const ROUNDS: usize = 16_000; // 1,024,000 messages: one second's worth at 1 M msg/s
        let before = Allocations::now();
        for _ in 0..ROUNDS {
            round().await;
        }
        let counted = Allocations::now().since(before);
        // The only allocations left are the rounds' asks (one reply channel each), which are the
        // test's, not the pool's. The messages themselves allocate nothing.
        let message_bytes = counted.bytes - ROUNDS * ask_bytes;
        assert_eq!(counted.allocations, ROUNDS, "{counted:?}");
        assert!(
            message_bytes < 1024,
            "{message_bytes} bytes for 1,024,000 pooled messages"
        );
        println!(
            "pooled: {message_bytes} bytes allocated for 1,024,000 boxed messages (unpooled: {} bytes)",
            1_024_000 * size_of::<Frame>()
        );
    });
}

/// Bytes one ask allocates (its reply channel), measured.
fn ask_bytes() -> usize {
    current_thread().block_on(async {
        let system = ActorSystem::new();
        let counter = system.spawn(Counter::default());
        for _ in 0..10 {
            counter.ask(Total).await.unwrap();
        }
        let before = Allocations::now();
        counter.ask(Total).await.unwrap();
        Allocations::now().since(before).bytes
    })
}
