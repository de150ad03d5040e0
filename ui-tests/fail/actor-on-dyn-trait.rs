use airssys_rt::prelude::*;

#[derive(Message)]
struct Job;

trait Service {}

#[actor]
impl dyn Service {
    fn job(&mut self, _: Job) {}
}

fn main() {}
