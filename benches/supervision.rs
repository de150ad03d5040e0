//! Supervision: restart latency (a panic in a handler to the restarted actor handling its next
//! message), restart throughput under one-for-one, and supervised against unsupervised spawn.
//!
//! `cargo bench --bench supervision`; figures in BENCHMARKS.md. The panics are real (unwinding
//! included) but silenced: the default panic hook's print to stderr would otherwise be most of what
//! is measured, and it is the application's choice, not the runtime's cost.

use std::hint::black_box;
use std::time::{Duration, Instant};

use airssys_rt::prelude::*;
use airssys_rt::supervisor::{ChildSpec, Strategy, Supervisor, SupervisorSpec};
use airssys_rt_suite::{current_thread, two_workers};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;

#[derive(Message)]
#[message(result = u64)]
struct Ping;

#[derive(Message)]
struct Crash;

struct Worker(u64);

#[actor]
impl Worker {
    fn ping(&mut self, _: Ping) -> u64 {
        self.0 += 1;
        self.0
    }

    fn crash(&mut self, _: Crash) {
        panic!("crash");
    }
}

/// A supervisor of one worker that never gives up.
fn supervised(system: &ActorSystem, runtime: &Runtime) -> (ActorRef<Supervisor>, ActorRef<Worker>) {
    runtime.block_on(async {
        let root = SupervisorSpec::new(Strategy::OneForOne)
            .intensity(u32::MAX, Duration::from_secs(1))
            .child(ChildSpec::new("worker", || Worker(0)))
            .spawn(system);
        let worker = root.child::<Worker>("worker").await.unwrap();
        (root, worker)
    })
}

/// Runs `future` in a task of `runtime`: on two workers, the measuring loop then runs on a worker
/// like the actors, instead of on the calling thread (where every reply would unpark it).
fn on_runtime<F>(runtime: &Runtime, future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    runtime
        .block_on(runtime.spawn(future))
        .expect("the measuring task does not panic")
}

/// One restart: the crash is queued, then a ping that the new incarnation answers.
async fn restart_once(worker: &ActorRef<Worker>) {
    worker.tell(Crash).unwrap();
    black_box(worker.ask(Ping).await.unwrap());
}

/// The distribution of single restart latencies, printed: criterion reports means of batches, the
/// target is a median of single restarts.
fn restart_latency_distribution() {
    const RESTARTS: usize = 20_000;
    for (flavor, runtime) in [
        ("current_thread", current_thread()),
        ("2 workers", two_workers()),
    ] {
        let system = runtime.block_on(async { ActorSystem::new() });
        let (_root, worker) = supervised(&system, &runtime);
        let mut samples = on_runtime(&runtime, async move {
            for _ in 0..1_000 {
                restart_once(&worker).await;
            }
            let mut samples = Vec::with_capacity(RESTARTS);
            for _ in 0..RESTARTS {
                let start = Instant::now();
                restart_once(&worker).await;
                samples.push(start.elapsed());
            }
            samples
        });
        samples.sort();
        let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
        println!(
            "restart latency ({flavor}, {RESTARTS} restarts): p50 {:.2?}, p90 {:.2?}, p99 {:.2?}",
            at(0.5),
            at(0.9),
            at(0.99)
        );
    }
}

fn restart_latency(c: &mut Criterion) {
    let mut group = c.benchmark_group("restart: panic to next message handled");
    for (flavor, runtime) in [
        ("current_thread", current_thread()),
        ("2 workers", two_workers()),
    ] {
        let system = runtime.block_on(async { ActorSystem::new() });
        let (_root, worker) = supervised(&system, &runtime);
        group.bench_function(format!("restart + ask/{flavor}"), |b| {
            b.iter_custom(|iters| {
                let worker = worker.clone();
                on_runtime(&runtime, async move {
                    let start = Instant::now();
                    for _ in 0..iters {
                        restart_once(&worker).await;
                    }
                    start.elapsed()
                })
            })
        });
        // The same ask without the crash: what the restart adds is the difference.
        group.bench_function(format!("ask alone/{flavor}"), |b| {
            b.iter_custom(|iters| {
                let worker = worker.clone();
                on_runtime(&runtime, async move {
                    let start = Instant::now();
                    for _ in 0..iters {
                        black_box(worker.ask(Ping).await.unwrap());
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

fn restart_throughput(c: &mut Criterion) {
    const CRASHES: u64 = 1_000;
    let mut group = c.benchmark_group("restarts, one-for-one");
    group.throughput(Throughput::Elements(CRASHES));
    for (flavor, runtime) in [
        ("current_thread", current_thread()),
        ("2 workers", two_workers()),
    ] {
        let system = runtime.block_on(async { ActorSystem::new() });
        let (_root, worker) = supervised(&system, &runtime);
        group.bench_function(format!("1000 crashes queued/{flavor}"), |b| {
            b.iter_custom(|iters| {
                let worker = worker.clone();
                on_runtime(&runtime, async move {
                    let start = Instant::now();
                    for _ in 0..iters {
                        for _ in 0..CRASHES {
                            worker.tell(Crash).unwrap();
                        }
                        black_box(worker.ask(Ping).await.unwrap());
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

fn spawn(c: &mut Criterion) {
    const CHILDREN: u64 = 100;
    let runtime = current_thread();
    let system = runtime.block_on(async { ActorSystem::new() });

    let mut group = c.benchmark_group("spawn, first message, stop");
    group.bench_function("unsupervised: spawn", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let worker = system.spawn(Worker(0));
                    black_box(worker.ask(Ping).await.unwrap());
                    worker.drain();
                    black_box(worker.wait_for_stop().await);
                }
                start.elapsed()
            })
        })
    });
    let (root, _) = supervised(&system, &runtime);
    group.bench_function("supervised: add_child, remove_child", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let worker = root
                        .add_child(ChildSpec::new("extra", || Worker(0)))
                        .await
                        .unwrap();
                    black_box(worker.ask(Ping).await.unwrap());
                    black_box(root.remove_child("extra").await.unwrap());
                }
                start.elapsed()
            })
        })
    });
    group.finish();

    // The first message goes through the broker, by address, in both: the same cost per child.
    let broker = system.broker();
    let mut group = c.benchmark_group("spawn 100, first message each, stop all");
    group.throughput(Throughput::Elements(CHILDREN));
    group.bench_function("unsupervised: 100 spawns", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let workers: Vec<_> = (0..CHILDREN).map(|_| system.spawn(Worker(0))).collect();
                    for worker in &workers {
                        black_box(broker.ask(worker.address(), Ping).await.unwrap());
                    }
                    for worker in &workers {
                        worker.drain();
                    }
                    for worker in &workers {
                        black_box(worker.wait_for_stop().await);
                    }
                }
                start.elapsed()
            })
        })
    });
    let spec = (0..CHILDREN).fold(SupervisorSpec::new(Strategy::OneForOne), |spec, n| {
        spec.child(ChildSpec::new(format!("worker-{n}"), || Worker(0)))
    });
    group.bench_function("supervised: a supervisor of 100", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let root = spec.clone().spawn(&system);
                    for child in root.children().await.unwrap() {
                        black_box(broker.ask(child.address, Ping).await.unwrap());
                    }
                    root.drain();
                    black_box(root.wait_for_stop().await);
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    std::panic::set_hook(Box::new(|_| {}));
    restart_latency_distribution();
    restart_latency(c);
    restart_throughput(c);
    spawn(c);
}

criterion_group!(supervision, benches);
criterion_main!(supervision);
