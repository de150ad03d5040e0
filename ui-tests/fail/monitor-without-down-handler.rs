use airssys_rt::prelude::*;

#[derive(Message)]
struct Watch(ActorRef<Worker>);

struct Worker;

#[actor]
impl Worker {}

struct Watcher;

#[actor]
impl Watcher {
    fn watch(&mut self, Watch(target): Watch, ctx: &mut Context<Self>) {
        ctx.monitor(&target);
    }
}

fn main() {}
