//! Sync bridges (`blocking_send`, `blocking_ask`) and actors on a dedicated thread.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::Duration;

use airssys_rt::prelude::*;
use airssys_rt::supervisor::{ChildSpec, Strategy, SupervisorSpec};
use airssys_rt_suite::DropCounter;

#[derive(Message)]
#[message(result = u64)]
struct Add(u64);

/// Never answered: the handler parks its reply.
#[derive(Message)]
#[message(result = u64)]
struct Never;

struct Counter {
    total: u64,
    parked: Vec<ReplySender<u64>>,
}

#[actor]
impl Counter {
    fn add(&mut self, Add(n): Add) -> u64 {
        self.total += n;
        self.total
    }

    fn never(&mut self, _: Never, reply: ReplySender<u64>) {
        self.parked.push(reply);
    }
}

fn counter() -> Counter {
    Counter {
        total: 0,
        parked: Vec::new(),
    }
}

#[test]
fn synchronous_code_outside_the_runtime_sends_and_asks() {
    let runtime = airssys_rt_suite::two_workers();
    let system = runtime.block_on(async { ActorSystem::new() });
    let counter = system.spawn(counter());
    counter.blocking_send(Add(2)).unwrap();
    assert_eq!(counter.blocking_ask(Add(3)).unwrap(), 5);
    let recipient = counter.recipient::<Add>();
    recipient.blocking_send(Add(1)).unwrap();
    assert_eq!(recipient.blocking_ask(Add(0)).unwrap(), 6);
    // From another plain thread too.
    let from_thread = std::thread::spawn({
        let counter = counter.clone();
        move || counter.blocking_ask(Add(4)).unwrap()
    });
    assert_eq!(from_thread.join().unwrap(), 10);
}

#[test]
fn a_blocking_ask_keeps_its_timeout_and_gives_the_message_back_when_never_delivered() {
    let runtime = airssys_rt_suite::two_workers();
    let system = runtime.block_on(async { ActorSystem::new() });
    let counter = system.spawn(counter());
    // Delivered, never answered: a timeout.
    let timed_out = counter
        .ask(Never)
        .timeout(Duration::from_millis(20))
        .blocking();
    assert!(matches!(timed_out, Err(AskError::Timeout)));

    // A full bounded mailbox that never drains (its actor is blocked): the message comes back.
    let (release, released) = mpsc::channel::<()>();
    let (entered_tx, entered) = mpsc::channel::<()>();
    let stuck = system.spawn_with(
        Stuck(Some((entered_tx, released))),
        SpawnOptions::default()
            .mailbox(MailboxKind::Bounded(1))
            .dedicated_thread(),
    );
    stuck.tell(Block).unwrap();
    entered.recv().unwrap(); // the actor is blocked in its handler
    while stuck.tell(Block).is_ok() {} // fills the mailbox
    match stuck
        .ask(Probe(7))
        .timeout(Duration::from_millis(20))
        .blocking()
    {
        Err(AskError::Send(SendError::Full(Probe(7)))) => {}
        other => panic!("expected the message back, got {other:?}"),
    }
    release.send(()).unwrap();
    drop(stuck);
}

#[derive(Message)]
struct Block;

#[derive(Message, Debug, PartialEq)]
#[message(result = ())]
struct Probe(u32);

/// Blocks its thread in its first `Block` until released, saying when it has entered.
struct Stuck(Option<(mpsc::Sender<()>, mpsc::Receiver<()>)>);

#[actor]
impl Stuck {
    fn block(&mut self, _: Block) {
        if let Some((entered, released)) = self.0.take() {
            entered.send(()).unwrap();
            let _ = released.recv();
        }
    }

    fn probe(&mut self, _: Probe) {}
}

#[tokio::test(flavor = "current_thread")]
async fn blocking_inside_the_runtime_panics_with_what_to_do_instead() {
    let system = ActorSystem::new();
    let counter = system.spawn(counter());
    let panic = catch_unwind(AssertUnwindSafe(|| counter.blocking_ask(Add(1))))
        .expect_err("blocking inside the runtime is refused");
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.starts_with("`ActorRef::blocking_ask` was called inside a tokio runtime")
            && message.contains("`.await` the async form instead"),
        "{message}"
    );
    let panic = catch_unwind(AssertUnwindSafe(|| counter.blocking_send(Add(1))))
        .expect_err("blocking inside the runtime is refused");
    assert!(
        panic
            .downcast_ref::<String>()
            .unwrap()
            .contains("blocking_send")
    );
    // Nothing was sent by the refused calls.
    assert_eq!(counter.ask(Add(0)).await.unwrap(), 0);
}

/// Blocks its thread until the test says so, and reports the thread it runs on.
#[derive(Message)]
#[message(result = Option<String>)]
struct BlockUntil(std::sync::Arc<std::sync::Mutex<mpsc::Receiver<()>>>);

/// Asks another actor by blocking: allowed on a dedicated thread.
#[derive(Message)]
#[message(result = u64)]
struct AskBlocking(ActorRef<Counter>);

struct Blocker;

#[actor]
impl Blocker {
    fn block_until(&mut self, BlockUntil(released): BlockUntil) -> Option<String> {
        released.lock().unwrap().recv().unwrap();
        std::thread::current().name().map(str::to_owned)
    }

    fn ask_blocking(&mut self, AskBlocking(counter): AskBlocking) -> u64 {
        counter.blocking_ask(Add(1)).unwrap()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_dedicated_actor_blocks_only_its_own_thread() {
    let system = ActorSystem::new();
    let blocker = system.spawn_with(
        Blocker,
        SpawnOptions::default().name("blocker").dedicated_thread(),
    );
    let counter = system.spawn(counter());
    let (release, released) = mpsc::channel();
    let blocked = tokio::spawn({
        let blocker = blocker.clone();
        let released = std::sync::Arc::new(std::sync::Mutex::new(released));
        async move { blocker.ask(BlockUntil(released)).await }
    });
    // The blocker's thread is blocked; this runtime's only thread still runs other actors.
    assert_eq!(counter.ask(Add(5)).await.unwrap(), 5);
    release.send(()).unwrap();
    let thread = blocked.await.unwrap().unwrap();
    assert_eq!(thread.as_deref(), Some(blocker.to_string().as_str()));
    assert!(blocker.to_string().starts_with("blocker <Blocker "));
    // Blocking calls are allowed there.
    assert_eq!(blocker.ask(AskBlocking(counter)).await.unwrap(), 6);
}

/// Holds a drop token; waits forever in an async handler.
struct Sleeper {
    _token: airssys_rt_suite::DropToken,
}

#[derive(Message)]
struct Forever;

#[actor]
impl Sleeper {
    async fn forever(&mut self, _: Forever) {
        std::future::pending::<()>().await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_kill_ends_a_dedicated_actor_and_drops_its_state() {
    let system = ActorSystem::new();
    let drops = DropCounter::new();
    let sleeper = system.spawn_with(
        Sleeper {
            _token: drops.token(),
        },
        SpawnOptions::default().dedicated_thread(),
    );
    sleeper.tell(Forever).unwrap();
    sleeper.kill();
    assert_eq!(sleeper.wait_for_stop().await, StopReason::Killed);
    assert_eq!(drops.drops(), 1);
}

#[derive(Message)]
struct Crash;

#[derive(Message)]
#[message(result = Option<String>)]
struct Thread;

struct Child;

#[actor]
impl Child {
    fn crash(&mut self, _: Crash) {
        panic!("crash");
    }

    fn thread(&mut self, _: Thread) -> Option<String> {
        std::thread::current().name().map(str::to_owned)
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_supervised_dedicated_child_gets_a_thread_per_incarnation() {
    let system = ActorSystem::builder().panic_reports(false).build();
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(5, Duration::from_secs(60))
        .child(ChildSpec::new("io", || Child).dedicated_thread())
        .spawn(&system);
    let child = root.child::<Child>("io").await.unwrap();
    let name = child.ask(Thread).await.unwrap();
    assert_eq!(name.as_deref(), Some(child.to_string().as_str()));
    child.tell(Crash).unwrap();
    // The restarted incarnation answers, on a thread named after the same actor.
    assert_eq!(child.ask(Thread).await.unwrap(), name);
}
