use airssys_rt::prelude::*;

#[derive(Message)]
struct Job;

struct Worker;

#[actor]
impl Worker {
    fn on_strat(&mut self, _: Job) {}
}

fn main() {}
