use airssys_rt::prelude::*;

/// An actor and its message made by `macro_rules!`.
macro_rules! echo_actor {
    ($actor:ident, $message:ident) => {
        #[derive(Message)]
        #[message(result = u32)]
        struct $message(u32);

        struct $actor;

        #[actor]
        impl $actor {
            fn echo(&mut self, $message(n): $message, ctx: &mut Context<Self>) -> u32 {
                let _ = ctx.address();
                n
            }
        }
    };
}

echo_actor!(Echo, Say);

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let system = ActorSystem::new();
    let echo = system.spawn(Echo);
    assert_eq!(echo.ask(Say(7)).await.unwrap(), 7);
}
