use airssys_rt::prelude::*;

#[derive(Message)]
struct Job;

struct Worker;
struct Other;

#[actor]
impl Other {}

#[actor]
impl Worker {
    fn job(&mut self, _: Job, ctx: &mut Context<Other>) {
        let _ = ctx;
    }
}

fn main() {}
