use airssys_rt::prelude::*;

#[derive(Message)]
struct Add(u64);

#[derive(Message)]
struct Sub(u64);

struct Counter(u64);

#[actor]
impl Counter {
    fn apply(&mut self, add: Add, sub: Sub) {
        self.0 = self.0 + add.0 - sub.0;
    }
}

fn main() {}
