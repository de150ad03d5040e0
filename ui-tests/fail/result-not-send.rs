use std::rc::Rc;

use airssys_rt::Message;

#[derive(Message)]
#[message(result = Rc<u64>)]
struct Get;

fn main() {}
