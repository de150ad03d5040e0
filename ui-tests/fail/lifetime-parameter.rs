use airssys_rt::Message;

#[derive(Message)]
struct Greet<'a> {
    name: &'a str,
}

fn main() {}
