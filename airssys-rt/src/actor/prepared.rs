//! [`PreparedActor`]: an actor's mailbox and reference before the actor exists.

use core::fmt;
use core::marker::PhantomData;
use std::sync::Arc;

use crate::actor::error::StopReason;
use crate::actor::{Actor, ActorRef};
use crate::address::ActorAddress;
use crate::core::dormant::Dormant;
use crate::core::mailbox::MailboxHandle;
use crate::core::{Core, SpawnOptions};

/// An actor's mailbox, address and references, made before the actor runs, by
/// [`ActorSystem::prepare`](crate::ActorSystem::prepare): actors that must know each other (a ring,
/// a pair, a tree wired top-down) get each other's references before any of them is built, so no
/// field needs to be an `Option` set by a later message.
///
/// Messages sent to it before it starts wait in its mailbox, and are handled once it has.
///
/// ```
/// use airssys_rt::prelude::*;
///
/// #[derive(Message)]
/// #[message(result = u32)]
/// struct Token(u32);
///
/// struct Node {
///     next: ActorRef<Node>,
/// }
///
/// #[actor]
/// impl Node {
///     async fn token(&mut self, Token(hops): Token) -> u32 {
///         if hops == 0 { 0 } else { 1 + self.next.ask(Token(hops - 1)).await.unwrap() }
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let system = ActorSystem::new();
/// // A ring of two: each knows the other from the start.
/// let (a, b) = (system.prepare::<Node>(), system.prepare::<Node>());
/// let (a_ref, b_ref) = (a.actor_ref(), b.actor_ref());
/// a.start(Node { next: b_ref.clone() });
/// b.start(Node { next: a_ref.clone() });
/// assert_eq!(a_ref.ask(Token(1)).await.unwrap(), 1);
/// # }
/// ```
///
/// Dropped without being started, it stops the actor for good with [`StopReason::Stopped`]: its
/// references see it stopped, and what was sent to it becomes dead letters.
pub struct PreparedActor<A: Actor> {
    handle: Arc<MailboxHandle>,
    dormant: Dormant,
    system: Core,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> PreparedActor<A> {
    /// A new actor of `system`, not started.
    pub(crate) fn new(system: &Core, options: SpawnOptions) -> Self {
        let (handle, mut dormant) = system.create::<A>(options);
        let system = system.clone();
        // The reason it stops with if it is dropped unstarted.
        dormant.reason = StopReason::Stopped;
        PreparedActor {
            handle,
            dormant,
            system,
            _actor: PhantomData,
        }
    }

    /// The actor's address.
    pub fn address(&self) -> ActorAddress {
        self.handle.address
    }

    /// A reference to the actor, valid before and after it starts.
    pub fn actor_ref(&self) -> ActorRef<A> {
        ActorRef::new(self.handle.clone())
    }

    /// Starts the actor with `actor` as its state, in its own task; its `on_start` runs there, and the
    /// messages already sent wait for it.
    pub fn start(self, actor: A) -> ActorRef<A> {
        // The first reference exists before the task starts, so it never sees zero references.
        let actor_ref = self.actor_ref();
        self.launch(actor, None);
        actor_ref
    }

    /// Starts the actor, and waits until its `on_start` has returned: a start barrier.
    ///
    /// # Errors
    ///
    /// The reason it stopped instead: [`StopReason::Panicked`] if `on_start` panicked, or how it was
    /// stopped or killed before its start was over.
    pub async fn start_and_wait(self, actor: A) -> Result<ActorRef<A>, StopReason> {
        let actor_ref = self.actor_ref();
        let (started, on_started) = tokio::sync::oneshot::channel();
        self.launch(actor, Some(started));
        match on_started.await {
            Ok(()) => Ok(actor_ref),
            // The task ended before `on_start` returned: it has stopped, or is stopping.
            Err(_) => Err(actor_ref.wait_for_stop().await),
        }
    }

    fn launch(self, actor: A, on_started: Option<tokio::sync::oneshot::Sender<()>>) {
        let PreparedActor {
            handle,
            dormant,
            system,
            ..
        } = self;
        crate::actor::run::launch(&system, actor, handle, dormant, on_started);
    }
}

impl<A: Actor> fmt::Debug for PreparedActor<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PreparedActor<{}>({})",
            core::any::type_name::<A>(),
            self.handle.address
        )
    }
}
