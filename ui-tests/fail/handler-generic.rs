use airssys_rt::prelude::*;

struct Sink;

#[actor]
impl Sink {
    fn take<M: Message>(&mut self, message: M) {
        drop(message);
    }
}

fn main() {}
