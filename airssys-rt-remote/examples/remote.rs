//! Three processes that find each other on loopback and talk through typed remote references: one
//! coordinator, which starts two workers (this same binary, with `--worker N`), asks them, counts
//! tells to one exactly, kills the other while an ask waits on it, restarts it, and asks again.
//!
//! `cargo run --release -p airssys-rt-remote --example remote`

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use airssys_rt::prelude::*;
use airssys_rt_remote::{
    Node, NodeConfig, RemoteAskError, RemoteRecipient, free_loopback_endpoint,
};
use serde::{Deserialize, Serialize};

/// Squares a number; answers with the worker's process id too.
#[derive(Message, Debug, Serialize, Deserialize)]
#[message(result = (u64, u32), name = "example.Square")]
struct Square(u64);

/// Adds to the worker's tally.
#[derive(Message, Debug, Serialize, Deserialize)]
#[message(name = "example.Tally")]
struct Tally(u64);

/// Answers once the tally has reached `n`.
#[derive(Message, Debug, Serialize, Deserialize)]
#[message(result = u64, name = "example.WhenTallied")]
struct WhenTallied(u64);

/// Takes its time: answered after `ms` milliseconds.
#[derive(Message, Debug, Serialize, Deserialize)]
#[message(result = u64, name = "example.Slow")]
struct Slow(u64);

#[derive(Default)]
struct Worker {
    tally: u64,
    waiting: Vec<(u64, ReplySender<u64>)>,
}

#[actor]
impl Worker {
    fn square(&mut self, Square(n): Square) -> (u64, u32) {
        (n * n, std::process::id())
    }

    fn tally(&mut self, Tally(n): Tally) {
        self.tally += n;
        let tally = self.tally;
        for (_, reply) in self.waiting.extract_if(.., |(at, _)| *at <= tally) {
            reply.send(tally);
        }
    }

    fn when_tallied(&mut self, WhenTallied(n): WhenTallied, reply: ReplySender<u64>) {
        if self.tally >= n {
            reply.send(self.tally);
        } else {
            self.waiting.push((n, reply));
        }
    }

    async fn slow(&mut self, Slow(ms): Slow) -> u64 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ms
    }
}

/// A worker process: exposes `worker-N`, says it is ready, and runs until killed.
async fn worker(n: u32, endpoint: String) {
    let system = ActorSystem::new();
    let node = Node::join(&system, NodeConfig::peer().listen(endpoint))
        .await
        .expect("the worker joins");
    let worker = system.spawn(Worker::default());
    let _exposed = node
        .register(&format!("worker-{n}"), &worker)
        .message::<Square>()
        .message::<Tally>()
        .message::<WhenTallied>()
        .message::<Slow>()
        .declare()
        .await
        .expect("the name is free");
    println!("ready {}", node.id());
    std::future::pending::<()>().await;
}

/// A worker process, killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts worker `n` listening on `endpoint`; returns it once it is ready, with its node id.
fn start_worker(n: u32, endpoint: &str) -> (Process, String) {
    let mut process = Process(
        Command::new(std::env::current_exe().expect("this binary"))
            .args(["--worker", &n.to_string(), endpoint])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the worker starts"),
    );
    let stdout = process.0.stdout.take().expect("piped");
    for line in BufReader::new(stdout).lines() {
        if let Some(id) = line.expect("the worker's output").strip_prefix("ready ") {
            return (process, id.to_owned());
        }
    }
    panic!("worker {n} ended before it was ready");
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, n, endpoint] = &args[..]
        && flag == "--worker"
    {
        worker(n.parse().expect("a worker number"), endpoint.clone()).await;
        return;
    }
    let started = Instant::now();
    let at = |what: &str| println!("{:>8.1} ms  {what}", started.elapsed().as_secs_f64() * 1e3);
    let endpoints = [(); 2].map(|()| free_loopback_endpoint().expect("a free port"));
    let (_one, one_id) = start_worker(1, &endpoints[0]);
    let (two, two_id) = start_worker(2, &endpoints[1]);
    at(&format!(
        "two worker processes started: nodes {one_id} and {two_id}"
    ));

    let mut config = NodeConfig::peer();
    for endpoint in &endpoints {
        config = config.connect(endpoint);
    }
    let node = Node::join(&ActorSystem::new(), config)
        .await
        .expect("the coordinator joins");
    for name in ["worker-1", "worker-2"] {
        node.wait_for_name(name, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("{name} never showed up"));
    }
    at("the coordinator sees both workers by name");

    let square_one: RemoteRecipient<Square> = node.lookup_recipient("worker-1").await.unwrap();
    let square_two: RemoteRecipient<Square> = node.lookup_recipient("worker-2").await.unwrap();
    let (nine, pid_one) = square_one.ask(Square(3)).await.unwrap();
    let (sixteen, pid_two) = square_two.ask(Square(4)).await.unwrap();
    assert_eq!((nine, sixteen), (9, 16));
    assert_ne!(pid_one, pid_two);
    at(&format!(
        "asked both: 3² = {nine} from process {pid_one}, 4² = {sixteen} from process {pid_two}"
    ));

    const TELLS: u64 = 100_000;
    let tally = node.lookup_recipient::<Tally>("worker-1").await.unwrap();
    let sent = Instant::now();
    for _ in 0..TELLS {
        tally.tell(Tally(1)).expect("worker-1 is up");
    }
    let counted = node
        .lookup_recipient::<WhenTallied>("worker-1")
        .await
        .unwrap()
        .ask(WhenTallied(TELLS))
        .timeout(Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(counted, TELLS);
    at(&format!(
        "{TELLS} tells to worker-1 counted exactly, in {:.1} ms",
        sent.elapsed().as_secs_f64() * 1e3
    ));

    // Kill worker 2 while an ask waits on it: the ask fails with NodeDown, not a timeout.
    let slow = node.lookup_recipient::<Slow>("worker-2").await.unwrap();
    let waiting = tokio::spawn(async move { slow.ask(Slow(30_000)).await });
    square_two.ask(Square(5)).await.unwrap(); // the slow ask is in worker 2's hands
    let killed = Instant::now();
    drop(two);
    match waiting.await.unwrap() {
        Err(RemoteAskError::NodeDown(node)) => assert_eq!(node, two_id),
        other => panic!("expected NodeDown, got {other:?}"),
    }
    at(&format!(
        "worker 2 killed: the ask waiting on it failed with NodeDown {:.1} ms later",
        killed.elapsed().as_secs_f64() * 1e3
    ));

    let (_two, new_two_id) = start_worker(2, &endpoints[1]);
    let holder = node
        .wait_for_name("worker-2", Duration::from_secs(30))
        .await
        .expect("worker 2 is back");
    assert_eq!(holder, new_two_id);
    let square_two: RemoteRecipient<Square> = node.lookup_recipient("worker-2").await.unwrap();
    let (thirty_six, new_pid) = square_two.ask(Square(6)).await.unwrap();
    assert_eq!(thirty_six, 36);
    assert_ne!(new_pid, pid_two);
    at(&format!(
        "worker 2 restarted as node {new_two_id}: 6² = {thirty_six} from process {new_pid}"
    ));
    println!("all three processes talked through typed references; nothing was lost");
}
