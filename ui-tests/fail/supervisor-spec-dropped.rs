#![deny(unused_must_use)]

use airssys_rt::supervisor::{ChildSpec, Strategy, SupervisorSpec};
use airssys_rt::prelude::*;

#[derive(Message)]
struct Job;

struct Worker;

#[actor]
impl Worker {
    fn job(&mut self, _: Job) {}
}

fn build() {
    SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::new("worker", || Worker));
}

fn main() {}
