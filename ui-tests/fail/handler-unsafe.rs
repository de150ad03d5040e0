use airssys_rt::prelude::*;

#[derive(Message)]
struct Job;

struct Worker;

#[actor]
impl Worker {
    unsafe fn job(&mut self, _: Job) {}
}

fn main() {}
