#![deny(unused_must_use)]

use airssys_rt::prelude::*;

#[derive(Message)]
struct Job;

struct Worker;

#[actor]
impl Worker {
    fn job(&mut self, _: Job) {}
}

fn start(system: &ActorSystem) {
    system.spawn(Worker);
}

fn main() {}
