use airssys_rt::prelude::*;

#[derive(Message)]
struct Finish;

struct Job;

#[actor]
impl Job {
    fn finish(self, _: Finish) {}
}

fn main() {}
