use airssys_rt::prelude::*;

#[derive(Message)]
struct Add(u64);

struct Counter(u64);

#[actor]
impl Counter {
    fn add(&mut self, Add(n): Add) {
        self.0 += n;
    }

    fn add_again(&mut self, Add(n): Add) {
        self.0 += 2 * n;
    }
}

fn main() {}
