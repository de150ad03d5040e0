//! What a supervisor is asked, and answers: its hidden messages, and the child references, child
//! information, statistics and errors of its public API.

use super::*;

// The messages a supervisor handles: hidden, public only because `#[actor]` implements `Handler` for
// them.

/// A child's incarnation stopped: its exit is waiting in the supervisor's exit queue.
#[doc(hidden)]
#[derive(Debug)]
pub struct ChildExited;

/// A backoff delay is over: restart these children (by key).
#[doc(hidden)]
#[derive(Debug)]
pub struct RestartDue {
    pub(super) keys: Vec<u64>,
}

#[doc(hidden)]
pub struct AddChild {
    pub(super) spec: ErasedChildSpec,
}

#[doc(hidden)]
#[derive(Debug)]
pub struct RemoveChild {
    pub(super) id: Arc<str>,
}

#[doc(hidden)]
#[derive(Debug)]
pub struct GetChild {
    pub(super) id: Arc<str>,
}

#[doc(hidden)]
#[derive(Debug)]
pub struct WhichChildren;

#[doc(hidden)]
#[derive(Debug)]
pub struct GetStats;

macro_rules! supervisor_messages {
    ($($name:ident => $result:ty;)*) => {$(
        impl Message for $name {
            const MESSAGE_TYPE: &'static str = concat!("airssys_rt::supervisor::", stringify!($name));
            type Result = $result;
        }
    )*};
}

supervisor_messages! {
    ChildExited => ();
    RestartDue => ();
    AddChild => Result<ChildRef, ChildError>;
    RemoveChild => Result<StopReason, ChildError>;
    GetChild => Result<ChildRef, ChildError>;
    WhichChildren => Vec<ChildInfo>;
    GetStats => SupervisorStats;
}

impl fmt::Debug for AddChild {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AddChild({})", self.spec.id)
    }
}

/// A child's handle, before it is typed.
#[doc(hidden)]
pub struct ChildRef {
    pub(super) handle: Arc<MailboxHandle>,
    pub(super) type_id: TypeId,
    pub(super) type_name: &'static str,
}

impl fmt::Debug for ChildRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChildRef<{}>({})", self.type_name, self.handle.address)
    }
}

impl ChildRef {
    pub(super) fn typed<A: Actor>(self, id: &str) -> Result<ActorRef<A>, ChildError> {
        if self.type_id == TypeId::of::<A>() {
            Ok(ActorRef::new(self.handle))
        } else {
            Err(ChildError::WrongType {
                id: id.into(),
                actual: self.type_name,
                expected: core::any::type_name::<A>(),
            })
        }
    }
}

/// One child, as [`ActorRef::<Supervisor>::children`](ActorRef::children) lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildInfo {
    /// Its id.
    pub id: Arc<str>,
    /// Its address.
    pub address: ActorAddress,
    /// Its actor type's name.
    pub actor: &'static str,
    /// Its restart policy.
    pub restart: Restart,
    /// Whether an incarnation is running (not waiting for a restart).
    pub running: bool,
    /// How many times it was restarted (a restart whose start failed counts too).
    pub restarts: u32,
}

/// One supervisor's counters, from [`ActorRef::<Supervisor>::stats`](ActorRef::stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SupervisorStats {
    /// Children it has now.
    pub children: usize,
    /// Children running now.
    pub running: usize,
    /// Incarnations of its children that stopped on their own.
    pub exits: u64,
    /// Restarts it made, including those whose start failed.
    pub restarts: u64,
}

/// Why a request to a supervisor failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChildError {
    /// No child has this id.
    NoSuchChild(Arc<str>),
    /// A child with this id already exists.
    DuplicateId(Arc<str>),
    /// The child is of another actor type.
    WrongType {
        /// The child's id.
        id: Arc<str>,
        /// Its actor type.
        actual: &'static str,
        /// The type asked for.
        expected: &'static str,
    },
    /// The child added with `add_child` failed its first start, for this reason; it was not added.
    StartFailed(StopReason),
    /// The supervisor has stopped (or is giving up).
    SupervisorStopped,
}

impl fmt::Display for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildError::NoSuchChild(id) => write!(f, "the supervisor has no child `{id}`"),
            ChildError::DuplicateId(id) => {
                write!(
                    f,
                    "the supervisor already has a child `{id}`: child ids are unique"
                )
            }
            ChildError::WrongType {
                id,
                actual,
                expected,
            } => write!(f, "child `{id}` is a `{actual}`, not a `{expected}`"),
            ChildError::StartFailed(reason) => write!(f, "the child failed to start: {reason}"),
            ChildError::SupervisorStopped => f.write_str("the supervisor has stopped"),
        }
    }
}

impl std::error::Error for ChildError {}

impl<M> From<AskError<M>> for ChildError {
    fn from(_: AskError<M>) -> Self {
        ChildError::SupervisorStopped
    }
}
