//! The service's messages and actors, and a run of it: what `main.rs` runs, and what
//! `tests/service.rs` tests, actor by actor with the test kit and whole on virtual time.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use airssys_rt::prelude::*;
use airssys_rt::supervisor::{ChildSpec, Strategy, SupervisorSpec};
use airssys_rt::{ReplySender, StreamMessage};
use tokio::sync::Semaphore;

pub(crate) const WORKERS: usize = 4;
pub(crate) const WINDOW: usize = 64;
pub(crate) const CRASH_ONE_IN: u64 = 5_000;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Job {
    pub(crate) id: u64,
    /// Makes the worker that handles it panic (on the first try only).
    pub(crate) crash: bool,
}

/// What a worker made of a job.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) job: u64,
    pub(crate) digest: u64,
}

/// Asks the dispatcher to have a job done; answered by the worker that does it.
#[derive(Message, Debug)]
#[message(result = Outcome)]
pub(crate) struct Submit(pub(crate) Job);

/// A job, with the reply its submitter waits for.
#[derive(Message, Debug)]
pub(crate) struct Process(pub(crate) Job, pub(crate) ReplySender<Outcome>);

#[derive(Message, Debug)]
pub(crate) struct Record(pub(crate) Outcome);

#[derive(Message, Clone, Debug)]
pub(crate) struct Tick;

/// Answers once `n` jobs are recorded: a reply deferred until then.
#[derive(Message, Debug)]
#[message(result = ())]
pub(crate) struct WhenRecorded(pub(crate) u64);

pub(crate) struct Worker {
    pub(crate) name: Arc<str>,
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

pub(crate) struct Dispatcher {
    pub(crate) next: usize,
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

pub(crate) struct Ingest {
    pub(crate) dispatcher: ActorRef<Dispatcher>,
    pub(crate) aggregator: ActorRef<Aggregator>,
    pub(crate) window: Arc<Semaphore>,
    pub(crate) source: Option<JobStream>,
    pub(crate) retries: Arc<AtomicU64>,
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
pub(crate) struct Books {
    pub(crate) recorded: BTreeSet<u64>,
    pub(crate) duplicates: u64,
    pub(crate) digest: u64,
}

pub(crate) struct Aggregator {
    pub(crate) books: Arc<Mutex<Books>>,
    pub(crate) waiting: Vec<(u64, ReplySender<()>)>,
    pub(crate) started: Instant,
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
pub(crate) struct JobStream {
    pub(crate) next: u64,
    pub(crate) total: u64,
    pub(crate) taken: Arc<AtomicU64>,
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

/// What a run of the service did: its books, its shutdown, its supervision.
#[derive(Debug)]
pub(crate) struct Summary {
    pub(crate) jobs: u64,
    pub(crate) shutdown: Duration,
    pub(crate) stopped: usize,
    pub(crate) killed: usize,
    pub(crate) taken: u64,
    pub(crate) recorded: u64,
    pub(crate) dead_letters: u64,
    pub(crate) duplicates: u64,
    pub(crate) retries: u64,
    pub(crate) crashes: u64,
    pub(crate) restarts: u64,
    pub(crate) digest: u64,
}

/// Runs the service in `system` on `jobs` jobs, and shuts it down once half are recorded.
pub(crate) async fn run(system: &ActorSystem, jobs: u64) -> Summary {
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
    let _pool = worker_pool().spawn(system);
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
    let started = tokio::time::Instant::now();
    let report = system.shutdown(Duration::from_secs(20)).await;
    let shutdown = started.elapsed();

    let mut dead = 0;
    while let Some(letter) = dead_letters.try_recv() {
        assert!(
            letter.is::<StreamMessage<Job>>(),
            "only stream items that found the ingest closed: {letter}"
        );
        dead += 1;
    }
    let books = books.lock().unwrap();
    let stats = system.supervision_stats();
    Summary {
        jobs,
        shutdown,
        stopped: report.stopped,
        killed: report.killed,
        taken: taken.load(Ordering::Relaxed),
        recorded: books.recorded.len() as u64,
        dead_letters: dead,
        duplicates: books.duplicates,
        retries: retries.load(Ordering::Relaxed),
        crashes: stats.exits,
        restarts: stats.restarts,
        digest: books.digest,
    }
}

/// The supervised pool of `WORKERS` workers, each named `worker-N`.
pub(crate) fn worker_pool() -> SupervisorSpec {
    let mut pool =
        SupervisorSpec::new(Strategy::OneForOne).intensity(1_000, Duration::from_secs(1));
    for n in 0..WORKERS {
        let name: Arc<str> = format!("worker-{n}").into();
        pool = pool.child(ChildSpec::new(name.clone(), move || Worker {
            name: name.clone(),
        }));
    }
    pool
}

impl Summary {
    pub(crate) fn print(&self) {
        println!(
            "shutdown in {:.1} ms: {} actors stopped, {} killed",
            self.shutdown.as_secs_f64() * 1e3,
            self.stopped,
            self.killed
        );
        println!(
            "{} jobs taken from the stream: {} recorded, {} dead letters, {} duplicates",
            self.taken, self.recorded, self.dead_letters, self.duplicates
        );
        println!(
            "{} retries after {} worker crashes, {} restarts (digest {:016x})",
            self.retries, self.crashes, self.restarts, self.digest
        );
    }

    /// The books balance: nothing lost, nothing twice.
    pub(crate) fn check(&self) {
        assert_eq!(self.killed, 0, "everything drained within the timeout");
        assert_eq!(self.duplicates, 0, "no job recorded twice");
        assert_eq!(
            self.taken,
            self.recorded + self.dead_letters,
            "every job taken is recorded or a dead letter"
        );
        assert!(self.recorded >= self.jobs / 2);
        assert_eq!(self.retries, self.crashes, "one retry per crash");
    }
}
