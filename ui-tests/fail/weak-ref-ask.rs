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

async fn read(counter: WeakActorRef<Counter>) -> u64 {
    counter.ask(Total).await.unwrap()
}

fn main() {}
