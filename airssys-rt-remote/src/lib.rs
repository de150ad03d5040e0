//! Remote actors for airssys-rt, on [zenoh](https://zenoh.io): the same typed `tell`, `ask` and
//! `ask(..).timeout(d)` to actors in other processes and on other hosts.
//!
//! A [`Node`] joins a zenoh network (peer to peer with explicit endpoints, multicast scouting, or
//! through a router) for an [`ActorSystem`](airssys_rt::ActorSystem). It [registers](Node::register)
//! local actors under names, for the message types they take remotely, and [looks up](Node::lookup_recipient)
//! those of other nodes: a [`RemoteRecipient<M>`] is typed by its message as a local
//! [`Recipient`](airssys_rt::Recipient) is.
//!
//! ```text
//! node A: actor "counter" ── register ──> liveliness token airssys/name/counter/<A>
//!                                         queryable  airssys/actor/counter  (asks)
//!                                         subscriber airssys/actor/counter  (tells, in order)
//!                                         queryable  airssys/types/counter  (its message types)
//! node B: lookup_recipient::<Add>("counter") ─ finds the token, checks the types ─> RemoteRecipient<Add>
//!         .ask(Add(1))  ── zenoh get ──> A decodes, asks the actor, replies (or a Failure)
//!         .tell(Add(1)) ── zenoh put ──> A decodes, sends it in order, waiting for room
//! ```
//!
//! # Messages on the wire
//!
//! A message crosses the wire if it and its reply are serde types: [`RemoteMessage`] is implemented
//! for every [`Message`] that is `Serialize + DeserializeOwned` with a reply that
//! is too, and `register` and `lookup_recipient` require it at compile time. Its identity on the wire is its
//! [`MESSAGE_TYPE`](airssys_rt::Message::MESSAGE_TYPE) (`#[message(name = "...")]` fixes it across
//! renames); the encoding is postcard, behind a versioned header ([`wire`]).
//!
//! # Failures are visible
//!
//! - A node that leaves or crashes loses its liveliness token: asks in flight to its actors fail at
//!   once with [`RemoteAskError::NodeDown`], and tells to them are refused with their message. With
//!   the default settings a crash is seen within about a second ([`NodeConfig::failure_detection`]).
//! - A name is held by one node: registering a name another node holds fails with
//!   [`RemoteError::NameTaken`].
//! - A message the remote actor does not take, one that does not decode, or one of another wire
//!   version is answered with a precise [`Failure`]; an ask gets it as [`RemoteAskError::Failed`].
//!   A tell that cannot be delivered there is reported on the receiving node's standard error.

mod expose;
mod node;
mod remote;
pub mod wire;

pub use expose::{Exposed, Registration};
pub use node::{Node, NodeConfig, free_loopback_endpoint};
pub use remote::{
    DEFAULT_ASK_TIMEOUT, RemoteAsk, RemoteAskError, RemoteRecipient, RemoteSendError,
};
pub use wire::Failure;

use airssys_rt::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A message that can cross the wire: it and its reply are serde types. Implemented for every such
/// [`Message`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot cross the wire: it, or its reply type, is not a serde type",
    label = "`{Self}` is not a remote message",
    note = "derive `serde::Serialize` and `serde::Deserialize` for `{Self}` and for its `#[message(result = ..)]` type"
)]
pub trait RemoteMessage:
    Message<Result: Serialize + DeserializeOwned> + Serialize + DeserializeOwned
{
}

impl<M> RemoteMessage for M where
    M: Message<Result: Serialize + DeserializeOwned> + Serialize + DeserializeOwned
{
}

/// What joining, registering or looking up can fail with.
#[derive(Debug)]
#[non_exhaustive]
pub enum RemoteError {
    /// The node was asked to join from a current-thread tokio runtime, which zenoh does not run on.
    Runtime,
    /// zenoh refused a setting.
    Config(String),
    /// zenoh failed.
    Zenoh(String),
    /// The name is held by a node already.
    NameTaken {
        /// The name.
        name: String,
        /// The node that holds it.
        node: String,
    },
    /// No node holds the name.
    NoSuchName(String),
    /// The actor of that name does not take the message type remotely.
    Unhandled(Failure),
}

impl RemoteError {
    pub(crate) fn zenoh(error: impl core::fmt::Display) -> Self {
        RemoteError::Zenoh(error.to_string())
    }
}

impl core::fmt::Display for RemoteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RemoteError::Runtime => f.write_str(
                "a node needs a multi-threaded tokio runtime (zenoh does not run on a current-thread one): \
                 use `#[tokio::main]` or `#[tokio::test(flavor = \"multi_thread\")]`",
            ),
            RemoteError::Config(error) => write!(f, "zenoh refused the configuration: {error}"),
            RemoteError::Zenoh(error) => write!(f, "zenoh: {error}"),
            RemoteError::NameTaken { name, node } => {
                write!(f, "the name `{name}` is held by node {node}")
            }
            RemoteError::NoSuchName(name) => write!(f, "no node holds the name `{name}`"),
            RemoteError::Unhandled(failure) => write!(f, "{failure}"),
        }
    }
}

impl std::error::Error for RemoteError {}
