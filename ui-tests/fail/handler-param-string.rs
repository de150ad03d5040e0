use airssys_rt::prelude::*;

struct Logger;

#[actor]
impl Logger {
    fn log(&mut self, line: String) {
        println!("{line}");
    }
}

fn main() {}
