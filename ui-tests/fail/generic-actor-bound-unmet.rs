use airssys_rt::prelude::*;

#[derive(Message)]
struct Put;

struct Store<T> {
    items: Vec<T>,
}

#[actor]
impl<T: Default + Send + 'static> Store<T> {
    fn put(&mut self, _: Put) {
        self.items.push(T::default());
    }
}

struct NoDefault;

async fn run(system: ActorSystem) {
    let _store = system.spawn(Store::<NoDefault> { items: Vec::new() });
}

fn main() {}
