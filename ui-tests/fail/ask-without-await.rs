use airssys_rt::prelude::*;

#[derive(Message)]
#[message(result = u64)]
struct Total;

struct Counter(u64);

#[actor]
impl Counter {
    fn total(&self, _: Total) -> u64 {
        self.0
    }
}

async fn read(counter: &ActorRef<Counter>) -> Result<u64, Box<dyn std::error::Error>> {
    let total = counter.ask(Total)?;
    Ok(total)
}

fn main() {}
