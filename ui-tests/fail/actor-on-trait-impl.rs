use airssys_rt::prelude::*;

struct Counter(u64);

#[actor]
impl Default for Counter {
    fn default() -> Self {
        Counter(0)
    }
}

fn main() {}
