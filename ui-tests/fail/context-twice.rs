use airssys_rt::prelude::*;

#[derive(Message)]
struct Job;

struct Worker;

#[actor]
impl Worker {
    fn job(&mut self, _: Job, a: &mut Context<Self>, b: &mut Context<Self>) {
        let _ = (a, b);
    }
}

fn main() {}
