//! [`Context`]: what a handler knows about the actor it runs in.

use core::fmt;
use core::marker::PhantomData;
use std::sync::Arc;

use crate::actor::link::{self, Delivery, Down, Exited, MonitorRef};
use crate::actor::task::Tasks;
use crate::actor::timer::Timers;
use crate::actor::{Actor, ActorId, ActorRef, Handler, StopReason, WeakActorRef};
use crate::address::ActorAddress;
use crate::core::Core;
use crate::core::mailbox::MailboxHandle;

/// The actor's view of itself, passed to handlers and hooks that ask for it
/// (`ctx: &mut Context<Self>`).
pub struct Context<A> {
    handle: Arc<MailboxHandle>,
    system: Core,
    /// Set by [`Context::stop`] (or a supervisor giving up): the loop stops after the current message.
    stop_requested: Option<StopReason>,
    /// This incarnation's timers, cancelled when it ends (with the context).
    pub(crate) timers: Timers,
    /// This incarnation's tied tasks and streams, cancelled when it ends (with the context).
    pub(crate) tasks: Tasks,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> Context<A> {
    pub(crate) fn new(handle: Arc<MailboxHandle>, system: Core) -> Self {
        Context {
            handle,
            system,
            stop_requested: None,
            timers: Timers::default(),
            tasks: Tasks::default(),
            _actor: PhantomData,
        }
    }

    /// The actor's address.
    pub fn address(&self) -> ActorAddress {
        self.handle.address
    }

    /// The actor's identity: address, type and name.
    pub fn id(&self) -> &ActorId {
        &self.handle.id
    }

    /// A reference to the actor itself. Like every [`ActorRef`], it keeps the actor running while it
    /// exists: store a [`weak_ref`](Context::weak_ref) to refer to yourself without that.
    pub fn actor_ref(&self) -> ActorRef<A> {
        ActorRef::new(self.handle.clone())
    }

    /// A weak reference to the actor itself.
    pub fn weak_ref(&self) -> WeakActorRef<A> {
        WeakActorRef::new(&self.handle)
    }

    /// The shared state of the system the actor runs in; the public
    /// [`system`](Context::system) is in `system.rs`.
    pub(crate) fn core(&self) -> &Core {
        &self.system
    }

    /// Stops the actor after the current handler returns, as [`ActorRef::stop`] does.
    pub fn stop(&mut self) {
        self.stop_with(StopReason::Stopped);
    }

    /// Stops the actor after the current handler returns, with `reason`.
    pub(crate) fn stop_with(&mut self, reason: StopReason) {
        self.stop_requested.get_or_insert(reason);
    }

    #[inline]
    pub(crate) fn take_stop(&mut self) -> Option<StopReason> {
        // Checked before every message: read, and write only when a stop was asked for.
        self.stop_requested.as_ref()?;
        self.stop_requested.take()
    }

    /// Monitors `target`: when it stops for good, for any reason, this actor receives a [`Down`]
    /// with the reason. If it has already stopped, the `Down` comes at once. Monitoring does not keep
    /// either actor alive; a supervised target's restarts do not fire it (see [`link`](crate::actor::link)).
    ///
    /// The actor must handle `Down`: that is checked at compile time.
    pub fn monitor<B: Actor>(&self, target: &ActorRef<B>) -> MonitorRef
    where
        A: Handler<Down>,
    {
        link::monitor(
            target.handle(),
            self.delivery(<A as Handler<Down>>::__INDEX),
        )
    }

    /// Monitors the actor registered as `name`, as [`monitor`](Context::monitor) does, without knowing
    /// its type.
    ///
    /// # Errors
    ///
    /// [`LookupError::NoSuchName`](crate::broker::LookupError::NoSuchName) if no live actor holds
    /// the name.
    pub fn monitor_name(&self, name: &str) -> Result<MonitorRef, crate::core::names::LookupError>
    where
        A: Handler<Down>,
    {
        let route = self
            .system
            .named_route(name)
            .ok_or_else(|| crate::core::names::LookupError::NoSuchName(name.into()))?;
        Ok(link::monitor(
            &route.handle,
            self.delivery(<A as Handler<Down>>::__INDEX),
        ))
    }

    /// Cancels a monitor: no `Down` comes from it (unless it was already queued).
    pub fn demonitor(&self, monitor: MonitorRef) {
        if let Some(route) = self.system.routes().get(&monitor.target.routing_key()) {
            route.handle.unwatch(monitor.id());
        }
    }

    /// Links this actor and `target`, both ways: when either stops for good with an abnormal reason
    /// (a panic, a kill, an escalation; see [`StopReason::is_normal`]), the other stops too, with
    /// [`StopReason::Linked`], unless it [traps exits](Context::trap_exits). If `target` has already
    /// stopped, that happens at once. A normal stop does not propagate.
    pub fn link<B: Actor>(&self, target: &ActorRef<B>) {
        link::link(
            &self.handle,
            target.handle(),
            self.system.runtime(),
            &self.system.downgrade(),
        );
    }

    /// Receives the stops of linked actors as [`Exited`] messages, normal or not, instead of stopping
    /// with them.
    ///
    /// The actor must handle `Exited`: that is checked at compile time.
    pub fn trap_exits(&self)
    where
        A: Handler<Exited>,
    {
        self.handle.trap_exits(<A as Handler<Exited>>::__INDEX);
    }

    fn delivery(&self, index: u32) -> Delivery {
        Delivery {
            to: Arc::downgrade(&self.handle),
            index,
            runtime: self.system.runtime().clone(),
            system: self.system.downgrade(),
        }
    }

    pub(crate) fn handle(&self) -> &Arc<MailboxHandle> {
        &self.handle
    }
}

impl<A> fmt::Debug for Context<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Context({})", self.handle.id)
    }
}
