use airssys_rt::Message;

#[derive(Message)]
#[message(inline)]
struct Id(u128);

fn main() {}
