use airssys_rt::prelude::*;

#[derive(Message)]
struct Add(u64);

struct Counter(u64);

#[actor(mailbox = 16)]
impl Counter {
    fn add(&mut self, Add(n): Add) {
        self.0 += n;
    }
}

fn main() {}
