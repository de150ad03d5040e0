//! Support for the code that the macros generate. Not a public API: it changes without notice.

use crate::envelope::{INLINE_ALIGN, INLINE_CAPACITY};
use crate::message::Storage;

/// A message assembled at compile time, for a `panic!` in a `const` that reports a misuse.
#[derive(Debug)]
pub struct ConstMessage {
    bytes: [u8; 512],
    len: usize,
}

impl ConstMessage {
    const fn new() -> Self {
        ConstMessage {
            bytes: [0; 512],
            len: 0,
        }
    }

    const fn push(mut self, text: &str) -> Self {
        let text = text.as_bytes();
        let mut i = 0;
        while i < text.len() && self.len < self.bytes.len() {
            self.bytes[self.len] = text[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    const fn push_usize(mut self, mut value: usize) -> Self {
        let mut digits = [0u8; 20];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (value % 10) as u8;
            count += 1;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        while count > 0 && self.len < self.bytes.len() {
            count -= 1;
            self.bytes[self.len] = digits[count];
            self.len += 1;
        }
        self
    }

    /// The text assembled so far.
    pub const fn as_str(&self) -> &str {
        let (text, _) = self.bytes.split_at(self.len);
        match core::str::from_utf8(text) {
            Ok(text) => text,
            // Only whole `&str`s and ASCII digits are pushed, so this cannot happen.
            Err(_) => "invalid message",
        }
    }
}

/// Why `#[message(inline)]` cannot hold for `T`, named `name` in the user's code, or `None` if it
/// fits. `cause` is what demanded inline storage; `fix` says what to do instead.
pub const fn inline_violation<T>(cause: &str, name: &str, fix: &str) -> Option<ConstMessage> {
    if Storage::fits_inline::<T>() {
        return None;
    }
    let message = ConstMessage::new()
        .push(cause)
        .push(" on `")
        .push(name)
        .push("`, which is ")
        .push_usize(size_of::<T>())
        .push(" bytes with alignment ")
        .push_usize(align_of::<T>())
        .push("; an envelope stores inline at most ")
        .push_usize(INLINE_CAPACITY)
        .push(" bytes with alignment at most ")
        .push_usize(INLINE_ALIGN)
        .push(". ")
        .push(fix);
    Some(message)
}

pub use crate::actor::{
    Actor, ActorByActorMacro, Context, HandledMessage, Handler, HandlerByActorMacro,
    HandlerMessage, IsMessage, Unhandled,
};
pub use crate::actor::{ReplySender, ReplyTo};
pub use crate::envelope::ErasedEnvelope;

use core::future::Future;

use tokio::sync::oneshot;

use crate::actor::reply::ReplyResult;
use crate::core::mailbox::Ask;
use crate::message::Message;

/// Runs a synchronous handler on the message in `message` and replies to an asker.
///
/// `#[actor]` calls this from `__dispatch` for the handler whose index the slot carries; the index was
/// fixed at compile time for `M`, so the checked downcast cannot fail.
///
/// A told message is an `M`; an asked one an `Ask<M>`, whose reply channel moves to `reply` (owned by
/// the actor's loop, which reports a panic through it) before the handler runs.
#[inline]
pub fn deliver<M: Message, R: Send + 'static>(
    message: ErasedEnvelope,
    reply: &mut ReplyTo,
    handler: impl FnOnce(M) -> R,
) {
    let result = open(message, |message, channel| {
        reply.0 = channel;
        handler(message)
    });
    reply.send(result);
}

/// As [`deliver`], for a synchronous handler that takes its [`ReplySender`] and answers through it.
#[inline]
pub fn deliver_deferred<M: Message>(
    message: ErasedEnvelope,
    handler: impl FnOnce(M, ReplySender<M::Result>),
) {
    open(message, |message, channel| {
        handler(message, ReplySender::new(channel, M::MESSAGE_TYPE));
    });
}

/// As [`deliver`], for an `async` handler. `BOXED` (from [`boxes_handler_future`]) says whether the
/// handler's future is kept in the actor's task or in a box of its own.
#[inline]
///
/// The future's output is checked to be `M::Result` by [`async_handlers_reply_with_the_message_result`]
/// in the generated code, once, at the handler's return type.
///
/// [`async_handlers_reply_with_the_message_result`]: crate::actor::async_handlers_reply_with_the_message_result
pub async fn deliver_async<M: Message, F: Future<Output: Send + 'static>, const BOXED: bool>(
    message: ErasedEnvelope,
    reply: &mut ReplyTo,
    handler: impl FnOnce(M) -> F,
) where
    HandlerFuture<BOXED>: Hold,
{
    let future = open(message, |message, channel| {
        reply.0 = channel;
        <HandlerFuture<BOXED> as Hold>::hold(handler(message))
    });
    reply.send(future.await);
}

/// As [`deliver_async`], for an `async` handler that takes its [`ReplySender`].
#[inline]
pub async fn deliver_async_deferred<M: Message, F: Future<Output = ()>, const BOXED: bool>(
    message: ErasedEnvelope,
    handler: impl FnOnce(M, ReplySender<M::Result>) -> F,
) where
    HandlerFuture<BOXED>: Hold,
{
    let future = open(message, |message, channel| {
        let reply = ReplySender::new(channel, M::MESSAGE_TYPE);
        <HandlerFuture<BOXED> as Hold>::hold(handler(message, reply))
    });
    future.await;
}

/// Messages larger than this get their `async` handler's future boxed.
///
/// An `async` handler's future holds its message by value, and the actor's task holds the future of
/// its largest `async` handler, from its spawn on, whether or not such a message ever comes: a handler
/// of a 1 MiB message made every such actor's task over 1 MiB, built on the stack at spawn (where it
/// overflowed a tokio worker's 2 MiB stack), and a 64 KiB one cost 266 KB per idle actor. Boxed, the
/// future costs one allocation per message, paid only by messages this large, which are boxed in their
/// envelope already.
pub const BOX_HANDLER_FUTURE_ABOVE: usize = 1024;

/// Whether the `async` handler of `M` gets its future boxed. Used by `#[actor]` as a const generic
/// argument, for messages whose type does not depend on the actor's generic parameters (the others
/// keep their future inline).
pub const fn boxes_handler_future<M>() -> bool {
    core::mem::size_of::<M>() > BOX_HANDLER_FUTURE_ABOVE
}

/// Where an `async` handler's future is kept: inline (`false`) or boxed (`true`).
#[derive(Debug)]
pub struct HandlerFuture<const BOXED: bool>;

/// How [`HandlerFuture`] keeps a future.
pub trait Hold {
    /// The future as kept.
    type Held<F: Future>: Future<Output = F::Output>;

    /// Keeps `future`.
    fn hold<F: Future>(future: F) -> Self::Held<F>;
}

impl Hold for HandlerFuture<false> {
    type Held<F: Future> = F;

    #[inline(always)]
    fn hold<F: Future>(future: F) -> F {
        future
    }
}

impl Hold for HandlerFuture<true> {
    type Held<F: Future> = core::pin::Pin<Box<F>>;

    #[inline]
    fn hold<F: Future>(future: F) -> core::pin::Pin<Box<F>> {
        Box::pin(future)
    }
}

/// Hands the `M` in `message` to `handler`, with the asker's reply channel if it was asked.
#[inline]
fn open<M: Message, R>(
    message: ErasedEnvelope,
    handler: impl FnOnce(M, Option<oneshot::Sender<ReplyResult>>) -> R,
) -> R {
    let opened = if message.is::<M>() {
        message.downcast_with(|message| handler(message, None))
    } else {
        message.downcast_with(|ask: Ask<M>| handler(ask.message, Some(ask.reply)))
    };
    match opened {
        Ok(output) => output,
        Err(message) => wrong_handler(&message),
    }
}

/// A queued message for `M`'s handler, as a dead letter: an asked one gives up its reply channel and
/// becomes its `M`. Returns whether it was an ask.
pub fn unwrap_ask<M: Message>(message: ErasedEnvelope) -> (ErasedEnvelope, bool) {
    match message.downcast::<Ask<M>>() {
        Ok(ask) => (ErasedEnvelope::new(ask.message), true),
        Err(message) => (message, false),
    }
}

/// A slot whose handler index does not match its message: a bug in airssys-rt, reported as a panic in
/// the actor (caught, and given to an asker) rather than undefined behaviour.
#[cold]
pub fn wrong_handler(message: &ErasedEnvelope) -> ! {
    panic!(
        "airssys-rt bug: `{}` was dispatched to a handler of another message type",
        message.message_type()
    )
}

pub use crate::actor::async_handlers_reply_with_the_message_result as assert_reply_type;
pub use crate::actor::handler_futures_must_be_send as assert_send_future;
pub use crate::actor::handlers_reply_with_the_message_result as assert_sync_reply_type;

/// The mailbox's queue, for the benches that compare it with other queues (`benches/queue.rs`).
pub mod queue {
    use std::sync::Arc;

    use crate::core::mailbox::queue::{Pop, Queue};

    /// A sending side of the queue.
    #[derive(Debug)]
    pub struct Sender<T>(Arc<Queue<T>>);

    impl<T> Clone for Sender<T> {
        fn clone(&self) -> Self {
            Sender(self.0.clone())
        }
    }

    /// The one receiving side of the queue.
    #[derive(Debug)]
    pub struct Receiver<T>(Arc<Queue<T>>);

    /// A queue as an actor's mailbox has one.
    pub fn queue<T: Send>() -> (Sender<T>, Receiver<T>) {
        let queue = Arc::new(Queue::new());
        (Sender(queue.clone()), Receiver(queue))
    }

    impl<T> Sender<T> {
        /// Queues `value`.
        pub fn push(&self, value: T) -> Result<(), T> {
            self.0.push(value)
        }
    }

    impl<T> Receiver<T> {
        /// The next value, if one is ready.
        pub fn pop(&mut self) -> Option<T> {
            // SAFETY: there is one `Receiver` per queue (it is not `Clone`), and `&mut self` keeps its
            // calls one at a time.
            match unsafe { self.0.pop() } {
                Pop::Item(value) => Some(value),
                Pop::Empty | Pop::Busy | Pop::Closed => None,
            }
        }

        /// Gives an empty queue's block back, as a sleeping actor does.
        pub fn detach(&mut self) {
            // SAFETY: as in `pop`.
            unsafe { self.0.detach() };
        }
    }
}
