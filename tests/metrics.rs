//! The `metrics` feature: each metric the crate docs name is recorded with its labels, by
//! metrics-util's debugging recorder (installed once for this test binary).
//! `cargo test --features metrics --test metrics`.
#![cfg(feature = "metrics")]

use std::sync::Arc;
use std::time::Duration;

use airssys_rt::prelude::*;
use airssys_rt::supervisor::{ChildSpec, Strategy, SupervisorSpec};
use airssys_rt_suite::fixtures::{Add, Counter, Crash, crash_and_restart};
use metrics_util::CompositeKey;
use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use tokio::sync::Semaphore;

/// Handles each message once its gate lets it through.
struct Gated(Arc<Semaphore>);

#[derive(Message)]
struct Item(u32);

#[actor]
impl Gated {
    async fn item(&mut self, _: Item) {
        self.0.acquire().await.unwrap().forget();
    }
}

/// What the recorder holds. Taken once, at the end: a snapshot resets every value it reads.
type Snapshot = Vec<(CompositeKey, DebugValue)>;

/// The value of the metric `name` of `kind` whose labels are exactly `labels`.
fn value<'a>(
    snapshot: &'a Snapshot,
    kind: MetricKind,
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'a DebugValue> {
    let mut wanted: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    wanted.sort();
    snapshot
        .iter()
        .find(|(key, _)| {
            let mut have: Vec<(String, String)> = key
                .key()
                .labels()
                .map(|label| (label.key().to_owned(), label.value().to_owned()))
                .collect();
            have.sort();
            key.kind() == kind && key.key().name() == name && have == wanted
        })
        .map(|(_, value)| value)
}

fn counter(snapshot: &Snapshot, name: &str, labels: &[(&str, &str)]) -> u64 {
    match value(snapshot, MetricKind::Counter, name, labels) {
        Some(DebugValue::Counter(n)) => *n,
        other => panic!("counter {name} {labels:?}: {other:?}"),
    }
}

fn gauge(snapshot: &Snapshot, name: &str, labels: &[(&str, &str)]) -> f64 {
    match value(snapshot, MetricKind::Gauge, name, labels) {
        Some(DebugValue::Gauge(n)) => n.into_inner(),
        other => panic!("gauge {name} {labels:?}: {other:?}"),
    }
}

fn histogram(snapshot: &Snapshot, name: &str, labels: &[(&str, &str)]) -> usize {
    match value(snapshot, MetricKind::Histogram, name, labels) {
        Some(DebugValue::Histogram(values)) => values.len(),
        other => panic!("histogram {name} {labels:?}: {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_metric_is_recorded_with_its_actors_labels() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder
        .install()
        .expect("the only recorder of this test binary");
    let system = ActorSystem::builder().panic_reports(false).build();

    // Sent and handled, with the handler's and the mailbox wait's times, and the depth after each.
    let tally = system.spawn_with(Counter(0), SpawnOptions::default().name("tally"));
    for n in 1..=3 {
        tally.ask(Add(n)).await.unwrap();
    }
    tally.tell(Add(1)).unwrap();
    tally.tell(Add(1)).unwrap();
    assert_eq!(tally.ask(Add(0)).await.unwrap(), 8);
    // Refused: a full bounded mailbox, then a stopped actor. An unnamed actor has no name label.
    let gate = Arc::new(Semaphore::new(0));
    let gated = system.spawn_with(
        Gated(gate.clone()),
        SpawnOptions::default().mailbox(MailboxKind::Bounded(1)),
    );
    gated.tell(Item(0)).unwrap();
    while gated.tell(Item(1)).is_err() {
        tokio::task::yield_now().await; // until the actor took item 0 and blocked on it
    }
    assert!(matches!(gated.tell(Item(2)), Err(SendError::Full(Item(2)))));
    // The stop overtakes item 1: a dead letter. Then the actor refuses.
    gated.stop();
    gate.add_permits(1);
    gated.wait_for_stop().await;
    assert!(matches!(gated.tell(Item(3)), Err(SendError::Stopped(_))));

    // Restarts of a child (its name is its id in the spec) and its supervisor's escalation.
    let mut events = system.supervision_events();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(1, Duration::from_secs(60))
        .child(ChildSpec::new("crasher", || Counter(0)))
        .spawn(&system);
    let crasher = root.child::<Counter>("crasher").await.unwrap();
    crash_and_restart(&crasher, &mut events).await;
    crasher.tell(Crash).unwrap();
    root.wait_for_stop().await;

    let snapshot: Snapshot = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| (key, value))
        .collect();
    let s = &snapshot;
    let tally_labels = [("actor_type", "Counter"), ("actor_name", "tally")];
    assert_eq!(
        histogram(s, "airssys_handler_duration_seconds", &tally_labels),
        6
    );
    assert_eq!(
        histogram(s, "airssys_mailbox_wait_seconds", &tally_labels),
        6
    );
    assert_eq!(counter(s, "airssys_messages_sent_total", &tally_labels), 6);
    assert_eq!(
        counter(s, "airssys_messages_handled_total", &tally_labels),
        6
    );
    assert_eq!(gauge(s, "airssys_mailbox_depth", &tally_labels), 0.0);

    let gated_labels = [("actor_type", "Gated")];
    let refused = |reason| {
        let mut labels = gated_labels.to_vec();
        labels.push(("reason", reason));
        counter(s, "airssys_messages_refused_total", &labels)
    };
    // Each `tell` that found the mailbox full while the actor took item 0 was refused too.
    assert!(refused("full") >= 1);
    assert_eq!(refused("stopped"), 1);
    let mut dead = gated_labels.to_vec();
    dead.push(("reason", "stopped"));
    assert_eq!(counter(s, "airssys_messages_dead_lettered_total", &dead), 1);
    assert_eq!(gauge(s, "airssys_actors_live", &gated_labels), 0.0);

    let crasher_labels = [("actor_type", "Counter"), ("actor_name", "crasher")];
    assert_eq!(counter(s, "airssys_restarts_total", &crasher_labels), 1);
    assert_eq!(
        counter(
            s,
            "airssys_escalations_total",
            &[("actor_type", "Supervisor")]
        ),
        1
    );
    // Of the Counters, only `tally` is still alive.
    assert_eq!(
        gauge(s, "airssys_actors_live", &[("actor_type", "Counter")]),
        1.0
    );
}
