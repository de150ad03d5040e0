use airssys_rt::prelude::*;

#[derive(Message)]
#[message(result = u64)]
struct Fetch(u64);

struct Gateway;

#[actor]
impl Gateway {
    fn fetch(&mut self, Fetch(n): Fetch, reply: &mut ReplySender<u64>) {
        let _ = (n, reply);
    }
}

fn main() {}
