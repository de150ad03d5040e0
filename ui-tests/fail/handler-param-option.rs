use airssys_rt::prelude::*;

#[derive(Message)]
struct Job;

struct Worker;

#[actor]
impl Worker {
    fn job(&mut self, job: Option<Job>) {
        drop(job);
    }
}

fn main() {}
