use airssys_rt::prelude::*;
use airssys_rt::testkit::BehaviorTestKit;

#[derive(Message)]
struct Add(u64);

#[derive(Message)]
struct Reset;

struct Counter(u64);

#[actor]
impl Counter {
    fn add(&mut self, Add(n): Add) {
        self.0 += n;
    }
}

async fn check(mut kit: BehaviorTestKit<Counter>) {
    kit.tell(Reset).await;
}

fn main() {}
