//! A worker pool under a supervisor: workers crash at random, and are restarted while clients keep
//! sending; no accepted message is lost but the ones that crashed.
//!
//! `cargo run --release --example supervision`
//!
//! Four workers run under a one-for-one supervisor. Two clients send 200,000 jobs round-robin; one
//! job in 2,000 makes its worker panic. Each crash loses that one job (the worker's state goes with
//! it, and a fresh one is built); the jobs queued behind it wait in the mailbox, which survives the
//! restart, and the clients' references stay valid throughout. At the end every other job has been
//! handled exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use airssys_rt::prelude::*;
use airssys_rt::supervisor::{ChildSpec, Strategy, SupervisionEventKind, SupervisorSpec};

const WORKERS: usize = 4;
const CLIENTS: u64 = 2;
const JOBS_PER_CLIENT: u64 = 100_000;
const CRASH_ONE_IN: u64 = 2_000;

/// A job; `crash` makes the worker that handles it panic.
#[derive(Message, Debug)]
struct Job {
    id: u64,
    crash: bool,
}

/// Answers once every message queued before it has been handled.
#[derive(Message, Debug)]
#[message(result = u64)]
struct Flush;

/// How many times each job was handled, by job id.
struct Ledger(Vec<AtomicU8>);

struct Worker {
    ledger: Arc<Ledger>,
    /// Handled by this incarnation: a restart starts again from zero.
    handled: u64,
}

#[actor]
impl Worker {
    fn job(&mut self, job: Job) {
        if job.crash {
            panic!("job {} is poison", job.id);
        }
        self.ledger.0[job.id as usize].fetch_add(1, Ordering::Relaxed);
        self.handled += 1;
    }

    fn flush(&mut self, _: Flush) -> u64 {
        self.handled
    }
}

/// A reproducible pseudo-random stream (SplitMix64), so that runs crash the same jobs.
fn crashes(id: u64) -> bool {
    let mut z = id.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)).is_multiple_of(CRASH_ONE_IN)
}

#[tokio::main]
async fn main() {
    // The poison jobs panic on purpose: keep their messages out of the output.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let poison = info
            .payload()
            .downcast_ref::<String>()
            .is_some_and(|message| message.ends_with("is poison"));
        if !poison {
            default_hook(info);
        }
    }));

    // The supervision events below report each crash; the one-line panic reports would repeat them.
    let system = ActorSystem::builder().panic_reports(false).build();
    let mut events = system.supervision_events();
    let total_jobs = CLIENTS * JOBS_PER_CLIENT;
    let ledger = Arc::new(Ledger((0..total_jobs).map(|_| AtomicU8::new(0)).collect()));

    let mut spec = SupervisorSpec::new(Strategy::OneForOne)
        // Generous: poison is expected here, and the pool should ride it out.
        .intensity(1_000, Duration::from_secs(1));
    for n in 0..WORKERS {
        let ledger = ledger.clone();
        spec = spec.child(ChildSpec::new(format!("worker-{n}"), move || Worker {
            ledger: ledger.clone(),
            handled: 0,
        }));
    }
    let pool = spec.spawn(&system);
    let mut workers = Vec::new();
    for n in 0..WORKERS {
        workers.push(pool.child::<Worker>(&format!("worker-{n}")).await.unwrap());
    }

    // Print the first few restarts as they happen.
    let printer = tokio::spawn(async move {
        let mut shown = 0;
        while let Some(event) = events.recv().await {
            if let SupervisionEventKind::Exited(_) | SupervisionEventKind::Restarted(_) = event.kind
                && shown < 6
            {
                println!("  {event}");
                shown += 1;
            }
        }
    });

    let started = Instant::now();
    let accepted_poison = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let workers = workers.clone();
            let accepted_poison = accepted_poison.clone();
            tokio::spawn(async move {
                for n in 0..JOBS_PER_CLIENT {
                    let id = client * JOBS_PER_CLIENT + n;
                    let crash = crashes(id);
                    let worker = &workers[id as usize % WORKERS];
                    // A restart does not refuse messages: the mailbox stays open throughout.
                    worker.send(Job { id, crash }).await.expect("accepted");
                    if crash {
                        accepted_poison.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    // Every job is queued; a flush per worker waits until each has been handled.
    for worker in &workers {
        worker.ask(Flush).await.unwrap();
    }
    let elapsed = started.elapsed();

    let poison = accepted_poison.load(Ordering::Relaxed);
    let mut handled = 0;
    let mut lost = 0;
    let mut twice = 0;
    for (id, count) in ledger.0.iter().enumerate() {
        match (count.load(Ordering::Relaxed), crashes(id as u64)) {
            (1, false) => handled += 1,
            (0, false) => lost += 1,
            (0, true) => {}
            _ => twice += 1,
        }
    }
    let stats = pool.stats().await.unwrap();
    println!();
    println!(
        "{total_jobs} jobs sent by {CLIENTS} clients to {WORKERS} workers in {elapsed:.2?}; {poison} were poison"
    );
    println!(
        "restarts: {} (system totals: {:?})",
        stats.restarts,
        system.supervision_stats()
    );
    for child in pool.children().await.unwrap() {
        println!(
            "  {} {}: restarted {} times",
            child.id, child.address, child.restarts
        );
    }
    println!("handled exactly once: {handled}; lost: {lost}; handled twice: {twice}");
    assert_eq!(stats.restarts, poison, "every poison job cost one restart");
    assert_eq!(lost, 0, "no accepted job but the poison ones was lost");
    assert_eq!(twice, 0);
    assert_eq!(handled + poison, total_jobs);
    println!("no accepted message was lost but the {poison} that crashed their worker");

    system.shutdown(Duration::from_secs(5)).await;
    printer.abort();
}
