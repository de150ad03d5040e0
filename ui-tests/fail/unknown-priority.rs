use airssys_rt::Message;

#[derive(Message)]
#[message(priority = "urgent")]
struct Alarm;

fn main() {}
