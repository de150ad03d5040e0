//! Actors end to end: ordering, concurrency, backpressure, ask, references, panics, and every way an
//! actor stops. Deterministic: tests wait on events (or paused tokio time), never on sleeps.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use airssys_rt::broker::DeadLetterReason;
use airssys_rt::prelude::*;
use airssys_rt::{MailboxKind, SpawnOptions};
use airssys_rt_suite::poll_once;
use tokio::sync::{Notify, Semaphore};

/// A handler blocks on a gate: the test learns it has entered, and decides when it may go on.
#[derive(Clone)]
struct Gate {
    entered: Arc<Notify>,
    open: Arc<Semaphore>,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            entered: Arc::default(),
            open: Arc::new(Semaphore::new(0)),
        }
    }
}

impl Gate {
    async fn pass(&self) {
        self.entered.notify_one();
        self.open.acquire().await.expect("never closed").forget();
    }

    fn open(&self, times: usize) {
        self.open.add_permits(times);
    }
}

// ---------------------------------------------------------------------------------------------
// A recorder: counts, checks per-sender order, blocks on request.

#[derive(Message, Debug, PartialEq)]
struct Seq {
    sender: usize,
    n: u64,
}

#[derive(Message, Debug, PartialEq)]
#[message(result = u64)]
struct Count;

#[derive(Message, Debug, PartialEq)]
struct Block;

#[derive(Message, Debug, PartialEq)]
#[message(result = u32)]
struct Echo(u32);

#[derive(Message, Debug)]
struct Boom(&'static str);

/// Panics in an `async` handler, after an await: the other dispatch path.
#[derive(Message, Debug)]
struct BoomLater(&'static str);

#[derive(Default)]
struct Recorder {
    handled: u64,
    next: Vec<u64>,
    out_of_order: u64,
    gate: Gate,
    log: Arc<Events>,
}

#[derive(Default)]
struct Events {
    started: AtomicUsize,
    stopped: std::sync::Mutex<Vec<StopReason>>,
    /// Messages handled by the time `on_stop` ran.
    handled_at_stop: std::sync::atomic::AtomicU64,
}

#[actor]
impl Recorder {
    fn seq(&mut self, Seq { sender, n }: Seq) {
        if self.next.len() <= sender {
            self.next.resize(sender + 1, 0);
        }
        if self.next[sender] != n {
            self.out_of_order += 1;
        }
        self.next[sender] = n + 1;
        self.handled += 1;
    }

    fn count(&mut self, _: Count) -> u64 {
        self.out_of_order * 1_000_000_000 + self.handled
    }

    async fn block(&mut self, _: Block) {
        self.gate.pass().await;
        self.handled += 1;
    }

    fn echo(&self, Echo(n): Echo) -> u32 {
        n
    }

    fn boom(&mut self, Boom(why): Boom) {
        panic!("{why}");
    }

    fn on_start(&mut self) {
        self.log.started.fetch_add(1, Ordering::SeqCst);
    }

    fn on_stop(&mut self, reason: &StopReason) {
        self.log
            .handled_at_stop
            .store(self.handled, Ordering::SeqCst);
        self.log.stopped.lock().unwrap().push(reason.clone());
    }
}

fn recorder() -> Recorder {
    Recorder::default()
}

/// A recorder with a bounded mailbox of `capacity`, busy in `Block` with its mailbox empty, and the
/// gate that lets `Block` finish.
async fn busy_recorder(system: &ActorSystem, capacity: usize) -> (ActorRef<Recorder>, Gate) {
    let recorder = recorder();
    let gate = recorder.gate.clone();
    let actor = system.spawn_with(
        recorder,
        SpawnOptions::default().mailbox(MailboxKind::Bounded(capacity)),
    );
    actor.tell(Block).unwrap();
    gate.entered.notified().await;
    (actor, gate)
}

#[tokio::test]
async fn one_sender_one_million_messages_arrive_in_order() {
    let system = ActorSystem::new();
    let actor = system.spawn(recorder());
    for n in 0..1_000_000 {
        actor.tell(Seq { sender: 0, n }).unwrap();
    }
    // No message out of order (that would add 10^9), and every one handled.
    assert_eq!(actor.ask(Count).await.unwrap(), 1_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_concurrent_senders_deliver_exactly_one_million_in_per_sender_order() {
    let system = ActorSystem::new();
    let actor = system.spawn(recorder());
    let senders: Vec<_> = (0..4)
        .map(|sender| {
            let actor = actor.clone();
            tokio::spawn(async move {
                for n in 0..250_000 {
                    actor.tell(Seq { sender, n }).unwrap();
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    assert_eq!(actor.ask(Count).await.unwrap(), 1_000_000);
}

#[tokio::test]
async fn a_full_bounded_mailbox_returns_told_messages_and_makes_send_wait() {
    let system = ActorSystem::new();
    let (actor, gate) = busy_recorder(&system, 8).await;
    for n in 0..8 {
        actor.tell(Seq { sender: 0, n }).unwrap();
    }
    match actor.tell(Seq { sender: 0, n: 8 }) {
        Err(SendError::Full(message)) => assert_eq!(message, Seq { sender: 0, n: 8 }),
        other => panic!("expected Full with the message back, got {other:?}"),
    }

    let mut send = Box::pin(actor.send(Seq { sender: 0, n: 8 }));
    assert!(
        poll_once(&mut send).await.is_none(),
        "send must wait while the mailbox is full"
    );
    gate.open(1);
    send.await.unwrap();
    assert_eq!(
        actor.ask(Count).await.unwrap(),
        10,
        "Block, 8 queued, then the one that waited: in order"
    );
}

/// Senders waiting for room are served in the order they began to wait; one whose wait is cancelled
/// leaves its message as a dead letter; a stop gives every sender still waiting its message back.
#[tokio::test]
async fn waiting_senders_are_served_in_order_and_nothing_they_hold_is_lost() {
    let system = ActorSystem::new();
    let mut dead = system.broker().dead_letters();
    let (actor, gate) = busy_recorder(&system, 1).await;
    actor.tell(Seq { sender: 0, n: 0 }).unwrap(); // the one slot is taken
    let mut first = Box::pin(actor.send(Seq { sender: 1, n: 0 }));
    let mut cancelled = Box::pin(actor.send(Seq { sender: 2, n: 0 }));
    let mut third = Box::pin(actor.send(Seq { sender: 3, n: 0 }));
    for send in [&mut first, &mut cancelled, &mut third] {
        assert!(poll_once(send).await.is_none(), "the mailbox is full");
    }
    drop(cancelled);
    let letter = dead.recv().await.unwrap();
    assert_eq!(*letter.reason(), DeadLetterReason::SendCancelled);
    assert_eq!(letter.take::<Seq>(), Some(Seq { sender: 2, n: 0 }));

    // One slot frees up: it goes to the first waiter, not to the one polled first now.
    gate.open(1);
    first.await.unwrap();
    assert!(
        poll_once(&mut third).await.is_none(),
        "the third sender waits behind the first one's message"
    );

    // The stop overtakes the queued message (a dead letter) and wakes the third sender.
    actor.stop();
    match third.await {
        Err(SendError::Stopped(message)) => assert_eq!(message, Seq { sender: 3, n: 0 }),
        other => panic!("expected the message back, got {other:?}"),
    }
    assert_eq!(actor.wait_for_stop().await, StopReason::Stopped);
    let letter = dead.recv().await.unwrap();
    assert!(matches!(letter.reason(), DeadLetterReason::Stopped(_)));
    assert_eq!(letter.take::<Seq>(), Some(Seq { sender: 1, n: 0 }));
}

/// An ask dropped while it waits for room loses nothing either: its message is a dead letter, marked
/// as asked, and the room goes to the next waiter.
#[tokio::test]
async fn an_ask_cancelled_while_it_waits_for_room_leaves_its_message_as_a_dead_letter() {
    let system = ActorSystem::new();
    let mut dead = system.broker().dead_letters();
    let (actor, gate) = busy_recorder(&system, 1).await;
    actor.tell(Seq { sender: 0, n: 0 }).unwrap(); // the one slot is taken
    let mut cancelled = Box::pin(actor.ask(Echo(7)));
    assert!(
        poll_once(&mut cancelled).await.is_none(),
        "the mailbox is full"
    );
    let mut next = Box::pin(actor.send(Seq { sender: 1, n: 0 }));
    assert!(poll_once(&mut next).await.is_none(), "behind the ask");
    drop(cancelled);
    let letter = dead
        .try_recv()
        .expect("dropping the ask reports its message at once");
    assert_eq!(*letter.reason(), DeadLetterReason::SendCancelled);
    assert!(letter.was_ask());
    assert_eq!(letter.take::<Echo>(), Some(Echo(7)));
    gate.open(1);
    next.await.unwrap();
    assert_eq!(
        actor.ask(Count).await.unwrap(),
        3,
        "Block, the tell, then the send"
    );
}

#[tokio::test(start_paused = true)]
async fn an_ask_times_out_and_a_full_mailbox_gives_the_message_back() {
    let system = ActorSystem::new();
    let (actor, gate) = busy_recorder(&system, 1).await;
    // Delivered, but the actor is busy: the ask times out.
    let timed_out = actor.ask(Echo(1)).timeout(Duration::from_millis(50)).await;
    assert!(matches!(timed_out, Err(AskError::Timeout)), "{timed_out:?}");
    // The mailbox (capacity 1) now holds that Echo: the next ask cannot be delivered, and gets its
    // message back when the deadline passes.
    match actor.ask(Echo(2)).timeout(Duration::from_millis(50)).await {
        Err(AskError::Send(SendError::Full(Echo(2)))) => {}
        other => panic!("expected the message back, got {other:?}"),
    }
    gate.open(1);
    assert_eq!(actor.ask(Echo(3)).await.unwrap(), 3);
}

#[tokio::test]
async fn an_ask_waits_for_room_in_a_bounded_mailbox() {
    let system = ActorSystem::new();
    let (actor, gate) = busy_recorder(&system, 1).await;
    actor.tell(Seq { sender: 0, n: 0 }).unwrap();
    let mut ask = Box::pin(actor.ask(Echo(7)).into_future());
    assert!(poll_once(&mut ask).await.is_none());
    gate.open(1);
    assert_eq!(ask.await.unwrap(), 7);
}

// ---------------------------------------------------------------------------------------------
// References.

struct Doubler;

#[actor]
impl Doubler {
    fn echo(&mut self, Echo(n): Echo) -> u32 {
        n * 2
    }
}

#[tokio::test]
async fn recipients_reach_actors_of_different_types_through_one_message_type() {
    let system = ActorSystem::new();
    let recorder = system.spawn(recorder());
    let doubler = system.spawn(Doubler);
    let recipients: Vec<Recipient<Echo>> = vec![recorder.recipient(), doubler.recipient()];
    let mut replies = Vec::new();
    for recipient in &recipients {
        recipient.tell(Echo(1)).unwrap();
        replies.push(recipient.ask(Echo(21)).await.unwrap());
    }
    assert_eq!(replies, vec![21, 42]);
    assert_eq!(recipients[1].address(), doubler.address());
}

#[tokio::test]
async fn a_weak_ref_does_not_keep_its_actor_alive() {
    let system = ActorSystem::new();
    let recorder = recorder();
    let events = recorder.log.clone();
    let actor = system.spawn(recorder);
    let weak = actor.downgrade();
    let upgraded = weak.upgrade().expect("alive");
    assert_eq!(upgraded.ask(Echo(5)).await.unwrap(), 5);

    let watcher = actor.recipient::<Echo>();
    drop(upgraded);
    drop(actor);
    // A recipient is a strong reference too: the actor still runs.
    assert_eq!(watcher.ask(Echo(6)).await.unwrap(), 6);
    drop(watcher);
    // Now nothing strong is left: it stops, and the weak reference cannot revive it.
    wait_until_stopped(&events).await;
    assert_eq!(
        *events.stopped.lock().unwrap(),
        vec![StopReason::NoReferences]
    );
    assert!(weak.upgrade().is_none());
}

async fn wait_until_stopped(events: &Events) {
    // on_stop records the reason; poll for it cooperatively (each yield lets the actor's task run).
    while events.stopped.lock().unwrap().is_empty() {
        tokio::task::yield_now().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Panics.

#[tokio::test]
async fn a_panicking_handler_fails_its_ask_and_stops_only_its_actor() {
    let system = ActorSystem::new();
    let fragile = system.spawn(recorder());
    let bystander = system.spawn(recorder());

    match fragile.ask(Boom("bad input")).await {
        Err(AskError::Panicked(panic)) => {
            assert_eq!(panic.message(), "bad input");
            assert!(panic.during().contains("Boom"), "{}", panic.during());
        }
        other => panic!("expected Panicked, got {other:?}"),
    }
    match fragile.wait_for_stop().await {
        StopReason::Panicked(panic) => assert_eq!(panic.message(), "bad input"),
        other => panic!("expected Panicked, got {other:?}"),
    }
    assert!(!fragile.is_alive());
    assert!(matches!(
        fragile.tell(Echo(1)),
        Err(SendError::Stopped(Echo(1)))
    ));
    assert_eq!(bystander.ask(Echo(9)).await.unwrap(), 9);
}

#[derive(Default)]
struct Resilient {
    handled: u64,
    panics: u64,
}

#[actor]
impl Resilient {
    fn echo(&mut self, Echo(n): Echo) -> u32 {
        self.handled += 1;
        n
    }

    fn boom(&mut self, Boom(why): Boom) {
        panic!("{why}");
    }

    async fn boom_later(&mut self, BoomLater(why): BoomLater) {
        tokio::task::yield_now().await;
        panic!("{why}");
    }

    fn count(&self, _: Count) -> u64 {
        self.handled * 100 + self.panics
    }

    fn on_panic(&mut self, panic: &ActorPanic) -> AfterPanic {
        assert_eq!(panic.message(), "once");
        self.panics += 1;
        AfterPanic::Resume
    }
}

#[tokio::test]
async fn on_panic_can_resume_with_the_state_kept() {
    let system = ActorSystem::new();
    let actor = system.spawn(Resilient::default());
    assert_eq!(actor.ask(Echo(1)).await.unwrap(), 1);
    actor.tell(Boom("once")).unwrap();
    assert_eq!(actor.ask(Echo(2)).await.unwrap(), 2);
    assert_eq!(actor.ask(Count).await.unwrap(), 2 * 100 + 1);
}

#[tokio::test]
async fn a_panic_in_an_async_handler_fails_its_ask_and_the_actor_resumes() {
    let system = ActorSystem::new();
    let actor = system.spawn(Resilient::default());
    match actor.ask(BoomLater("once")).await {
        Err(AskError::Panicked(panic)) => {
            assert_eq!(panic.message(), "once");
            assert!(panic.during().contains("BoomLater"), "{}", panic.during());
        }
        other => panic!("expected Panicked, got {other:?}"),
    }
    assert_eq!(actor.ask(Echo(3)).await.unwrap(), 3);
    assert_eq!(actor.ask(Count).await.unwrap(), 100 + 1);
}

// ---------------------------------------------------------------------------------------------
// Stopping: stop, drain, kill, shutdown; what happens to queued messages.

/// An actor blocked on `Block` with `queued` more messages (and one ask) behind it.
async fn blocked_with_queue(
    system: &ActorSystem,
    queued: u64,
) -> (ActorRef<Recorder>, Gate, Arc<Events>) {
    let recorder = recorder();
    let (gate, events) = (recorder.gate.clone(), recorder.log.clone());
    let actor = system.spawn(recorder);
    actor.tell(Block).unwrap();
    gate.entered.notified().await;
    for n in 0..queued {
        actor.tell(Seq { sender: 0, n }).unwrap();
    }
    (actor, gate, events)
}

#[tokio::test]
async fn stop_overtakes_queued_messages_and_fails_queued_asks() {
    let system = ActorSystem::new();
    let (actor, gate, events) = blocked_with_queue(&system, 100).await;
    let queued_ask = tokio::spawn({
        let actor = actor.clone();
        async move { actor.ask(Echo(1)).await }
    });
    tokio::task::yield_now().await; // let the ask enqueue
    actor.stop();
    gate.open(1);
    assert_eq!(actor.wait_for_stop().await, StopReason::Stopped);
    assert!(matches!(queued_ask.await.unwrap(), Err(AskError::Stopped)));
    assert_eq!(
        *events.stopped.lock().unwrap(),
        vec![StopReason::Stopped],
        "on_stop ran once"
    );
    assert_eq!(
        events.handled_at_stop.load(Ordering::SeqCst),
        1,
        "only the message in hand was handled"
    );
    assert!(matches!(
        actor.tell(Echo(2)),
        Err(SendError::Stopped(Echo(2)))
    ));
}

#[tokio::test]
async fn drain_handles_queued_messages_and_refuses_new_ones() {
    let system = ActorSystem::new();
    let (actor, gate, events) = blocked_with_queue(&system, 100).await;
    let queued_ask = tokio::spawn({
        let actor = actor.clone();
        async move { actor.ask(Echo(1)).await }
    });
    tokio::task::yield_now().await;
    actor.drain();
    gate.open(1);
    assert_eq!(
        queued_ask.await.unwrap().unwrap(),
        1,
        "queued asks are answered"
    );
    assert_eq!(actor.wait_for_stop().await, StopReason::Drained);
    assert!(matches!(
        actor.tell(Echo(2)),
        Err(SendError::Stopped(Echo(2)))
    ));
    assert_eq!(*events.stopped.lock().unwrap(), vec![StopReason::Drained]);
    assert_eq!(
        events.handled_at_stop.load(Ordering::SeqCst),
        101,
        "Block and the 100 queued"
    );
}

#[tokio::test]
async fn kill_abandons_the_running_handler_and_skips_on_stop() {
    let system = ActorSystem::new();
    let (actor, _gate, events) = blocked_with_queue(&system, 10).await;
    let queued_ask = tokio::spawn({
        let actor = actor.clone();
        async move { actor.ask(Echo(1)).await }
    });
    tokio::task::yield_now().await;
    actor.kill();
    assert_eq!(actor.wait_for_stop().await, StopReason::Killed);
    assert!(matches!(queued_ask.await.unwrap(), Err(AskError::Stopped)));
    assert!(
        events.stopped.lock().unwrap().is_empty(),
        "on_stop does not run after a kill"
    );
    assert_eq!(system.actor_count(), 0);
}

#[tokio::test]
async fn shutdown_drains_every_mailbox() {
    let system = ActorSystem::new();
    let (blocked, gate, events) = blocked_with_queue(&system, 1_000).await;
    let idle = system.spawn(recorder());
    let shutdown = tokio::spawn({
        let system = system.clone();
        async move { system.shutdown(Duration::from_secs(3600)).await }
    });
    tokio::task::yield_now().await;
    gate.open(1);
    let report = shutdown.await.unwrap();
    assert_eq!(
        report,
        airssys_rt::ShutdownReport {
            stopped: 2,
            killed: 0
        }
    );
    assert_eq!(blocked.wait_for_stop().await, StopReason::Drained);
    assert_eq!(
        events.handled_at_stop.load(Ordering::SeqCst),
        1_001,
        "every queued message was handled"
    );
    assert_eq!(idle.wait_for_stop().await, StopReason::Drained);
    assert_eq!(system.actor_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn shutdown_kills_what_does_not_stop_in_time() {
    let system = ActorSystem::new();
    let (stuck, _gate, events) = blocked_with_queue(&system, 3).await;
    let report = system.shutdown(Duration::from_millis(100)).await;
    assert_eq!(
        report,
        airssys_rt::ShutdownReport {
            stopped: 0,
            killed: 1
        }
    );
    assert_eq!(stuck.wait_for_stop().await, StopReason::Killed);
    assert!(events.stopped.lock().unwrap().is_empty());
}

#[tokio::test]
async fn dropping_the_last_reference_handles_the_queue_then_stops() {
    let system = ActorSystem::new();
    let (actor, gate, events) = blocked_with_queue(&system, 50).await;
    let weak = actor.downgrade();
    let probe = actor.recipient::<Count>();
    drop(actor);
    gate.open(1);
    // The recipient still holds it: the queue is handled, then the count is answered.
    assert_eq!(probe.ask(Count).await.unwrap(), 51);
    drop(probe);
    wait_until_stopped(&events).await;
    assert_eq!(
        *events.stopped.lock().unwrap(),
        vec![StopReason::NoReferences]
    );
    assert!(weak.upgrade().is_none());
    assert_eq!(events.started.load(Ordering::SeqCst), 1);
}

// ---------------------------------------------------------------------------------------------
// Context.

#[derive(Message)]
struct Tick;

#[derive(Message)]
#[message(result = ActorRef<Ticker>)]
struct Myself;

struct Ticker {
    ticks: u32,
    done: Arc<Notify>,
}

#[actor]
impl Ticker {
    fn tick(&mut self, _: Tick, ctx: &mut Context<Self>) {
        self.ticks += 1;
        if self.ticks < 3 {
            ctx.send_after(Tick, Duration::from_secs(1));
        } else {
            self.done.notify_one();
            ctx.stop();
        }
    }

    fn myself(&mut self, _: Myself, ctx: &mut Context<Self>) -> ActorRef<Ticker> {
        ctx.actor_ref()
    }
}

#[tokio::test(start_paused = true)]
async fn the_context_schedules_messages_to_itself_and_stops_itself() {
    let system = ActorSystem::new();
    let done = Arc::new(Notify::new());
    let ticker = system.spawn(Ticker {
        ticks: 0,
        done: done.clone(),
    });
    let start = tokio::time::Instant::now();
    ticker.tell(Tick).unwrap();
    done.notified().await;
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(2),
        "two delayed ticks of one second"
    );
    assert_eq!(ticker.wait_for_stop().await, StopReason::Stopped);
}

#[tokio::test]
async fn the_context_hands_out_the_actors_own_reference() {
    let system = ActorSystem::new();
    let ticker = system.spawn(Ticker {
        ticks: 0,
        done: Arc::default(),
    });
    let myself = ticker.ask(Myself).await.unwrap();
    assert_eq!(myself, ticker);
}

/// Holds its mailbox full: its handler waits for the gate.
struct Gated {
    gate: Arc<Semaphore>,
    seen: Arc<std::sync::Mutex<Vec<u32>>>,
}

#[derive(Message)]
struct Item(u32);

#[actor]
impl Gated {
    async fn item(&mut self, Item(n): Item) {
        self.gate.acquire().await.unwrap().forget();
        self.seen.lock().unwrap().push(n);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_reserved_send_loses_nothing_when_its_wait_is_cancelled() {
    use std::task::{Context as TaskContext, Waker};
    let system = ActorSystem::new();
    let gate = Arc::new(Semaphore::new(0));
    let seen = Arc::default();
    let gated = system.spawn_with(
        Gated {
            gate: gate.clone(),
            seen: Arc::clone(&seen),
        },
        SpawnOptions::default().mailbox(MailboxKind::Bounded(1)),
    );
    gated.tell(Item(0)).unwrap();
    while gated.tell(Item(1)).is_err() {
        tokio::task::yield_now().await; // until the actor took item 0 and blocked on it
    }
    // The mailbox is full: a reservation waits. Cancelled, it has taken nothing.
    let item = Item(2);
    {
        let mut reserve = Box::pin(gated.reserve());
        let mut cx = TaskContext::from_waker(Waker::noop());
        assert!(reserve.as_mut().poll(&mut cx).is_pending());
    }
    gate.add_permits(1); // item 0 done; item 1 is taken next
    let permit = gated.reserve().await.unwrap();
    // The permit holds the only room: a tell finds the mailbox full until it is used.
    assert!(matches!(gated.tell(Item(9)), Err(SendError::Full(Item(9)))));
    permit.send(item).unwrap();
    gate.add_permits(2);
    while seen.lock().unwrap().len() < 3 {
        tokio::task::yield_now().await;
    }
    assert_eq!(*seen.lock().unwrap(), [0, 1, 2]);

    // A permit outlived by a stop gives the message back.
    let permit = gated.reserve().await.unwrap();
    gated.stop();
    assert!(matches!(
        permit.send(Item(3)),
        Err(SendError::Stopped(Item(3)))
    ));
    assert!(gated.reserve().await.is_err(), "no room in a stopped actor");
}
