use airssys_rt::Message;

#[derive(Message)]
#[message(result = &str)]
struct Name;

fn main() {}
