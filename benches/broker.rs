//! The broker: name resolution (per-thread cache against the shared map it fronts), routing-key
//! lookup, routing throughput against a direct `tell`, ask round trip through the broker, fan-out
//! to 100 subscribers, and the message pool against `Box::new`.
//!
//! `cargo bench --bench broker`; figures in BENCHMARKS.md.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use airssys_rt::broker::{MessagePool, Pooled, Target};
use airssys_rt::envelope::MessageEnvelope;
use airssys_rt::prelude::*;
use airssys_rt_suite::current_thread;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[derive(Message, Clone, Copy)]
struct Add(u64, u64);

#[derive(Message)]
#[message(result = u64)]
struct Total;

#[derive(Message)]
struct Tick(u64);

#[derive(Message)]
struct Frame([u64; 64]);

struct Counter(u64);

#[actor]
impl Counter {
    fn add(&mut self, Add(a, b): Add) {
        self.0 = self.0.wrapping_add(a ^ b);
    }

    fn total(&self, _: Total) -> u64 {
        self.0
    }

    fn tick(&mut self, tick: Arc<Tick>) {
        self.0 = self.0.wrapping_add(tick.0);
    }

    fn frame(&mut self, frame: Pooled<Frame>) {
        self.0 = self.0.wrapping_add(frame.0[0]);
    }
}

fn resolution(c: &mut Criterion) {
    let runtime = current_thread();
    let system = runtime.block_on(async { ActorSystem::new() });
    let resolver = system.resolver();
    // 1,000 named actors, as in the design note's cache figure.
    let actors: Vec<_> = (0..1000)
        .map(|i| {
            let actor = system.spawn(Counter(0));
            resolver
                .register(format!("service-{i:04}"), actor.address())
                .unwrap();
            actor
        })
        .collect();
    let name = "service-0500";
    let key = actors[500].address().routing_key();
    let mut group = c.benchmark_group("resolve");
    group.bench_function("by name, cached", |b| {
        b.iter(|| black_box(resolver.resolve(black_box(name))))
    });
    group.bench_function("by name, shared map only", |b| {
        b.iter(|| black_box(resolver.resolve_uncached(black_box(name))))
    });
    // Two threads resolving at once: where a shared map's read lock moves between cores.
    const PER_THREAD: u64 = 100_000;
    for (label, cached) in [
        ("2 threads, by name, cached", true),
        ("2 threads, by name, shared map only", false),
    ] {
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                std::thread::scope(|scope| {
                    for _ in 0..2 {
                        let resolver = resolver.clone();
                        scope.spawn(move || {
                            for _ in 0..iters * PER_THREAD {
                                let found = if cached {
                                    resolver.resolve(black_box(name))
                                } else {
                                    resolver.resolve_uncached(black_box(name))
                                };
                                black_box(found);
                            }
                        });
                    }
                });
                // Per resolution, per thread.
                start.elapsed() / PER_THREAD as u32
            })
        });
    }
    group.bench_function("by routing key", |b| {
        b.iter(|| black_box(resolver.resolve_key(black_box(key))))
    });
    group.finish();
}

const MESSAGES: u64 = 1_000_000;

fn throughput(c: &mut Criterion) {
    let runtime = current_thread();
    let system = runtime.block_on(async { ActorSystem::new() });
    let counter = system.spawn(Counter(0));
    let broker = system.broker();
    broker
        .resolver()
        .register("counter", counter.address())
        .unwrap();
    let address = counter.address();
    let mut group = c.benchmark_group("route 1M, 1 sender 1 actor");
    group
        .sample_size(10)
        .throughput(Throughput::Elements(MESSAGES));
    let mut run = |label: &str, send: &dyn Fn(u64)| {
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        for i in 0..MESSAGES {
                            send(i);
                        }
                        black_box(counter.ask(Total).await.unwrap());
                    }
                    start.elapsed()
                })
            })
        });
    };
    run("ActorRef::tell", &|i| counter.tell(Add(i, 1)).unwrap());
    run("broker route by address", &|i| {
        broker
            .route(MessageEnvelope::new(Add(i, 1)).to(address))
            .unwrap()
    });
    run("broker route by name", &|i| {
        broker
            .route_to("counter", MessageEnvelope::new(Add(i, 1)))
            .unwrap()
    });
    group.finish();
}

fn ask(c: &mut Criterion) {
    let runtime = current_thread();
    let system = runtime.block_on(async { ActorSystem::new() });
    let counter = system.spawn(Counter(0));
    let broker = system.broker();
    let address = counter.address();
    let mut group = c.benchmark_group("ask round trip (route, deliver, reply)");
    group.bench_function("ActorRef::ask", |b| {
        b.iter(|| runtime.block_on(async { black_box(counter.ask(Total).await.unwrap()) }))
    });
    group.bench_function("broker ask by address", |b| {
        b.iter(|| {
            runtime.block_on(async {
                black_box(broker.ask(Target::Address(address), Total).await.unwrap())
            })
        })
    });
    group.finish();
}

fn fan_out(c: &mut Criterion) {
    let runtime = current_thread();
    let system = runtime.block_on(async { ActorSystem::new() });
    let topic = system.broker().topic::<Tick>("ticks").unwrap();
    let subscribers: Vec<_> = (0..100)
        .map(|_| {
            let subscriber = system.spawn(Counter(0));
            topic.subscribe(subscriber.recipient());
            subscriber
        })
        .collect();
    const PUBLISHES: u64 = 1000;
    let mut group = c.benchmark_group("publish to 100 subscribers");
    group.throughput(Throughput::Elements(PUBLISHES));
    group.bench_function("1000 publishes, until all handled", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    for i in 0..PUBLISHES {
                        topic.publish(Tick(i));
                    }
                    for subscriber in &subscribers {
                        black_box(subscriber.ask(Total).await.unwrap());
                    }
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

fn pool(c: &mut Criterion) {
    let pool = MessagePool::<Frame>::new(64);
    let mut group = c.benchmark_group("512-byte message storage");
    group.bench_function("MessagePool wrap + drop", |b| {
        b.iter(|| drop(black_box(pool.wrap(Frame([black_box(1); 64])))))
    });
    group.bench_function("Box::new + drop", |b| {
        b.iter(|| drop(black_box(Box::new(Frame([black_box(1); 64])))))
    });
    group.finish();
}

/// Subscriber churn beside 10,000 standing subscribers: spawn, subscribe, stop (removed as it stops),
/// against the same cycle without the subscription. Subscribing scanned the list, so its cost grew with
/// the topic; it is a map lookup now.
fn topic_churn(c: &mut Criterion) {
    let runtime = current_thread();
    let system = runtime.block_on(async { ActorSystem::new() });
    let topic = system.broker().topic::<Tick>("churn").unwrap();
    let standing: Vec<_> = (0..10_000)
        .map(|_| {
            let actor = runtime.block_on(async { system.spawn(Counter(0)) });
            topic.subscribe(actor.recipient());
            actor
        })
        .collect();
    let mut group = c.benchmark_group("topic churn, 10,000 subscribers");
    group.bench_function("spawn + subscribe + stop", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let actor = system.spawn(Counter(0));
                topic.subscribe(actor.recipient());
                actor.stop();
                actor.wait_for_stop().await;
            })
        })
    });
    group.bench_function("spawn + stop", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let actor = system.spawn(Counter(0));
                actor.stop();
                actor.wait_for_stop().await;
            })
        })
    });
    group.finish();
    assert_eq!(topic.subscriber_count(), standing.len());
}

criterion_group!(
    benches,
    resolution,
    throughput,
    ask,
    fan_out,
    pool,
    topic_churn
);
criterion_main!(benches);
