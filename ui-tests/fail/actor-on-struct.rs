use airssys_rt::prelude::*;

#[actor]
struct Counter(u64);

fn main() {}
