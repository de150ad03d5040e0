use airssys_rt::prelude::*;

struct Guardian;

#[actor]
impl Guardian {
    fn on_start(&mut self, ctx: &mut Context<Self>) {
        ctx.trap_exits();
    }
}

fn main() {}
