use std::rc::Rc;

use airssys_rt::prelude::*;

#[derive(Message)]
struct Put;

struct Store<T> {
    items: Vec<T>,
}

#[actor]
impl<T: Default> Store<T> {
    fn put(&mut self, _: Put) {
        self.items.push(T::default());
    }
}

async fn run(system: ActorSystem) {
    let _store = system.spawn(Store::<Rc<u8>> { items: Vec::new() });
}

fn main() {}
