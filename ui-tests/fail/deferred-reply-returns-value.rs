use airssys_rt::prelude::*;

#[derive(Message)]
#[message(result = u64)]
struct Fetch(u64);

struct Gateway;

#[actor]
impl Gateway {
    fn fetch(&mut self, Fetch(n): Fetch, reply: ReplySender<u64>) -> u64 {
        reply.send(n);
        n
    }
}

fn main() {}
