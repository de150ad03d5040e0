use airssys_rt::prelude::*;

#[derive(Message)]
struct Load(u32);

#[derive(Message)]
struct Loaded(u32);

struct Cache;

#[actor]
impl Cache {
    fn load(&mut self, Load(id): Load, ctx: &mut Context<Self>) {
        ctx.spawn(async move { Loaded(id) });
    }
}

fn main() {}
