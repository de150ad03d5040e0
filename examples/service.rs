//! A job-processing service, as a team would build one, shut down in the middle of its work with
//! nothing lost.
//!
//! `cargo run --release --example service` (`-- --jobs N` for another load)
//!
//! ```text
//! job stream ──> Ingest ──ask──> Dispatcher ──(job + its ReplySender)──> worker-0..3 (supervised)
//!                  │                 finds workers by name                   │ answer the ingest's
//!                  │                                                         │ ask directly
//!                  └──────────── Record ──────────> Aggregator (interval progress timer)
//! ```
//!
//! - **A stream source**: the jobs are a `Stream` attached to `Ingest`, whose bounded mailbox is the
//!   stream's backpressure; each job is submitted from a task tied to `Ingest`, at most `WINDOW` at once.
//! - **Deferred replies**: the dispatcher does not answer `Submit` itself. It takes the reply obligation and
//!   sends it, with the job, to a worker, which answers the ingest's ask directly.
//! - **Name lookups**: workers register themselves as `worker-N`; the dispatcher finds them with a typed
//!   `lookup::<Worker>`.
//! - **Supervision**: one job in 5,000 crashes its worker. The crash fails that ask with the worker's panic
//!   (the reply was dropped by it); the ingest retries the job, and the supervisor restarts the worker.
//! - **An interval timer**: the aggregator prints its progress every 100 ms.
//! - **Ordered shutdown**: once half the jobs are recorded, `shutdown` stops the actors newest first, each
//!   drained: the ingest lets its jobs in flight finish (`join_tasks` in `on_stop`) before the dispatcher,
//!   the workers and the aggregator stop. The books must balance exactly: every job taken from the stream
//!   is recorded once, or came back as a dead letter (the one the stream held when the ingest closed).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use airssys_rt::prelude::*;
use airssys_rt::supervisor::{ChildSpec, Strategy, SupervisorSpec};
use airssys_rt::{ReplySender, StreamMessage};
use tokio::sync::Semaphore;

const WORKERS: usize = 4;
const WINDOW: usize = 64;
const CRASH_ONE_IN: u64 = 5_000;

#[derive(Debug, Clone, Copy)]
struct Job {
    id: u64,
    /// Makes the worker that handles it panic (on the first try only).
    crash: bool,
}

/// What a worker made of a job.
#[derive(Debug)]
struct Outcome {
    job: u64,
    digest: u64,
}

/// Asks the dispatcher to have a job done; answered by the worker that does it.
#[derive(Message)]
#[message(result = Outcome)]
struct Submit(Job);

/// A job, with the reply its submitter waits for.
#[derive(Message)]
struct Process(Job, ReplySender<Outcome>);

#[derive(Message)]
struct Record(Outcome);

#[derive(Message, Clone)]
struct Tick;

/// Answers once `n` jobs are recorded: a reply deferred until then.
#[derive(Message)]
#[message(result = ())]
struct WhenRecorded(u64);

struct Worker {
    name: Arc<str>,
}

#[actor]
impl Worker {
    fn on_start(&mut self, ctx: &mut Context<Self>) {
        // A restart keeps the actor's address and its name: only the first start registers.
        let resolver = ctx.system().resolver();
        if resolver.resolve(&self.name) != Some(ctx.address()) {
            resolver
                .register(self.name.clone(), ctx.address())
                .expect("worker names are unique");
        }
    }

    fn process(&mut self, Process(job, reply): Process) {
        assert!(!job.crash, "job {} crashes its worker", job.id);
        let digest = (0..200).fold(job.id, |h, i: u64| {
            (h ^ i).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29)
        });
        reply.send(Outcome {
            job: job.id,
            digest,
        });
    }
}

struct Dispatcher {
    next: usize,
}

#[actor]
impl Dispatcher {
    fn submit(
        &mut self,
        Submit(job): Submit,
        reply: ReplySender<Outcome>,
        ctx: &mut Context<Self>,
    ) {
        let mut work = Process(job, reply);
        // Round robin over the pool by name. A worker between incarnations still takes messages (its
        // mailbox survives restarts), so a lookup fails only while the pool starts.
        loop {
            let name = format!("worker-{}", self.next % WORKERS);
            self.next += 1;
            match ctx.system().resolver().lookup::<Worker>(&name) {
                Ok(worker) => match worker.tell(work) {
                    Ok(()) => return,
                    Err(error) => work = error.into_message(),
                },
                Err(_) => continue,
            }
        }
    }
}

struct Ingest {
    dispatcher: ActorRef<Dispatcher>,
    aggregator: ActorRef<Aggregator>,
    window: Arc<Semaphore>,
    source: Option<JobStream>,
    retries: Arc<AtomicU64>,
}

#[actor]
impl Ingest {
    fn on_start(&mut self, ctx: &mut Context<Self>) {
        let source = self.source.take().expect("one incarnation");
        ctx.attach_stream(source, (), ());
    }

    async fn job(&mut self, event: StreamMessage<Job>, ctx: &mut Context<Self>) {
        let StreamMessage::Next(mut job) = event else {
            return;
        };
        // At most WINDOW jobs in flight: waiting here holds the mailbox, which holds the stream.
        let permit = self
            .window
            .clone()
            .acquire_owned()
            .await
            .expect("never closed");
        let (dispatcher, aggregator) = (self.dispatcher.clone(), self.aggregator.clone());
        let retries = self.retries.clone();
        ctx.spawn(async move {
            let outcome = loop {
                match dispatcher.ask(Submit(job)).await {
                    Ok(outcome) => break outcome,
                    // The worker crashed with our job: its panic came back instead of a reply.
                    Err(AskError::Panicked(_)) => {
                        retries.fetch_add(1, Ordering::Relaxed);
                        job.crash = false;
                    }
                    Err(error) => panic!("job {} failed: {error}", job.id),
                }
            };
            drop(permit);
            aggregator
                .tell(Record(outcome))
                .expect("the aggregator stops last");
        });
    }

    async fn on_stop(&mut self, ctx: &mut Context<Self>) {
        // Jobs in flight finish before the ingest stops (and before the stages it feeds).
        ctx.join_tasks().await;
    }
}

#[derive(Default)]
struct Books {
    recorded: BTreeSet<u64>,
    duplicates: u64,
    digest: u64,
}

struct Aggregator {
    books: Arc<Mutex<Books>>,
    waiting: Vec<(u64, ReplySender<()>)>,
    started: Instant,
}

#[actor]
impl Aggregator {
    fn on_start(&mut self, ctx: &mut Context<Self>) {
        ctx.start_interval("progress", Tick, Duration::from_millis(100));
    }

    fn record(&mut self, Record(outcome): Record) {
        let mut books = self.books.lock().unwrap();
        if !books.recorded.insert(outcome.job) {
            books.duplicates += 1;
        }
        books.digest = books.digest.wrapping_add(outcome.digest);
        let recorded = books.recorded.len() as u64;
        drop(books);
        let (due, waiting) = core::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|(n, _)| *n <= recorded);
        self.waiting = waiting;
        for (_, reply) in due {
            reply.send(());
        }
    }

    fn tick(&mut self, _: Tick) {
        let recorded = self.books.lock().unwrap().recorded.len();
        println!(
            "  {:>6.0} ms  {recorded:>7} jobs recorded",
            self.started.elapsed().as_secs_f64() * 1e3
        );
    }

    fn when_recorded(&mut self, WhenRecorded(n): WhenRecorded, reply: ReplySender<()>) {
        if self.books.lock().unwrap().recorded.len() as u64 >= n {
            reply.send(());
        } else {
            self.waiting.push((n, reply));
        }
    }
}

/// The jobs, as a stream: counts what it hands out.
struct JobStream {
    next: u64,
    total: u64,
    taken: Arc<AtomicU64>,
}

impl futures_core::Stream for JobStream {
    type Item = Job;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Job>> {
        if self.next == self.total {
            return std::task::Poll::Ready(None);
        }
        let id = self.next;
        self.next += 1;
        self.taken.fetch_add(1, Ordering::Relaxed);
        std::task::Poll::Ready(Some(Job {
            id,
            crash: id % CRASH_ONE_IN == CRASH_ONE_IN - 1,
        }))
    }
}

#[tokio::main]
async fn main() {
    let jobs: u64 = std::env::args()
        .skip_while(|arg| arg != "--jobs")
        .nth(1)
        .map_or(200_000, |n| n.parse().expect("--jobs takes a whole number"));
    // The crashes are planned: silence the panic hook's backtraces and keep airssys-rt's one-line
    // reports, which name the worker.
    std::panic::set_hook(Box::new(|_| {}));
    let system = ActorSystem::new();
    let mut dead_letters = system.broker().dead_letters();
    let books = Arc::new(Mutex::new(Books::default()));
    let (taken, retries) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));

    // Spawned in dependency order: shutdown stops them in reverse, each drained before the next.
    let aggregator = system.spawn_with(
        Aggregator {
            books: books.clone(),
            waiting: Vec::new(),
            started: Instant::now(),
        },
        SpawnOptions::default().name("aggregator"),
    );
    let mut pool =
        SupervisorSpec::new(Strategy::OneForOne).intensity(1_000, Duration::from_secs(1));
    for n in 0..WORKERS {
        let name: Arc<str> = format!("worker-{n}").into();
        pool = pool.child(ChildSpec::new(name.clone(), move || Worker {
            name: name.clone(),
        }));
    }
    let _pool = pool.spawn(&system);
    let dispatcher = system.spawn_with(
        Dispatcher { next: 0 },
        SpawnOptions::default().name("dispatcher"),
    );
    let ingest = system.spawn_with(
        Ingest {
            dispatcher: dispatcher.clone(),
            aggregator: aggregator.clone(),
            window: Arc::new(Semaphore::new(WINDOW)),
            source: Some(JobStream {
                next: 0,
                total: jobs,
                taken: taken.clone(),
            }),
            retries: retries.clone(),
        },
        SpawnOptions::default()
            .name("ingest")
            .mailbox(MailboxKind::Bounded(16)),
    );
    println!("{ingest} streams {jobs} jobs to {WORKERS} supervised workers through {dispatcher}");

    // Half way through, shut down in the middle of the work.
    aggregator
        .ask(WhenRecorded(jobs / 2))
        .await
        .expect("half the jobs get recorded");
    drop((ingest, dispatcher, aggregator));
    let started = Instant::now();
    let report = system.shutdown(Duration::from_secs(20)).await;
    let shutdown_ms = started.elapsed().as_secs_f64() * 1e3;

    let mut dead = 0;
    while let Some(letter) = dead_letters.try_recv() {
        assert!(
            letter.is::<StreamMessage<Job>>(),
            "only stream items that found the ingest closed: {letter}"
        );
        dead += 1;
    }
    let books = books.lock().unwrap();
    let (taken, recorded) = (taken.load(Ordering::Relaxed), books.recorded.len() as u64);
    let stats = system.supervision_stats();
    println!(
        "shutdown in {shutdown_ms:.1} ms: {} actors stopped, {} killed",
        report.stopped, report.killed
    );
    println!(
        "{taken} jobs taken from the stream: {recorded} recorded, {dead} dead letters, {} duplicates",
        books.duplicates
    );
    println!(
        "{} retries after {} worker crashes, {} restarts (digest {:016x})",
        retries.load(Ordering::Relaxed),
        stats.exits,
        stats.restarts,
        books.digest
    );
    assert_eq!(report.killed, 0, "everything drained within the timeout");
    assert_eq!(books.duplicates, 0, "no job recorded twice");
    assert_eq!(
        taken,
        recorded + dead,
        "every job taken is recorded or a dead letter"
    );
    assert!(recorded >= jobs / 2);
    assert_eq!(
        retries.load(Ordering::Relaxed),
        stats.exits,
        "one retry per crash"
    );
    println!("nothing lost");
}
