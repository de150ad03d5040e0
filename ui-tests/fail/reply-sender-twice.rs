use airssys_rt::prelude::*;

#[derive(Message)]
#[message(result = u64)]
struct Job;

struct Worker;

#[actor]
impl Worker {
    fn job(&mut self, _: Job, a: ReplySender<u64>, b: ReplySender<u64>) {
        a.send(1);
        b.send(2);
    }
}

fn main() {}
