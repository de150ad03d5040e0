use airssys_rt::prelude::*;

struct Worker;

#[actor]
impl Worker {
    fn on_stop(&mut self, reason: StopReason) {
        println!("{reason}");
    }
}

fn main() {}
