//! Every shape `#[actor]` accepts.

use std::time::Duration;

use airssys_rt::prelude::*;

#[derive(Message)]
#[message(result = u64)]
struct Add(u64);

#[derive(Message)]
struct Reset;

#[derive(Message)]
#[message(result = String)]
struct Describe;

#[derive(Message)]
#[message(result = u64)]
struct Slow(u64);

#[derive(Message)]
#[message(result = Option<T>)]
struct Get<T>(std::marker::PhantomData<T>);

#[derive(Message)]
struct Put<T>(T);

struct Counter {
    total: u64,
}

#[actor]
impl Counter {
    /// Associated functions are left alone.
    fn new() -> Self {
        Counter { total: 0 }
    }

    /// `&mut self`, destructuring pattern, reply.
    fn add(&mut self, Add(n): Add) -> u64 {
        self.total += n;
        self.bump()
    }

    /// `async`, with the context.
    async fn reset(&mut self, _: Reset, ctx: &mut Context<Self>) {
        tokio::task::yield_now().await;
        self.total = 0;
        let _ = ctx.address();
    }

    /// `&self`.
    fn describe(&self, _: Describe) -> String {
        format!("total {}", self.helper_with_args(1))
    }

    async fn slow(&self, Slow(n): Slow) -> u64 {
        tokio::time::sleep(Duration::from_millis(n)).await;
        n
    }

    /// A method without a message is a helper.
    fn bump(&mut self) -> u64 {
        self.total
    }

    /// A method with a non-message parameter is a helper when marked.
    #[helper]
    fn helper_with_args(&self, extra: u64) -> u64 {
        self.total + extra
    }

    async fn on_start(&mut self, ctx: &mut Context<Self>) {
        let _ = ctx.address();
    }

    fn on_stop(&mut self, _ctx: &mut Context<Self>, reason: &StopReason) {
        let _ = reason.is_normal();
    }

    fn on_panic(&mut self, panic: &ActorPanic) -> AfterPanic {
        let _ = panic.message();
        AfterPanic::Stop
    }
}

/// A generic actor.
struct Store<T> {
    value: Option<T>,
}

#[actor]
impl<T: Clone + Send + 'static> Store<T> {
    fn get(&self, _: Get<T>) -> Option<T> {
        self.value.clone()
    }

    fn put(&mut self, Put(value): Put<T>) {
        self.value = Some(value);
    }
}

/// An actor with no handlers at all (it may act on timers, or only exist to be stopped).
struct Idle;

#[actor]
impl Idle {}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let system = ActorSystem::new();
    let counter = system.spawn(Counter::new());
    assert_eq!(counter.ask(Add(2)).await.unwrap(), 2);
    counter.tell(Reset).unwrap();
    assert_eq!(counter.ask(Describe).await.unwrap(), "total 1");
    assert_eq!(counter.ask(Slow(1)).await.unwrap(), 1);

    let store = system.spawn(Store::<String> { value: None });
    store.tell(Put("kept".to_owned())).unwrap();
    assert_eq!(store.ask(Get(std::marker::PhantomData)).await.unwrap().as_deref(), Some("kept"));

    let idle = system.spawn(Idle);
    idle.stop();
    assert_eq!(idle.wait_for_stop().await, StopReason::Stopped);
}
