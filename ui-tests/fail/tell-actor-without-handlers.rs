use airssys_rt::prelude::*;

#[derive(Message)]
struct Job;

struct Idle;

#[actor]
impl Idle {
    fn name(&self) -> &'static str {
        "idle"
    }
}

fn send(idle: &ActorRef<Idle>) {
    idle.tell(Job).unwrap();
}

fn main() {}
