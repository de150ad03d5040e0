//! A live view of a running system: [`ActorSystem::snapshot`](crate::ActorSystem::snapshot) reads
//! each actor's identity, supervisor, state, mailbox depth, messages handled and restarts, and builds
//! the supervision tree from them. Print it (its `Display` is the tree), or read it as data.
//!
//! ```
//! use airssys_rt::prelude::*;
//! use airssys_rt::introspection::ActorState;
//! use airssys_rt::supervisor::{ChildSpec, Strategy, SupervisorSpec};
//!
//! #[derive(Message)]
//! struct Job;
//!
//! struct Worker;
//!
//! #[actor]
//! impl Worker {
//!     fn job(&mut self, _: Job) {}
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let system = ActorSystem::new();
//! let root = SupervisorSpec::new(Strategy::OneForOne)
//!     .child(ChildSpec::new("worker", || Worker))
//!     .spawn(&system);
//! let worker = root.child::<Worker>("worker").await.unwrap();
//! worker.ask(Job).await.unwrap();
//!
//! let snapshot = system.snapshot();
//! let seen = snapshot.get(worker.address()).unwrap();
//! assert_eq!(seen.parent, Some(root.address()));
//! assert_eq!(seen.state, ActorState::Running);
//! assert_eq!(seen.handled, 1);
//! assert_eq!(
//!     snapshot.to_string(),
//!     "2 actors\n\
//!      <Supervisor 1>  running  mailbox 0  handled 1\n\
//!      └─ worker <Worker 2>  running  mailbox 0  handled 1\n"
//! );
//! # }
//! ```
//!
//! A snapshot is not atomic: each actor is read in turn while the system runs, so an actor spawned or
//! stopped meanwhile may be in it or not, and the counts are each exact at the moment they are read.
//! Reading costs the actors nothing: it reads their cells, and sends them nothing.

use core::fmt;
use std::collections::HashMap;

use crate::actor::ActorId;
use crate::address::ActorAddress;
use crate::core::Core;
pub use crate::core::cell::ActorState;
use crate::core::mailbox::MailboxKind;

/// One actor, as a [`SystemSnapshot`] saw it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ActorSnapshot {
    /// Its address, type and name.
    pub id: ActorId,
    /// The supervisor that owns it, if one does.
    pub parent: Option<ActorAddress>,
    /// Where it is in its life.
    pub state: ActorState,
    /// Messages waiting in its mailbox (both lanes).
    pub mailbox_depth: usize,
    /// Its mailbox's kind (and capacity, if bounded).
    pub mailbox: MailboxKind,
    /// Messages it has handled, over all its incarnations.
    pub handled: u64,
    /// How many times its supervisor has restarted it.
    pub restarts: u32,
}

/// Every live actor of a system, and the supervision tree they form. From
/// [`ActorSystem::snapshot`](crate::ActorSystem::snapshot). Its `Display` prints the tree, one actor a
/// line, children under their supervisor.
#[derive(Debug, Clone)]
pub struct SystemSnapshot {
    /// By address, oldest first.
    actors: Vec<ActorSnapshot>,
}

impl SystemSnapshot {
    pub(crate) fn of(core: &Core) -> Self {
        let mut actors: Vec<ActorSnapshot> = core
            .routes()
            .iter()
            .map(|route| {
                let cell = &route.value().handle;
                ActorSnapshot {
                    id: cell.id.clone(),
                    parent: cell.parent(),
                    state: cell.state(),
                    mailbox_depth: cell.depth(),
                    mailbox: cell.mailbox.kind(),
                    handled: cell.handled(),
                    restarts: cell.restarts(),
                }
            })
            .collect();
        actors.sort_unstable_by_key(|actor| actor.id.address().id());
        SystemSnapshot { actors }
    }

    /// Every actor, by address (oldest first).
    pub fn actors(&self) -> &[ActorSnapshot] {
        &self.actors
    }

    /// The actor at `address`, if it was alive.
    pub fn get(&self, address: ActorAddress) -> Option<&ActorSnapshot> {
        self.actors
            .binary_search_by_key(&address.id(), |actor| actor.id.address().id())
            .ok()
            .map(|at| &self.actors[at])
    }

    /// The actors no supervisor in the snapshot owns: the roots of the tree.
    pub fn roots(&self) -> impl Iterator<Item = &ActorSnapshot> {
        self.actors.iter().filter(|actor| match actor.parent {
            None => true,
            // A supervisor that stopped meanwhile: its child is shown as a root.
            Some(parent) => self.get(parent).is_none(),
        })
    }

    /// The actors that the supervisor at `parent` owns, oldest first.
    pub fn children(&self, parent: ActorAddress) -> impl Iterator<Item = &ActorSnapshot> {
        self.actors
            .iter()
            .filter(move |actor| actor.parent == Some(parent))
    }

    fn write_tree(
        f: &mut fmt::Formatter<'_>,
        actor: &ActorSnapshot,
        children: &HashMap<u64, Vec<&ActorSnapshot>>,
        prefix: &mut String,
        last: Option<bool>,
    ) -> fmt::Result {
        let branch = match last {
            None => "",
            Some(false) => "├─ ",
            Some(true) => "└─ ",
        };
        writeln!(f, "{prefix}{branch}{actor}")?;
        let kept = prefix.len();
        match last {
            None => {}
            Some(false) => prefix.push_str("│  "),
            Some(true) => prefix.push_str("   "),
        }
        let own = children
            .get(&actor.id.address().id())
            .map_or(&[][..], Vec::as_slice);
        for (at, child) in own.iter().enumerate() {
            Self::write_tree(f, child, children, prefix, Some(at + 1 == own.len()))?;
        }
        prefix.truncate(kept);
        Ok(())
    }
}

impl fmt::Display for ActorSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}  {}  mailbox {}",
            self.id, self.state, self.mailbox_depth
        )?;
        if let MailboxKind::Bounded(capacity) = self.mailbox {
            write!(f, "/{capacity}")?;
        }
        write!(f, "  handled {}", self.handled)?;
        if self.restarts > 0 {
            write!(f, "  restarts {}", self.restarts)?;
        }
        Ok(())
    }
}

impl fmt::Display for SystemSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.actors.len();
        writeln!(f, "{count} actor{}", if count == 1 { "" } else { "s" })?;
        // Each supervisor's children, found in one pass (oldest first, as `actors` is ordered), so
        // that printing a large system is not a scan of it per actor.
        let mut children: HashMap<u64, Vec<&ActorSnapshot>> = HashMap::new();
        for actor in &self.actors {
            if let Some(parent) = actor.parent {
                children.entry(parent.id()).or_default().push(actor);
            }
        }
        let mut prefix = String::new();
        for root in self.roots() {
            Self::write_tree(f, root, &children, &mut prefix, None)?;
        }
        Ok(())
    }
}
