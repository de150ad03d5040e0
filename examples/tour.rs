//! A tour of airssys-rt: typed actors written as plain `impl` blocks, tell and ask, backpressure on a
//! bounded mailbox, a panic that stays isolated, and live figures for throughput and ask latency.
//!
//! `cargo run --release --example tour`

use std::time::{Duration, Instant};

use airssys_rt::prelude::*;
use airssys_rt::{MailboxKind, SpawnOptions};

/// Deposit money; the reply is the new balance.
#[derive(Message)]
#[message(result = u64)]
struct Deposit {
    cents: u64,
}

/// Read the balance.
#[derive(Message)]
#[message(result = u64)]
struct Balance;

/// A monthly statement: 520 bytes, so the envelope boxes it (decided at compile time).
#[derive(Message)]
#[message(result = u64)]
struct Statement {
    lines: [u64; 65],
}

/// Audit the account: slow, and it fails on a corrupt ledger.
#[derive(Message)]
struct Audit {
    corrupt: bool,
}

struct Account {
    balance: u64,
}

#[actor]
impl Account {
    fn deposit(&mut self, Deposit { cents }: Deposit) -> u64 {
        self.balance += cents;
        self.balance
    }

    fn balance(&self, _: Balance) -> u64 {
        self.balance
    }

    fn statement(&self, Statement { lines }: Statement) -> u64 {
        lines.iter().sum::<u64>() + self.balance
    }

    async fn audit(&mut self, Audit { corrupt }: Audit) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!corrupt, "the ledger is corrupt");
    }

    fn on_stop(&mut self, reason: &StopReason) {
        println!("    (an account ends: {reason})");
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("airssys-rt tour\n");
    let system = ActorSystem::new();

    println!("1. Typed actors: tell is fire-and-forget, ask is typed by the message's reply");
    let account = system.spawn(Account { balance: 0 });
    account.tell(Deposit { cents: 1_250 })?;
    let balance = account.ask(Deposit { cents: 50 }).await?;
    println!("    balance after two deposits: {balance} cents");
    let total = account.ask(Statement { lines: [10; 65] }).await?;
    println!(
        "    a {}-byte statement travels {:?}; its total: {total}",
        size_of::<Statement>(),
        Statement::STORAGE
    );
    // `account.tell(Shutdown)` would not compile: Account has no handler for it.

    println!("\n2. Backpressure: a bounded mailbox of 4 behind a slow audit");
    let busy = system.spawn_with(
        Account { balance: 0 },
        SpawnOptions::default().mailbox(MailboxKind::Bounded(4)),
    );
    busy.tell(Audit { corrupt: false })?;
    tokio::time::sleep(Duration::from_millis(2)).await; // a demo: let the actor start the audit
    let mut accepted = 0;
    let refused = loop {
        match busy.tell(Deposit { cents: 1 }) {
            Ok(()) => accepted += 1,
            Err(SendError::Full(message)) => break message,
            Err(other) => return Err(other.into()),
        }
    };
    println!(
        "    tell accepted {accepted}, then returned the deposit of {} cent(s): Full",
        refused.cents
    );
    let waited = Instant::now();
    busy.send(refused).await?; // waits for room instead
    println!(
        "    send waited {:?} for room, then delivered it",
        waited.elapsed()
    );
    println!("    balance: {}", busy.ask(Balance).await?);

    println!("\n3. A panic is isolated: the failing actor stops, the rest carry on");
    // The runtime catches the panic; this hook only keeps the demo's output to one line.
    std::panic::set_hook(Box::new(|info| {
        println!(
            "    (panic caught by the runtime: {})",
            info.payload_as_str().unwrap_or("?")
        );
    }));
    let fragile = system.spawn(Account { balance: 0 });
    fragile.tell(Audit { corrupt: true })?;
    println!("    stop reason: {}", fragile.wait_for_stop().await);
    match fragile.ask(Balance).await {
        Err(AskError::Send(SendError::Stopped(_))) => {
            println!("    asking it now gives the message back: stopped")
        }
        other => println!("    unexpected: {other:?}"),
    }
    println!(
        "    the first account still answers: balance {}",
        account.ask(Balance).await?
    );

    println!(
        "\n4. Measured live, on both kinds of tokio runtime (criterion figures: BENCHMARKS.md)"
    );
    let workers = tokio::runtime::Handle::current().metrics().num_workers();
    let multi = measure(&system).await?;
    // The same on a single-threaded runtime, on a thread of its own.
    let single = std::thread::spawn(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current_thread runtime");
        runtime.block_on(async {
            measure(&ActorSystem::new())
                .await
                .map_err(|e| e.to_string())
        })
    })
    .join()
    .expect("the measuring thread")?;
    let multi_label = format!("multi-thread runtime, {workers} workers:");
    println!("    {:<34}{single}", "current_thread runtime:");
    println!("    {multi_label:<34}{multi}");
    println!(
        "    On one thread, the sender and the actor take turns: a message waits in the mailbox until\n\
         \x20   the sender yields, and waking the actor is a push on a local queue. On several, this main\n\
         \x20   task and the actor run on different workers: the two contend for the mailbox's cache lines\n\
         \x20   (tell varies from run to run), and a message to an idle actor wakes a parked thread, a\n\
         \x20   system call, twice per ask. Use `#[tokio::main(flavor = \"current_thread\")]` for a\n\
         \x20   pipeline of actors that talk in turn, the multi-thread runtime (this program's\n\
         \x20   `#[tokio::main]`) for actors that work in parallel."
    );

    println!("\n5. Graceful shutdown: every actor drains its mailbox and stops");
    let report = system.shutdown(Duration::from_secs(5)).await;
    println!("    {} stopped, {} killed", report.stopped, report.killed);
    Ok(())
}

/// Tell throughput and ask latency of one actor, on the runtime this runs on.
async fn measure(system: &ActorSystem) -> Result<String, Box<dyn std::error::Error>> {
    const TELLS: u64 = 2_000_000;
    const ASKS: usize = 100_000;
    let counter = system.spawn(Account { balance: 0 });
    let start = Instant::now();
    for _ in 0..TELLS {
        counter.tell(Deposit { cents: 1 })?;
    }
    assert_eq!(counter.ask(Balance).await?, TELLS);
    let tells = TELLS as f64 / start.elapsed().as_secs_f64() / 1e6;
    let mut latencies = Vec::with_capacity(ASKS);
    for _ in 0..ASKS {
        let start = Instant::now();
        counter.ask(Balance).await?;
        latencies.push(start.elapsed());
    }
    latencies.sort();
    Ok(format!(
        "tell {tells:>5.1} M msg/s, ask median {:>8.2?} (p99 {:.2?})",
        latencies[ASKS / 2],
        latencies[ASKS * 99 / 100]
    ))
}
