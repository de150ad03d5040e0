use airssys_rt::prelude::*;

struct Worker;

#[actor]
impl Worker {
    fn on_stop(&mut self, code: u32) {
        println!("{code}");
    }
}

fn main() {}
