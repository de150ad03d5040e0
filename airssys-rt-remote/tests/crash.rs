//! A node in another process, killed (SIGKILL: no goodbye) while an ask waits on it: the ask fails with
//! `NodeDown` once the failure detection sees the node gone, within about a second by default; the
//! name is free again, and a restarted process takes it back.
//!
//! The peer is this test binary itself, run again with `AIRSSYS_REMOTE_PEER` set to the endpoint to
//! listen on (the `peer` test below, ignored otherwise).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use airssys_rt::prelude::*;
use airssys_rt_remote::{Node, NodeConfig, RemoteAskError, free_loopback_endpoint};
use serde::{Deserialize, Serialize};

#[derive(Message, Debug, Serialize, Deserialize)]
#[message(result = String, name = "crash.Hello")]
struct Hello;

/// Never answered.
#[derive(Message, Debug, Serialize, Deserialize)]
#[message(result = u64, name = "crash.Hang")]
struct Hang;

#[derive(Default)]
struct Greeter {
    hung: Vec<ReplySender<u64>>,
}

#[actor]
impl Greeter {
    fn hello(&mut self, _: Hello) -> String {
        format!("hello from process {}", std::process::id())
    }

    fn hang(&mut self, _: Hang, reply: ReplySender<u64>) {
        self.hung.push(reply);
    }
}

/// The peer's role: expose a greeter, say so, and live until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
#[ignore = "run by `a_killed_node_fails_the_asks_waiting_on_it` in a child process"]
async fn peer() {
    let Ok(endpoint) = std::env::var("AIRSSYS_REMOTE_PEER") else {
        return;
    };
    let system = ActorSystem::new();
    let node = Node::join(&system, NodeConfig::peer().listen(endpoint))
        .await
        .unwrap();
    let greeter = system.spawn(Greeter::default());
    let _exposed = node
        .register("greeter", &greeter)
        .message::<Hello>()
        .message::<Hang>()
        .declare()
        .await
        .unwrap();
    println!("ready {}", node.id());
    std::future::pending::<()>().await;
}

/// A peer process, killed when dropped (if the test fails half way, too).
struct Peer(Child);

impl Peer {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts the peer on `endpoint`; returns it once it says it is ready, with its node id.
fn start_peer(endpoint: &str) -> (Peer, String) {
    let mut peer = Peer(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "peer",
                "--ignored",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("AIRSSYS_REMOTE_PEER", endpoint)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = peer.0.stdout.take().unwrap();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // libtest prints `test peer ... ` on the same line first.
        if let Some((_, id)) = line.split_once("ready ") {
            return (peer, id.trim().to_owned());
        }
    }
    panic!("the peer ended without getting ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_fails_the_asks_waiting_on_it() {
    let at = free_loopback_endpoint().unwrap();
    let (mut peer, peer_id) = start_peer(&at);
    let node = Node::join(&ActorSystem::new(), NodeConfig::peer().connect(&at))
        .await
        .unwrap();
    assert!(node.wait_for_node(&peer_id, Duration::from_secs(10)).await);
    assert_eq!(
        node.wait_for_name("greeter", Duration::from_secs(10)).await,
        Some(peer_id.clone())
    );
    let hello = node.lookup_recipient::<Hello>("greeter").await.unwrap();
    let greeting = hello.ask(Hello).await.unwrap();
    assert!(greeting.starts_with("hello from process"), "{greeting}");

    let hang = node.lookup_recipient::<Hang>("greeter").await.unwrap();
    let waiting =
        tokio::spawn(async move { hang.ask(Hang).timeout(Duration::from_secs(60)).await });
    // The ask is in the greeter's hands once a later one is answered.
    hello.ask(Hello).await.unwrap();
    let killed = Instant::now();
    peer.kill();
    match waiting.await.unwrap() {
        Err(RemoteAskError::NodeDown(node)) => assert_eq!(node, peer_id),
        other => panic!("{other:?}"),
    }
    let detected = killed.elapsed();
    println!("a killed node's ask failed {detected:?} after the kill");
    assert!(!node.is_alive(&peer_id));

    // Restarted (on the same endpoint, which the node reconnects to), it holds the name again.
    let (mut restarted, restarted_id) = start_peer(&at);
    assert_ne!(restarted_id, peer_id, "a new process is a new node");
    assert_eq!(
        node.wait_for_name("greeter", Duration::from_secs(30)).await,
        Some(restarted_id.clone())
    );
    let hello = node.lookup_recipient::<Hello>("greeter").await.unwrap();
    assert!(
        hello
            .ask(Hello)
            .await
            .unwrap()
            .starts_with("hello from process")
    );
    restarted.kill();
}
