use airssys_rt::prelude::*;

struct Worker;

impl Actor for Worker {}

fn main() {}
