//! The actor that runs on a probe's mailbox, whatever type the mailbox was made for: it answers the
//! asks a closure answers, and hands every message over to the probe's test side.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

use crate::actor::reply;
use crate::actor::{Actor, ActorByActorMacro, ActorId, Context, HandledMessage, ReplyTo};
use crate::core::Core;
use crate::core::mailbox::Ask;
use crate::envelope::ErasedEnvelope;
use crate::message::Message;

/// One message a probe's actor took from its mailbox: an `M`, or an `Ask<M>` with its reply channel.
pub(crate) struct Received {
    pub(crate) message: ErasedEnvelope,
    /// The handler index the sender used, in the type the probe stands in for.
    pub(crate) index: u32,
    /// It was asked, and a closure of the probe answered it.
    pub(crate) answered: bool,
}

/// A closure of the probe that answers the asks of one message type: gives the message back, told,
/// once answered, or gives it back unchanged.
type Answer = Box<dyn FnMut(ErasedEnvelope) -> Result<ErasedEnvelope, ErasedEnvelope> + Send>;

/// The [`Answer`] of asks of `M` by `answer`.
pub(crate) fn answering<M: Message>(
    mut answer: impl FnMut(&M) -> M::Result + Send + 'static,
) -> Answer {
    Box::new(
        move |message: ErasedEnvelope| match message.downcast::<Ask<M>>() {
            Ok(Ask { message, reply }) => {
                reply::reply(reply, answer(&message));
                Ok(ErasedEnvelope::new(message))
            }
            Err(message) => Err(message),
        },
    )
}

pub(crate) type Answers = Arc<Mutex<Vec<Answer>>>;

/// The actor that runs on a probe's mailbox: answers what a closure answers, and hands every message
/// over to the probe.
pub(crate) struct Forward {
    pub(crate) to: mpsc::UnboundedSender<Received>,
    pub(crate) answers: Answers,
    pub(crate) unwrap_ask: UnwrapAsk,
}

/// The `__unwrap_ask` of the type a probe stands in for: an asked message as its dead letter.
pub(crate) type UnwrapAsk = fn(ErasedEnvelope, u32) -> (ErasedEnvelope, bool);

impl ActorByActorMacro for Forward {
    const __HANDLED: &'static [HandledMessage] = &[];

    fn __dispatch_sync(
        &mut self,
        mut message: ErasedEnvelope,
        index: u32,
        _reply: &mut ReplyTo,
        ctx: &mut Context<Self>,
    ) -> Option<ErasedEnvelope> {
        let mut answered = false;
        for answer in lock(&self.answers).iter_mut() {
            match answer(message) {
                Ok(told) => {
                    message = told;
                    answered = true;
                    break;
                }
                Err(unchanged) => message = unchanged,
            }
        }
        let received = Received {
            message,
            index,
            answered,
        };
        if let Err(mpsc::error::SendError(received)) = self.to.send(received) {
            // The probe was dropped as this message came: a dead letter, as those it left are.
            bury(ctx.core(), ctx.id(), self.unwrap_ask, received);
        }
        None
    }

    fn __unwrap_ask(message: ErasedEnvelope, _index: u32) -> (ErasedEnvelope, bool) {
        // Never called: the probe's mailbox is of the type it stands in for, which unwraps its own.
        (message, false)
    }

    #[allow(clippy::manual_async_fn, reason = "the trait's signature")]
    fn __dispatch<'a>(
        &'a mut self,
        message: ErasedEnvelope,
        _index: u32,
        _reply: &'a mut ReplyTo,
        _ctx: &'a mut Context<Self>,
    ) -> impl Future<Output = ()> + Send + 'a {
        async move { crate::__private::wrong_handler(&message) }
    }
}

impl Actor for Forward {}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) mod marker {
    use core::marker::PhantomData;

    use crate::actor::{Actor, ActorByActorMacro, Context, HandledMessage, ReplyTo};
    use crate::envelope::ErasedEnvelope;
    use crate::message::Message;

    /// The type a [`TestProbe<M>`](super::TestProbe)'s mailbox is made for, so that its identity
    /// reads `<TestProbe<Ping> 4>` and its queued messages unwrap as `M`s when it stops. It never
    /// runs: the probe's `Forward` does, on its mailbox.
    pub(crate) struct TestProbe<M>(PhantomData<fn() -> M>);

    impl<M: Message> ActorByActorMacro for TestProbe<M> {
        const __HANDLED: &'static [HandledMessage] = &[HandledMessage::of::<M>()];

        fn __dispatch_sync(
            &mut self,
            message: ErasedEnvelope,
            _: u32,
            _: &mut ReplyTo,
            _: &mut Context<Self>,
        ) -> Option<ErasedEnvelope> {
            crate::__private::wrong_handler(&message)
        }

        fn __unwrap_ask(message: ErasedEnvelope, _: u32) -> (ErasedEnvelope, bool) {
            crate::__private::unwrap_ask::<M>(message)
        }

        #[allow(clippy::manual_async_fn, reason = "the trait's signature")]
        fn __dispatch<'a>(
            &'a mut self,
            message: ErasedEnvelope,
            _: u32,
            _: &'a mut ReplyTo,
            _: &'a mut Context<Self>,
        ) -> impl Future<Output = ()> + Send + 'a {
            async move { crate::__private::wrong_handler(&message) }
        }
    }

    impl<M: Message> Actor for TestProbe<M> {}
}

/// A message the probe's actor received and the test never took: a dead letter, as what was still
/// queued when an actor stops is (an asker among them learns at once, from its dropped channel).
pub(crate) fn bury(system: &Core, probe: &ActorId, unwrap_ask: UnwrapAsk, received: Received) {
    let reason = crate::broker::DeadLetterReason::Stopped(crate::StopReason::Stopped);
    let (message, was_ask) = unwrap_ask(received.message, received.index);
    system
        .downgrade()
        .dead_letter(probe, message, was_ask, reason);
}
