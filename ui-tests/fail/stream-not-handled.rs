use airssys_rt::prelude::*;

#[derive(Message)]
struct Start;

struct Sink;

#[actor]
impl Sink {
    fn start(&mut self, _: Start, ctx: &mut Context<Self>) {
        let stream = tokio_stream_like();
        ctx.attach_stream(stream, (), ());
    }
}

fn tokio_stream_like() -> impl futures_core::Stream<Item = u32> + Send + 'static {
    struct Empty;
    impl futures_core::Stream for Empty {
        type Item = u32;
        fn poll_next(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<u32>> {
            std::task::Poll::Ready(None)
        }
    }
    Empty
}

fn main() {}
