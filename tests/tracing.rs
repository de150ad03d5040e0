//! The `tracing` feature (on by default): each span and event the crate docs name appears, with its
//! fields, recorded by a layer of this test's own.
#![cfg(feature = "tracing")]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use airssys_rt::prelude::*;
use airssys_rt::supervisor::{ChildSpec, Strategy, SupervisionEventKind, SupervisorSpec};
use airssys_rt_suite::fixtures::{Add, Counter, Crash, crash_and_restart};
use airssys_rt_suite::wait_for;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span as the layer saw it.
#[derive(Debug, Clone)]
struct SeenSpan {
    name: &'static str,
    fields: HashMap<String, String>,
    parent: Option<u64>,
    follows: Vec<u64>,
}

/// An event, with the span it was emitted in.
#[derive(Debug, Clone)]
struct SeenEvent {
    level: tracing::Level,
    message: String,
    fields: HashMap<String, String>,
    span: Option<u64>,
}

#[derive(Default)]
struct Seen {
    spans: HashMap<u64, SeenSpan>,
    events: Vec<SeenEvent>,
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Seen>>);

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let mut fields = HashMap::new();
        attrs.record(&mut Fields(&mut fields));
        let parent = ctx
            .span(id)
            .and_then(|span| span.parent())
            .map(|parent| parent.id().into_u64());
        self.0.lock().unwrap().spans.insert(
            id.into_u64(),
            SeenSpan {
                name: attrs.metadata().name(),
                fields,
                parent,
                follows: Vec::new(),
            },
        );
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: LayerContext<'_, S>) {
        let mut seen = self.0.lock().unwrap();
        if let Some(span) = seen.spans.get_mut(&id.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, _: LayerContext<'_, S>) {
        let mut seen = self.0.lock().unwrap();
        if let Some(span) = seen.spans.get_mut(&id.into_u64()) {
            span.follows.push(follows.into_u64());
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        let span = ctx.event_span(event).map(|span| span.id().into_u64());
        self.0.lock().unwrap().events.push(SeenEvent {
            level: *event.metadata().level(),
            message,
            fields,
            span,
        });
    }
}

impl Recorder {
    fn spans(&self, name: &str) -> Vec<(u64, SeenSpan)> {
        let seen = self.0.lock().unwrap();
        let mut spans: Vec<_> = seen
            .spans
            .iter()
            .filter(|(_, span)| span.name == name)
            .map(|(id, span)| (*id, span.clone()))
            .collect();
        spans.sort_by_key(|(id, _)| *id);
        spans
    }

    fn span(&self, id: u64) -> SeenSpan {
        self.0.lock().unwrap().spans[&id].clone()
    }

    fn events(&self, message: &str) -> Vec<SeenEvent> {
        let seen = self.0.lock().unwrap();
        seen.events
            .iter()
            .filter(|event| event.message == message)
            .cloned()
            .collect()
    }

    /// The actor span whose `actor.address` is `address`.
    fn actor_span(&self, address: ActorAddress) -> u64 {
        let address = address.id().to_string();
        let spans = self.spans("actor");
        let found: Vec<_> = spans
            .iter()
            .filter(|(_, span)| span.fields.get("actor.address") == Some(&address))
            .collect();
        assert_eq!(found.len(), 1, "one actor span for {address}: {spans:?}");
        found[0].0
    }
}

#[derive(Message)]
#[message(result = u64)]
struct Forward(u64);

/// Asks the counter from inside its own handler: the counter's message span follows from this one.
struct Front(ActorRef<Counter>);

#[actor]
impl Front {
    async fn forward(&mut self, Forward(n): Forward) -> u64 {
        self.0.ask(Add(n)).await.unwrap()
    }
}

fn recorder() -> (Recorder, tracing::subscriber::DefaultGuard) {
    let recorder = Recorder::default();
    let subscriber = tracing_subscriber::registry().with(recorder.clone());
    (recorder, tracing::subscriber::set_default(subscriber))
}

#[tokio::test(flavor = "current_thread")]
async fn an_actor_runs_in_its_span_and_each_message_in_one_that_follows_from_the_senders() {
    let (seen, _guard) = recorder();
    let system = ActorSystem::new();
    let counter = system.spawn_with(Counter(0), SpawnOptions::default().name("tally"));
    let front = system.spawn(Front(counter.clone()));
    assert_eq!(front.ask(Forward(5)).await.unwrap(), 5);
    counter.stop();
    counter.wait_for_stop().await;

    let counter_span = seen.actor_span(counter.address());
    let fields = seen.span(counter_span).fields;
    assert_eq!(fields["actor.type"], "Counter");
    assert_eq!(fields["actor.name"], "tally");
    assert_eq!(fields["actor"], format!("{}", counter.id()));
    let front_span = seen.actor_span(front.address());

    let messages = seen.spans("message");
    let of_type = |ty: &str| {
        messages
            .iter()
            .find(|(_, span)| span.fields["message.type"].ends_with(ty))
            .unwrap_or_else(|| panic!("a message span for {ty}: {messages:?}"))
            .clone()
    };
    let (forward_id, forward) = of_type("Forward");
    let (_, add) = of_type("Add");
    assert_eq!(
        forward.parent,
        Some(front_span),
        "inside the front's actor span"
    );
    assert_eq!(
        add.parent,
        Some(counter_span),
        "inside the counter's actor span"
    );
    assert_eq!(add.follows, [forward_id], "sent from the Forward handler");
    assert!(forward.follows.is_empty(), "sent from outside any span");

    let started = seen.events("actor started");
    assert!(started.iter().any(|event| event.span == Some(counter_span)));
    let stopped = seen.events("actor stopped");
    let counter_stopped = stopped
        .iter()
        .find(|event| event.fields["actor"] == format!("{}", counter.id()))
        .expect("the counter's stop");
    assert_eq!(
        counter_stopped.fields["reason"],
        StopReason::Stopped.to_string()
    );
    assert_eq!(counter_stopped.level, tracing::Level::DEBUG);
}

#[tokio::test(flavor = "current_thread")]
async fn panics_restarts_and_escalations_are_events_with_the_actors_identity() {
    let (seen, _guard) = recorder();
    let system = ActorSystem::builder().panic_reports(false).build();
    let mut events = system.supervision_events();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(1, std::time::Duration::from_secs(60))
        .child(ChildSpec::new("counter", || Counter(0)))
        .spawn(&system);
    let counter = root.child::<Counter>("counter").await.unwrap();
    crash_and_restart(&counter, &mut events).await;
    counter.tell(Crash).unwrap();
    wait_for(&mut events, |event| {
        matches!(event.kind, SupervisionEventKind::Escalated(_))
    })
    .await;
    root.wait_for_stop().await;

    // One span per incarnation (its `on_start` included), each a root.
    let address = counter.address().id().to_string();
    let incarnations: Vec<_> = seen
        .spans("actor")
        .into_iter()
        .filter(|(_, span)| span.fields.get("actor.address") == Some(&address))
        .collect();
    assert_eq!(incarnations.len(), 2, "{incarnations:?}");
    assert!(incarnations.iter().all(|(_, span)| span.parent.is_none()));

    let panics = seen.events("actor panicked");
    assert_eq!(panics.len(), 2, "{panics:?}");
    assert_eq!(panics[0].level, tracing::Level::ERROR);
    assert_eq!(panics[0].fields["panic"], "asked to crash");
    assert_eq!(panics[0].fields["actor"], format!("{}", counter.id()));
    assert!(
        panics[0].fields["during"].contains("Crash"),
        "{:?}",
        panics[0]
    );

    let restarted = seen.events("child restarted");
    assert_eq!(restarted.len(), 1);
    assert_eq!(restarted[0].level, tracing::Level::INFO);
    assert_eq!(restarted[0].fields["spec"], "counter");
    assert_eq!(restarted[0].fields["child"], format!("{}", counter.id()));
    assert_eq!(restarted[0].fields["supervisor"], format!("{}", root.id()));

    let started = seen.events("child started");
    assert_eq!(
        started.len(),
        1,
        "started once, then restarted: {started:?}"
    );
    assert_eq!(started[0].level, tracing::Level::DEBUG);
    assert_eq!(started[0].fields["spec"], "counter");
    let exited = seen.events("child exited");
    assert_eq!(exited.len(), 2, "{exited:?}");
    assert!(
        exited[0].fields["reason"].contains("asked to crash"),
        "{:?}",
        exited[0]
    );

    let escalated = seen.events("child failure escalated");
    assert_eq!(escalated.len(), 1);
    assert_eq!(escalated[0].level, tracing::Level::ERROR);
    let stopped = seen.events("actor stopped");
    assert!(
        stopped
            .iter()
            .any(|event| event.fields["actor"] == format!("{}", root.id())
                && event.level == tracing::Level::WARN),
        "the supervisor stops escalated, abnormally: {stopped:?}"
    );
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_scheduled_restart_and_a_removal_are_events_too() {
    let (seen, _guard) = recorder();
    let system = ActorSystem::builder().panic_reports(false).build();
    let mut events = system.supervision_events();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .backoff(airssys_rt::supervisor::Backoff::exponential(
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(1),
        ))
        .child(ChildSpec::new("counter", || Counter(0)))
        .spawn(&system);
    let counter = root.child::<Counter>("counter").await.unwrap();
    crash_and_restart(&counter, &mut events).await;
    root.remove_child("counter").await.unwrap();

    let scheduled = seen.events("child restart scheduled");
    assert_eq!(scheduled.len(), 1, "{scheduled:?}");
    assert_eq!(scheduled[0].level, tracing::Level::INFO);
    assert_eq!(scheduled[0].fields["delay"], "1s");
    let removed = seen.events("child removed");
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0].fields["child"], format!("{}", counter.id()));
}
