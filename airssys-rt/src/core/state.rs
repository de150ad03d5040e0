//! [`ActorState`]: where an actor is in its life, as its cell records it for introspection.

/// Where an actor is in its life, as an [introspection snapshot](crate::introspection) shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ActorState {
    /// Spawned, or restarted: its `on_start` has not returned yet.
    Starting,
    /// Handling messages, or waiting for them.
    Running,
    /// Asked to stop or drain, or its message loop has ended: handling what is left, or in `on_stop`.
    Stopping,
    /// Its incarnation has ended and its supervisor holds it: to be restarted (perhaps after a
    /// backoff delay) or stopped for good.
    Restarting,
    /// Stopped for good.
    Stopped,
}

impl ActorState {
    pub(crate) const ALL: [ActorState; 5] = [
        ActorState::Starting,
        ActorState::Running,
        ActorState::Stopping,
        ActorState::Restarting,
        ActorState::Stopped,
    ];
}

impl core::fmt::Display for ActorState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ActorState::Starting => "starting",
            ActorState::Running => "running",
            ActorState::Stopping => "stopping",
            ActorState::Restarting => "restarting",
            ActorState::Stopped => "stopped",
        })
    }
}
