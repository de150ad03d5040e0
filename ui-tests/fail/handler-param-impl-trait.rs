use airssys_rt::prelude::*;

struct Logger;

#[actor]
impl Logger {
    fn log(&mut self, line: impl std::fmt::Display) {
        println!("{line}");
    }
}

fn main() {}
