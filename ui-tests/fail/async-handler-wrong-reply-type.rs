use airssys_rt::prelude::*;

#[derive(Message)]
#[message(result = u64)]
struct Total;

struct Counter(u64);

#[actor]
impl Counter {
    async fn total(&self, _: Total) -> String {
        self.0.to_string()
    }
}

fn main() {}
