//! Probes: stand-ins that actors send to, as a [`Recipient<M>`] ([`TestProbe`]) or as an
//! [`ActorRef<A>`] of the type they expect ([`ActorProbe`]), whose messages the test takes and
//! checks, and which can answer asks by a closure (mocks).

use core::fmt;
use core::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::actor::reply::ReplyResult;
use crate::actor::{Actor, ActorId, ActorRef, Handler, Recipient, ReplySender};
use crate::core::mailbox::{Ask, MailboxHandle};
use crate::core::{Core, SpawnOptions};
use crate::envelope::ErasedEnvelope;
use crate::message::Message;
use crate::testkit::Step;
use crate::testkit::forward::{
    Answers, Forward, Received, UnwrapAsk, answering, bury, lock, marker,
};
use crate::testkit::inbox::{Inbox, Take};

/// What [`TestProbe`] and [`ActorProbe`] share: the probe's mailbox, the messages it took, and its
/// closures.
struct Probe {
    handle: Arc<MailboxHandle>,
    inbox: Inbox<Received>,
    answers: Answers,
    unwrap_ask: UnwrapAsk,
    system: Core,
}

/// `received` as an `M`, with its reply channel if it was asked (and not answered by a closure).
fn open<M: Message>(
    received: Received,
) -> Result<(M, Option<oneshot::Sender<ReplyResult>>), Received> {
    let Received {
        message,
        index,
        answered,
    } = received;
    let message = match message.downcast::<M>() {
        Ok(message) => return Ok((message, None)),
        Err(message) => message,
    };
    match message.downcast::<Ask<M>>() {
        Ok(ask) => Ok((ask.message, Some(ask.reply))),
        Err(message) => Err(Received {
            message,
            index,
            answered,
        }),
    }
}

/// How a probe's failure names a message it did not expect.
fn describe_other(received: &Received) -> String {
    format!("a `{}`", received.message.message_type())
}

/// As [`describe_other`], with the message itself if it is an `M`.
fn describe<M: Message + fmt::Debug>(received: &Received) -> String {
    if let Some(message) = received.message.downcast_ref::<M>() {
        format!("{message:?}")
    } else if let Some(ask) = received.message.downcast_ref::<Ask<M>>() {
        format!("{:?} (asked)", ask.message)
    } else {
        describe_other(received)
    }
}

/// A message a probe took, with the sender of its reply if it was asked.
type Request<M> = (M, Option<ReplySender<<M as Message>::Result>>);

/// `received` taken as an `M` (or, if `asked`, as an ask of one), described for failures.
fn take<M: Message + fmt::Debug>(received: Received, asked: bool) -> Take<Received, Request<M>> {
    let answered = received.answered;
    match open::<M>(received) {
        Ok((message, channel)) => {
            let how = match (&channel, answered) {
                (Some(_), _) => " (asked)",
                (None, true) => " (asked, answered by the probe)",
                (None, false) => "",
            };
            let described = format!("{message:?}{how}");
            if asked && channel.is_none() {
                let received = Received {
                    message: ErasedEnvelope::new(message),
                    index: 0,
                    answered,
                };
                return Err((
                    received,
                    format!("{described}, which was not an ask waiting for a reply"),
                ));
            }
            let reply = channel.map(|channel| ReplySender::new(Some(channel), M::MESSAGE_TYPE));
            Ok(((message, reply), described))
        }
        Err(received) => {
            let described = describe_other(&received);
            Err((received, described))
        }
    }
}

impl Probe {
    /// A probe whose mailbox is made for actor type `T` (the one references see), named `name`.
    fn new<T: Actor>(system: &crate::ActorSystem, name: Option<&str>) -> Self {
        let core = system.core().clone();
        let mut options = SpawnOptions::default();
        if let Some(name) = name {
            options = options.name(name);
        }
        let (handle, dormant) = core.create::<T>(options);
        let (to, from) = mpsc::unbounded_channel();
        let answers = Answers::default();
        let forward = Forward {
            to,
            answers: answers.clone(),
            unwrap_ask: T::__unwrap_ask,
        };
        crate::actor::run::launch(&core, forward, handle.clone(), dormant, None);
        let who = format!("probe `{}`", handle.id);
        Probe {
            handle,
            inbox: Inbox::new(from, who),
            answers,
            unwrap_ask: T::__unwrap_ask,
            system: core,
        }
    }

    fn answer<M: Message>(&self, answer: impl FnMut(&M) -> M::Result + Send + 'static) {
        lock(&self.answers).push(answering(answer));
    }

    async fn expect<M: Message + fmt::Debug>(
        &mut self,
        within: Duration,
        asked: bool,
    ) -> Request<M> {
        let what = if asked {
            format!("an ask of `{}`", M::MESSAGE_TYPE)
        } else {
            format!("a `{}`", M::MESSAGE_TYPE)
        };
        self.inbox
            .expect(within, &what, |received| take::<M>(received, asked))
            .await
    }

    async fn expect_ask<M: Message + fmt::Debug>(&mut self) -> (M, ReplySender<M::Result>) {
        let within = self.inbox.timeout;
        match self.expect::<M>(within, true).await {
            (message, Some(reply)) => (message, reply),
            (_, None) => unreachable!("an ask was expected"),
        }
    }

    async fn expect_no_message<M: Message + fmt::Debug>(&mut self, during: Duration) {
        self.inbox.expect_none(during, describe::<M>).await;
    }

    async fn receive_n<M: Message + fmt::Debug>(&mut self, n: usize, within: Duration) -> Vec<M> {
        let what = format!("`{}` messages", M::MESSAGE_TYPE);
        let taken = self
            .inbox
            .receive_n(n, within, &what, |received| take::<M>(received, false))
            .await;
        taken.into_iter().map(|(message, _)| message).collect()
    }

    async fn fish_for<M: Message + fmt::Debug>(
        &mut self,
        within: Duration,
        mut matches: impl FnMut(&M) -> bool,
    ) -> M {
        let what = format!("a `{}`", M::MESSAGE_TYPE);
        let (message, _) = self
            .inbox
            .fish_for(
                within,
                &what,
                |received| take::<M>(received, false),
                |(message, _)| matches(message),
            )
            .await;
        message
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.handle.farewell(crate::core::mailbox::Farewell::Stop);
        for received in self.inbox.left() {
            bury(&self.system, &self.handle.id, self.unwrap_ask, received);
        }
    }
}

/// A probe that actors send `M` to, as a [`Recipient<M>`]: the test takes its messages and checks them.
///
/// Its expectations wait on tokio's clock (virtual in a test on the paused clock, so a timeout costs no
/// real time), and fail with a panic that names the probe, says what was expected and what came
/// instead, and lists what it took before. See the [module documentation](crate::testkit).
///
/// An asked message it takes with [`expect_message`](TestProbe::expect_message) is left unanswered
/// (the asker gets [`AskError::Unanswered`](crate::AskError::Unanswered));
/// [`expect_ask`](TestProbe::expect_ask) takes it with its [`ReplySender`], and
/// [`answer`](TestProbe::answer) answers asks by a closure as they come: a mock.
///
/// Dropping the probe stops its actor; messages it received and nobody took become dead letters.
pub struct TestProbe<M: Message> {
    recipient: Recipient<M>,
    probe: Probe,
}

impl<M: Message> TestProbe<M> {
    /// A probe in `system`.
    pub fn new(system: &crate::ActorSystem) -> Self {
        Self::with_name(system, None)
    }

    /// A probe named `name`, as an [`ActorId`] shows it: `db <TestProbe<Query> 4>`.
    pub fn named(system: &crate::ActorSystem, name: &str) -> Self {
        Self::with_name(system, Some(name))
    }

    fn with_name(system: &crate::ActorSystem, name: Option<&str>) -> Self {
        let probe = Probe::new::<marker::TestProbe<M>>(system, name);
        let recipient = Recipient::new(probe.handle.clone(), 0);
        TestProbe { recipient, probe }
    }

    /// A reference to the probe, for the actors under test to send to.
    pub fn recipient(&self) -> Recipient<M> {
        self.recipient.clone()
    }

    /// The probe's identity.
    pub fn id(&self) -> &ActorId {
        &self.probe.handle.id
    }

    /// Answers every ask of `M` that comes from now on with `answer` of the message: a mock of the
    /// actor the probe stands in for. Answered asks are still there to take, as told messages.
    pub fn answer(&self, answer: impl FnMut(&M) -> M::Result + Send + 'static) -> &Self {
        self.probe.answer::<M>(answer);
        self
    }

    /// How long the expectations without a duration wait ([`DEFAULT_TIMEOUT`](super::DEFAULT_TIMEOUT)
    /// unless set).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.probe.inbox.timeout = timeout;
    }
}

impl<M: Message + fmt::Debug> TestProbe<M> {
    /// The next message, waiting up to the probe's timeout.
    ///
    /// # Panics
    ///
    /// If none comes in time, with what came before.
    pub async fn expect_message(&mut self) -> M {
        let within = self.probe.inbox.timeout;
        self.expect_message_within(within).await
    }

    /// The next message, waiting up to `within`.
    ///
    /// # Panics
    ///
    /// If none comes in time.
    pub async fn expect_message_within(&mut self, within: Duration) -> M {
        self.probe.expect::<M>(within, false).await.0
    }

    /// Takes the next message, and checks that it equals `expected`.
    ///
    /// # Panics
    ///
    /// If none comes in time, or it differs, with both.
    pub async fn expect_message_eq(&mut self, expected: M)
    where
        M: PartialEq,
    {
        let got = self.expect_message().await;
        if got != expected {
            self.probe
                .inbox
                .fail(&format!("expected {expected:?}, got {got:?}"));
        }
    }

    /// The next message, which must be an ask, with the sender of its reply: answer it (or drop it,
    /// and the asker gets [`AskError::Unanswered`](crate::AskError::Unanswered)).
    ///
    /// # Panics
    ///
    /// If none comes in time, or it was told.
    pub async fn expect_ask(&mut self) -> (M, ReplySender<M::Result>) {
        self.probe.expect_ask::<M>().await
    }

    /// Waits `during`, and checks that no message comes meanwhile.
    ///
    /// # Panics
    ///
    /// If one does, with it and when it came.
    pub async fn expect_no_message(&mut self, during: Duration) {
        self.probe.expect_no_message::<M>(during).await;
    }

    /// The next `n` messages, all within the probe's timeout.
    ///
    /// # Panics
    ///
    /// If fewer come in time, with those that came.
    pub async fn receive_n(&mut self, n: usize) -> Vec<M> {
        let within = self.probe.inbox.timeout;
        self.probe.receive_n(n, within).await
    }

    /// Skips messages until one matches `matches`, within the probe's timeout, and returns it.
    ///
    /// # Panics
    ///
    /// If none does in time, with those it skipped.
    pub async fn fish_for(&mut self, matches: impl FnMut(&M) -> bool) -> M {
        let within = self.probe.inbox.timeout;
        self.probe.fish_for(within, matches).await
    }
}

impl<M: Message> fmt::Debug for TestProbe<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TestProbe({})", self.probe.handle.id)
    }
}

/// A probe that stands in for an actor of type `A`: actors send to it through an [`ActorRef<A>`],
/// typed exactly as the real one (so the actor under test needs no change), and the test takes and
/// checks what they sent, message type by message type. With [`answer`](ActorProbe::answer), a mock
/// of `A`.
///
/// Its expectations and failures are those of [`TestProbe`]; a message of another type than the one
/// expected fails the expectation (but in [`fish_for`](ActorProbe::fish_for), which skips it).
pub struct ActorProbe<A: Actor> {
    actor_ref: ActorRef<A>,
    probe: Probe,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> ActorProbe<A> {
    /// A probe for `A` in `system`, named `probe` (so that its identity, `probe <A 4>`, does not read
    /// as a real `A`'s).
    pub fn new(system: &crate::ActorSystem) -> Self {
        Self::with_name(system, Some("probe"))
    }

    /// A probe for `A` named `name`.
    pub fn named(system: &crate::ActorSystem, name: &str) -> Self {
        Self::with_name(system, Some(name))
    }

    fn with_name(system: &crate::ActorSystem, name: Option<&str>) -> Self {
        let probe = Probe::new::<A>(system, name);
        ActorProbe {
            actor_ref: ActorRef::new(probe.handle.clone()),
            probe,
            _actor: PhantomData,
        }
    }

    /// A reference to the probe, as to an `A`.
    pub fn actor_ref(&self) -> ActorRef<A> {
        self.actor_ref.clone()
    }

    /// The probe's identity (of type `A`).
    pub fn id(&self) -> &ActorId {
        &self.probe.handle.id
    }

    /// Answers every ask of `M` that comes from now on with `answer` of the message, as `A` would.
    pub fn answer<M>(&self, answer: impl FnMut(&M) -> M::Result + Send + 'static) -> &Self
    where
        A: Handler<M>,
        M: Message,
    {
        self.probe.answer::<M>(answer);
        self
    }

    /// How long the expectations without a duration wait.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.probe.inbox.timeout = timeout;
    }

    /// The next message, which must be an `M`, waiting up to the probe's timeout.
    ///
    /// # Panics
    ///
    /// If none comes in time, or it is of another type.
    pub fn expect_message<M>(&mut self) -> Step<'_, M>
    where
        A: Handler<M>,
        M: Message + fmt::Debug,
    {
        let within = self.probe.inbox.timeout;
        Box::pin(async move { self.probe.expect::<M>(within, false).await.0 })
    }

    /// The next message, which must be an `M`, waiting up to `within`.
    ///
    /// # Panics
    ///
    /// As [`expect_message`](ActorProbe::expect_message).
    pub fn expect_message_within<M>(&mut self, within: Duration) -> Step<'_, M>
    where
        A: Handler<M>,
        M: Message + fmt::Debug,
    {
        Box::pin(async move { self.probe.expect::<M>(within, false).await.0 })
    }

    /// The next message, which must be an ask of `M`, with the sender of its reply.
    ///
    /// # Panics
    ///
    /// If none comes in time, it is of another type, or it was told.
    pub fn expect_ask<M>(&mut self) -> Step<'_, (M, ReplySender<M::Result>)>
    where
        A: Handler<M>,
        M: Message + fmt::Debug,
    {
        Box::pin(self.probe.expect_ask::<M>())
    }

    /// Waits `during`, and checks that no message comes meanwhile.
    ///
    /// # Panics
    ///
    /// If one does.
    pub async fn expect_no_message(&mut self, during: Duration) {
        self.probe.inbox.expect_none(during, describe_other).await;
    }

    /// The next `n` messages, all `M`s, within the probe's timeout.
    ///
    /// # Panics
    ///
    /// If fewer come in time, or one is of another type.
    pub fn receive_n<M>(&mut self, n: usize) -> Step<'_, Vec<M>>
    where
        A: Handler<M>,
        M: Message + fmt::Debug,
    {
        let within = self.probe.inbox.timeout;
        Box::pin(self.probe.receive_n(n, within))
    }

    /// Skips messages until an `M` matches `matches`, within the probe's timeout.
    ///
    /// # Panics
    ///
    /// If none does in time, with those it skipped.
    pub fn fish_for<'a, M>(&'a mut self, matches: impl FnMut(&M) -> bool + Send + 'a) -> Step<'a, M>
    where
        A: Handler<M>,
        M: Message + fmt::Debug,
    {
        let within = self.probe.inbox.timeout;
        Box::pin(self.probe.fish_for(within, matches))
    }
}

impl<A: Actor> fmt::Debug for ActorProbe<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActorProbe({})", self.probe.handle.id)
    }
}
