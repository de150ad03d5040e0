//! The fault-injection soak: the runtime under load and faults, with exact per-message accounting.
//!
//! `cargo run --release --example soak` runs every scenario at a size CI affords (about a minute on
//! two cores); `-- --scale 20` runs each twenty times longer. It exits non-zero if any message is lost.
//!
//! Every message carries a [`Token`] and ends in exactly one *fate*, recorded once in a [`Ledger`]:
//! handled, panicked (its handler failed on it), dead letter (accepted, then not handled: its payload
//! comes back through `broker.dead_letters()`), or returned (refused, in the error of the send). A
//! token dropped without a fate is a message the runtime dropped silently; a fate recorded twice is a
//! duplicate; an issued token with no fate at the end is missing. Per-sender FIFO is checked outside
//! the actors, so that it holds across restarts: a handled message never follows a later one from the
//! same sender. Two rules of the lifecycle are checked too: `on_stop` never runs after a kill, and a
//! supervised child that was stopped or drained is never started again.
//!
//! Scenarios, each on a two-worker runtime:
//! 1. random panics (1 in 100 messages) under each supervision strategy;
//! 2. asks while the target crashes and is killed;
//! 3. stop, drain, kill and dropping the last reference, each racing three sender threads;
//! 4. bounded mailboxes (backpressure, `Full` returns) while a killer kills the workers;
//! 5. spawn/supervise churn with names: add a named child, route to it by name, remove it;
//! 6. shutdown under load.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use airssys_rt::envelope::MessageEnvelope;
use airssys_rt::prelude::*;
use airssys_rt::supervisor::{Backoff, ChildSpec, Restart, Strategy, SupervisorSpec};
use airssys_rt::{MailboxKind, SpawnOptions};

// ---------------------------------------------------------------------------------------------
// The ledger: one fate per message.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Fate {
    Handled = 1,
    Panicked = 2,
    DeadLetter = 3,
    Returned = 4,
}

#[derive(Default)]
struct Ledger {
    fates: Mutex<Vec<u8>>,
    issued: AtomicU64,
    vanished: AtomicU64,
    duplicated: AtomicU64,
    out_of_order: AtomicU64,
    /// The last sequence number handled, per (target, sender): survives the target's restarts.
    last_seen: Mutex<HashMap<(u64, u64), u64>>,
    on_stop_after_kill: AtomicU64,
    restarted_after_farewell: AtomicU64,
}

impl Ledger {
    fn token(self: &Arc<Self>, sender: u64, seq: u64) -> Token {
        let id = self.issued.fetch_add(1, Ordering::Relaxed);
        let mut fates = self.fates.lock().unwrap();
        if fates.len() <= id as usize {
            fates.resize(id as usize + 1, 0);
        }
        Token {
            id,
            sender,
            seq,
            settled: false,
            ledger: self.clone(),
        }
    }

    fn record(&self, id: u64, fate: Fate) {
        let mut fates = self.fates.lock().unwrap();
        let slot = &mut fates[id as usize];
        if *slot != 0 {
            self.duplicated.fetch_add(1, Ordering::Relaxed);
        }
        *slot = fate as u8;
    }

    fn count(&self, fate: Fate) -> usize {
        let fates = self.fates.lock().unwrap();
        fates.iter().filter(|&&f| f == fate as u8).count()
    }

    fn missing(&self) -> usize {
        self.fates
            .lock()
            .unwrap()
            .iter()
            .filter(|&&f| f == 0)
            .count()
    }

    fn check_order(&self, target: u64, sender: u64, seq: u64) {
        let mut last = self.last_seen.lock().unwrap();
        let previous = last.insert((target, sender), seq);
        if previous.is_some_and(|previous| previous >= seq) {
            self.out_of_order.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Travels in every message; must be settled with its fate before it is dropped.
struct Token {
    id: u64,
    sender: u64,
    seq: u64,
    settled: bool,
    ledger: Arc<Ledger>,
}

impl Token {
    fn settle(mut self, fate: Fate) {
        self.ledger.record(self.id, fate);
        self.settled = true;
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        if !self.settled {
            self.ledger.vanished.fetch_add(1, Ordering::Relaxed);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The workers.

#[derive(Message)]
#[message(result = u64)]
struct Job {
    token: Token,
    poison: bool,
}

#[derive(Message)]
#[message(result = u64)]
struct Flush;

struct Worker {
    ledger: Arc<Ledger>,
    handled: u64,
    starts: Arc<AtomicUsize>,
}

#[actor]
impl Worker {
    fn job(&mut self, Job { token, poison }: Job, ctx: &mut Context<Self>) -> u64 {
        let target = ctx.address().routing_key();
        self.ledger.check_order(target, token.sender, token.seq);
        if poison {
            token.settle(Fate::Panicked);
            panic!("poison");
        }
        token.settle(Fate::Handled);
        self.handled += 1;
        self.handled
    }

    fn flush(&mut self, _: Flush) -> u64 {
        self.handled
    }

    fn on_start(&mut self) {
        self.starts.fetch_add(1, Ordering::SeqCst);
    }

    fn on_stop(&mut self, reason: &StopReason) {
        if *reason == StopReason::Killed {
            self.ledger
                .on_stop_after_kill
                .fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn worker(ledger: &Arc<Ledger>) -> Worker {
    Worker {
        ledger: ledger.clone(),
        handled: 0,
        starts: Arc::default(),
    }
}

fn worker_spec(id: String, ledger: &Arc<Ledger>, starts: &Arc<AtomicUsize>) -> ChildSpec<Worker> {
    let (ledger, starts) = (ledger.clone(), starts.clone());
    ChildSpec::new(id, move || Worker {
        ledger: ledger.clone(),
        handled: 0,
        starts: starts.clone(),
    })
}

/// Settles what a refused send gave back.
fn returned(error: SendError<Job>) {
    error.into_message().token.settle(Fate::Returned);
}

/// Settles the outcome of an ask of a `Job`.
fn asked(outcome: Result<u64, AskError<Job>>) {
    match outcome {
        // Handled or panicked: the handler settled it. Stopped: it is among the dead letters.
        Ok(_) | Err(AskError::Panicked(_) | AskError::Stopped | AskError::Timeout) => {}
        Err(error) => match error.into_message() {
            Some(job) => job.token.settle(Fate::Returned),
            None => unreachable!("every other ask error gives the message back"),
        },
    }
}

/// Settles every dead letter's payload, until the system is gone.
fn collect_dead_letters(system: &ActorSystem) -> tokio::task::JoinHandle<()> {
    let mut letters = system.broker().dead_letters();
    tokio::spawn(async move {
        while let Some(letter) = letters.recv().await {
            if let Some(job) = letter.take::<Job>() {
                job.token.settle(Fate::DeadLetter);
            }
        }
    })
}

/// Shuts the system down, drops it, and waits until its last dead letter is settled.
async fn wind_down(system: ActorSystem, collector: tokio::task::JoinHandle<()>) {
    system.shutdown(Duration::from_secs(10)).await;
    drop(system);
    dead_letters_settled(collector).await;
}

/// Once the system has been dropped: waits until its last dead letter is settled. The collector ends
/// when the system is freed, which must happen once every actor has stopped.
async fn dead_letters_settled(collector: tokio::task::JoinHandle<()>) {
    tokio::time::timeout(Duration::from_secs(10), collector)
        .await
        .expect("the system was not freed after its shutdown: something keeps it alive")
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

#[derive(Clone, Copy)]
struct Scale(u64);

async fn random_panics(ledger: &Arc<Ledger>, scale: &Scale) {
    for (run, strategy) in [
        Strategy::OneForOne,
        Strategy::OneForAll,
        Strategy::RestForOne,
    ]
    .into_iter()
    .enumerate()
    {
        let system = ActorSystem::builder().panic_reports(false).build();
        let dead = collect_dead_letters(&system);
        let starts = Arc::new(AtomicUsize::new(0));
        let mut spec = SupervisorSpec::new(strategy).intensity(u32::MAX, Duration::from_secs(1));
        for w in 0..4 {
            spec = spec.child(worker_spec(format!("w{w}"), ledger, &starts));
        }
        let root = spec.spawn(&system);
        let mut workers = Vec::new();
        for w in 0..4 {
            workers.push(root.child::<Worker>(&format!("w{w}")).await.unwrap());
        }
        // Each system numbers its actors from 1: sender ids unique to the run keep the FIFO check's
        // (target, sender) keys apart.
        let senders: Vec<_> = (run as u64 * 2..run as u64 * 2 + 2)
            .map(|sender| {
                let (workers, ledger) = (workers.clone(), ledger.clone());
                let per_sender = 50_000 * scale.0;
                tokio::spawn(async move {
                    for seq in 0..per_sender {
                        let token = ledger.token(sender, seq);
                        let poison = (seq * 7 + sender) % 100 == 0;
                        let target = &workers[(seq % 4) as usize];
                        if let Err(error) = target.send(Job { token, poison }).await {
                            returned(error);
                        }
                        if seq % 256 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.await.unwrap();
        }
        for worker in &workers {
            let _ = worker.ask(Flush).await;
        }
        wind_down(system, dead).await;
        println!(
            "  random panics, {strategy:?}: {} starts",
            starts.load(Ordering::SeqCst)
        );
    }
}

async fn asks_under_restart_and_kill(ledger: &Arc<Ledger>, scale: &Scale) {
    let system = ActorSystem::builder().panic_reports(false).build();
    let dead = collect_dead_letters(&system);
    let starts = Arc::new(AtomicUsize::new(0));
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(u32::MAX, Duration::from_secs(1))
        .child(worker_spec("target".into(), ledger, &starts))
        .spawn(&system);
    let target = root.child::<Worker>("target").await.unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let killer = tokio::spawn({
        let (target, done) = (target.clone(), done.clone());
        async move {
            while !done.load(Ordering::Relaxed) {
                for _ in 0..200 {
                    tokio::task::yield_now().await;
                }
                target.kill();
            }
        }
    });
    let askers: Vec<_> = (0..4_u64)
        .map(|sender| {
            let (target, ledger, scale) = (target.clone(), ledger.clone(), *scale);
            tokio::spawn(async move {
                for seq in 0..5_000 * scale.0 {
                    let token = ledger.token(100 + sender, seq);
                    let poison = seq % 97 == 0;
                    let ask = target.ask(Job { token, poison });
                    asked(ask.timeout(Duration::from_secs(30)).await);
                }
            })
        })
        .collect();
    for asker in askers {
        asker.await.unwrap();
    }
    done.store(true, Ordering::Relaxed);
    killer.await.unwrap();
    wind_down(system, dead).await;
    println!(
        "  asks under restart and kill: {} starts",
        starts.load(Ordering::SeqCst)
    );
}

#[derive(Clone, Copy, Debug)]
enum End {
    Stop,
    Drain,
    Kill,
    DropRefs,
}

/// Rounds of three sender threads telling one actor while it is ended.
fn end_races(ledger: &Arc<Ledger>, scale: &Scale, runtime: &tokio::runtime::Runtime) {
    let system = runtime.block_on(async { ActorSystem::builder().panic_reports(false).build() });
    let dead = {
        let _entered = runtime.enter();
        collect_dead_letters(&system)
    };
    let rounds = 300 * scale.0;
    for round in 0..rounds {
        let end = [End::Stop, End::Drain, End::Kill, End::DropRefs][(round % 4) as usize];
        let mailbox = if round % 3 == 0 {
            MailboxKind::Bounded(32)
        } else {
            MailboxKind::Unbounded
        };
        let actor = runtime.block_on(async {
            system.spawn_with(worker(ledger), SpawnOptions::default().mailbox(mailbox))
        });
        let accepted = Arc::new(AtomicU64::new(0));
        let senders: Vec<_> = (0..3_u64)
            .map(|sender| {
                let (actor, ledger) = (actor.clone(), ledger.clone());
                let accepted = accepted.clone();
                std::thread::spawn(move || {
                    for seq in 0.. {
                        let token = ledger.token(1_000 + round * 3 + sender, seq);
                        match actor.tell(Job {
                            token,
                            poison: false,
                        }) {
                            Ok(()) => {
                                accepted.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(SendError::Full(job)) => {
                                job.token.settle(Fate::Returned);
                                std::thread::yield_now();
                            }
                            Err(SendError::Stopped(job)) => {
                                job.token.settle(Fate::Returned);
                                return;
                            }
                        }
                        // Dropping the last reference: senders stop by themselves.
                        if matches!(end, End::DropRefs) && seq == 2_000 {
                            return;
                        }
                    }
                })
            })
            .collect();
        // Let some messages in first (senders that gave up, as `DropRefs` ones do after 2,001 tries,
        // end the wait too: with a bounded mailbox and a busy machine, fewer may have got in).
        while accepted.load(Ordering::Relaxed) < 100
            && !senders.iter().all(|sender| sender.is_finished())
        {
            std::thread::yield_now();
        }
        match end {
            End::Stop => actor.stop(),
            End::Drain => actor.drain(),
            End::Kill => actor.kill(),
            End::DropRefs => {}
        }
        drop(actor);
        for sender in senders {
            sender.join().unwrap();
        }
        // Wait for the stop without a reference (one would keep the `DropRefs` actor alive): it has
        // left the routing table once it stops.
        let waiting = Instant::now();
        while system.actor_count() > 0 {
            assert!(
                waiting.elapsed() < Duration::from_secs(10),
                "round {round}: the actor did not stop after {end:?} ({mailbox:?} mailbox)"
            );
            std::thread::yield_now();
        }
    }
    runtime.block_on(wind_down(system, dead));
    println!("  stop/drain/kill/drop races: {rounds} rounds");
}

async fn bounded_with_kills(ledger: &Arc<Ledger>, scale: &Scale) {
    let system = ActorSystem::builder().panic_reports(false).build();
    let dead = collect_dead_letters(&system);
    let starts = Arc::new(AtomicUsize::new(0));
    let mut spec =
        SupervisorSpec::new(Strategy::OneForOne).intensity(u32::MAX, Duration::from_secs(1));
    for w in 0..2 {
        spec = spec
            .child(worker_spec(format!("b{w}"), ledger, &starts).mailbox(MailboxKind::Bounded(8)));
    }
    let root = spec.spawn(&system);
    let workers = vec![
        root.child::<Worker>("b0").await.unwrap(),
        root.child::<Worker>("b1").await.unwrap(),
    ];
    let done = Arc::new(AtomicBool::new(false));
    let killer = tokio::spawn({
        let (workers, done) = (workers.clone(), done.clone());
        async move {
            let mut n = 0;
            while !done.load(Ordering::Relaxed) {
                for _ in 0..100 {
                    tokio::task::yield_now().await;
                }
                workers[n % 2].kill();
                n += 1;
            }
        }
    });
    let senders: Vec<_> = (0..2_u64)
        .map(|sender| {
            let (workers, ledger, scale) = (workers.clone(), ledger.clone(), *scale);
            tokio::spawn(async move {
                for seq in 0..20_000 * scale.0 {
                    let token = ledger.token(10_000_000 + sender, seq);
                    let job = Job {
                        token,
                        poison: false,
                    };
                    let target = &workers[(seq % 2) as usize];
                    // Half the messages wait for room, half are told and may come back `Full`.
                    let outcome = if seq % 2 == 0 {
                        target.send(job).await
                    } else {
                        target.tell(job)
                    };
                    if let Err(error) = outcome {
                        returned(error);
                    }
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    done.store(true, Ordering::Relaxed);
    killer.await.unwrap();
    wind_down(system, dead).await;
    println!(
        "  bounded mailboxes with kills: {} starts",
        starts.load(Ordering::SeqCst)
    );
}

async fn churn_with_names(ledger: &Arc<Ledger>, scale: &Scale) {
    let system = ActorSystem::builder().panic_reports(false).build();
    let dead = collect_dead_letters(&system);
    let broker = system.broker();
    let resolver = system.resolver();
    // Permanent children, restarted after a millisecond: a stop must win over both.
    let millisecond = Duration::from_millis(1);
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(u32::MAX, Duration::from_secs(1))
        .backoff(Backoff::exponential(millisecond, millisecond))
        .spawn(&system);
    let cycles = 2_000 * scale.0;
    for cycle in 0..cycles {
        let starts = Arc::new(AtomicUsize::new(0));
        let id = format!("c{}", cycle % 8);
        let child = root
            .add_child(worker_spec(id.clone(), ledger, &starts).restart(Restart::Permanent))
            .await
            .unwrap();
        resolver.register(id.clone(), child.address()).unwrap();
        for seq in 0..4 {
            let token = ledger.token(20_000_000 + cycle, seq);
            let envelope = MessageEnvelope::new(Job {
                token,
                poison: false,
            });
            if let Err(error) = broker.route_to(&id, envelope) {
                error.into_envelope().message.token.settle(Fate::Returned);
            }
        }
        // One in three crashes first: the stop then races its restart.
        let crashed = cycle % 3 == 2;
        if crashed {
            let token = ledger.token(20_000_000 + cycle, 4);
            if let Err(error) = child.tell(Job {
                token,
                poison: true,
            }) {
                returned(error);
            }
        }
        // Stopped (or drained) through its reference: removed, never restarted. A drained child that
        // crashed may be restarted once, to drain.
        let drained = cycle % 2 == 0;
        if drained {
            child.drain();
        } else {
            child.stop();
        }
        let stopped = tokio::time::timeout(Duration::from_secs(5), child.wait_for_stop()).await;
        let allowed = if drained && crashed { 2 } else { 1 };
        if stopped.is_err() || starts.load(Ordering::SeqCst) > allowed {
            ledger
                .restarted_after_farewell
                .fetch_add(1, Ordering::Relaxed);
            let _ = root.remove_child(&id).await;
        }
        assert!(resolver.resolve(&id).is_none(), "a name outlived its actor");
    }
    assert!(root.children().await.unwrap().is_empty());
    system.shutdown(Duration::from_secs(10)).await;
    assert_eq!(system.actor_count(), 0, "routes left behind");
    // The broker and the resolver are handles to the system: they too keep it alive.
    drop((broker, resolver, system));
    dead_letters_settled(dead).await;
    println!("  spawn/supervise churn with names: {cycles} cycles");
}

async fn shutdown_under_load(ledger: &Arc<Ledger>, scale: &Scale) {
    for round in 0..4 * scale.0 {
        let system = ActorSystem::builder().panic_reports(false).build();
        let dead = collect_dead_letters(&system);
        let workers: Vec<_> = (0..4).map(|_| system.spawn(worker(ledger))).collect();
        let senders: Vec<_> = (0..2_u64)
            .map(|sender| {
                let (workers, ledger) = (workers.clone(), ledger.clone());
                tokio::spawn(async move {
                    for seq in 0.. {
                        let token = ledger.token(30_000_000 + round * 2 + sender, seq);
                        let job = Job {
                            token,
                            poison: false,
                        };
                        if let Err(error) = workers[(seq % 4) as usize].tell(job) {
                            returned(error);
                            return;
                        }
                        if seq % 64 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        tokio::task::yield_now().await;
        drop(workers);
        system.shutdown(Duration::from_secs(10)).await;
        for sender in senders {
            sender.await.unwrap();
        }
        drop(system);
        dead_letters_settled(dead).await;
    }
    println!("  shutdown under load: {} rounds", 4 * scale.0);
}

fn main() {
    let scale = std::env::args()
        .skip_while(|arg| arg != "--scale")
        .nth(1)
        .map_or(1, |n| n.parse().expect("--scale takes a whole number"));
    let scale = Scale(scale);
    // The poison panics are the point of the exercise: keep them off the terminal, and any other.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&"poison") {
            default_hook(info);
        }
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a two-worker runtime");
    let ledger = Arc::new(Ledger::default());
    let started = Instant::now();
    println!("soak at scale {}:", scale.0);
    // `--only NAME` runs one scenario (a word of its name).
    let only = std::env::args().skip_while(|arg| arg != "--only").nth(1);
    let run = |name: &str| only.as_deref().is_none_or(|only| name.contains(only));
    if run("panics") {
        runtime.block_on(random_panics(&ledger, &scale));
    }
    if run("asks") {
        runtime.block_on(asks_under_restart_and_kill(&ledger, &scale));
    }
    if run("races") {
        end_races(&ledger, &scale, &runtime);
    }
    if run("bounded") {
        runtime.block_on(bounded_with_kills(&ledger, &scale));
    }
    if run("churn") {
        runtime.block_on(churn_with_names(&ledger, &scale));
    }
    if run("shutdown") {
        runtime.block_on(shutdown_under_load(&ledger, &scale));
    }
    drop(runtime);

    let issued = ledger.issued.load(Ordering::SeqCst);
    let count = |fate| ledger.count(fate);
    let report = [
        ("vanished", ledger.vanished.load(Ordering::SeqCst)),
        ("missing", ledger.missing() as u64),
        ("duplicated", ledger.duplicated.load(Ordering::SeqCst)),
        ("out of order", ledger.out_of_order.load(Ordering::SeqCst)),
        (
            "on_stop after a kill",
            ledger.on_stop_after_kill.load(Ordering::SeqCst),
        ),
        (
            "restarted after stop or drain",
            ledger.restarted_after_farewell.load(Ordering::SeqCst),
        ),
    ];
    println!(
        "{issued} messages in {:.1?}: {} handled, {} panicked, {} dead letters, {} returned",
        started.elapsed(),
        count(Fate::Handled),
        count(Fate::Panicked),
        count(Fate::DeadLetter),
        count(Fate::Returned),
    );
    let mut held = true;
    for (what, n) in report {
        println!("  {what}: {n}");
        held &= n == 0;
    }
    if !held {
        eprintln!("soak FAILED: a guarantee did not hold");
        std::process::exit(1);
    }
    println!("every scenario held");
}
