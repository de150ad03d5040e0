//! Typed lookups by name: an `ActorRef<A>` checked against the actor's type, a `Recipient<M>` checked
//! against its handled messages, and monitoring by name.

use airssys_rt::broker::LookupError;
use airssys_rt::prelude::*;

#[derive(Message)]
#[message(result = u64)]
struct Total;

#[derive(Message)]
struct Charge(u64);

#[derive(Message)]
struct Refund;

struct Billing(u64);

#[actor]
impl Billing {
    fn charge(&mut self, Charge(cents): Charge) {
        self.0 += cents;
    }

    fn total(&self, _: Total) -> u64 {
        self.0
    }
}

struct Audit;

#[actor]
impl Audit {
    fn total(&self, _: Total) -> u64 {
        0
    }
}

#[tokio::test]
async fn a_name_gives_a_reference_of_the_actors_own_type_and_no_other() {
    let system = ActorSystem::new();
    let resolver = system.resolver();
    let billing = system.spawn(Billing(0));
    resolver.register("billing", billing.address()).unwrap();
    drop(billing); // the name keeps it alive

    let found = resolver.lookup::<Billing>("billing").unwrap();
    found.tell(Charge(250)).unwrap();
    assert_eq!(found.ask(Total).await.unwrap(), 250);

    let wrong = resolver.lookup::<Audit>("billing").unwrap_err();
    assert!(
        matches!(&wrong, LookupError::WrongType { actual, expected, .. }
            if actual.ends_with("Billing") && expected.ends_with("Audit")),
        "{wrong:?}"
    );
    assert!(wrong.to_string().contains("is a"), "{wrong}");
    assert_eq!(
        resolver.lookup::<Billing>("nobody").unwrap_err(),
        LookupError::NoSuchName("nobody".into())
    );
}

#[tokio::test]
async fn a_name_gives_a_recipient_of_a_message_it_handles_whatever_its_type() {
    let system = ActorSystem::new();
    let resolver = system.resolver();
    resolver
        .register("billing", system.spawn(Billing(5)).address())
        .unwrap();
    resolver
        .register("audit", system.spawn(Audit).address())
        .unwrap();
    for (name, expected) in [("billing", 5), ("audit", 0)] {
        let total = resolver.lookup_recipient::<Total>(name).unwrap();
        assert_eq!(total.ask(Total).await.unwrap(), expected);
    }
    let unhandled = resolver.lookup_recipient::<Refund>("billing").unwrap_err();
    match &unhandled {
        LookupError::Unhandled {
            message_type,
            handles,
            ..
        } => {
            assert_eq!(*message_type, Refund::MESSAGE_TYPE);
            assert_eq!(*handles, [Charge::MESSAGE_TYPE, Total::MESSAGE_TYPE]);
        }
        other => panic!("expected Unhandled, got {other:?}"),
    }
}

#[tokio::test]
async fn a_name_stops_resolving_when_its_actor_stops() {
    let system = ActorSystem::new();
    let resolver = system.resolver();
    let billing = system.spawn(Billing(0));
    resolver.register("billing", billing.address()).unwrap();
    billing.stop();
    billing.wait_for_stop().await;
    assert_eq!(
        resolver.lookup::<Billing>("billing").unwrap_err(),
        LookupError::NoSuchName("billing".into())
    );
    assert!(resolver.lookup_recipient::<Total>("billing").is_err());
}

/// Monitors by name; forwards the stop reasons it is told of.
struct Watcher(tokio::sync::mpsc::UnboundedSender<StopReason>);

#[derive(Message)]
#[message(result = Result<(), LookupError>)]
struct WatchName(&'static str);

#[actor]
impl Watcher {
    fn watch_name(
        &mut self,
        WatchName(name): WatchName,
        ctx: &mut Context<Self>,
    ) -> Result<(), LookupError> {
        ctx.monitor_name(name).map(drop)
    }

    fn down(&mut self, down: Down) {
        let _ = self.0.send(down.reason);
    }
}

#[tokio::test]
async fn an_actor_monitors_another_by_name() {
    let system = ActorSystem::new();
    let resolver = system.resolver();
    let billing = system.spawn(Billing(0));
    resolver.register("billing", billing.address()).unwrap();
    let (downs, mut down) = tokio::sync::mpsc::unbounded_channel();
    let watcher = system.spawn(Watcher(downs));
    watcher.ask(WatchName("billing")).await.unwrap().unwrap();
    assert_eq!(
        watcher.ask(WatchName("nobody")).await.unwrap(),
        Err(LookupError::NoSuchName("nobody".into()))
    );
    billing.stop();
    assert_eq!(down.recv().await, Some(StopReason::Stopped));
}
