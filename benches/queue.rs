//! The mailbox's queue against the queues it could have been: tokio's unbounded `mpsc`, crossbeam's
//! `SegQueue`, `concurrent-queue` and `flume`, each moving a 56-byte value (a mailbox slot's size).
//! Prints the heap allocations per message of each first.
//!
//! `cargo bench --bench queue`; figures in BENCHMARKS.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use airssys_rt::__private::queue as mailbox;
use airssys_rt_suite::{Allocations, CountingAllocator};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// A mailbox slot's size.
type Value = [u64; 7];

/// One queue under test: push from any thread, pop from one.
trait Candidate: Send + 'static {
    type Tx: Send + Clone + 'static;
    type Rx: Send + 'static;
    const NAME: &'static str;
    fn new() -> (Self::Tx, Self::Rx);
    fn push(tx: &Self::Tx, value: Value);
    fn pop(rx: &mut Self::Rx) -> Option<Value>;
    /// What the consumer does when it finds the queue empty and would sleep.
    fn idle(_rx: &mut Self::Rx) {}
}

struct Ours;
impl Candidate for Ours {
    type Tx = mailbox::Sender<Value>;
    type Rx = mailbox::Receiver<Value>;
    const NAME: &'static str = "airssys mailbox queue";
    fn new() -> (Self::Tx, Self::Rx) {
        mailbox::queue()
    }
    fn push(tx: &Self::Tx, value: Value) {
        tx.push(value).unwrap();
    }
    fn pop(rx: &mut Self::Rx) -> Option<Value> {
        rx.pop()
    }
    fn idle(rx: &mut Self::Rx) {
        rx.detach();
    }
}

struct Tokio;
impl Candidate for Tokio {
    type Tx = tokio::sync::mpsc::UnboundedSender<Value>;
    type Rx = tokio::sync::mpsc::UnboundedReceiver<Value>;
    const NAME: &'static str = "tokio mpsc unbounded";
    fn new() -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::unbounded_channel()
    }
    fn push(tx: &Self::Tx, value: Value) {
        tx.send(value).unwrap();
    }
    fn pop(rx: &mut Self::Rx) -> Option<Value> {
        rx.try_recv().ok()
    }
}

struct Crossbeam;
impl Candidate for Crossbeam {
    type Tx = std::sync::Arc<crossbeam_queue::SegQueue<Value>>;
    type Rx = std::sync::Arc<crossbeam_queue::SegQueue<Value>>;
    const NAME: &'static str = "crossbeam SegQueue";
    fn new() -> (Self::Tx, Self::Rx) {
        let queue = std::sync::Arc::new(crossbeam_queue::SegQueue::new());
        (queue.clone(), queue)
    }
    fn push(tx: &Self::Tx, value: Value) {
        tx.push(value);
    }
    fn pop(rx: &mut Self::Rx) -> Option<Value> {
        rx.pop()
    }
}

struct Concurrent;
impl Candidate for Concurrent {
    type Tx = std::sync::Arc<concurrent_queue::ConcurrentQueue<Value>>;
    type Rx = std::sync::Arc<concurrent_queue::ConcurrentQueue<Value>>;
    const NAME: &'static str = "concurrent-queue unbounded";
    fn new() -> (Self::Tx, Self::Rx) {
        let queue = std::sync::Arc::new(concurrent_queue::ConcurrentQueue::unbounded());
        (queue.clone(), queue)
    }
    fn push(tx: &Self::Tx, value: Value) {
        tx.push(value).unwrap();
    }
    fn pop(rx: &mut Self::Rx) -> Option<Value> {
        rx.pop().ok()
    }
}

struct Flume;
impl Candidate for Flume {
    type Tx = flume::Sender<Value>;
    type Rx = flume::Receiver<Value>;
    const NAME: &'static str = "flume unbounded";
    fn new() -> (Self::Tx, Self::Rx) {
        flume::unbounded()
    }
    fn push(tx: &Self::Tx, value: Value) {
        tx.send(value).unwrap();
    }
    fn pop(rx: &mut Self::Rx) -> Option<Value> {
        rx.try_recv().ok()
    }
}

const BURST: u64 = 1_000;

/// Queue `BURST` values, then take them all: a sender that runs ahead of its actor.
fn burst<C: Candidate>(tx: &C::Tx, rx: &mut C::Rx) {
    for i in 0..BURST {
        C::push(tx, [i; 7]);
    }
    for _ in 0..BURST {
        black_box(C::pop(rx).unwrap());
    }
    C::idle(rx);
}

/// One value at a time, the consumer going idle after each: an actor kept just busy.
fn one_by_one<C: Candidate>(tx: &C::Tx, rx: &mut C::Rx) {
    for i in 0..BURST {
        C::push(tx, [i; 7]);
        black_box(C::pop(rx).unwrap());
        C::idle(rx);
    }
}

/// A new queue that takes one value and is left idle: what a spawned actor costs.
fn fresh<C: Candidate>() -> (C::Tx, C::Rx) {
    let (tx, mut rx) = C::new();
    C::push(&tx, [1; 7]);
    black_box(C::pop(&mut rx).unwrap());
    C::idle(&mut rx);
    (tx, rx)
}

fn allocations<C: Candidate>() {
    let (tx, mut rx) = C::new();
    for _ in 0..10 {
        burst::<C>(&tx, &mut rx);
    }
    let before = Allocations::now();
    for _ in 0..10 {
        burst::<C>(&tx, &mut rx);
        one_by_one::<C>(&tx, &mut rx);
    }
    let spent = Allocations::now().since(before);
    let messages = 20 * BURST;
    let before = Allocations::now();
    let idle: Vec<_> = (0..1_000).map(|_| fresh::<C>()).collect();
    let held = Allocations::now().since(before);
    println!(
        "{:<28} {:.3} allocations per message in steady state; {} bytes held per idle queue",
        C::NAME,
        spent.allocations as f64 / messages as f64,
        (held.bytes - held.freed - idle.capacity() * size_of::<(C::Tx, C::Rx)>()) / 1_000,
    );
}

fn bench<C: Candidate>(c: &mut Criterion) {
    let mut group = c.benchmark_group("queue, 56-byte values");
    group.throughput(Throughput::Elements(BURST));
    let (tx, mut rx) = C::new();
    group.bench_function(format!("burst of 1000/{}", C::NAME), |b| {
        b.iter(|| burst::<C>(&tx, &mut rx))
    });
    group.bench_function(format!("one by one/{}", C::NAME), |b| {
        b.iter(|| one_by_one::<C>(&tx, &mut rx))
    });
    group.bench_function(format!("4 threads into 1/{}", C::NAME), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (tx, mut rx) = C::new();
                let start = Instant::now();
                let senders: Vec<_> = (0..4)
                    .map(|_| {
                        let tx = tx.clone();
                        std::thread::spawn(move || {
                            for i in 0..BURST / 4 {
                                C::push(&tx, [i; 7]);
                            }
                        })
                    })
                    .collect();
                let mut taken = 0;
                while taken < BURST {
                    match C::pop(&mut rx) {
                        Some(value) => {
                            black_box(value);
                            taken += 1;
                        }
                        None => std::hint::spin_loop(),
                    }
                }
                total += start.elapsed();
                for sender in senders {
                    sender.join().unwrap();
                }
            }
            total
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    allocations::<Ours>();
    allocations::<Tokio>();
    allocations::<Crossbeam>();
    allocations::<Concurrent>();
    allocations::<Flume>();
    bench::<Ours>(c);
    bench::<Tokio>(c);
    bench::<Crossbeam>(c);
    bench::<Concurrent>(c);
    bench::<Flume>(c);
}

criterion_group!(queue, benches);
criterion_main!(queue);
