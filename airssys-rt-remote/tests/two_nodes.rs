//! Two nodes in one process, on loopback: typed remote tells and asks, exact counts, precise errors,
//! name conflicts, and a node that leaves while an ask waits. Real zenoh sessions on real sockets:
//! each test waits on events (a node seen alive, a name seen held, a reply), never on a sleep.

use std::time::Duration;

use airssys_rt::prelude::*;
use airssys_rt_remote::{
    Failure, Node, NodeConfig, RemoteAskError, RemoteError, RemoteSendError, free_loopback_endpoint,
};
use serde::{Deserialize, Serialize};

const WITHIN: Duration = Duration::from_secs(10);

#[derive(Message, Debug, Serialize, Deserialize)]
#[message(result = u64, name = "test.Add")]
struct Add(u64);

/// Answers once the counter has reached `n`: a deferred reply, so that an ask can wait for tells
/// sent before it (a tell and an ask take different paths through zenoh).
#[derive(Message, Debug, Serialize, Deserialize)]
#[message(result = u64, name = "test.WhenAt")]
struct WhenAt(u64);

/// Never answered: the ask waits until its node goes or its deadline passes.
#[derive(Message, Debug, Serialize, Deserialize)]
#[message(result = u64, name = "test.Hang")]
struct Hang;

/// Not taken remotely by the counter.
#[derive(Message, Debug, Serialize, Deserialize)]
#[message(name = "test.Reset")]
struct Reset;

#[derive(Default)]
struct Counter {
    total: u64,
    waiting: Vec<(u64, ReplySender<u64>)>,
    hung: Vec<ReplySender<u64>>,
}

#[actor]
impl Counter {
    fn add(&mut self, Add(n): Add) -> u64 {
        self.total += n;
        let total = self.total;
        for (_, reply) in self.waiting.extract_if(.., |(at, _)| *at <= total) {
            reply.send(total);
        }
        total
    }

    fn when_at(&mut self, WhenAt(n): WhenAt, reply: ReplySender<u64>) {
        if self.total >= n {
            reply.send(self.total);
        } else {
            self.waiting.push((n, reply));
        }
    }

    fn hang(&mut self, _: Hang, reply: ReplySender<u64>) {
        self.hung.push(reply);
    }

    fn reset(&mut self, _: Reset) {
        self.total = 0;
    }
}

/// Two nodes, each of its own system, the second connected to the first, each seeing the other.
async fn two_nodes() -> (Node, Node) {
    let at = free_loopback_endpoint().unwrap();
    let a = Node::join(&ActorSystem::new(), NodeConfig::peer().listen(&at))
        .await
        .unwrap();
    let b = Node::join(&ActorSystem::new(), NodeConfig::peer().connect(&at))
        .await
        .unwrap();
    assert!(b.wait_for_node(a.id(), WITHIN).await, "b never saw a");
    assert!(a.wait_for_node(b.id(), WITHIN).await, "a never saw b");
    (a, b)
}

/// `node` exposes a counter as `name`, and `other` sees it.
async fn counter(
    node: &Node,
    other: &Node,
    name: &str,
) -> (ActorRef<Counter>, airssys_rt_remote::Exposed) {
    let counter = node.system().spawn(Counter::default());
    let exposed = node
        .register(name, &counter)
        .message::<Add>()
        .message::<WhenAt>()
        .message::<Hang>()
        .declare()
        .await
        .unwrap();
    assert_eq!(
        other.wait_for_name(name, WITHIN).await.as_deref(),
        Some(node.id())
    );
    (counter, exposed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_tells_and_asks_are_typed_and_counted_exactly() {
    let (a, b) = two_nodes().await;
    let (_counter, _exposed) = counter(&a, &b, "counter").await;
    let add = b.lookup_recipient::<Add>("counter").await.unwrap();
    assert_eq!(add.node(), a.id());
    assert_eq!(add.ask(Add(1)).await.unwrap(), 1);

    // Enough to fill zenoh's queues: a tell waits for room rather than be dropped.
    const TELLS: u64 = 100_000;
    for _ in 0..TELLS {
        add.tell(Add(1)).unwrap();
    }
    let when = b.lookup_recipient::<WhenAt>("counter").await.unwrap();
    let total = when
        .ask(WhenAt(TELLS + 1))
        .timeout(Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(total, TELLS + 1, "every tell counted once");
    // And no more come: the next ask sees the same total plus its own.
    assert_eq!(add.ask(Add(0)).await.unwrap(), TELLS + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_actor_does_not_take_is_refused_with_what_it_takes() {
    let (a, b) = two_nodes().await;
    let (_counter, _exposed) = counter(&a, &b, "counter").await;
    match b.lookup_recipient::<Reset>("counter").await {
        Err(RemoteError::Unhandled(Failure::Unhandled {
            message_type,
            handled,
            ..
        })) => {
            assert_eq!(message_type, "test.Reset");
            assert_eq!(handled, ["test.Add", "test.Hang", "test.WhenAt"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        b.lookup_recipient::<Add>("nobody").await,
        Err(RemoteError::NoSuchName(name)) if name == "nobody"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_is_held_by_one_node() {
    let (a, b) = two_nodes().await;
    let (_counter, _exposed) = counter(&a, &b, "unique").await;
    let other = b.system().spawn(Counter::default());
    match b
        .register("unique", &other)
        .message::<Add>()
        .declare()
        .await
    {
        Err(RemoteError::NameTaken { name, node }) => {
            assert_eq!((name.as_str(), node.as_str()), ("unique", a.id()));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ask_times_out_and_a_leaving_node_fails_the_asks_waiting_on_it() {
    let (a, b) = two_nodes().await;
    let (_counter, _exposed) = counter(&a, &b, "counter").await;
    let hang = b.lookup_recipient::<Hang>("counter").await.unwrap();
    assert!(matches!(
        hang.ask(Hang).timeout(Duration::from_millis(200)).await,
        Err(RemoteAskError::Timeout)
    ));

    let waiting = {
        let hang = hang.clone();
        tokio::spawn(async move { hang.ask(Hang).timeout(Duration::from_secs(60)).await })
    };
    // Once the ask is in the counter's hands, its node leaves.
    let when = b.lookup_recipient::<WhenAt>("counter").await.unwrap();
    when.ask(WhenAt(0)).await.unwrap();
    let left = std::time::Instant::now();
    a.leave().await.unwrap();
    match waiting.await.unwrap() {
        Err(RemoteAskError::NodeDown(node)) => assert_eq!(node, a.id()),
        other => panic!("{other:?}"),
    }
    println!(
        "an ask in flight failed {:?} after its node left",
        left.elapsed()
    );
    // A tell to it now gives its message back.
    let add = b.lookup_recipient::<Add>("counter").await;
    assert!(add.is_err(), "the name is gone with its node");
    match hang.tell(Hang) {
        Err(RemoteSendError::NodeDown(Hang)) => {}
        other => panic!("{other:?}"),
    }
}

/// A message of the same name as `Add`, of another shape: the two sides disagree on the type.
#[derive(Message, Debug, Serialize, Deserialize)]
#[message(result = u64, name = "test.Add")]
struct NotAdd(String, String, String);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_does_not_decode_is_answered_with_the_error() {
    let (a, b) = two_nodes().await;
    let (_counter, _exposed) = counter(&a, &b, "counter").await;
    let wrong = b.lookup_recipient::<NotAdd>("counter").await.unwrap();
    let long = "x".repeat(300);
    // Three 300-byte strings are no `u64` varint: the counter's node cannot decode them.
    match wrong.ask(NotAdd(long.clone(), long.clone(), long)).await {
        Err(RemoteAskError::Failed(Failure::Decode(what))) => {
            assert!(what.contains("test.Add"), "{what}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_current_thread_runtime_is_refused_with_what_to_use() {
    match Node::join(&ActorSystem::new(), NodeConfig::peer()).await {
        Err(error @ RemoteError::Runtime) => {
            assert!(error.to_string().contains("multi_thread"), "{error}");
        }
        other => panic!("{other:?}"),
    }
}
