use airssys_rt::prelude::*;

struct Worker;

#[actor]
impl Worker {
    fn on_start(ctx: &mut Context<Self>) {
        let _ = ctx;
    }
}

fn main() {}
