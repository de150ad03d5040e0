//! Services that find each other by name and talk through the broker and a topic.
//!
//! `cargo run --release --example broker`
//!
//! An order service asks the inventory service by name, then announces each placed order on a topic
//! that an audit log and a mailer subscribe to. Nothing is addressed by actor type: the broker checks
//! at run time that each target handles what it is sent, and gives back what it cannot deliver.

use std::collections::HashMap;
use std::sync::Arc;

use airssys_rt::broker::{RouteFailure, Topic};
use airssys_rt::envelope::MessageEnvelope;
use airssys_rt::prelude::*;

#[derive(Message, Debug)]
#[message(result = Result<u32, String>)]
struct Reserve {
    sku: &'static str,
    quantity: u32,
}

#[derive(Message, Debug)]
#[message(result = Result<u64, String>)]
struct PlaceOrder {
    sku: &'static str,
    quantity: u32,
}

#[derive(Message, Debug)]
struct OrderPlaced {
    id: u64,
    sku: &'static str,
    quantity: u32,
}

#[derive(Message, Debug)]
#[message(result = usize)]
struct Count;

struct Inventory {
    stock: HashMap<&'static str, u32>,
}

#[actor]
impl Inventory {
    fn reserve(&mut self, Reserve { sku, quantity }: Reserve) -> Result<u32, String> {
        let left = self
            .stock
            .get_mut(sku)
            .ok_or(format!("unknown sku {sku}"))?;
        if *left < quantity {
            return Err(format!("only {left} {sku} left"));
        }
        *left -= quantity;
        Ok(*left)
    }
}

struct Orders {
    next_id: u64,
    placed: Topic<OrderPlaced>,
}

#[actor]
impl Orders {
    async fn place(&mut self, order: PlaceOrder, ctx: &mut Context<Self>) -> Result<u64, String> {
        let broker = ctx.system().broker();
        let reserve = Reserve {
            sku: order.sku,
            quantity: order.quantity,
        };
        // By name: the order service does not know the inventory's type, or its address.
        broker
            .ask("inventory", reserve)
            .await
            .map_err(|error| error.to_string())??;
        self.next_id += 1;
        self.placed.publish(OrderPlaced {
            id: self.next_id,
            sku: order.sku,
            quantity: order.quantity,
        });
        Ok(self.next_id)
    }
}

/// A topic subscriber: keeps what it saw.
struct Log {
    name: &'static str,
    seen: usize,
}

#[actor]
impl Log {
    fn placed(&mut self, order: Arc<OrderPlaced>) {
        self.seen += 1;
        println!(
            "    {:<6} saw order #{}: {} x {}",
            self.name, order.id, order.quantity, order.sku
        );
    }

    fn count(&self, _: Count) -> usize {
        self.seen
    }
}

// One thread, so that step 4 is repeatable: the kill lands before the inventory runs again.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let system = ActorSystem::new();
    let broker = system.broker();
    let resolver = broker.resolver();
    let mut dead_letters = broker.dead_letters();

    println!("1. Services register by name; subscribers join a topic");
    let placed = broker.topic::<OrderPlaced>("orders.placed")?;
    let inventory = system.spawn(Inventory {
        stock: HashMap::from([("apple", 5), ("pear", 1)]),
    });
    resolver.register("inventory", inventory.address())?;
    resolver.register(
        "orders",
        system
            .spawn(Orders {
                next_id: 0,
                placed: placed.clone(),
            })
            .address(),
    )?;
    let audit = system.spawn(Log {
        name: "audit",
        seen: 0,
    });
    let mailer = system.spawn(Log {
        name: "mailer",
        seen: 0,
    });
    placed.subscribe(audit.recipient());
    placed.subscribe(mailer.recipient());
    println!(
        "    names: {}, topic subscribers: {}",
        resolver.len(),
        placed.subscriber_count()
    );

    println!("\n2. Orders go through the broker by name");
    for (sku, quantity) in [("apple", 2), ("pear", 1), ("pear", 1), ("kiwi", 1)] {
        let reply = broker.ask("orders", PlaceOrder { sku, quantity }).await?;
        match reply {
            Ok(id) => println!("    {quantity} x {sku}: order #{id}"),
            Err(why) => println!("    {quantity} x {sku}: refused: {why}"),
        }
    }
    println!(
        "    audit saw {}, mailer saw {}",
        audit.ask(Count).await?,
        mailer.ask(Count).await?
    );

    println!("\n3. What cannot be delivered comes back, with the reason");
    let wrong = MessageEnvelope::new(Count).to(inventory.address());
    if let Err(refused) = broker.route(wrong) {
        println!("    {refused}");
        assert!(matches!(refused.failure(), RouteFailure::Unhandled { .. }));
    }
    if let Err(refused) = broker.route_to("billing", MessageEnvelope::new(Count)) {
        println!("    {refused}");
    }

    println!("\n4. Messages queued when a service is killed become dead letters");
    for quantity in 1..=3 {
        broker.route_to(
            "inventory",
            MessageEnvelope::new(Reserve {
                sku: "apple",
                quantity,
            }),
        )?;
    }
    inventory.kill();
    println!("    inventory stopped: {}", inventory.wait_for_stop().await);
    while let Some(letter) = dead_letters.try_recv() {
        let payload = letter.take::<Reserve>().map(|r| r.quantity);
        println!("    {letter} (quantity {payload:?})");
    }
    println!(
        "    the name is freed with its actor: {:?}",
        resolver.resolve("inventory")
    );

    let stats = broker.stats();
    println!(
        "\n5. Broker statistics: routed {}, failed {} (unhandled {}, no such name {}), \
         name cache {} hits / {} misses, published {}, dead letters {}",
        stats.routed,
        stats.failed(),
        stats.unhandled,
        stats.no_such_name,
        stats.name_cache_hits,
        stats.name_cache_misses,
        stats.published,
        stats.dead_letters
    );
    system.shutdown(std::time::Duration::from_secs(1)).await;
    Ok(())
}
