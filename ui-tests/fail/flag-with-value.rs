use airssys_rt::Message;

#[derive(Message)]
#[message(boxed = true)]
struct Tick;

fn main() {}
