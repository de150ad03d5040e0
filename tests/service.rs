//! The job service of `examples/service/`, tested with the test kit: each actor alone, against probes
//! and mocks of its neighbours, and the whole service on virtual time.
#![cfg(feature = "testkit")]

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/service/pipeline.rs"]
mod pipeline;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use airssys_rt::prelude::*;
use airssys_rt::testkit::{ActorProbe, BehaviorTestKit, TestSystem};
use pipeline::{
    Aggregator, Books, Dispatcher, Ingest, Job, JobStream, Outcome, Process, Record, Submit, Tick,
    WORKERS, WhenRecorded, Worker,
};
use tokio::sync::Semaphore;

fn job(id: u64) -> Job {
    Job { id, crash: false }
}

fn aggregator() -> Aggregator {
    Aggregator {
        books: Arc::new(Mutex::new(Books::default())),
        waiting: Vec::new(),
        started: Instant::now(),
    }
}

#[tokio::test(start_paused = true)]
async fn the_aggregator_ticks_and_answers_when_enough_is_recorded() {
    let system = TestSystem::new();
    let mut kit = system.behavior(aggregator());
    kit.start().await;
    let (delay, period) = kit.take_effects().expect_timer::<Tick>();
    assert_eq!(
        (delay, period),
        (Duration::from_millis(100), Some(Duration::from_millis(100)))
    );

    // A deferred reply: not yet...
    let mut recorded = kit.ask(WhenRecorded(2)).await;
    kit.tell(Record(Outcome { job: 1, digest: 7 })).await;
    assert!(recorded.try_reply().is_none());
    // ... then once the second job is in.
    kit.tell(Record(Outcome { job: 2, digest: 8 })).await;
    kit.take_effects().expect_replied::<WhenRecorded>();
    recorded.await.unwrap();
    {
        let books = kit.state().books.lock().unwrap();
        assert_eq!((books.recorded.len(), books.digest), (2, 15));
    }

    // A second of virtual time: ten progress ticks, in no real time.
    system.advance(Duration::from_secs(1)).await;
    assert_eq!(kit.run_queued().await, 10);
}

#[tokio::test(start_paused = true)]
async fn a_worker_registers_its_name_and_answers_the_submitter_directly() {
    let system = TestSystem::new();
    let mut kit = BehaviorTestKit::new(
        &system,
        Worker {
            name: "worker-0".into(),
        },
    );
    kit.start().await;
    assert_eq!(
        system.resolver().resolve("worker-0"),
        Some(kit.id().address())
    );

    // The reply sender travels in the message; the worker answers through it.
    let mut submitter = system.probe::<Submit>();
    let submitted = submitter.recipient();
    let asked = tokio::spawn(async move { submitted.ask(Submit(job(7))).await });
    let (Submit(job), reply) = submitter.expect_ask().await;
    kit.tell(Process(job, reply)).await;
    kit.take_effects().expect_replied::<Submit>();
    assert_eq!(asked.await.unwrap().unwrap().job, 7);
}

#[tokio::test(start_paused = true)]
async fn the_dispatcher_deals_jobs_round_robin_to_the_workers_by_name() {
    let system = TestSystem::new();
    // Probes in place of the workers, registered under their names: the dispatcher's typed lookup
    // finds them, as it would the real ones.
    let mut workers: Vec<ActorProbe<Worker>> = (0..WORKERS)
        .map(|n| {
            let name = format!("worker-{n}");
            let probe = ActorProbe::named(&system, &name);
            system
                .resolver()
                .register(name, probe.id().address())
                .unwrap();
            probe
        })
        .collect();
    let dispatcher = system.spawn(Dispatcher { next: 0 });
    let submits: Vec<_> = (0..2 * WORKERS as u64)
        .map(|id| {
            let dispatcher = dispatcher.clone();
            tokio::spawn(async move { dispatcher.ask(Submit(job(id))).await })
        })
        .collect();
    for round in 0..2 {
        for (n, worker) in workers.iter_mut().enumerate() {
            let Process(job, reply) = worker.expect_message::<Process>().await;
            assert_eq!(job.id, (round * WORKERS + n) as u64);
            reply.send(Outcome {
                job: job.id,
                digest: job.id * 10,
            });
        }
    }
    for (id, submit) in submits.into_iter().enumerate() {
        assert_eq!(submit.await.unwrap().unwrap().digest, id as u64 * 10);
    }
    for worker in &mut workers {
        worker.expect_no_message(Duration::from_secs(1)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn the_ingest_submits_every_streamed_job_and_records_each_outcome() {
    let system = TestSystem::new();
    // A mock dispatcher that does every job at once, and a probe for the aggregator.
    let dispatcher = system.actor_probe::<Dispatcher>();
    dispatcher.answer(|Submit(job): &Submit| Outcome {
        job: job.id,
        digest: job.id + 1,
    });
    let mut aggregator = system.actor_probe::<Aggregator>();
    let taken = Arc::new(AtomicU64::new(0));
    let _ingest = system.spawn_with(
        Ingest {
            dispatcher: dispatcher.actor_ref(),
            aggregator: aggregator.actor_ref(),
            window: Arc::new(Semaphore::new(4)),
            source: Some(JobStream {
                next: 0,
                total: 100,
                taken: taken.clone(),
            }),
            retries: Arc::new(AtomicU64::new(0)),
        },
        SpawnOptions::default().mailbox(MailboxKind::Bounded(2)),
    );
    let mut recorded: Vec<u64> = aggregator
        .receive_n::<Record>(100)
        .await
        .into_iter()
        .map(|Record(outcome)| outcome.job)
        .collect();
    recorded.sort_unstable();
    assert_eq!(recorded, (0..100).collect::<Vec<_>>());
    aggregator.expect_no_message(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn the_whole_service_loses_nothing_when_shut_down_half_way() {
    let system = TestSystem::with_system(ActorSystem::builder().panic_reports(false).build());
    // Two crashes planned in 10,000 jobs: both retried, both workers restarted.
    let summary = pipeline::run(&system, 10_000).await;
    summary.check();
    assert_eq!(
        (summary.crashes, summary.restarts),
        (summary.retries, summary.retries)
    );
    assert!(summary.retries >= 1, "{summary:?}");
}
