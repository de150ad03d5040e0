//! Every accepted shape of a handler that answers through its `ReplySender`.
use airssys_rt::prelude::*;

#[derive(Message)]
#[message(result = u64)]
struct A(u64);

#[derive(Message)]
#[message(result = String)]
struct B;

#[derive(Message)]
struct C;

struct Shapes;

#[actor]
impl Shapes {
    fn a(&mut self, A(n): A, reply: ReplySender<u64>) {
        reply.send(n);
    }

    async fn b(&self, _: B, ctx: &mut Context<Self>, reply: ReplySender<String>) {
        let address = ctx.address();
        reply.send(address.to_string());
    }

    fn c(&mut self, _: C, reply: ReplySender<()>, ctx: &mut Context<Self>) {
        ctx.spawn(async move { reply.send(()) });
    }
}

fn main() {}
