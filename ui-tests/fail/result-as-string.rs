use airssys_rt::Message;

#[derive(Message)]
#[message(result = "u64")]
struct Add(u64);

fn main() {}
