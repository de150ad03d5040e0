use airssys_rt::prelude::*;

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

fn send(counter: ActorRef<Counter>) {
    let _ = counter.tell(Reset);
}

fn main() {}
