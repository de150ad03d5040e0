use airssys_rt::Message;

#[derive(Message)]
#[message(inline)]
struct Frame {
    pixels: [u8; 128],
}

fn main() {}
