use airssys_rt::prelude::*;

#[derive(Message)]
struct Job;

struct Worker;

#[actor]
impl Worker {
    extern "C" fn job(&mut self, _: Job) {}
}

fn main() {}
