use airssys_rt::prelude::*;

/// Meant as a message, but `#[derive(Message)]` was forgotten.
struct Refill(u32);

struct Tank(u32);

#[actor]
impl Tank {
    fn refill(&mut self, Refill(litres): Refill) {
        self.0 += litres;
    }
}

fn main() {}
