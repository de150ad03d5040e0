//! Actor names and identity in what people read: references, stop reasons, dead letters, panic
//! reports.

use std::time::Duration;

use airssys_rt::prelude::*;
use airssys_rt::supervisor::{ChildSpec, Strategy, SupervisorSpec};

#[derive(Message)]
struct Boom;

#[derive(Message)]
#[message(result = u32)]
struct Get;

struct Worker;

#[actor]
impl Worker {
    fn boom(&mut self, _: Boom) {
        panic!("boom");
    }

    fn get(&mut self, _: Get) -> u32 {
        7
    }
}

#[tokio::test(flavor = "current_thread")]
async fn references_print_the_name_and_the_short_type() {
    let system = ActorSystem::builder().panic_reports(false).build();
    let named = system.spawn_with(Worker, SpawnOptions::default().name("worker-3"));
    let id = named.address().id();
    assert_eq!(named.to_string(), format!("worker-3 <Worker {id}>"));
    assert_eq!(
        format!("{named:?}"),
        format!("ActorRef(worker-3 <Worker {id}>)")
    );
    assert_eq!(named.id().name(), Some("worker-3"));
    assert!(named.id().type_name().ends_with("identity::Worker"));
    let recipient: Recipient<Get> = named.recipient();
    assert_eq!(recipient.to_string(), named.to_string());

    let anonymous = system.spawn(Worker);
    let id = anonymous.address().id();
    assert_eq!(anonymous.to_string(), format!("<Worker {id}>"));
    assert_eq!(anonymous.id().name(), None);
}

#[tokio::test(flavor = "current_thread")]
async fn a_panic_names_the_actor_in_its_stop_reason() {
    let system = ActorSystem::builder().panic_reports(false).build();
    let worker = system.spawn_with(Worker, SpawnOptions::default().name("worker-3"));
    worker.tell(Boom).unwrap();
    let StopReason::Panicked(panic) = worker.wait_for_stop().await else {
        panic!("the worker panicked");
    };
    assert_eq!(panic.actor(), worker.id());
    assert_eq!(panic.actor().name(), Some("worker-3"));
    let id = worker.address().id();
    assert_eq!(
        StopReason::Panicked(panic).to_string(),
        format!("worker-3 <Worker {id}> panicked while handling `identity::Boom`: boom")
    );
}

#[tokio::test(flavor = "current_thread")]
async fn supervised_children_are_named_after_their_child_id() {
    let system = ActorSystem::builder().panic_reports(false).build();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(5, Duration::from_secs(60))
        .child(ChildSpec::new("pool-worker-1", || Worker))
        .spawn(&system);
    let child = root.child::<Worker>("pool-worker-1").await.unwrap();
    assert_eq!(child.id().name(), Some("pool-worker-1"));
    assert!(child.to_string().starts_with("pool-worker-1 <Worker "));
}

#[tokio::test(flavor = "current_thread")]
async fn dead_letters_name_their_target() {
    let system = ActorSystem::builder().panic_reports(false).build();
    let mut dead_letters = system.broker().dead_letters();
    let worker = system.spawn_with(Worker, SpawnOptions::default().name("doomed"));
    // The panic stops it with `Get` queued behind `Boom`: a dead letter.
    worker.tell(Boom).unwrap();
    worker.tell(Get).unwrap();
    worker.wait_for_stop().await;
    let letter = dead_letters.recv().await.expect("the queued Get");
    assert_eq!(letter.target_id().name(), Some("doomed"));
    assert!(
        letter.to_string().contains("for doomed <Worker "),
        "{letter}"
    );
}

/// The child half of `a_panic_is_reported_on_stderr_with_the_actors_identity`.
#[tokio::test(flavor = "current_thread")]
async fn panic_report_child() {
    if std::env::var_os("AIRSSYS_PANIC_REPORT_CHILD").is_none() {
        return;
    }
    let system = ActorSystem::new();
    let worker = system.spawn_with(Worker, SpawnOptions::default().name("reporter"));
    worker.tell(Boom).unwrap();
    worker.wait_for_stop().await;
    let quiet = ActorSystem::builder().panic_reports(false).build();
    let silent = quiet.spawn_with(Worker, SpawnOptions::default().name("silent"));
    silent.tell(Boom).unwrap();
    silent.wait_for_stop().await;
}

#[test]
fn a_panic_is_reported_on_stderr_with_the_actors_identity() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["panic_report_child", "--exact", "--nocapture"])
        .env("AIRSSYS_PANIC_REPORT_CHILD", "1")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let reports: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("airssys-rt: "))
        .collect();
    assert_eq!(
        reports.len(),
        1,
        "one report, none from the quiet system: {stderr}"
    );
    assert!(
        reports[0].starts_with("airssys-rt: reporter <Worker ")
            && reports[0].ends_with("> panicked while handling `identity::Boom`: boom; it stops"),
        "{}",
        reports[0]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_weak_reference_tells_while_the_actor_runs_and_gives_the_message_back_after() {
    let system = ActorSystem::builder().panic_reports(false).build();
    let worker = system.spawn(Worker);
    let weak = worker.downgrade();
    weak.tell(Get).unwrap();
    assert_eq!(worker.ask(Get).await.unwrap(), 7);
    worker.stop();
    worker.wait_for_stop().await;
    assert!(matches!(weak.tell(Get), Err(SendError::Stopped(Get))));
}
