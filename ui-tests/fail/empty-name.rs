use airssys_rt::Message;

#[derive(Message)]
#[message(name = "")]
struct Tick;

fn main() {}
