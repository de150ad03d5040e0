use airssys_rt::prelude::*;
use airssys_rt::testkit::ActorProbe;

#[derive(Message, Debug)]
struct Add(u64);

#[derive(Message, Debug)]
struct Reset;

struct Counter(u64);

#[actor]
impl Counter {
    fn add(&mut self, Add(n): Add) {
        self.0 += n;
    }
}

async fn check(mut counter: ActorProbe<Counter>) {
    // Nothing can send a `Reset` to a `Counter`: expecting one is a mistake.
    let _ = counter.expect_message::<Reset>().await;
}

fn main() {}
