use airssys_rt::prelude::*;

#[derive(Message)]
#[message(result = u64)]
struct Add(u64);

struct Counter(u64);

/// The context may come before the message.
#[actor]
impl Counter {
    fn add(&mut self, ctx: &mut Context<Self>, Add(n): Add) -> u64 {
        let _ = ctx.address();
        self.0 += n;
        self.0
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let system = ActorSystem::new();
    let counter = system.spawn(Counter(1));
    assert_eq!(counter.ask(Add(2)).await.unwrap(), 3);
}
