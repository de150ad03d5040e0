//! A tour of airssys-rt's message layer: typed messages, the compile-time storage decision, and a
//! mailbox of type-erased envelopes that hands every message back as its own type.
//!
//! `cargo run --release --example tour`

use std::collections::VecDeque;
use std::hint::black_box;
use std::time::{Duration, Instant};

use airssys_rt::envelope::{ErasedEnvelope, INLINE_ALIGN, INLINE_CAPACITY, MessageEnvelope};
use airssys_rt::{ActorAddress, Message};

/// Deposit money; `ask` would answer with the new balance.
#[derive(Message, Debug)]
#[message(result = u64)]
struct Deposit {
    account: u32,
    cents: u64,
}

/// A note for the account's history.
#[derive(Message, Debug)]
struct Memo {
    account: u32,
    text: String,
}

/// A monthly statement: too large for the envelope, so it is boxed.
#[derive(Message, Debug)]
#[message(name = "bank.Statement")]
struct Statement {
    account: u32,
    lines: [u64; 64],
}

/// Something a bank account cannot handle: it ends up as an undeliverable envelope.
#[derive(Message, Debug)]
struct Shutdown;

fn describe<M: Message>() {
    println!(
        "  {:<28} {:>4} bytes  align {:>2}  -> {:?}",
        M::MESSAGE_TYPE,
        size_of::<M>(),
        align_of::<M>(),
        M::STORAGE
    );
}

fn main() {
    println!("airssys-rt tour: messages and envelopes\n");
    println!(
        "Storage is decided at compile time (inline limit: {INLINE_CAPACITY} bytes, align {INLINE_ALIGN}):"
    );
    describe::<Deposit>();
    describe::<Memo>();
    describe::<Statement>();
    describe::<Shutdown>();
    println!(
        "  an erased envelope is {} bytes\n",
        size_of::<ErasedEnvelope>()
    );

    // A mailbox holds envelopes of every type its owner handles, in the order they were sent.
    let bank = ActorAddress::from_id(std::num::NonZeroU64::new(1).unwrap());
    let mut mailbox: VecDeque<ErasedEnvelope> = VecDeque::new();
    mailbox.push_back(
        MessageEnvelope::new(Deposit {
            account: 7,
            cents: 1_250,
        })
        .to(bank)
        .erase(),
    );
    mailbox.push_back(ErasedEnvelope::new(Memo {
        account: 7,
        text: "rent".into(),
    }));
    mailbox.push_back(ErasedEnvelope::new(Statement {
        account: 7,
        lines: [125; 64],
    }));
    mailbox.push_back(ErasedEnvelope::new(Shutdown));
    mailbox.push_back(ErasedEnvelope::new(Deposit {
        account: 7,
        cents: 50,
    }));

    let mut balance = 0;
    let mut undeliverable = Vec::new();
    println!("Draining a mailbox of {} envelopes:", mailbox.len());
    while let Some(envelope) = mailbox.pop_front() {
        // Each downcast checks the type; a miss hands the envelope back for the next try.
        let envelope = match envelope.downcast::<Deposit>() {
            Ok(deposit) => {
                balance += deposit.cents;
                println!(
                    "  deposit of {} to account {}: balance {balance}",
                    deposit.cents, deposit.account
                );
                continue;
            }
            Err(envelope) => envelope,
        };
        let envelope = match envelope.downcast::<Memo>() {
            Ok(memo) => {
                println!("  memo for account {}: {:?}", memo.account, memo.text);
                continue;
            }
            Err(envelope) => envelope,
        };
        match envelope.downcast::<Statement>() {
            Ok(statement) => {
                let total: u64 = statement.lines.iter().sum();
                println!(
                    "  statement for account {}: {} lines, {total} cents",
                    statement.account,
                    statement.lines.len()
                );
            }
            Err(envelope) => {
                println!(
                    "  not handled: {} (kept, with its payload)",
                    envelope.message_type()
                );
                undeliverable.push(envelope);
            }
        }
    }
    println!(
        "  {} undeliverable envelope(s), nothing dropped silently\n",
        undeliverable.len()
    );

    println!("Measured live (erase + downcast, {} per run):", ROUNDS);
    // `black_box` keeps the optimizer from seeing through the round trip and deleting it.
    let inline = measure(|i| {
        let erased = black_box(ErasedEnvelope::new(Deposit {
            account: 1,
            cents: i,
        }));
        erased.downcast::<Deposit>().ok().unwrap().cents
    });
    let boxed = measure(|i| {
        let boxed: Box<dyn std::any::Any + Send> = black_box(Box::new(Deposit {
            account: 1,
            cents: i,
        }));
        boxed.downcast::<Deposit>().ok().unwrap().cents
    });
    println!(
        "  envelope, inline:     {:>6.2} ns per message",
        per_message(inline)
    );
    println!(
        "  Box<dyn Any>:         {:>6.2} ns per message",
        per_message(boxed)
    );
    println!(
        "  inline is {:.1}x faster than boxing",
        boxed.as_secs_f64() / inline.as_secs_f64()
    );
    println!("\n(criterion figures: BENCHMARKS.md; `cargo bench --bench envelope`)");
}

const ROUNDS: u64 = 5_000_000;

fn measure(round_trip: impl Fn(u64) -> u64) -> Duration {
    // The best of five runs, so that a busy machine distorts less.
    (0..5)
        .map(|_| {
            let start = Instant::now();
            let mut sum = 0_u64;
            for i in 0..ROUNDS {
                sum = sum.wrapping_add(round_trip(black_box(i)));
            }
            black_box(sum);
            start.elapsed()
        })
        .min()
        .unwrap()
}

fn per_message(elapsed: Duration) -> f64 {
    elapsed.as_nanos() as f64 / ROUNDS as f64
}
