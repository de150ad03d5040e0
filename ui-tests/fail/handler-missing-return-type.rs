use airssys_rt::prelude::*;

#[derive(Message)]
#[message(result = u64)]
struct Add(u64);

struct Counter(u64);

#[actor]
impl Counter {
    fn add(&mut self, Add(n): Add) {
        self.0 += n;
    }
}

fn main() {}
