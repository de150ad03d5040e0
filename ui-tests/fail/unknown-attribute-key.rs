use airssys_rt::Message;

#[derive(Message)]
#[message(reply = u64)]
struct Add(u64);

fn main() {}
