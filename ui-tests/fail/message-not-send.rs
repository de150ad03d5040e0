use std::rc::Rc;

use airssys_rt::Message;

#[derive(Message)]
struct Share(Rc<String>);

fn main() {}
