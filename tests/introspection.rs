//! Introspection: `ActorSystem::snapshot` shows each actor's identity, supervisor, state, mailbox
//! depth, messages handled and restarts, and prints the supervision tree.

use std::sync::Arc;
use std::time::Duration;

use airssys_rt::introspection::ActorState;
use airssys_rt::prelude::*;
use airssys_rt::supervisor::{Backoff, ChildSpec, Strategy, SupervisionEventKind, SupervisorSpec};
use airssys_rt_suite::fixtures::{Add, Counter, Crash, crash_and_restart};
use airssys_rt_suite::wait_for;
use tokio::sync::Semaphore;

/// Handles each message once its gate lets it through: what is sent meanwhile waits in its mailbox.
struct Gated {
    gate: Arc<Semaphore>,
}

#[derive(Message)]
struct Item;

#[actor]
impl Gated {
    async fn item(&mut self, _: Item) {
        self.gate.acquire().await.unwrap().forget();
    }
}

/// `on_start` and `on_stop` that wait for their gates.
struct Slow {
    start: Arc<Semaphore>,
    stop: Arc<Semaphore>,
}

#[actor]
impl Slow {
    async fn on_start(&mut self, _: &mut Context<Self>) {
        self.start.acquire().await.unwrap().forget();
    }

    async fn on_stop(&mut self, _: &mut Context<Self>, _: &StopReason) {
        self.stop.acquire().await.unwrap().forget();
    }
}

#[tokio::test]
async fn the_snapshot_shows_the_supervision_tree_with_each_actors_state_and_counts() {
    let system = ActorSystem::builder().panic_reports(false).build();
    let mut events = system.supervision_events();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::new("counter", || Counter(0)))
        .child(ChildSpec::new("gated", || Gated {
            gate: Arc::new(Semaphore::new(0)),
        }))
        .spawn(&system);
    let counter = root.child::<Counter>("counter").await.unwrap();
    let gated = root.child::<Gated>("gated").await.unwrap();
    let alone = system.spawn_with(Counter(0), SpawnOptions::default().name("alone"));
    for n in 1..=3 {
        assert_eq!(alone.ask(Add(n)).await.unwrap(), [1, 3, 6][n as usize - 1]);
    }
    counter.ask(Add(1)).await.unwrap();
    crash_and_restart(&counter, &mut events).await;
    counter.ask(Add(1)).await.unwrap();
    // The first item blocks the handler; two more wait in the mailbox.
    for _ in 0..3 {
        gated.tell(Item).unwrap();
    }
    while system
        .snapshot()
        .get(gated.address())
        .unwrap()
        .mailbox_depth
        != 2
    {
        tokio::task::yield_now().await;
    }

    let snapshot = system.snapshot();
    assert_eq!(snapshot.actors().len(), 4);
    let of = |address| snapshot.get(address).unwrap();
    assert_eq!(of(root.address()).parent, None);
    assert_eq!(of(counter.address()).parent, Some(root.address()));
    assert_eq!(of(gated.address()).parent, Some(root.address()));
    assert_eq!(of(alone.address()).parent, None);
    assert_eq!(of(alone.address()).handled, 3);
    assert_eq!(of(alone.address()).id.name(), Some("alone"));
    // One `Add`, the `Crash` (handled, by panicking), one `Add` after the restart.
    assert_eq!(of(counter.address()).handled, 3);
    assert_eq!(of(counter.address()).restarts, 1);
    assert_eq!(of(gated.address()).mailbox_depth, 2);
    assert_eq!(
        of(gated.address()).handled,
        0,
        "the first item is still being handled"
    );
    for actor in snapshot.actors() {
        assert_eq!(actor.state, ActorState::Running, "{actor}");
    }
    let roots: Vec<_> = snapshot.roots().map(|actor| actor.id.address()).collect();
    assert_eq!(roots, [root.address(), alone.address()]);
    let children: Vec<_> = snapshot
        .children(root.address())
        .map(|actor| actor.id.address())
        .collect();
    assert_eq!(children, [counter.address(), gated.address()]);

    let supervisor_handled = of(root.address()).handled;
    assert_eq!(
        snapshot.to_string(),
        format!(
            "4 actors\n\
             <Supervisor 1>  running  mailbox 0  handled {supervisor_handled}\n\
             ├─ counter <Counter 2>  running  mailbox 0  handled 3  restarts 1\n\
             └─ gated <Gated 3>  running  mailbox 2  handled 0\n\
             alone <Counter 4>  running  mailbox 0  handled 3\n"
        )
    );
}

#[tokio::test]
async fn the_state_follows_the_actor_from_its_start_to_its_stop() {
    let system = ActorSystem::new();
    let start = Arc::new(Semaphore::new(0));
    let stop = Arc::new(Semaphore::new(0));
    let slow = system.spawn(Slow {
        start: start.clone(),
        stop: stop.clone(),
    });
    let state = |system: &ActorSystem| system.snapshot().get(slow.address()).map(|a| a.state);
    tokio::task::yield_now().await;
    assert_eq!(state(&system), Some(ActorState::Starting), "in on_start");
    start.add_permits(1);
    while state(&system) != Some(ActorState::Running) {
        tokio::task::yield_now().await;
    }
    slow.stop();
    while state(&system) != Some(ActorState::Stopping) {
        tokio::task::yield_now().await;
    }
    tokio::task::yield_now().await;
    assert_eq!(state(&system), Some(ActorState::Stopping), "in on_stop");
    stop.add_permits(1);
    assert_eq!(slow.wait_for_stop().await, StopReason::Stopped);
    assert_eq!(state(&system), None, "a stopped actor leaves the snapshot");
}

#[tokio::test(start_paused = true)]
async fn a_child_waiting_for_its_restart_is_shown_restarting() {
    let system = ActorSystem::builder().panic_reports(false).build();
    let mut events = system.supervision_events();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .backoff(Backoff::exponential(
            Duration::from_secs(10),
            Duration::from_secs(10),
        ))
        .child(ChildSpec::new("counter", || Counter(0)))
        .spawn(&system);
    let counter = root.child::<Counter>("counter").await.unwrap();
    counter.tell(Crash).unwrap();
    wait_for(&mut events, |event| {
        matches!(event.kind, SupervisionEventKind::RestartScheduled(_))
    })
    .await;
    let child = system.snapshot().get(counter.address()).cloned().unwrap();
    assert_eq!(child.state, ActorState::Restarting);
    assert_eq!(child.restarts, 0, "not restarted yet: its backoff runs");
    wait_for(&mut events, |event| {
        matches!(event.kind, SupervisionEventKind::Restarted(_))
    })
    .await;
    let child = system.snapshot().get(counter.address()).cloned().unwrap();
    assert_eq!(child.restarts, 1);
    assert_ne!(child.state, ActorState::Restarting);
}
