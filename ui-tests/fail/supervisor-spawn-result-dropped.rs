#![deny(unused_must_use)]

use airssys_rt::prelude::*;
use airssys_rt::supervisor::{ChildSpec, Strategy, SupervisorSpec};

#[derive(Message)]
struct Job;

struct Worker;

#[actor]
impl Worker {
    fn job(&mut self, _: Job) {}
}

fn start(system: &ActorSystem) {
    SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::new("worker", || Worker))
        .spawn(system);
}

fn main() {}
