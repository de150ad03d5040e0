//! Exposing an actor by name: its liveliness token, the queryable that answers its asks, the
//! subscriber that takes its tells, and the queryable that says which message types it takes.

use std::collections::HashMap;
use std::sync::Arc;

use airssys_rt::{ActorRef, Handler, Recipient};
use tokio::sync::mpsc;
use zenoh::liveliness::LivelinessToken;
use zenoh::pubsub::Subscriber;
use zenoh::query::{Query, Queryable};

use crate::wire::{self, Failure};
use crate::{Node, RemoteError, RemoteMessage};

/// The key of the token that says which node holds `name`: `airssys/name/<name>/<node>`.
pub(crate) fn name_key(name: &str, node: &str) -> String {
    format!("airssys/name/{name}/{node}")
}

/// The key an exposed actor's asks and tells are sent to.
pub(crate) fn actor_key(name: &str) -> String {
    format!("airssys/actor/{name}")
}

/// The key of the queryable that lists an exposed actor's message types.
pub(crate) fn types_key(name: &str) -> String {
    format!("airssys/types/{name}")
}

type AskFn = Box<
    dyn Fn(Vec<u8>) -> core::pin::Pin<Box<dyn Future<Output = Result<Vec<u8>, Failure>> + Send>>
        + Send
        + Sync,
>;

type TellFn = Box<
    dyn Fn(Vec<u8>) -> core::pin::Pin<Box<dyn Future<Output = Result<(), Failure>> + Send>>
        + Send
        + Sync,
>;

/// How an exposed actor takes one message type from the wire.
struct Entry {
    ask: AskFn,
    tell: TellFn,
}

/// What the tasks serving an exposed actor share: its name, and how it takes each message type.
struct Exposure {
    name: String,
    entries: HashMap<&'static str, Entry>,
    /// The message types it takes, sorted: what lookups and `Failure::Unhandled` list.
    handled: Vec<String>,
}

impl Exposure {
    /// The entry a request is for, and the request's body.
    fn route<'b>(&self, request: &'b [u8]) -> Result<(&Entry, &'b [u8]), Failure> {
        let (message_type, body) = wire::open_request(request)?;
        match self.entries.get(message_type) {
            Some(entry) => Ok((entry, body)),
            None => Err(Failure::Unhandled {
                name: self.name.clone(),
                message_type: message_type.to_owned(),
                handled: self.handled.clone(),
            }),
        }
    }
}

/// An actor being exposed: [`Node::register`] starts one, [`message`](Registration::message) adds the
/// message types it takes remotely, [`declare`](Registration::declare) publishes it.
#[must_use = "nothing is exposed until `declare` is awaited"]
pub struct Registration<'a, A> {
    node: &'a Node,
    name: String,
    actor: ActorRef<A>,
    entries: HashMap<&'static str, Entry>,
}

impl<A> core::fmt::Debug for Registration<'_, A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Registration({})", self.name)
    }
}

impl Node {
    /// Starts exposing `actor` on the network as `name`: add the message types it takes remotely with
    /// [`message`](Registration::message), then [`declare`](Registration::declare).
    pub fn register<'a, A: airssys_rt::Actor>(
        &'a self,
        name: &str,
        actor: &ActorRef<A>,
    ) -> Registration<'a, A> {
        Registration {
            node: self,
            name: name.to_owned(),
            actor: actor.clone(),
            entries: HashMap::new(),
        }
    }
}

impl<'a, A: airssys_rt::Actor> Registration<'a, A> {
    /// Takes `M` from the network: the actor handles it (checked at compile time), and it and its
    /// reply cross the wire ([`RemoteMessage`], also checked at compile time).
    pub fn message<M>(mut self) -> Self
    where
        A: Handler<M>,
        M: RemoteMessage,
    {
        let recipient: Recipient<M> = self.actor.recipient::<M>();
        let asked = recipient.clone();
        let ask: AskFn = Box::new(move |body| {
            let recipient = asked.clone();
            Box::pin(async move {
                let message: M = wire::decode(&body, M::MESSAGE_TYPE)?;
                match recipient.ask(message).await {
                    Ok(reply) => wire::encode(&reply),
                    Err(error) => Err(Failure::Actor(error.to_string())),
                }
            })
        });
        let tell: TellFn = Box::new(move |body| {
            let recipient = recipient.clone();
            Box::pin(async move {
                let message: M = wire::decode(&body, M::MESSAGE_TYPE)?;
                // Waits for room in a bounded mailbox: a remote sender gets backpressure through the
                // order of its messages, not a refusal.
                recipient
                    .send(message)
                    .await
                    .map_err(|error| Failure::Actor(error.to_string()))
            })
        });
        self.entries.insert(M::MESSAGE_TYPE, Entry { ask, tell });
        self
    }

    /// Publishes the actor on the network under its name.
    ///
    /// # Errors
    ///
    /// [`RemoteError::NameTaken`] if another node holds the name (or this one does already), and
    /// [`RemoteError::Zenoh`] if a declaration fails.
    pub async fn declare(self) -> Result<Exposed, RemoteError> {
        // The actor's reference was only needed for its recipients, which the entries hold.
        let Registration {
            node,
            name,
            entries,
            ..
        } = self;
        let session = node.session();
        if let Some(holder) = holder_of(node, &name).await? {
            return Err(RemoteError::NameTaken { name, node: holder });
        }
        let mut handled: Vec<String> = entries.keys().map(|name| (*name).to_owned()).collect();
        handled.sort();
        let listed = wire::encode(&handled).expect("a list of strings always encodes");
        let exposure = Arc::new(Exposure {
            name: name.clone(),
            entries,
            handled,
        });
        // Tells, in the order they came, each waiting for room before the next.
        let (tells, mut queue) = mpsc::unbounded_channel::<Vec<u8>>();
        let forward = {
            let exposure = exposure.clone();
            node.inner.runtime.spawn(async move {
                while let Some(request) = queue.recv().await {
                    let outcome = match exposure.route(&request) {
                        Ok((entry, body)) => (entry.tell)(body.to_vec()).await,
                        Err(failure) => Err(failure),
                    };
                    if let Err(failure) = outcome {
                        undelivered(&exposure.name, &failure);
                    }
                }
            })
        };
        let subscriber = session
            .declare_subscriber(actor_key(&name))
            .callback(move |sample| {
                let _ = tells.send(sample.payload().to_bytes().into_owned());
            })
            .await
            .map_err(RemoteError::zenoh)?;
        let runtime = node.inner.runtime.clone();
        let asks = session
            .declare_queryable(actor_key(&name))
            .callback(move |query: Query| {
                let exposure = exposure.clone();
                runtime.spawn(async move { answer(query, &exposure).await });
            })
            .await
            .map_err(RemoteError::zenoh)?;
        let types = session
            .declare_queryable(types_key(&name))
            .callback(move |query: Query| {
                let key = query.key_expr().clone();
                let _ = zenoh::Wait::wait(query.reply(key, listed.clone()));
            })
            .await
            .map_err(RemoteError::zenoh)?;
        let token = session
            .liveliness()
            .declare_token(name_key(&name, node.id()))
            .await
            .map_err(RemoteError::zenoh)?;
        // Two nodes that checked the name at once both declared it: once each sees the other's token,
        // the lower id keeps it and the other withdraws, so that the name never has two holders for
        // longer than a declaration takes to cross.
        let holders = holders_of(node, &name).await?;
        if let Some(first) = holders.first()
            && first != node.id()
        {
            drop((token, asks, types, subscriber));
            forward.abort();
            return Err(RemoteError::NameTaken {
                name,
                node: first.clone(),
            });
        }
        Ok(Exposed {
            name,
            _token: token,
            _asks: asks,
            _types: types,
            _tells: subscriber,
            forward,
        })
    }
}

/// The nodes that hold `name` now, in the order of their ids: one, unless two registered it at once.
async fn holders_of(node: &Node, name: &str) -> Result<Vec<String>, RemoteError> {
    let replies = node
        .session()
        .liveliness()
        .get(name_key(name, "*"))
        .await
        .map_err(RemoteError::zenoh)?;
    let mut holders = Vec::new();
    while let Ok(reply) = replies.recv_async().await {
        if let Ok(sample) = reply.result()
            && let Some(holder) = sample.key_expr().as_str().rsplit('/').next()
        {
            holders.push(holder.to_owned());
        }
    }
    holders.sort();
    holders.dedup();
    Ok(holders)
}

/// The node holding `name`, if any: of two that registered it at once, the one that keeps it (the
/// lower id; the other withdraws).
pub(crate) async fn holder_of(node: &Node, name: &str) -> Result<Option<String>, RemoteError> {
    Ok(holders_of(node, name).await?.into_iter().next())
}

/// A remote tell this node could not deliver: it has no one to answer, so it says so, loudly.
fn undelivered(name: &str, failure: &Failure) {
    eprintln!("airssys-rt-remote: a remote tell to `{name}` was not delivered: {failure}");
}

/// Answers one ask.
async fn answer(query: Query, exposure: &Exposure) {
    let request = query
        .payload()
        .map(|payload| payload.to_bytes().into_owned())
        .unwrap_or_default();
    let outcome = match exposure.route(&request) {
        Ok((entry, body)) => (entry.ask)(body.to_vec()).await,
        Err(failure) => Err(failure),
    };
    let key = query.key_expr().clone();
    let _ = match outcome {
        Ok(reply) => query.reply(key, reply).await,
        Err(failure) => {
            query
                .reply_err(wire::encode(&failure).unwrap_or_default())
                .await
        }
    };
}

/// An actor exposed on the network. Dropping it withdraws the actor: its name is free again, and
/// asks to it fail with [`Failure::NoSuchName`] or time out.
pub struct Exposed {
    name: String,
    _token: LivelinessToken,
    _asks: Queryable<()>,
    _types: Queryable<()>,
    _tells: Subscriber<()>,
    forward: tokio::task::JoinHandle<()>,
}

impl Exposed {
    /// The name it is exposed under.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Exposed {
    fn drop(&mut self) {
        self.forward.abort();
    }
}

impl core::fmt::Debug for Exposed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Exposed({})", self.name)
    }
}
