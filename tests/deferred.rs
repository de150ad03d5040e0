//! Deferred replies (`ReplySender`) and work tied to an actor (`ctx.spawn`, `ctx.attach_stream`).
//! Deterministic: every wait is on an event (a gate, a reply, a stop), none on the clock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use airssys_rt::prelude::*;
use airssys_rt::supervisor::{ChildSpec, Strategy, SupervisorSpec};
use airssys_rt::{ReplySender, StreamMessage};
use airssys_rt_suite::DropCounter;
use tokio::sync::Semaphore;

/// Asks for `n * 2`, answered later.
#[derive(Message)]
#[message(result = u64)]
struct Double(u64);

/// Answered at once, while `Double`s are in flight.
#[derive(Message)]
#[message(result = usize)]
struct Pending;

/// Answers every parked `Double`.
#[derive(Message)]
struct Flush;

/// Moves the parked replies to another actor, which answers them.
#[derive(Message)]
struct HandOff(ActorRef<Answerer>);

/// The replies a `Deferrer` parked, handed to another actor to answer.
#[derive(Message)]
struct Answer(Vec<(u64, ReplySender<u64>)>);

/// Parks each `Double`'s reply and answers on `Flush`: many asks in flight, mailbox free.
#[derive(Default)]
struct Deferrer {
    parked: Vec<(u64, ReplySender<u64>)>,
}

#[actor]
impl Deferrer {
    fn double(&mut self, Double(n): Double, reply: ReplySender<u64>) {
        self.parked.push((n, reply));
    }

    fn pending(&mut self, _: Pending) -> usize {
        self.parked.len()
    }

    fn flush(&mut self, _: Flush) {
        for (n, reply) in self.parked.drain(..) {
            reply.send(n * 2);
        }
    }

    fn hand_off(&mut self, HandOff(to): HandOff) {
        to.tell(Answer(core::mem::take(&mut self.parked)))
            .expect("the answerer runs");
    }
}

struct Answerer;

#[actor]
impl Answerer {
    fn answer(&mut self, Answer(parked): Answer) {
        for (n, reply) in parked {
            reply.send(n * 2);
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn many_asks_in_flight_are_answered_by_a_later_message() {
    let system = ActorSystem::new();
    let deferrer = system.spawn(Deferrer::default());
    let asks: Vec<_> = (0..100)
        .map(|n| {
            let deferrer = deferrer.clone();
            tokio::spawn(async move { deferrer.ask(Double(n)).await })
        })
        .collect();
    // The actor keeps handling its mailbox while 100 replies are owed.
    while deferrer.ask(Pending).await.unwrap() < 100 {
        tokio::task::yield_now().await;
    }
    deferrer.tell(Flush).unwrap();
    for (n, ask) in asks.into_iter().enumerate() {
        assert_eq!(ask.await.unwrap().unwrap(), n as u64 * 2);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_reply_sender_can_be_sent_to_another_actor_which_answers() {
    let system = ActorSystem::new();
    let deferrer = system.spawn(Deferrer::default());
    let answerer = system.spawn(Answerer);
    let ask = tokio::spawn({
        let deferrer = deferrer.clone();
        async move { deferrer.ask(Double(21)).await }
    });
    while deferrer.ask(Pending).await.unwrap() < 1 {
        tokio::task::yield_now().await;
    }
    deferrer.tell(HandOff(answerer)).unwrap();
    assert_eq!(ask.await.unwrap().unwrap(), 42);
}

/// What `Careless` does with the reply.
#[derive(Message)]
#[message(result = u64)]
enum Job {
    Drop,
    Panic,
    PanicAsync,
    Told,
}

struct Careless {
    told_was_asked: Arc<Mutex<Option<bool>>>,
}

#[actor]
impl Careless {
    async fn job(&mut self, job: Job, reply: ReplySender<u64>) {
        match job {
            Job::Drop => drop(reply),
            Job::Panic => panic!("lost the reply"),
            Job::PanicAsync => {
                tokio::task::yield_now().await;
                panic!("lost the reply after an await");
            }
            Job::Told => {
                *self.told_was_asked.lock().unwrap() = Some(reply.is_asked());
                reply.send(1); // nobody waits: nothing happens
            }
        }
    }

    fn on_panic(&mut self) -> AfterPanic {
        AfterPanic::Resume
    }

    fn sync_panic(&mut self, _: SyncPanic, reply: ReplySender<u64>) {
        let _keep = reply;
        panic!("sync handler lost the reply");
    }
}

/// As `Job::Panic`, from a synchronous handler.
#[derive(Message)]
#[message(result = u64)]
struct SyncPanic;

#[tokio::test(flavor = "current_thread")]
async fn an_unanswered_reply_fails_the_ask_with_the_reason_never_hangs() {
    let system = ActorSystem::new();
    let told_was_asked = Arc::new(Mutex::new(None));
    let careless = system.spawn(Careless {
        told_was_asked: told_was_asked.clone(),
    });
    assert!(matches!(
        careless.ask(Job::Drop).await,
        Err(AskError::Unanswered)
    ));
    match careless.ask(Job::Panic).await {
        Err(AskError::Panicked(panic)) => assert_eq!(panic.message(), "lost the reply"),
        other => panic!("expected the handler's panic, got {other:?}"),
    }
    match careless.ask(Job::PanicAsync).await {
        Err(AskError::Panicked(panic)) => {
            assert_eq!(panic.message(), "lost the reply after an await");
        }
        other => panic!("expected the handler's panic, got {other:?}"),
    }
    match careless.ask(SyncPanic).await {
        Err(AskError::Panicked(panic)) => {
            assert_eq!(panic.message(), "sync handler lost the reply");
        }
        other => panic!("expected the handler's panic, got {other:?}"),
    }
    careless.tell(Job::Told).unwrap();
    careless.ask(Job::Drop).await.unwrap_err(); // the told job was handled before this
    assert_eq!(*told_was_asked.lock().unwrap(), Some(false));
}

/// Answers from a task tied to the actor, which waits for the test to open the gate.
#[derive(Message)]
#[message(result = u64)]
struct Slow(u64);

#[derive(Message)]
#[message(result = u32)]
struct Ping;

/// A tied task's output, back as a message.
#[derive(Message)]
struct Done(u64);

#[derive(Message)]
#[message(result = Vec<u64>)]
struct DoneSoFar;

/// Starts a tied task that waits for the gate and returns `Done(n)`; no one asks.
#[derive(Message)]
struct Background(u64);

struct Worker {
    gate: Arc<Semaphore>,
    done: Arc<Mutex<Vec<u64>>>,
    reply_drops: DropCounter,
}

#[actor]
impl Worker {
    fn slow(&mut self, Slow(n): Slow, reply: ReplySender<u64>, ctx: &mut Context<Self>) {
        let gate = self.gate.clone();
        let token = self.reply_drops.token();
        ctx.spawn(async move {
            let _token = token; // dropped when the task ends or is cancelled
            let _permit = gate.acquire().await.unwrap();
            reply.send(n + 1);
            Done(n) // comes back as a message
        });
    }

    fn ping(&mut self, _: Ping, ctx: &mut Context<Self>) -> u32 {
        ctx.running_tasks() as u32
    }

    fn background(&mut self, Background(n): Background, ctx: &mut Context<Self>) {
        let gate = self.gate.clone();
        ctx.spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            Done(n)
        });
    }

    fn done(&mut self, Done(n): Done) {
        self.done.lock().unwrap().push(n);
    }

    fn done_so_far(&mut self, _: DoneSoFar) -> Vec<u64> {
        self.done.lock().unwrap().clone()
    }
}

fn worker(gate: &Arc<Semaphore>, drops: &DropCounter) -> Worker {
    Worker {
        gate: gate.clone(),
        done: Arc::default(),
        reply_drops: drops.clone(),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn tied_tasks_run_beside_the_actor_and_send_their_output_back() {
    let system = ActorSystem::new();
    let gate = Arc::new(Semaphore::new(0));
    let drops = DropCounter::new();
    let worker = system.spawn(worker(&gate, &drops));
    let asks: Vec<_> = (0..10)
        .map(|n| {
            let worker = worker.clone();
            tokio::spawn(async move { worker.ask(Slow(n)).await })
        })
        .collect();
    while worker.ask(Ping).await.unwrap() < 10 {
        tokio::task::yield_now().await;
    }
    gate.add_permits(10);
    for (n, ask) in asks.into_iter().enumerate() {
        assert_eq!(ask.await.unwrap().unwrap(), n as u64 + 1);
    }
    // Every output came back as a `Done` message.
    let mut done = Vec::new();
    while done.len() < 10 {
        done = worker.ask(DoneSoFar).await.unwrap();
    }
    done.sort_unstable();
    assert_eq!(done, (0..10).collect::<Vec<_>>());
    assert_eq!(
        worker.ask(Ping).await.unwrap(),
        0,
        "finished tasks are reaped"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn stopping_cancels_tied_tasks_and_their_asks_fail_unanswered() {
    let system = ActorSystem::new();
    let gate = Arc::new(Semaphore::new(0));
    let drops = DropCounter::new();
    let worker = system.spawn(worker(&gate, &drops));
    let ask = tokio::spawn({
        let worker = worker.clone();
        async move { worker.ask(Slow(1)).await }
    });
    while worker.ask(Ping).await.unwrap() < 1 {
        tokio::task::yield_now().await;
    }
    worker.stop();
    assert_eq!(worker.wait_for_stop().await, StopReason::Stopped);
    assert!(matches!(ask.await.unwrap(), Err(AskError::Unanswered)));
    assert_eq!(drops.drops(), 1, "the cancelled task was dropped");
    gate.add_permits(1); // nothing is left to take it
    assert_eq!(gate.available_permits(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_running_tied_task_keeps_its_actor_alive_until_it_delivers() {
    let system = ActorSystem::new();
    let gate = Arc::new(Semaphore::new(0));
    let drops = DropCounter::new();
    let state = worker(&gate, &drops);
    let done = state.done.clone();
    let worker = system.spawn(state);
    worker.tell(Background(5)).unwrap();
    while worker.ask(Ping).await.unwrap() < 1 {
        tokio::task::yield_now().await;
    }
    let weak = worker.downgrade();
    let stopped = async move { weak.wait_for_stop().await };
    drop(worker); // the only reference left is the task's
    tokio::pin!(stopped);
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert!(
        airssys_rt_suite::poll_once(&mut stopped).await.is_none(),
        "the actor waits for its task"
    );
    gate.add_permits(1);
    // The task's `Done(5)` reached the actor, which then stopped for lack of references.
    assert_eq!(stopped.await, Some(StopReason::NoReferences));
    assert_eq!(*done.lock().unwrap(), [5]);
}

/// Restarts on every `Crash`; each incarnation starts one endless tied task that counts itself.
#[derive(Message)]
struct Crash;

struct Restarted {
    alive: Arc<AtomicUsize>,
}

struct Alive(Arc<AtomicUsize>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[actor]
impl Restarted {
    fn on_start(&mut self, ctx: &mut Context<Self>) {
        self.alive.fetch_add(1, Ordering::SeqCst);
        let alive = Alive(self.alive.clone());
        ctx.spawn(async move {
            let _alive = alive;
            std::future::pending::<()>().await;
        });
    }

    fn crash(&mut self, _: Crash) {
        panic!("crash");
    }

    fn ping(&mut self, _: Ping) -> u32 {
        self.alive.load(Ordering::SeqCst) as u32
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_tasks_of_a_failed_incarnation_are_cancelled_before_the_restart() {
    let system = ActorSystem::new();
    let alive = Arc::new(AtomicUsize::new(0));
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(100, Duration::from_secs(60))
        .child(ChildSpec::new("restarted", {
            let alive = alive.clone();
            move || Restarted {
                alive: alive.clone(),
            }
        }));
    let root = spec.spawn(&system);
    let child = root.child::<Restarted>("restarted").await.unwrap();
    for _ in 0..5 {
        child.tell(Crash).unwrap();
        // The new incarnation answers once it has started; the old task is cancelled by then or
        // soon after (its drop runs in the runtime): wait for exactly one.
        let _ = child.ask(Ping).await;
    }
    while alive.load(Ordering::SeqCst) != 1 {
        tokio::task::yield_now().await;
    }
    assert_eq!(child.ask(Ping).await.unwrap(), 1);
}

/// Records a stream's events.
struct Sink {
    events: Vec<StreamMessage<u32, &'static str, &'static str>>,
    gate: Arc<Semaphore>,
    source: Option<Source>,
}

#[derive(Message)]
#[message(result = Vec<StreamMessage<u32, &'static str, &'static str>>)]
struct Events;

#[actor]
impl Sink {
    fn on_start(&mut self, ctx: &mut Context<Self>) {
        let source = self.source.take().expect("one start");
        ctx.attach_stream(source, "started", "finished");
    }

    async fn item(&mut self, event: StreamMessage<u32, &'static str, &'static str>) {
        if let StreamMessage::Next(_) = event {
            self.gate.acquire().await.unwrap().forget();
        }
        self.events.push(event);
    }

    fn events(&mut self, _: Events) -> Vec<StreamMessage<u32, &'static str, &'static str>> {
        self.events.clone()
    }
}

/// A stream of `0..len` that counts how many items it has been asked for.
struct Source {
    next: u32,
    len: u32,
    polled: Arc<AtomicUsize>,
}

impl futures_core::Stream for Source {
    type Item = u32;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<u32>> {
        if self.next == self.len {
            return std::task::Poll::Ready(None);
        }
        self.polled.fetch_add(1, Ordering::SeqCst);
        self.next += 1;
        std::task::Poll::Ready(Some(self.next - 1))
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_stream_feeds_its_items_in_order_polled_only_as_the_mailbox_has_room() {
    const CAPACITY: usize = 4;
    let system = ActorSystem::new();
    let gate = Arc::new(Semaphore::new(0));
    let polled = Arc::new(AtomicUsize::new(0));
    let sink = system.spawn_with(
        Sink {
            events: Vec::new(),
            gate: gate.clone(),
            source: Some(Source {
                next: 0,
                len: 100,
                polled: polled.clone(),
            }),
        },
        SpawnOptions::default().mailbox(MailboxKind::Bounded(CAPACITY)),
    );
    // The actor handles `Started`, then blocks in the first item's handler, closed gate: the stream
    // fills the mailbox and then waits. Let everything that can run, run.
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    // Items taken from the stream: the one being handled, the mailbox's CAPACITY, and one waiting
    // for room in the stream's task.
    assert_eq!(polled.load(Ordering::SeqCst), 1 + CAPACITY + 1);
    gate.add_permits(100);
    let events = loop {
        let events = sink.ask(Events).await.unwrap();
        if events.last() == Some(&StreamMessage::Finished("finished")) {
            break events;
        }
    };
    let mut expected = vec![StreamMessage::Started("started")];
    expected.extend((0..100).map(StreamMessage::Next));
    expected.push(StreamMessage::Finished("finished"));
    assert_eq!(events, expected);
}
