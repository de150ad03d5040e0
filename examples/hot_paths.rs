//! Hot paths to count instructions on, for callgrind: callgrind's counts do not depend on the noise of
//! this machine, so they compare two builds of a hot path exactly (BENCHMARKS.md quotes them).
//!
//! ```text
//! cargo build --release --example hot_paths
//! benches/callgrind.sh tell 100000 600000     # instructions per tell + handle
//! ```
//!
//! Each mode runs `N` operations on one current_thread runtime; the script runs two lengths and divides
//! the difference, so that setup cancels. Modes: `tell`, `ask`, `deferred`, `spawned` (a reply from a
//! tied task), `spawn` (spawn + stop + `wait_for_stop`), `pingpong`, and the raw tokio baselines
//! `rawtell`, `rawspawn`, `rawpingpong`.

use airssys_rt::prelude::*;
#[derive(Message)]
struct Add(u64, u64);
#[derive(Message)]
#[message(result = u64)]
struct Total;
#[derive(Message)]
#[message(result = u64)]
struct Echo(u64);
#[derive(Message)]
#[message(result = u64)]
struct Deferred(u64);
#[derive(Message)]
#[message(result = u64)]
struct Spawned(u64);
struct Counter(u64);
#[derive(Message)]
struct Ball(u64, Option<ActorRef<Player>>);
#[derive(Message)]
#[message(result = ())]
struct Serve(ActorRef<Player>, u64);
struct Player {
    other: Option<ActorRef<Player>>,
    done: Option<airssys_rt::ReplySender<()>>,
}
#[actor]
impl Player {
    fn serve(
        &mut self,
        Serve(to, n): Serve,
        reply: airssys_rt::ReplySender<()>,
        ctx: &mut Context<Self>,
    ) {
        self.done = Some(reply);
        self.other = Some(to.clone());
        to.tell(Ball(n, Some(ctx.actor_ref()))).ok().unwrap();
    }
    fn ball(&mut self, Ball(left, from): Ball) {
        if let Some(from) = from {
            self.other = Some(from);
        }
        if left == 0 {
            match self.done.take() {
                Some(d) => d.send(()),
                None => {
                    self.other
                        .as_ref()
                        .unwrap()
                        .tell(Ball(0, None))
                        .ok()
                        .unwrap();
                }
            }
            return;
        }
        self.other
            .as_ref()
            .unwrap()
            .tell(Ball(left - 1, None))
            .ok()
            .unwrap();
    }
}
#[actor]
impl Counter {
    fn add(&mut self, Add(a, b): Add) {
        self.0 = self.0.wrapping_add(a ^ b);
    }
    fn total(&self, _: Total) -> u64 {
        self.0
    }
    fn echo(&self, Echo(n): Echo) -> u64 {
        n ^ self.0
    }
    fn deferred(&self, Deferred(n): Deferred, reply: airssys_rt::ReplySender<u64>) {
        reply.send(n ^ self.0)
    }
    fn spawned(
        &self,
        Spawned(n): Spawned,
        reply: airssys_rt::ReplySender<u64>,
        ctx: &mut Context<Self>,
    ) {
        ctx.spawn(async move { reply.send(n) });
    }
}
fn main() {
    let mode = std::env::args().nth(1).unwrap();
    let n: u64 = std::env::args().nth(2).unwrap().parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let system = ActorSystem::new();
        let c = system.spawn(Counter(0));
        match mode.as_str() {
            "tell" => {
                for i in 0..n {
                    c.tell(Add(i, 1)).ok().unwrap();
                }
            }
            "deferred" => {
                for i in 0..n {
                    std::hint::black_box(c.ask(Deferred(i)).await.unwrap());
                }
            }
            "spawned" => {
                for i in 0..n {
                    std::hint::black_box(c.ask(Spawned(i)).await.unwrap());
                }
            }
            "ask" => {
                for i in 0..n {
                    std::hint::black_box(c.ask(Echo(i)).await.unwrap());
                }
            }
            "rawtell" => {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, u64)>();
                let (done, finished) = tokio::sync::oneshot::channel::<u64>();
                tokio::spawn(async move {
                    let mut t = 0u64;
                    while let Some((a, b)) = rx.recv().await {
                        t = t.wrapping_add(a ^ b);
                    }
                    let _ = done.send(t);
                });
                for i in 0..n {
                    tx.send((i, 1)).unwrap();
                }
                drop(tx);
                std::hint::black_box(finished.await.unwrap());
            }
            "rawspawn" => {
                for _ in 0..n {
                    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, u64)>();
                    let task = tokio::spawn(async move { while rx.recv().await.is_some() {} });
                    drop(tx);
                    task.await.unwrap();
                }
            }
            "rawpingpong" => {
                let (atx, mut arx) = tokio::sync::mpsc::unbounded_channel::<u64>();
                let (btx, mut brx) = tokio::sync::mpsc::unbounded_channel::<u64>();
                let b = tokio::spawn(async move {
                    while let Some(v) = brx.recv().await {
                        if v == 0 {
                            break;
                        }
                        atx.send(v - 1).unwrap();
                    }
                });
                btx.send(n).unwrap();
                while let Some(v) = arx.recv().await {
                    if v == 0 {
                        break;
                    }
                    btx.send(v - 1).unwrap();
                }
                drop(btx);
                b.await.unwrap();
            }
            "pingpong" => {
                let a = system.spawn(Player {
                    other: None,
                    done: None,
                });
                let b = system.spawn(Player {
                    other: None,
                    done: None,
                });
                a.ask(Serve(b.clone(), n)).await.unwrap();
            }
            _ => {
                for _ in 0..n {
                    let a = system.spawn(Counter(0));
                    a.stop();
                    a.wait_for_stop().await;
                }
            }
        }
        println!("{}", c.ask(Total).await.unwrap());
    });
}
