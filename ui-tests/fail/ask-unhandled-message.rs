use airssys_rt::prelude::*;

#[derive(Message)]
struct Add(u64);

#[derive(Message)]
#[message(result = u64)]
struct Total;

struct Counter(u64);

#[actor]
impl Counter {
    fn add(&mut self, Add(n): Add) {
        self.0 += n;
    }
}

async fn total(counter: ActorRef<Counter>) -> u64 {
    counter.ask(Total).await.unwrap()
}

fn main() {}
