use airssys_rt::prelude::*;

/// A handler behind `#[cfg]` is compiled out with its message; the other handlers keep working.
#[cfg(any())]
#[derive(Message)]
struct Gone;

#[derive(Message)]
#[message(result = &'static str)]
struct Kind;

struct Gated;

#[actor]
impl Gated {
    #[cfg(any())]
    fn gone(&mut self, _: Gone) {}

    #[cfg(all())]
    fn kind(&self, _: Kind) -> &'static str {
        "gated"
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let system = ActorSystem::new();
    let gated = system.spawn(Gated);
    assert_eq!(gated.ask(Kind).await.unwrap(), "gated");
}
