//! Remote ask and tell, against the best raw zenoh equivalents built in the same run, on loopback:
//! two sessions (nodes) in one process, connected over TCP.
//!
//! - **ask round trip**: our `RemoteRecipient::ask` against a raw `get` to a queryable that answers
//!   with the payload it got (zenoh's request/reply primitive, which our ask is built on).
//! - **tell throughput**: 10,000 of our `tell`s, until the remote actor has counted them all, against
//!   10,000 raw `put`s through a declared publisher to a subscriber that counts them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use airssys_rt::prelude::*;
use airssys_rt_remote::{Node, NodeConfig, free_loopback_endpoint};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};
use zenoh::Wait;

#[derive(Message, Debug, Serialize, Deserialize)]
#[message(result = u64, name = "bench.Echo")]
struct Echo(u64);

#[derive(Message, Debug, Serialize, Deserialize)]
#[message(name = "bench.Tick")]
struct Tick;

#[derive(Message, Debug, Serialize, Deserialize)]
#[message(result = u64, name = "bench.WhenTicked")]
struct WhenTicked(u64);

#[derive(Default)]
struct Target {
    ticks: u64,
    waiting: Vec<(u64, ReplySender<u64>)>,
}

#[actor]
impl Target {
    fn echo(&mut self, Echo(n): Echo) -> u64 {
        n
    }

    fn tick(&mut self, _: Tick) {
        self.ticks += 1;
        let ticks = self.ticks;
        for (_, reply) in self.waiting.extract_if(.., |(at, _)| *at <= ticks) {
            reply.send(ticks);
        }
    }

    fn when_ticked(&mut self, WhenTicked(n): WhenTicked, reply: ReplySender<u64>) {
        if self.ticks >= n {
            reply.send(self.ticks);
        } else {
            self.waiting.push((n, reply));
        }
    }
}

const TELLS: u64 = 10_000;

fn remote(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let at = free_loopback_endpoint().unwrap();
    let (a, b, _exposed) = runtime.block_on(async {
        let a = Node::join(&ActorSystem::new(), NodeConfig::peer().listen(&at))
            .await
            .unwrap();
        let b = Node::join(&ActorSystem::new(), NodeConfig::peer().connect(&at))
            .await
            .unwrap();
        assert!(b.wait_for_node(a.id(), Duration::from_secs(10)).await);
        let target = a.system().spawn(Target::default());
        let exposed = a
            .register("target", &target)
            .message::<Echo>()
            .message::<Tick>()
            .message::<WhenTicked>()
            .declare()
            .await
            .unwrap();
        b.wait_for_name("target", Duration::from_secs(10))
            .await
            .unwrap();
        (a, b, exposed)
    });

    // The raw equivalents, on two sessions of their own, connected the same way.
    let raw_at = free_loopback_endpoint().unwrap();
    let (server, client, counted) = runtime.block_on(async {
        let mut config = zenoh::Config::default();
        config.insert_json5("mode", "\"peer\"").unwrap();
        config
            .insert_json5("scouting/multicast/enabled", "false")
            .unwrap();
        let mut listen = config.clone();
        listen
            .insert_json5("listen/endpoints", &format!("[{raw_at:?}]"))
            .unwrap();
        let mut connect = config;
        connect
            .insert_json5("connect/endpoints", &format!("[{raw_at:?}]"))
            .unwrap();
        let server = zenoh::open(listen).await.unwrap();
        let client = zenoh::open(connect).await.unwrap();
        let counted = Arc::new(AtomicU64::new(0));
        let queryable = server
            .declare_queryable("raw/echo")
            .callback(|query| {
                let payload = query
                    .payload()
                    .map(|p| p.to_bytes().into_owned())
                    .unwrap_or_default();
                let key = query.key_expr().clone();
                query.reply(key, payload).wait().unwrap();
            })
            .await
            .unwrap();
        let subscriber = server
            .declare_subscriber("raw/tick")
            .callback({
                let counted = counted.clone();
                move |_| {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            })
            .await
            .unwrap();
        std::mem::forget((queryable, subscriber));
        // Until the client's queries reach the server.
        while client
            .get("raw/echo")
            .payload(vec![0u8])
            .await
            .unwrap()
            .recv_async()
            .await
            .is_err()
        {}
        (server, client, counted)
    });

    let echo = runtime
        .block_on(b.lookup_recipient::<Echo>("target"))
        .unwrap();
    let mut group = c.benchmark_group("remote ask round trip");
    group.bench_function("airssys-rt-remote ask", |bench| {
        bench.iter_custom(|iterations| {
            runtime.block_on(async {
                let start = Instant::now();
                for n in 0..iterations {
                    assert_eq!(echo.ask(Echo(n)).await.unwrap(), n);
                }
                start.elapsed()
            })
        });
    });
    group.bench_function("raw zenoh get to a queryable", |bench| {
        bench.iter_custom(|iterations| {
            runtime.block_on(async {
                let start = Instant::now();
                for n in 0..iterations {
                    let replies = client
                        .get("raw/echo")
                        .payload(n.to_le_bytes().to_vec())
                        .await
                        .unwrap();
                    let reply = replies.recv_async().await.unwrap();
                    assert!(reply.result().is_ok());
                }
                start.elapsed()
            })
        });
    });
    group.finish();

    let tick = runtime
        .block_on(b.lookup_recipient::<Tick>("target"))
        .unwrap();
    let when = runtime
        .block_on(b.lookup_recipient::<WhenTicked>("target"))
        .unwrap();
    let publisher = runtime
        .block_on(async {
            client
                .declare_publisher("raw/tick")
                .congestion_control(zenoh::qos::CongestionControl::Block)
                .await
        })
        .unwrap();
    let mut group = c.benchmark_group("remote tell throughput");
    group.throughput(Throughput::Elements(TELLS));
    let mut sent = 0;
    group.bench_function("airssys-rt-remote tell, 10k", |bench| {
        bench.iter(|| {
            for _ in 0..TELLS {
                tick.tell(Tick).unwrap();
            }
            sent += TELLS;
            runtime.block_on(async {
                when.ask(WhenTicked(sent))
                    .timeout(Duration::from_secs(60))
                    .await
                    .unwrap()
            });
        });
    });
    let mut raw_sent = 0;
    group.bench_function("raw zenoh put to a subscriber, 10k", |bench| {
        bench.iter(|| {
            for _ in 0..TELLS {
                publisher.put(vec![0u8; 4]).wait().unwrap();
            }
            raw_sent += TELLS;
            while counted.load(Ordering::Relaxed) < raw_sent {
                std::thread::yield_now();
            }
        });
    });
    group.finish();
    drop((a, b, server));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(20);
    targets = remote
}
criterion_main!(benches);
