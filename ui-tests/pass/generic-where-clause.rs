use airssys_rt::prelude::*;

#[derive(Message)]
#[message(result = u64)]
struct Put;

/// A generic actor with a where clause, and no `Send + 'static` spelt out; a helper that takes `T`.
struct Store<T> {
    items: Vec<T>,
}

#[actor]
impl<T> Store<T>
where
    T: Default + Clone,
{
    fn put(&mut self, _: Put) -> u64 {
        self.items.push(T::default());
        self.items.len() as u64
    }

    #[helper]
    fn first(&self, fallback: T) -> T {
        self.items.first().cloned().unwrap_or(fallback)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let system = ActorSystem::new();
    let store = system.spawn(Store::<String> { items: Vec::new() });
    assert_eq!(store.ask(Put).await.unwrap(), 1);
    assert_eq!(Store::<u8> { items: vec![4] }.first(0), 4);
}
