//! [`RemoteRecipient`]: a reference to an actor of another node, typed by a message it takes.

use core::fmt;
use core::future::{Future, IntoFuture};
use core::marker::PhantomData;
use core::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use zenoh::Wait;
use zenoh::pubsub::Publisher;

use crate::expose::{actor_key, holder_of, types_key};
use crate::wire::{self, Failure};
use crate::{Node, RemoteError, RemoteMessage};

/// How long an ask waits when it is given no [`timeout`](RemoteAsk::timeout).
pub const DEFAULT_ASK_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a remote reference sends: the actor's name, the node holding it, a publisher to it.
struct Target {
    node: Node,
    name: String,
    holder: String,
    publisher: Publisher<'static>,
}

impl Node {
    /// A reference to the actor that another node (or this one) exposes as `name`, for messages `M`:
    /// the same `tell` and `ask` as a local [`Recipient`](airssys_rt::Recipient).
    ///
    /// # Errors
    ///
    /// [`RemoteError::NoSuchName`] if no node holds the name; [`RemoteError::Unhandled`] if its actor
    /// does not take `M` remotely (the error lists what it takes); [`RemoteError::Zenoh`].
    pub async fn lookup_recipient<M: RemoteMessage>(
        &self,
        name: &str,
    ) -> Result<RemoteRecipient<M>, RemoteError> {
        let holder = holder_of(self, name)
            .await?
            .ok_or_else(|| RemoteError::NoSuchName(name.to_owned()))?;
        let handled = self.handled(name).await?;
        if !handled.iter().any(|handled| handled == M::MESSAGE_TYPE) {
            return Err(RemoteError::Unhandled(Failure::Unhandled {
                name: name.to_owned(),
                message_type: M::MESSAGE_TYPE.to_owned(),
                handled,
            }));
        }
        // Blocking congestion control: under load a tell waits for room in zenoh's queue instead of
        // being dropped (zenoh's default for data), so that tells are never lost silently.
        let publisher = self
            .session()
            .declare_publisher(actor_key(name))
            .congestion_control(zenoh::qos::CongestionControl::Block)
            .await
            .map_err(RemoteError::zenoh)?;
        Ok(RemoteRecipient {
            target: Arc::new(Target {
                node: self.clone(),
                name: name.to_owned(),
                holder,
                publisher,
            }),
            _message: PhantomData,
        })
    }

    /// The message types the actor exposed as `name` takes.
    async fn handled(&self, name: &str) -> Result<Vec<String>, RemoteError> {
        let replies = self
            .session()
            .get(types_key(name))
            .await
            .map_err(RemoteError::zenoh)?;
        match replies.recv_async().await {
            Ok(reply) => match reply.into_result() {
                Ok(sample) => {
                    wire::decode(&sample.payload().to_bytes(), "the list of message types")
                        .map_err(RemoteError::Unhandled)
                }
                Err(error) => Err(RemoteError::Zenoh(format!("{error:?}"))),
            },
            Err(_) => Err(RemoteError::NoSuchName(name.to_owned())),
        }
    }
}

/// A reference to an actor of another node, typed by a message `M` it takes: [`tell`](Self::tell)
/// and [`ask`](Self::ask) as on a local [`Recipient<M>`](airssys_rt::Recipient). Made by
/// [`Node::lookup_recipient`]. Cheap to clone; messages from one clone arrive in the order they were
/// sent.
pub struct RemoteRecipient<M> {
    target: Arc<Target>,
    _message: PhantomData<fn(M)>,
}

impl<M> Clone for RemoteRecipient<M> {
    fn clone(&self) -> Self {
        RemoteRecipient {
            target: self.target.clone(),
            _message: PhantomData,
        }
    }
}

impl<M: RemoteMessage> RemoteRecipient<M> {
    /// The name the actor is exposed under.
    pub fn name(&self) -> &str {
        &self.target.name
    }

    /// The id of the node that holds it.
    pub fn node(&self) -> &str {
        &self.target.holder
    }

    /// Sends `message` without waiting for it to be handled. Under congestion it waits for room in
    /// zenoh's transmission queue (briefly blocking the thread) rather than drop the message.
    ///
    /// # Errors
    ///
    /// With the message: [`RemoteSendError::NodeDown`] if its node is gone,
    /// [`RemoteSendError::NotSent`] if it does not encode or zenoh refuses it.
    pub fn tell(&self, message: M) -> Result<(), RemoteSendError<M>> {
        let target = &self.target;
        if !target.node.inner.members.is_alive(&target.holder) {
            return Err(RemoteSendError::NodeDown(message));
        }
        let body = match wire::encode(&message) {
            Ok(body) => body,
            Err(failure) => {
                return Err(RemoteSendError::NotSent {
                    message,
                    reason: failure.to_string(),
                });
            }
        };
        match target
            .publisher
            .put(wire::request(M::MESSAGE_TYPE, &body))
            .wait()
        {
            Ok(()) => Ok(()),
            Err(error) => Err(RemoteSendError::NotSent {
                message,
                reason: error.to_string(),
            }),
        }
    }

    /// Sends `message` and waits for the reply, typed by `M::Result`: `.await` it, after an optional
    /// [`timeout`](RemoteAsk::timeout) ([`DEFAULT_ASK_TIMEOUT`] otherwise).
    pub fn ask(&self, message: M) -> RemoteAsk<'_, M> {
        RemoteAsk {
            recipient: self,
            message,
            timeout: DEFAULT_ASK_TIMEOUT,
        }
    }
}

impl<M> fmt::Debug for RemoteRecipient<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RemoteRecipient({} on {})",
            self.target.name, self.target.holder
        )
    }
}

/// An ask to a remote actor: `.await` it.
#[must_use = "an ask does nothing until it is awaited: add `.await`"]
pub struct RemoteAsk<'a, M> {
    recipient: &'a RemoteRecipient<M>,
    message: M,
    timeout: Duration,
}

impl<M> RemoteAsk<'_, M> {
    /// Gives up after `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl<M> fmt::Debug for RemoteAsk<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RemoteAsk({:?}, {:?})", self.recipient, self.timeout)
    }
}

impl<'a, M: RemoteMessage> IntoFuture for RemoteAsk<'a, M> {
    type Output = Result<M::Result, RemoteAskError<M>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(ask(self))
    }
}

async fn ask<M: RemoteMessage>(ask: RemoteAsk<'_, M>) -> Result<M::Result, RemoteAskError<M>> {
    let RemoteAsk {
        recipient,
        message,
        timeout,
    } = ask;
    let target = &recipient.target;
    let members = &target.node.inner.members;
    if !members.is_alive(&target.holder) {
        return Err(RemoteAskError::NotSent {
            message,
            reason: format!("node {} is down", target.holder),
        });
    }
    let gone = members.gone(&target.holder);
    tokio::pin!(gone);
    let body = match wire::encode(&message) {
        Ok(body) => body,
        Err(failure) => {
            return Err(RemoteAskError::NotSent {
                message,
                reason: failure.to_string(),
            });
        }
    };
    // The deadline is kept here; zenoh's, later, only bounds the query's life on its side.
    let deadline = tokio::time::sleep(timeout);
    let replies = match target
        .node
        .session()
        .get(actor_key(&target.name))
        .payload(wire::request(M::MESSAGE_TYPE, &body))
        .timeout(timeout + Duration::from_secs(1))
        .await
    {
        Ok(replies) => replies,
        Err(error) => {
            return Err(RemoteAskError::NotSent {
                message,
                reason: error.to_string(),
            });
        }
    };
    tokio::select! {
        reply = replies.recv_async() => match reply {
            Ok(reply) => match reply.into_result() {
                Ok(sample) => wire::decode(&sample.payload().to_bytes(), "the reply")
                    .map_err(RemoteAskError::Failed),
                Err(error) => Err(RemoteAskError::Failed(
                    wire::decode::<Failure>(&error.payload().to_bytes(), "the failure")
                        .unwrap_or_else(|failure| failure),
                )),
            },
            // The query ended with no reply: nobody answers on the key any more. Its node may be
            // leaving (its queryable goes before its liveliness token is seen gone): if it is gone
            // within the failure-detection time, that is why.
            Err(_) => {
                let lease = target.node.inner.failure_detection;
                tokio::select! {
                    () = &mut gone => Err(RemoteAskError::NodeDown(target.holder.clone())),
                    () = tokio::time::sleep(lease) => Err(RemoteAskError::Failed(
                        Failure::NoSuchName(target.name.clone()),
                    )),
                }
            }
        },
        () = deadline => Err(RemoteAskError::Timeout),
        () = &mut gone => Err(RemoteAskError::NodeDown(target.holder.clone())),
    }
}

/// Why a remote tell was refused; it holds the message.
#[non_exhaustive]
pub enum RemoteSendError<M> {
    /// The node holding the actor is gone.
    NodeDown(M),
    /// The message could not be sent: it does not encode, or zenoh refused it.
    NotSent {
        /// The message.
        message: M,
        /// Why.
        reason: String,
    },
}

impl<M> RemoteSendError<M> {
    /// The message back.
    pub fn into_message(self) -> M {
        match self {
            RemoteSendError::NodeDown(message) | RemoteSendError::NotSent { message, .. } => {
                message
            }
        }
    }
}

impl<M> fmt::Debug for RemoteSendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<M> fmt::Display for RemoteSendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteSendError::NodeDown(_) => f.write_str("the actor's node is down"),
            RemoteSendError::NotSent { reason, .. } => write!(f, "not sent: {reason}"),
        }
    }
}

impl<M> std::error::Error for RemoteSendError<M> {}

/// Why a remote ask got no reply.
#[non_exhaustive]
pub enum RemoteAskError<M> {
    /// The message was not sent (its node was down already, it does not encode, zenoh refused it):
    /// here it is back.
    NotSent {
        /// The message.
        message: M,
        /// Why.
        reason: String,
    },
    /// The node holding the actor went down while the ask waited (its id).
    NodeDown(String),
    /// No reply came in time; the message may still be handled.
    Timeout,
    /// The remote node answered that it could not do it.
    Failed(Failure),
}

impl<M> fmt::Debug for RemoteAskError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<M> fmt::Display for RemoteAskError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteAskError::NotSent { reason, .. } => write!(f, "not sent: {reason}"),
            RemoteAskError::NodeDown(node) => write!(f, "node {node} went down before replying"),
            RemoteAskError::Timeout => f.write_str("no reply in time"),
            RemoteAskError::Failed(failure) => write!(f, "{failure}"),
        }
    }
}

impl<M> std::error::Error for RemoteAskError<M> {}
