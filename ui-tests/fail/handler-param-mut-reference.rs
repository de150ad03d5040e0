use airssys_rt::prelude::*;

#[derive(Message)]
struct Job(u32);

struct Worker;

#[actor]
impl Worker {
    fn job(&mut self, job: &mut Job) {
        job.0 += 1;
    }
}

fn main() {}
