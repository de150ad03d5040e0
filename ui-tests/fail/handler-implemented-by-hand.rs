use airssys_rt::prelude::*;

#[derive(Message)]
struct Job;

#[derive(Message)]
struct Other;

struct Worker;

#[actor]
impl Worker {
    fn job(&mut self, _: Job) {}
}

impl airssys_rt::Handler<Other> for Worker {}

fn main() {}
