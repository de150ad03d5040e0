//! [`Node`]: an actor system's presence on a zenoh network, and which other nodes are alive.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use zenoh::liveliness::LivelinessToken;
use zenoh::sample::SampleKind;

use crate::RemoteError;

/// The key of a node's liveliness token: present while its session is.
pub(crate) fn node_key(node: &str) -> String {
    format!("airssys/node/{node}")
}

/// A zenoh endpoint on loopback, on a port free when this returns (`tcp/127.0.0.1:40123`): for tests,
/// examples and benches that start their nodes on one machine. Another program may take the port
/// before the node listens on it; a fixed deployment names its own endpoints.
///
/// # Errors
///
/// When the operating system gives no free port.
pub fn free_loopback_endpoint() -> std::io::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(format!("tcp/127.0.0.1:{}", listener.local_addr()?.port()))
}

/// How a node joins the network.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    listen: Vec<String>,
    connect: Vec<String>,
    multicast: bool,
    router: Option<String>,
    failure_detection: Duration,
}

impl Default for NodeConfig {
    /// A peer that finds the others by multicast scouting, listening on an ephemeral port of every
    /// interface, with failure detection in 1 s.
    fn default() -> Self {
        NodeConfig {
            listen: Vec::new(),
            connect: Vec::new(),
            multicast: true,
            router: None,
            failure_detection: Duration::from_secs(1),
        }
    }
}

impl NodeConfig {
    /// A peer with no scouting, which listens on and connects to the endpoints it is given (zenoh's
    /// `tcp/127.0.0.1:7447` form): explicit, what tests and fixed deployments use.
    pub fn peer() -> Self {
        NodeConfig {
            multicast: false,
            ..NodeConfig::default()
        }
    }

    /// Listens on `endpoint` (`tcp/127.0.0.1:7447`) for other nodes.
    pub fn listen(mut self, endpoint: impl Into<String>) -> Self {
        self.listen.push(endpoint.into());
        self
    }

    /// Connects to the node listening on `endpoint`.
    pub fn connect(mut self, endpoint: impl Into<String>) -> Self {
        self.connect.push(endpoint.into());
        self
    }

    /// Finds other nodes by multicast scouting (on by default, off for [`peer`](NodeConfig::peer)).
    pub fn multicast_scouting(mut self, on: bool) -> Self {
        self.multicast = on;
        self
    }

    /// Joins through the zenoh router (`zenohd`) at `endpoint`, as a client, instead of as a peer.
    pub fn router(mut self, endpoint: impl Into<String>) -> Self {
        self.router = Some(endpoint.into());
        self
    }

    /// How long a node that crashed or left without a word takes to be seen gone: zenoh's link lease
    /// (1 s by default; zenoh's own default is 10 s).
    pub fn failure_detection(mut self, lease: Duration) -> Self {
        self.failure_detection = lease;
        self
    }

    fn zenoh(&self) -> Result<zenoh::Config, RemoteError> {
        let mut config = zenoh::Config::default();
        let mut set = |key: &str, value: String| {
            config
                .insert_json5(key, &value)
                .map_err(|error| RemoteError::Config(format!("{key}: {error}")))
        };
        let json = |list: &[String]| {
            let quoted: Vec<String> = list.iter().map(|item| format!("{item:?}")).collect();
            format!("[{}]", quoted.join(","))
        };
        match &self.router {
            Some(router) => {
                set("mode", "\"client\"".to_owned())?;
                set("connect/endpoints", json(std::slice::from_ref(router)))?;
            }
            None => {
                set("mode", "\"peer\"".to_owned())?;
                if !self.connect.is_empty() {
                    set("connect/endpoints", json(&self.connect))?;
                }
            }
        }
        if !self.listen.is_empty() {
            set("listen/endpoints", json(&self.listen))?;
        }
        set("scouting/multicast/enabled", self.multicast.to_string())?;
        let lease = self.failure_detection.as_millis().max(1);
        set("transport/link/tx/lease", lease.to_string())?;
        Ok(config)
    }
}

/// What a node knows of the others: for each one it has seen, whether it is alive.
#[derive(Default)]
pub(crate) struct Members {
    alive: Mutex<HashMap<String, watch::Sender<bool>>>,
}

impl Members {
    /// Runs `f` on `node`'s state, made (not alive) if the node was never seen.
    fn with_state<R>(&self, node: &str, f: impl FnOnce(&watch::Sender<bool>) -> R) -> R {
        let mut members = self.alive.lock().unwrap_or_else(PoisonError::into_inner);
        f(members
            .entry(node.to_owned())
            .or_insert_with(|| watch::channel(false).0))
    }

    fn set(&self, node: &str, alive: bool) {
        self.with_state(node, |state| state.send_replace(alive));
    }

    /// `node`'s state, to wait on.
    fn watch(&self, node: &str) -> watch::Receiver<bool> {
        self.with_state(node, watch::Sender::subscribe)
    }

    /// Resolves once `node` is gone (at once if it is not known to be alive).
    pub(crate) fn gone(&self, node: &str) -> impl Future<Output = ()> + Send + 'static {
        let mut state = self.watch(node);
        async move {
            let _ = state.wait_for(|alive| !alive).await;
        }
    }

    pub(crate) fn is_alive(&self, node: &str) -> bool {
        self.alive
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(node)
            .is_some_and(|state| *state.borrow())
    }
}

pub(crate) struct NodeInner {
    pub(crate) session: zenoh::Session,
    pub(crate) id: String,
    pub(crate) system: airssys_rt::ActorSystem,
    pub(crate) members: Arc<Members>,
    pub(crate) runtime: tokio::runtime::Handle,
    /// How long a node takes to be seen gone.
    pub(crate) failure_detection: Duration,
    _token: LivelinessToken,
    _watch: zenoh::pubsub::Subscriber<()>,
}

/// An actor system's presence on a zenoh network: through it, the system [exposes](Node::register)
/// actors by name and [looks up](Node::lookup_recipient) those of other nodes, and sees nodes come and go.
///
/// Cheap to clone. The node leaves the network when the last clone, and every reference it gave out,
/// is dropped, or at [`leave`](Node::leave).
#[derive(Clone)]
pub struct Node {
    pub(crate) inner: Arc<NodeInner>,
}

impl Node {
    /// Joins the network as `config` says, for `system`.
    ///
    /// zenoh needs a multi-threaded tokio runtime (`#[tokio::main]`, or
    /// `#[tokio::test(flavor = "multi_thread")]`; one worker is enough).
    ///
    /// # Errors
    ///
    /// [`RemoteError::Runtime`] on a current-thread runtime, [`RemoteError::Config`] for a setting
    /// zenoh refuses, [`RemoteError::Zenoh`] if the session
    /// cannot open (an endpoint in use, say).
    pub async fn join(
        system: &airssys_rt::ActorSystem,
        config: NodeConfig,
    ) -> Result<Node, RemoteError> {
        if tokio::runtime::Handle::current().runtime_flavor()
            == tokio::runtime::RuntimeFlavor::CurrentThread
        {
            return Err(RemoteError::Runtime);
        }
        let session = zenoh::open(config.zenoh()?)
            .await
            .map_err(RemoteError::zenoh)?;
        let id = session.zid().to_string();
        let members = Arc::new(Members::default());
        let watch = session
            .liveliness()
            .declare_subscriber("airssys/node/*")
            .history(true)
            .callback({
                let members = members.clone();
                move |sample| {
                    let key = sample.key_expr().as_str();
                    if let Some(node) = key.strip_prefix("airssys/node/") {
                        members.set(node, sample.kind() == SampleKind::Put);
                    }
                }
            })
            .await
            .map_err(RemoteError::zenoh)?;
        let token = session
            .liveliness()
            .declare_token(node_key(&id))
            .await
            .map_err(RemoteError::zenoh)?;
        Ok(Node {
            inner: Arc::new(NodeInner {
                session,
                id,
                system: system.clone(),
                members,
                runtime: tokio::runtime::Handle::current(),
                failure_detection: config.failure_detection,
                _token: token,
                _watch: watch,
            }),
        })
    }

    /// The actor system the node is for.
    pub fn system(&self) -> &airssys_rt::ActorSystem {
        &self.inner.system
    }

    /// Waits until some node holds `name`, up to `within`; returns that node's id, or `None`.
    pub async fn wait_for_name(&self, name: &str, within: Duration) -> Option<String> {
        let (found, mut holder) = watch::channel(None::<String>);
        let subscriber = self
            .session()
            .liveliness()
            .declare_subscriber(crate::expose::name_key(name, "*"))
            .history(true)
            .callback(move |sample| {
                if sample.kind() == SampleKind::Put
                    && let Some(node) = sample.key_expr().as_str().rsplit('/').next()
                {
                    found.send_replace(Some(node.to_owned()));
                }
            })
            .await
            .ok()?;
        let seen = tokio::time::timeout(within, holder.wait_for(Option::is_some))
            .await
            .ok()
            .and_then(Result::ok)
            .and_then(|node| node.clone());
        drop(subscriber);
        seen
    }

    /// The node's id on the network (its zenoh id).
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// Whether the node `id` is alive, as this one sees it.
    pub fn is_alive(&self, id: &str) -> bool {
        self.inner.members.is_alive(id)
    }

    /// Waits until the node `id` is seen alive, up to `within`; returns whether it was.
    pub async fn wait_for_node(&self, id: &str, within: Duration) -> bool {
        let mut state = self.inner.members.watch(id);
        tokio::time::timeout(within, state.wait_for(|alive| *alive))
            .await
            .is_ok_and(|seen| seen.is_ok())
    }

    /// Leaves the network now: other nodes see this one gone (their asks to it fail with
    /// [`RemoteAskError::NodeDown`](crate::RemoteAskError::NodeDown)).
    ///
    /// # Errors
    ///
    /// [`RemoteError::Zenoh`] if zenoh could not close its session cleanly.
    pub async fn leave(&self) -> Result<(), RemoteError> {
        self.inner.session.close().await.map_err(RemoteError::zenoh)
    }

    pub(crate) fn session(&self) -> &zenoh::Session {
        &self.inner.session
    }
}

impl core::fmt::Debug for Node {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Node({})", self.inner.id)
    }
}
