//! The actor runtime against a raw tokio channel moving the same payload in the same topology, each
//! pair in one criterion group: tell throughput, 4-sender fan-in, ask round trip, spawn + stop, a
//! fork-join of short-lived children, and ping-pong between two actors. Also prints the memory an idle
//! actor holds, at 10,000 and 100,000 actors.
//!
//! `cargo bench --bench actors`; figures in BENCHMARKS.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use airssys_rt::ReplySender;
use airssys_rt::prelude::*;
use airssys_rt_suite::{Allocations, CountingAllocator, current_thread, two_workers};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// The payload of every workload: 16 bytes.
#[derive(Message, Clone, Copy)]
struct Add(u64, u64);

#[derive(Message)]
#[message(result = u64)]
struct Total;

#[derive(Message)]
#[message(result = u64)]
struct Echo(u64, u64);

/// As `Echo`, answered through the handler's `ReplySender` (a deferred reply, sent at once).
#[derive(Message)]
#[message(result = u64)]
struct Deferred(u64, u64);

/// As `Echo`, answered from a task tied to the actor (`ctx.spawn`).
#[derive(Message)]
#[message(result = u64)]
struct FromTask(u64, u64);

struct Counter(u64);

#[actor]
impl Counter {
    fn deferred(&self, Deferred(a, b): Deferred, reply: ReplySender<u64>) {
        reply.send(a ^ b);
    }

    fn reply_from_task(
        &self,
        FromTask(a, b): FromTask,
        reply: ReplySender<u64>,
        ctx: &mut Context<Self>,
    ) {
        ctx.spawn(async move { reply.send(a ^ b) });
    }

    fn add(&mut self, Add(a, b): Add) {
        self.0 = self.0.wrapping_add(a ^ b);
    }

    fn total(&self, _: Total) -> u64 {
        self.0
    }

    fn echo(&self, Echo(a, b): Echo) -> u64 {
        a ^ b
    }
}

/// The raw baseline's actor: a task that folds what its channel brings, and answers requests.
enum Raw {
    Add(Add),
    Total(oneshot::Sender<u64>),
}

fn raw_counter(runtime: &Runtime) -> mpsc::UnboundedSender<Raw> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    runtime.spawn(async move {
        let mut total = 0_u64;
        while let Some(message) = rx.recv().await {
            match message {
                Raw::Add(Add(a, b)) => total = total.wrapping_add(a ^ b),
                Raw::Total(reply) => {
                    let _ = reply.send(total);
                }
            }
        }
    });
    tx
}

async fn raw_total(tx: &mpsc::UnboundedSender<Raw>) -> u64 {
    let (reply, total) = oneshot::channel();
    tx.send(Raw::Total(reply)).unwrap();
    total.await.unwrap()
}

const MESSAGES: u64 = 1_000_000;

fn tell(c: &mut Criterion) {
    let mut group = c.benchmark_group("tell 1M, 1 sender 1 actor");
    group
        .sample_size(10)
        .throughput(Throughput::Elements(MESSAGES));
    for (flavor, runtime) in [
        ("current_thread", current_thread()),
        ("2 workers", two_workers()),
    ] {
        let system = runtime.block_on(async { ActorSystem::new() });
        let counter = system.spawn(Counter(0));
        group.bench_function(format!("airssys/{flavor}"), |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        for i in 0..MESSAGES {
                            counter.tell(Add(i, 1)).unwrap();
                        }
                        black_box(counter.ask(Total).await.unwrap());
                    }
                    start.elapsed()
                })
            })
        });
        let raw = raw_counter(&runtime);
        group.bench_function(format!("tokio mpsc/{flavor}"), |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        for i in 0..MESSAGES {
                            raw.send(Raw::Add(Add(i, 1))).unwrap();
                        }
                        black_box(raw_total(&raw).await);
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

fn fan_in(c: &mut Criterion) {
    let mut group = c.benchmark_group("fan-in 4x250k, 2 workers");
    group
        .sample_size(10)
        .throughput(Throughput::Elements(MESSAGES));
    let runtime = two_workers();
    let system = runtime.block_on(async { ActorSystem::new() });
    let counter = system.spawn(Counter(0));
    group.bench_function("airssys", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let senders: Vec<_> = (0..4)
                        .map(|_| {
                            let counter = counter.clone();
                            tokio::spawn(async move {
                                for i in 0..MESSAGES / 4 {
                                    counter.tell(Add(i, 1)).unwrap();
                                }
                            })
                        })
                        .collect();
                    for sender in senders {
                        sender.await.unwrap();
                    }
                    black_box(counter.ask(Total).await.unwrap());
                }
                start.elapsed()
            })
        })
    });
    let raw = raw_counter(&runtime);
    group.bench_function("tokio mpsc", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let senders: Vec<_> = (0..4)
                        .map(|_| {
                            let raw = raw.clone();
                            tokio::spawn(async move {
                                for i in 0..MESSAGES / 4 {
                                    raw.send(Raw::Add(Add(i, 1))).unwrap();
                                }
                            })
                        })
                        .collect();
                    for sender in senders {
                        sender.await.unwrap();
                    }
                    black_box(raw_total(&raw).await);
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

fn ask(c: &mut Criterion) {
    let mut group = c.benchmark_group("ask round trip");
    for (flavor, runtime) in [
        ("current_thread", current_thread()),
        ("2 workers", two_workers()),
    ] {
        let system = runtime.block_on(async { ActorSystem::new() });
        let counter = system.spawn(Counter(0));
        /// One ask round trip per iteration, of the message `make` builds.
        fn asks<M>(
            group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
            name: String,
            runtime: &Runtime,
            counter: &ActorRef<Counter>,
            make: fn(u64) -> M,
        ) where
            Counter: airssys_rt::Handler<M>,
            M: Message,
        {
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    runtime.block_on(async {
                        let start = Instant::now();
                        for i in 0..iters {
                            black_box(counter.ask(make(i)).await.unwrap());
                        }
                        start.elapsed()
                    })
                })
            });
        }
        let name = |what: &str| format!("{what}/{flavor}");
        asks(&mut group, name("airssys"), &runtime, &counter, |i| {
            Echo(i, 1)
        });
        asks(
            &mut group,
            name("airssys deferred reply"),
            &runtime,
            &counter,
            |i| Deferred(i, 1),
        );
        asks(
            &mut group,
            name("airssys reply from ctx.spawn"),
            &runtime,
            &counter,
            |i| FromTask(i, 1),
        );
        // The same request-reply over a raw channel: the request carries a oneshot for the answer.
        let (tx, mut rx) = mpsc::unbounded_channel::<(Add, oneshot::Sender<u64>)>();
        runtime.spawn(async move {
            while let Some((Add(a, b), reply)) = rx.recv().await {
                let _ = reply.send(a ^ b);
            }
        });
        group.bench_function(format!("tokio mpsc+oneshot/{flavor}"), |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for i in 0..iters {
                        let (reply, answer) = oneshot::channel();
                        tx.send((Add(i, 1), reply)).unwrap();
                        black_box(answer.await.unwrap());
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

fn spawn_stop(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn + stop");
    let runtime = current_thread();
    let system = runtime.block_on(async { ActorSystem::new() });
    group.bench_function("airssys", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let counter = system.spawn(Counter(0));
                    counter.stop();
                    black_box(counter.wait_for_stop().await);
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("tokio task + mpsc", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let (tx, mut rx) = mpsc::unbounded_channel::<Add>();
                    let task = tokio::spawn(async move { while rx.recv().await.is_some() {} });
                    drop(tx);
                    task.await.unwrap();
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

/// Fork-join: the parent spawns `n` children, tells each one job, and replies once every child has
/// reported back; each child handles its one message and stops.
#[derive(Message)]
#[message(result = u64)]
struct ForkJoin(u64);

#[derive(Message)]
struct Job(u64, ActorRef<Parent>);

#[derive(Message)]
struct Joined(u64);

#[derive(Default)]
struct Parent {
    pending: u64,
    total: u64,
    reply: Option<ReplySender<u64>>,
}

#[actor]
impl Parent {
    fn fork(&mut self, ForkJoin(n): ForkJoin, reply: ReplySender<u64>, ctx: &mut Context<Self>) {
        self.pending = n;
        self.total = 0;
        self.reply = Some(reply);
        let me = ctx.actor_ref();
        for i in 0..n {
            let child = ctx.system().spawn(Leaf);
            child.tell(Job(i, me.clone())).ok().unwrap();
        }
    }

    fn joined(&mut self, Joined(i): Joined) {
        self.total += i;
        self.pending -= 1;
        if self.pending == 0
            && let Some(reply) = self.reply.take()
        {
            reply.send(self.total);
        }
    }
}

struct Leaf;

#[actor]
impl Leaf {
    fn job(&mut self, Job(i, parent): Job, ctx: &mut Context<Self>) {
        parent.tell(Joined(i)).ok().unwrap();
        ctx.stop();
    }
}

fn fork_join(c: &mut Criterion) {
    const CHILDREN: u64 = 1_000;
    let mut group = c.benchmark_group("fork-join 1000 children");
    group.throughput(Throughput::Elements(CHILDREN));
    for (flavor, runtime) in [
        ("current_thread", current_thread()),
        ("2 workers", two_workers()),
    ] {
        let system = runtime.block_on(async { ActorSystem::new() });
        let parent = runtime.block_on(async { system.spawn(Parent::default()) });
        group.bench_function(format!("airssys/{flavor}"), |b| {
            b.iter(|| runtime.block_on(async { black_box(parent.ask(ForkJoin(CHILDREN)).await) }))
        });
        group.bench_function(format!("tokio tasks + mpsc/{flavor}"), |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let (joined, mut joins) = mpsc::unbounded_channel::<u64>();
                    for i in 0..CHILDREN {
                        let (job, mut jobs) = mpsc::unbounded_channel::<u64>();
                        let joined = joined.clone();
                        tokio::spawn(async move {
                            if let Some(i) = jobs.recv().await {
                                joined.send(i).unwrap();
                            }
                        });
                        job.send(i).unwrap();
                    }
                    let mut total = 0;
                    for _ in 0..CHILDREN {
                        total += joins.recv().await.unwrap();
                    }
                    black_box(total)
                })
            })
        });
    }
    group.finish();
}

#[derive(Message)]
struct Ball(u64);

#[derive(Message)]
#[message(result = ())]
struct Serve {
    to: ActorRef<Player>,
    rallies: u64,
    done: Option<oneshot::Sender<()>>,
}

struct Player {
    partner: Option<ActorRef<Player>>,
    done: Option<oneshot::Sender<()>>,
}

#[actor]
impl Player {
    /// Starts `rallies` round trips: the ball goes out with `2 * rallies - 1` hops left, so it comes
    /// back to the server at zero.
    fn serve(&mut self, Serve { to, rallies, done }: Serve) {
        self.done = done;
        if rallies > 0 {
            to.tell(Ball(2 * rallies - 1)).unwrap();
        }
        self.partner = Some(to);
    }

    fn ball(&mut self, Ball(left): Ball) {
        if left == 0 {
            if let Some(done) = self.done.take() {
                let _ = done.send(());
            }
            return;
        }
        let partner = self
            .partner
            .as_ref()
            .expect("each player learns its partner from a `Serve`");
        partner.tell(Ball(left - 1)).unwrap();
    }
}

/// Round trips per iteration: 100,000 messages.
const RALLIES: u64 = 50_000;

fn ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("ping-pong 100k messages, 2 actors");
    group
        .sample_size(10)
        .throughput(Throughput::Elements(2 * RALLIES));
    for (flavor, runtime) in [
        ("current_thread", current_thread()),
        ("2 workers", two_workers()),
    ] {
        let system = runtime.block_on(async { ActorSystem::new() });
        let a = system.spawn(Player {
            partner: None,
            done: None,
        });
        let b_player = system.spawn(Player {
            partner: None,
            done: None,
        });
        // `b` learns its partner from a serve with zero rallies.
        runtime.block_on(async {
            b_player
                .ask(Serve {
                    to: a.clone(),
                    rallies: 0,
                    done: None,
                })
                .await
                .unwrap();
        });
        group.bench_function(format!("airssys/{flavor}"), |bench| {
            bench.iter_custom(|iters| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let (done, finished) = oneshot::channel();
                        a.tell(Serve {
                            to: b_player.clone(),
                            rallies: RALLIES,
                            done: Some(done),
                        })
                        .unwrap();
                        finished.await.unwrap();
                    }
                    start.elapsed()
                })
            })
        });
        group.bench_function(format!("tokio mpsc/{flavor}"), |bench| {
            bench.iter_custom(|iters| {
                runtime.block_on(async {
                    let mut elapsed = Duration::ZERO;
                    for _ in 0..iters {
                        let (to_b, mut b_inbox) = mpsc::unbounded_channel::<u64>();
                        let (to_a, mut a_inbox) = mpsc::unbounded_channel::<u64>();
                        let (done, finished) = oneshot::channel::<()>();
                        tokio::spawn(async move {
                            while let Some(left) = b_inbox.recv().await {
                                if to_a.send(left.saturating_sub(1)).is_err() {
                                    break;
                                }
                            }
                        });
                        let start = Instant::now();
                        let a_task = tokio::spawn(async move {
                            to_b.send(2 * RALLIES - 1).unwrap();
                            while let Some(left) = a_inbox.recv().await {
                                if left == 0 {
                                    let _ = done.send(());
                                    break;
                                }
                                to_b.send(left - 1).unwrap();
                            }
                        });
                        finished.await.unwrap();
                        elapsed += start.elapsed();
                        a_task.await.unwrap();
                    }
                    elapsed
                })
            })
        });
    }
    group.finish();
}

/// Bytes an idle actor keeps allocated: spawn `ACTORS`, let each handle one message, count what stayed
/// allocated.
fn idle_actor_memory<const ACTORS: usize>() {
    let runtime = current_thread();
    runtime.block_on(async {
        let system = ActorSystem::new();
        let before = Allocations::now();
        let actors: Vec<_> = (0..ACTORS).map(|_| system.spawn(Counter(0))).collect();
        for actor in &actors {
            actor.ask(Total).await.unwrap();
        }
        let held = Allocations::now().since(before);
        // The asks' reply channels were freed again; what is left is the actors (and the Vec).
        let per_actor =
            (held.bytes - held.freed - ACTORS * size_of::<ActorRef<Counter>>()) / ACTORS;
        println!("memory per idle actor: {per_actor} bytes (live heap, {ACTORS} actors)");
        let (tx_size, raw) = {
            let before = Allocations::now();
            let channels: Vec<_> = (0..ACTORS)
                .map(|_| {
                    let (tx, mut rx) = mpsc::unbounded_channel::<Add>();
                    tokio::spawn(async move { while rx.recv().await.is_some() {} });
                    tx
                })
                .collect();
            tokio::task::yield_now().await;
            let held = Allocations::now().since(before);
            (channels.len(), (held.bytes - held.freed) / ACTORS)
        };
        println!("memory per idle tokio task + unbounded mpsc: {raw} bytes ({tx_size} tasks)");
        system.shutdown(Duration::from_secs(10)).await;
    });
}

/// With `AIRSSYS_BENCH_SUBSCRIBER=record` (and the `tracing` feature), a subscriber that records
/// every span and event of the runtime at DEBUG (tracing-subscriber's registry, which every
/// formatting or exporting layer sits on): what a traced service pays. Off by default: the figures
/// are those of a service with no subscriber.
#[cfg(feature = "tracing")]
fn install_subscriber() {
    use tracing_subscriber::layer::SubscriberExt;
    if std::env::var("AIRSSYS_BENCH_SUBSCRIBER").as_deref() == Ok("record") {
        let subscriber =
            tracing_subscriber::registry().with(tracing_subscriber::filter::LevelFilter::DEBUG);
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        println!("recording subscriber installed (DEBUG)");
    }
}

fn benches(c: &mut Criterion) {
    #[cfg(feature = "tracing")]
    install_subscriber();
    idle_actor_memory::<10_000>();
    idle_actor_memory::<100_000>();
    tell(c);
    fan_in(c);
    ask(c);
    spawn_stop(c);
    fork_join(c);
    ping_pong(c);
}

criterion_group!(actors, benches);
criterion_main!(actors);
