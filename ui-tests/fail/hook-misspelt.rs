use airssys_rt::prelude::*;

struct Worker;

#[actor]
impl Worker {
    fn on_strat(&mut self, ctx: &mut Context<Self>) {
        println!("started as {}", ctx.address());
    }
}

fn main() {}
