//! Observability of a small service: tracing output (spans per actor and per message, events at
//! restarts and panics), metrics exported to Prometheus on a loopback port and scraped by the
//! example itself, and the live actor tree.
//!
//! `cargo run --release --example observability --features metrics`
//!
//! The service: a `Frontend` that forwards each quote request to a pool of `Pricer`s under a
//! supervisor, round robin. One request makes a pricer panic; its supervisor restarts it.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use airssys_rt::prelude::*;
use airssys_rt::supervisor::{ChildSpec, Strategy, SupervisionEventKind, SupervisorSpec};
use metrics_exporter_prometheus::PrometheusBuilder;

#[derive(Message, Debug)]
#[message(result = Result<u64, String>)]
struct Quote {
    item: String,
    quantity: u64,
}

struct Pricer;

#[actor]
impl Pricer {
    fn quote(&mut self, Quote { item, quantity }: Quote) -> Result<u64, String> {
        assert!(item != "glitch", "no price for {item}");
        tracing::info!(item, quantity, "priced");
        Ok(quantity * 3)
    }
}

struct Frontend {
    pricers: Vec<ActorRef<Pricer>>,
    next: usize,
}

#[actor]
impl Frontend {
    async fn quote(&mut self, quote: Quote) -> Result<u64, String> {
        let pricer = self.pricers[self.next % self.pricers.len()].clone();
        self.next += 1;
        // The pricer's `message` span follows from this one: the request is traceable across actors.
        pricer.ask(quote).await.map_err(|error| error.to_string())?
    }
}

/// A free port on loopback for the exporter.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a loopback port");
    listener.local_addr().expect("its address").port()
}

/// `GET /metrics` on the exporter, as Prometheus would scrape it.
fn scrape(address: SocketAddr) -> String {
    let mut stream = TcpStream::connect(address).expect("the exporter listens");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .expect("a request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("a response");
    response
}

#[tokio::main]
async fn main() {
    // The runtime reports a panic in an actor as an `actor panicked` event, with the actor's
    // identity: the default hook's report (and its backtrace) would only repeat it.
    std::panic::set_hook(Box::new(|_| {}));
    // Tracing: everything of the runtime at DEBUG (message spans included), with span context.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_target(false)
        .init();

    // Metrics: the Prometheus exporter, serving on loopback.
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
    PrometheusBuilder::new()
        .with_http_listener(address)
        .install()
        .expect("the Prometheus exporter starts");

    let system = ActorSystem::builder().panic_reports(false).build();
    let mut events = system.supervision_events();
    let pool = SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::new("pricer-a", || Pricer))
        .child(ChildSpec::new("pricer-b", || Pricer))
        .spawn(&system);
    let pricers = vec![
        pool.child::<Pricer>("pricer-a").await.expect("pricer-a"),
        pool.child::<Pricer>("pricer-b").await.expect("pricer-b"),
    ];
    let frontend = system.spawn_with(
        Frontend { pricers, next: 0 },
        SpawnOptions::default().name("frontend"),
    );

    let mut total = 0;
    for (item, quantity) in [("apple", 2), ("pear", 5), ("glitch", 1), ("plum", 7)] {
        let quote = Quote {
            item: item.to_owned(),
            quantity,
        };
        match frontend.ask(quote).await.expect("the frontend answers") {
            Ok(price) => total += price,
            Err(error) => println!("quote for {item} failed: {error}"),
        }
    }
    assert_eq!(total, 3 * (2 + 5 + 7));
    // The pricer that panicked is restarted.
    let restarted = loop {
        let event = events.recv().await.expect("the system runs");
        if let SupervisionEventKind::Restarted(_) = event.kind {
            break event;
        }
    };
    println!("\nrestarted: {restarted}");

    println!("\nthe actor tree:\n{}", system.snapshot());

    // The exporter renders on request; give its listener a moment to be up.
    let mut response = String::new();
    for _ in 0..50 {
        if let Ok(stream) = TcpStream::connect(address) {
            drop(stream);
            response = scrape(address);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ours: Vec<&str> = response
        .lines()
        .filter(|line| line.starts_with("airssys_"))
        .collect();
    println!("scraped from http://{address}/metrics (quantiles left out):");
    for line in ours.iter().filter(|line| !line.contains("quantile=")) {
        println!("  {line}");
    }
    for expected in [
        "airssys_messages_handled_total{actor_type=\"Frontend\",actor_name=\"frontend\"} 4",
        "airssys_restarts_total{actor_type=\"Pricer\",actor_name=\"pricer-a\"} 1",
        "airssys_actors_live{actor_type=\"Pricer\"} 2",
    ] {
        assert!(ours.contains(&expected), "the scrape has `{expected}`");
    }
    assert!(
        ours.iter()
            .any(|line| line.starts_with("airssys_handler_duration_seconds")),
        "the scrape has the handler-time histogram"
    );
    system.shutdown(Duration::from_secs(1)).await;
}
