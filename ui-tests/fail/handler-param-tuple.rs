use airssys_rt::prelude::*;

struct Adder;

#[actor]
impl Adder {
    fn add(&mut self, (a, b): (u32, u32)) -> u32 {
        a + b
    }
}

fn main() {}
