use airssys_rt::prelude::*;

struct Counter(u64);

#[actor]
impl Counter {
    fn add(&mut self, n: u64) {
        self.0 += n;
    }
}

fn main() {}
