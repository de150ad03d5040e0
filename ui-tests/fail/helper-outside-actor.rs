use airssys_rt::prelude::*;

struct Worker;

impl Worker {
    #[helper]
    fn scale(&self, factor: u64) -> u64 {
        factor * 2
    }
}

fn main() {}
