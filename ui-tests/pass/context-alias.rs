use airssys_rt::prelude::*;

#[derive(Message)]
#[message(result = u64)]
struct Get;

/// The context through a type alias, in an `async` `&self` handler and in a hook.
type Ctx<A> = Context<A>;

struct Counter(u64);

#[actor]
impl Counter {
    async fn get(&self, _: Get, ctx: &mut Ctx<Self>) -> u64 {
        let _ = ctx.address();
        self.0
    }

    fn on_start(&mut self, ctx: &mut Ctx<Self>) {
        let _ = ctx.address();
        self.0 += 1;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let system = ActorSystem::new();
    let counter = system.spawn(Counter(1));
    assert_eq!(counter.ask(Get).await.unwrap(), 2);
}
