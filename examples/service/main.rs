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

mod pipeline;

use airssys_rt::ActorSystem;

#[tokio::main]
async fn main() {
    let jobs: u64 = std::env::args()
        .skip_while(|arg| arg != "--jobs")
        .nth(1)
        .map_or(200_000, |n| n.parse().expect("--jobs takes a whole number"));
    // The crashes are planned: silence the panic hook's backtraces and keep airssys-rt's one-line
    // reports, which name the worker.
    std::panic::set_hook(Box::new(|_| {}));
    let summary = pipeline::run(&ActorSystem::new(), jobs).await;
    summary.print();
    summary.check();
    println!("nothing lost");
}
