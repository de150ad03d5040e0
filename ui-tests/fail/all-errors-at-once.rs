use airssys_rt::Message;

#[derive(Message)]
#[message(reslt = u64, name = "a", name = "b", inline, boxed)]
struct Broken<'a>(&'a str);

fn main() {}
