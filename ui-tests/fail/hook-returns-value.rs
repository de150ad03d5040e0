use airssys_rt::prelude::*;

struct Worker;

#[actor]
impl Worker {
    fn on_start(&mut self) -> bool {
        true
    }
}

fn main() {}
