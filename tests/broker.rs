//! The broker: routing by address, key and name; every failure gives the envelope back; names and
//! their cache; dead letters with their payload; topics; the message pool; concurrency. Deterministic:
//! every wait is on an event (a reply, a stop, a dead letter), never on a sleep.

use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use airssys_rt::broker::{
    BrokerAskError, DeadLetterReason, MessagePool, Pooled, RegisterError, RouteFailure, Target,
};
use airssys_rt::envelope::MessageEnvelope;
use airssys_rt::prelude::*;
use airssys_rt::{MailboxKind, SpawnOptions};
use airssys_rt_suite::poll_once;
use tokio::sync::Semaphore;

#[derive(Message, Debug, PartialEq)]
#[message(result = u64)]
struct Charge(u64);

#[derive(Message, Debug, PartialEq)]
struct Note(u64);

#[derive(Message, Debug, PartialEq)]
struct Refund(u64);

/// Blocks its actor until the test adds a permit to `gate`; says so through `entered`.
#[derive(Message)]
struct Hold {
    entered: Arc<Semaphore>,
    gate: Arc<Semaphore>,
}

#[derive(Message, Debug)]
struct Price(u64);

#[derive(Message)]
#[message(result = u64)]
struct Total;

#[derive(Default)]
struct Ledger {
    total: u64,
    /// Messages handled, shared with the test.
    handled: Arc<AtomicU64>,
}

#[actor]
impl Ledger {
    fn charge(&mut self, Charge(cents): Charge) -> u64 {
        self.total += cents;
        self.handled.fetch_add(1, Ordering::SeqCst);
        self.total
    }

    fn note(&mut self, Note(cents): Note) {
        self.total += cents;
        self.handled.fetch_add(1, Ordering::SeqCst);
    }

    async fn hold(&mut self, Hold { entered, gate }: Hold) {
        entered.add_permits(1);
        gate.acquire().await.unwrap().forget();
    }

    fn price(&mut self, price: Arc<Price>) {
        self.total += price.0;
        self.handled.fetch_add(1, Ordering::SeqCst);
    }

    fn total(&self, _: Total) -> u64 {
        self.total
    }
}

fn ledger() -> Ledger {
    Ledger::default()
}

/// Makes `actor` busy in its `Hold` handler, its mailbox empty; returns the gate that releases it.
async fn hold(actor: &ActorRef<Ledger>) -> Arc<Semaphore> {
    let entered = Arc::new(Semaphore::new(0));
    let gate = Arc::new(Semaphore::new(0));
    actor
        .send(Hold {
            entered: entered.clone(),
            gate: gate.clone(),
        })
        .await
        .unwrap();
    entered.acquire().await.unwrap().forget();
    gate
}

// ---------------------------------------------------------------------------------------------
// Routing.

#[tokio::test]
async fn routes_by_address_key_and_name() {
    let system = ActorSystem::new();
    let ledger = system.spawn(ledger());
    let broker = system.broker();
    broker
        .resolver()
        .register("ledger", ledger.address())
        .unwrap();

    broker
        .route(MessageEnvelope::new(Note(1)).to(ledger.address()))
        .unwrap();
    broker
        .route(MessageEnvelope {
            routing_key: ledger.address().routing_key(),
            ..MessageEnvelope::new(Note(10))
        })
        .unwrap();
    broker
        .route_to("ledger", MessageEnvelope::new(Note(100)))
        .unwrap();
    assert_eq!(
        broker.ask(ledger.address(), Charge(1000)).await.unwrap(),
        1111
    );
    assert_eq!(
        broker
            .ask(Target::Key(ledger.address().routing_key()), Charge(0))
            .await
            .unwrap(),
        1111
    );
    assert_eq!(broker.ask("ledger", Total).await.unwrap(), 1111);
    let stats = broker.stats();
    assert_eq!(stats.routed, 6);
    assert_eq!(stats.failed(), 0);
}

#[tokio::test]
async fn an_unhandled_type_returns_the_envelope_untouched() {
    let system = ActorSystem::new();
    let sender = system.spawn(ledger()).address();
    let ledger = system.spawn(ledger());
    let envelope = MessageEnvelope::new(Refund(7))
        .to(ledger.address())
        .from(sender);
    let stamped = envelope.timestamp;
    let refused = system.broker().route(envelope).unwrap_err();
    match refused.failure() {
        RouteFailure::Unhandled {
            target,
            message_type,
            handles,
        } => {
            assert_eq!(*target, ledger.address());
            assert_eq!(*message_type, Refund::MESSAGE_TYPE);
            assert!(
                handles.contains(&Charge::MESSAGE_TYPE) && handles.contains(&Price::MESSAGE_TYPE)
            );
        }
        other => panic!("expected Unhandled, got {other:?}"),
    }
    let text = refused.to_string();
    assert!(
        text.contains("does not handle `broker::Refund`; it handles"),
        "{text}"
    );
    let envelope = refused.into_envelope();
    assert_eq!(envelope.message, Refund(7));
    assert_eq!(envelope.sender, Some(sender));
    assert_eq!(envelope.timestamp, stamped);
    assert_eq!(envelope.routing_key, ledger.address().routing_key());
    assert_eq!(system.broker().stats().unhandled, 1);
    // The typed ask gives the message back too.
    match system.broker().ask(ledger.address(), Refund(8)).await {
        Err(BrokerAskError::NotRouted { message, failure }) => {
            assert_eq!(message, Refund(8));
            assert!(matches!(failure, RouteFailure::Unhandled { .. }));
        }
        other => panic!("expected NotRouted, got {other:?}"),
    }
}

#[tokio::test]
async fn unaddressed_unknown_names_and_unknown_keys_return_the_envelope() {
    let system = ActorSystem::new();
    let broker = system.broker();
    let refused = broker.route(MessageEnvelope::new(Note(1))).unwrap_err();
    assert_eq!(*refused.failure(), RouteFailure::Unaddressed);
    assert_eq!(refused.into_envelope().message, Note(1));

    let refused = broker
        .route_to("nobody", MessageEnvelope::new(Note(2)))
        .unwrap_err();
    assert_eq!(
        *refused.failure(),
        RouteFailure::NoSuchName {
            name: "nobody".into()
        }
    );
    assert_eq!(refused.into_envelope().message, Note(2));

    let refused = broker
        .route(MessageEnvelope {
            routing_key: 12345,
            ..MessageEnvelope::new(Note(3))
        })
        .unwrap_err();
    assert_eq!(
        *refused.failure(),
        RouteFailure::NoSuchActor { routing_key: 12345 }
    );
    let stats = broker.stats();
    assert_eq!(
        (stats.unaddressed, stats.no_such_name, stats.no_such_actor),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn a_stopped_actor_has_no_route_and_a_full_mailbox_gives_the_envelope_back() {
    let system = ActorSystem::new();
    let broker = system.broker();
    let small = system.spawn_with(
        ledger(),
        SpawnOptions::default().mailbox(MailboxKind::Bounded(2)),
    );
    // Busy the actor, then fill its two slots.
    let gate = hold(&small).await;
    let mut queued = 0;
    let full = loop {
        match broker.route(MessageEnvelope::new(Note(queued)).to(small.address())) {
            Ok(()) => queued += 1,
            Err(refused) => break refused,
        }
    };
    assert_eq!(queued, 2);
    assert_eq!(
        *full.failure(),
        RouteFailure::MailboxFull {
            target: small.address()
        }
    );
    assert_eq!(full.into_envelope().message, Note(queued));
    gate.add_permits(1);
    small.ask(Total).await.unwrap();

    let address = small.address();
    assert_eq!(broker.route_count(), 1);
    small.stop();
    small.wait_for_stop().await;
    assert_eq!(broker.route_count(), 0);
    let refused = broker
        .route(MessageEnvelope::new(Note(1)).to(address))
        .unwrap_err();
    assert_eq!(
        *refused.failure(),
        RouteFailure::NoSuchActor {
            routing_key: address.routing_key()
        }
    );
}

#[tokio::test]
async fn a_hundred_thousand_spawn_stop_cycles_leave_no_route_and_no_name() {
    let system = ActorSystem::new();
    let broker = system.broker();
    for i in 0..100_000_u32 {
        let actor = system.spawn(ledger());
        if i % 1000 == 0 {
            broker
                .resolver()
                .register(format!("cycle-{i}"), actor.address())
                .unwrap();
        }
        actor.stop();
        actor.wait_for_stop().await;
    }
    assert_eq!(broker.route_count(), 0);
    assert_eq!(system.actor_count(), 0);
    assert!(broker.resolver().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Names.

#[tokio::test]
async fn names_are_unique_freed_on_stop_and_the_cache_is_invalidated() {
    let system = ActorSystem::new();
    let resolver = system.resolver();
    let first = system.spawn(ledger());
    let second = system.spawn(ledger());
    resolver.register("svc", first.address()).unwrap();
    // Registering again for the holder is a no-op; for another actor, an error naming the holder.
    resolver.register("svc", first.address()).unwrap();
    let taken = resolver.register("svc", second.address()).unwrap_err();
    assert_eq!(
        taken,
        RegisterError::Taken {
            name: "svc".into(),
            holder: first.address()
        }
    );
    assert!(taken.to_string().contains(&first.address().to_string()));

    let before = system.broker().stats();
    assert_eq!(resolver.resolve("svc"), Some(first.address())); // miss, then cached
    assert_eq!(resolver.resolve("svc"), Some(first.address())); // hit
    let after = system.broker().stats();
    assert_eq!(after.name_cache_misses - before.name_cache_misses, 1);
    assert_eq!(after.name_cache_hits - before.name_cache_hits, 1);

    // Re-registration: the cached entry must not survive it.
    assert_eq!(resolver.unregister("svc"), Some(first.address()));
    assert_eq!(resolver.resolve("svc"), None);
    resolver.register("svc", second.address()).unwrap();
    assert_eq!(resolver.resolve("svc"), Some(second.address()));

    // A stop frees the name (and the cache forgets it).
    second.stop();
    second.wait_for_stop().await;
    assert_eq!(resolver.resolve("svc"), None);
    resolver.register("svc", first.address()).unwrap();
    assert_eq!(resolver.resolve("svc"), Some(first.address()));
    assert_eq!(
        resolver.resolve_key(first.address().routing_key()),
        Some(first.address())
    );

    // No registering a stopped actor.
    let gone = second.address();
    assert_eq!(
        resolver.register("late", gone),
        Err(RegisterError::NoSuchActor(gone))
    );
}

#[tokio::test]
async fn a_registered_name_keeps_its_actor_alive() {
    let system = ActorSystem::new();
    let named = system.spawn(ledger());
    let address = named.address();
    system.resolver().register("kept", address).unwrap();
    let watcher = named.downgrade();
    drop(named);
    assert_eq!(system.broker().ask("kept", Charge(5)).await.unwrap(), 5);
    system.resolver().unregister("kept");
    // The last reference is gone: the actor stops by itself.
    if let Some(named) = watcher.upgrade() {
        drop(named);
    }
    while system.actor_count() > 0 {
        tokio::task::yield_now().await;
    }
    assert_eq!(system.resolver().resolve_key(address.routing_key()), None);
}

// ---------------------------------------------------------------------------------------------
// Dead letters.

#[tokio::test]
async fn messages_queued_at_a_stop_become_dead_letters_with_their_payload() {
    for kill in [false, true] {
        let system = ActorSystem::new();
        let broker = system.broker();
        let mut dead = broker.dead_letters();
        let ledger = system.spawn(ledger());
        let gate = hold(&ledger).await;
        // Queued behind the message being handled: a tell, a routed envelope, an ask.
        ledger.tell(Note(1)).unwrap();
        broker
            .route(MessageEnvelope::new(Note(2)).to(ledger.address()))
            .unwrap();
        let mut ask = Box::pin(ledger.ask(Charge(3)).into_future());
        assert!(poll_once(&mut ask).await.is_none());
        if kill {
            ledger.kill();
        } else {
            // A stop overtakes the queue once the current message is handled.
            ledger.stop();
            gate.add_permits(1);
        }
        let reason = ledger.wait_for_stop().await;
        assert!(matches!(ask.await, Err(AskError::Stopped)));
        let mut letters = Vec::new();
        for _ in 0..3 {
            letters.push(dead.recv().await.unwrap());
        }
        assert!(dead.try_recv().is_none());
        for letter in &letters {
            assert_eq!(*letter.reason(), DeadLetterReason::Stopped(reason.clone()));
            assert_eq!(letter.target(), ledger.address());
        }
        assert_eq!(
            reason,
            if kill {
                StopReason::Killed
            } else {
                StopReason::Stopped
            }
        );
        assert_eq!(letters[0].message_type(), Note::MESSAGE_TYPE);
        assert_eq!(letters[0].take::<Note>(), Some(Note(1)));
        assert_eq!(letters[0].take::<Note>(), None, "taken once");
        assert_eq!(letters[1].take::<Note>(), Some(Note(2)));
        assert!(letters[2].was_ask());
        assert!(!letters[2].is::<Note>());
        assert_eq!(letters[2].take::<Charge>(), Some(Charge(3)));
        assert_eq!(broker.stats().dead_letters, 3);
    }
}

#[tokio::test(start_paused = true)]
async fn a_delayed_message_to_a_stopped_actor_is_a_dead_letter() {
    #[derive(Message)]
    struct Later;

    #[derive(Message)]
    struct Arm(Recipient<Later>);

    struct Timer;

    #[actor]
    impl Timer {
        fn arm(&mut self, Arm(target): Arm, ctx: &mut Context<Self>) {
            ctx.send_after_to(&target, Later, std::time::Duration::from_secs(1));
        }
    }

    struct Target;

    #[actor]
    impl Target {
        fn later(&mut self, _: Later) {}
    }

    // A timer of one actor to another that has stopped by the time it fires. (A timer to the actor
    // itself ends with it: it is cancelled, not a dead letter.)
    let system = ActorSystem::new();
    let mut dead = system.broker().dead_letters();
    let timer = system.spawn(Timer);
    let target = system.spawn(Target);
    timer.tell(Arm(target.recipient())).unwrap();
    target.stop();
    target.wait_for_stop().await;
    let letter = dead.recv().await.unwrap();
    assert_eq!(*letter.reason(), DeadLetterReason::Closed);
    assert!(letter.take::<Later>().is_some());
    assert!(timer.is_alive());
}

// ---------------------------------------------------------------------------------------------
// Topics.

#[tokio::test]
async fn a_thousand_subscribers_each_receive_every_publication() {
    let system = ActorSystem::new();
    let broker = system.broker();
    let prices = broker.topic::<Price>("prices").unwrap();
    let handled = Arc::new(AtomicU64::new(0));
    let subscribers: Vec<_> = (0..1000)
        .map(|_| {
            let subscriber = system.spawn(Ledger {
                total: 0,
                handled: handled.clone(),
            });
            prices.subscribe(subscriber.recipient());
            subscriber
        })
        .collect();
    // The same topic by name; subscribing twice changes nothing.
    let again = broker.topic::<Price>("prices").unwrap();
    again.subscribe(subscribers[0].recipient());
    assert_eq!(again.subscriber_count(), 1000);
    for cents in 1..=10 {
        assert_eq!(prices.publish(Price(cents)).delivered, 1000);
    }
    for subscriber in &subscribers {
        assert_eq!(subscriber.ask(Total).await.unwrap(), 55);
    }
    assert_eq!(handled.load(Ordering::SeqCst), 10_000);
    assert_eq!(broker.stats().published, 10);

    // Subscribers that stop are removed as they stop, with their mailboxes, not at the next publish.
    for subscriber in &subscribers[..400] {
        subscriber.stop();
        subscriber.wait_for_stop().await;
    }
    assert_eq!(prices.subscriber_count(), 600);
    let report = prices.publish(Price(1));
    assert_eq!((report.delivered, report.removed), (600, 0));

    // One asked to stop refuses at once: the publish skips it and removes it.
    subscribers[400].stop();
    let report = prices.publish(Price(1));
    assert_eq!((report.delivered, report.removed), (599, 1));
    assert_eq!(prices.subscriber_count(), 599);
    // Unsubscribing is by address; a second time finds nothing.
    assert!(prices.unsubscribe(subscribers[401].address()));
    assert!(!prices.unsubscribe(subscribers[401].address()));
    assert_eq!(prices.subscriber_count(), 598);

    // A topic name carries one type.
    let mismatch = broker.topic::<Note>("prices").unwrap_err();
    assert_eq!(
        (mismatch.carries, mismatch.requested),
        (Price::MESSAGE_TYPE, Note::MESSAGE_TYPE)
    );
}

#[tokio::test]
async fn a_full_subscriber_gets_a_dead_letter_instead() {
    let system = ActorSystem::new();
    let mut dead = system.broker().dead_letters();
    let slow = system.spawn_with(
        ledger(),
        SpawnOptions::default().mailbox(MailboxKind::Bounded(1)),
    );
    let gate = hold(&slow).await;
    let prices = airssys_rt::broker::Topic::<Price>::new(&system, "local");
    prices.subscribe(slow.recipient());
    let reports: Vec<_> = (0..3).map(|cents| prices.publish(Price(cents))).collect();
    assert_eq!(
        (reports[0].delivered, reports[1].full, reports[2].full),
        (1, 1, 1)
    );
    let letter = dead.recv().await.unwrap();
    assert_eq!(*letter.reason(), DeadLetterReason::MailboxFull);
    assert!(letter.take::<Arc<Price>>().is_some());
    gate.add_permits(1);
}

// ---------------------------------------------------------------------------------------------
// The message pool.

#[derive(Message)]
#[message(result = u64)]
struct Frame([u64; 64]);

struct Sink;

#[actor]
impl Sink {
    fn frame(&mut self, frame: Pooled<Frame>) -> u64 {
        frame.0.iter().sum()
    }
}

#[tokio::test]
async fn pooled_messages_travel_through_the_broker_and_their_storage_returns() {
    let system = ActorSystem::new();
    let sink = system.spawn(Sink);
    let pool = MessagePool::<Frame>::new(8);
    for i in 0..100 {
        let frame = pool.wrap(Frame([i; 64]));
        assert_eq!(
            system.broker().ask(sink.address(), frame).await.unwrap(),
            i * 64
        );
    }
    let stats = pool.stats();
    assert_eq!(stats.allocated, 1, "one box, reused: {stats:?}");
    assert_eq!(stats.reused, 99);
    assert_eq!(stats.idle, 1);
    let frame = pool.wrap(Frame([2; 64]));
    assert_eq!(frame.into_inner().0[63], 2);
    assert_eq!(pool.stats().idle, 1);
}

#[test]
fn the_pool_is_safe_under_concurrency_and_bounded() {
    let pool = MessagePool::<Frame>::new(4);
    std::thread::scope(|scope| {
        for thread in 0..4_u64 {
            let pool = pool.clone();
            scope.spawn(move || {
                let mut held = Vec::new();
                for i in 0..10_000_u64 {
                    held.push(pool.wrap(Frame([thread * i; 64])));
                    if held.len() == 3 {
                        for frame in held.drain(..) {
                            assert!(frame.0.iter().all(|&value| value == frame.0[0]));
                        }
                    }
                }
            });
        }
    });
    let stats = pool.stats();
    assert_eq!(stats.allocated + stats.reused, 40_000);
    // At most 4 threads x 3 frames live at once, so that many boxes at most; the pool keeps 4.
    assert!(stats.allocated <= 12 + 40_000 / 3, "{stats:?}");
    assert!(stats.idle <= 4);
}

// ---------------------------------------------------------------------------------------------
// Concurrency.

#[test]
fn concurrent_routes_registrations_and_stops_lose_nothing() {
    let runtime = airssys_rt_suite::two_workers();
    runtime.block_on(async {
        const TARGETS: usize = 8;
        const SENDERS: u64 = 4;
        const PER_SENDER: u64 = 20_000;
        let system = ActorSystem::new();
        let broker = system.broker();
        let mut dead = broker.dead_letters();
        let handled = Arc::new(AtomicU64::new(0));
        let targets: Vec<_> = (0..TARGETS)
            .map(|_| {
                system.spawn(Ledger {
                    total: 0,
                    handled: handled.clone(),
                })
            })
            .collect();
        let addresses: Arc<Vec<_>> = Arc::new(targets.iter().map(|t| t.address()).collect());
        let senders: Vec<_> = (0..SENDERS)
            .map(|sender| {
                let broker = broker.clone();
                let addresses = addresses.clone();
                tokio::spawn(async move {
                    let (mut accepted, mut refused) = (0_u64, 0_u64);
                    for i in 0..PER_SENDER {
                        let target = addresses[(i as usize + sender as usize) % TARGETS];
                        match broker.route(MessageEnvelope::new(Note(1)).to(target)) {
                            Ok(()) => accepted += 1,
                            Err(error) => {
                                assert!(matches!(
                                    error.failure(),
                                    RouteFailure::NoSuchActor { .. } | RouteFailure::Stopped { .. }
                                ));
                                refused += 1;
                            }
                        }
                        if i % 256 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                    (accepted, refused)
                })
            })
            .collect();
        // Meanwhile: name and stop half of the targets.
        let registrar = {
            let resolver = system.resolver();
            let addresses = addresses.clone();
            tokio::spawn(async move {
                for (i, address) in addresses.iter().enumerate() {
                    let _ = resolver.register(format!("target-{i}"), *address);
                    tokio::task::yield_now().await;
                }
            })
        };
        for target in targets.iter().step_by(2) {
            tokio::task::yield_now().await;
            target.stop();
        }
        registrar.await.unwrap();
        let (mut accepted, mut refused) = (0, 0);
        for sender in senders {
            let (a, r) = sender.await.unwrap();
            accepted += a;
            refused += r;
        }
        assert_eq!(accepted + refused, SENDERS * PER_SENDER);
        // Stop the rest (draining), then count: every accepted message was handled or dead-lettered.
        for target in &targets {
            target.drain();
            target.wait_for_stop().await;
        }
        let mut dead_letters = 0;
        while dead.try_recv().is_some() {
            dead_letters += 1;
        }
        assert_eq!(handled.load(Ordering::SeqCst) + dead_letters, accepted);
        assert_eq!(broker.stats().routed, accepted);
        assert_eq!(broker.route_count(), 0, "no stale route");
        assert!(system.resolver().is_empty(), "no stale name");
    });
}

#[tokio::test(start_paused = true)]
async fn an_ask_refused_by_a_full_mailbox_is_not_counted_as_routed() {
    #[derive(Message)]
    #[message(result = u32)]
    struct Slow;

    struct Busy;

    #[actor]
    impl Busy {
        async fn slow(&mut self, _: Slow) -> u32 {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            0
        }
    }

    let system = ActorSystem::new();
    let broker = system.broker();
    let busy = system.spawn_with(
        Busy,
        SpawnOptions::default().mailbox(MailboxKind::Bounded(1)),
    );
    busy.tell(Slow).unwrap(); // handled: the actor sleeps in it
    tokio::task::yield_now().await;
    busy.tell(Slow).unwrap(); // queued: the mailbox is full
    let before = broker.stats();
    let refused = broker
        .ask_timeout(busy.address(), Slow, std::time::Duration::from_secs(1))
        .await;
    assert!(matches!(
        refused,
        Err(BrokerAskError::Ask(AskError::Send(SendError::Full(Slow))))
    ));
    let after = broker.stats();
    assert_eq!(
        after.routed, before.routed,
        "a refused ask was counted as routed"
    );
    assert_eq!(after.mailbox_full, before.mailbox_full + 1);
}
