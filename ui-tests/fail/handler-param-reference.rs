use airssys_rt::prelude::*;

#[derive(Message)]
struct Job(u32);

struct Worker;

#[actor]
impl Worker {
    fn job(&mut self, job: &Job) {
        let _ = job.0;
    }
}

fn main() {}
