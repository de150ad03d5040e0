use airssys_rt::Message;

#[derive(Message)]
#[message(inline, boxed)]
struct Tick;

fn main() {}
