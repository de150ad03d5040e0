use std::rc::Rc;

use airssys_rt::prelude::*;

#[derive(Message)]
struct Refresh;

struct Cache;

#[actor]
impl Cache {
    async fn refresh(&mut self, _: Refresh) {
        let local = Rc::new(5);
        tokio::task::yield_now().await;
        drop(local);
    }
}

fn main() {}
