//! [`ActorId`]: who an actor is, for people: its address, its type and its optional name, as shown in
//! references, stop reasons, dead letters and panic reports.

use core::fmt;
use std::sync::Arc;

use crate::address::ActorAddress;
use std::any::TypeId;

use crate::actor::{Actor, HandledMessage};

/// An actor's identity: its [address](ActorAddress), its type and its name, if it was given one.
///
/// Printed as `name <Type id>`, or `<Type id>` without a name: `worker-3 <Worker 17>`. The name comes
/// from [`SpawnOptions::name`](crate::SpawnOptions::name), or from the child id of a supervised
/// actor. It is for people (logs, errors); names to *find* actors by are registered with the
/// [resolver](crate::broker::AddressResolver), and need not be the same.
///
/// Cheap to clone; compares equal to its [`ActorAddress`].
#[derive(Clone)]
pub struct ActorId {
    address: ActorAddress,
    /// The actor type's static record (a pointer, where a `&str` would take two words).
    actor_type: &'static ActorType,
    name: Option<Arc<str>>,
}

impl ActorId {
    pub(crate) fn new(
        address: ActorAddress,
        actor_type: &'static ActorType,
        name: Option<Arc<str>>,
    ) -> Self {
        ActorId {
            address,
            actor_type,
            name,
        }
    }

    /// The actor's address.
    pub fn address(&self) -> ActorAddress {
        self.address
    }

    /// The actor's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The actor's type, with its full path (`my_app::pool::Worker`).
    pub fn type_name(&self) -> &'static str {
        (self.actor_type.type_name)()
    }
}

impl PartialEq for ActorId {
    fn eq(&self, other: &Self) -> bool {
        self.address == other.address
    }
}

impl Eq for ActorId {}

impl PartialEq<ActorAddress> for ActorId {
    fn eq(&self, other: &ActorAddress) -> bool {
        self.address == *other
    }
}

impl core::hash::Hash for ActorId {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.address.hash(state);
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.name {
            write!(f, "{name} ")?;
        }
        f.write_str("<")?;
        write_short_type_name(self.type_name(), f)?;
        write!(f, " {}>", self.address.id())
    }
}

impl ActorId {
    /// The type's name without module paths (`Worker<Job>`), as `Display` writes it.
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    pub(crate) fn short_type_name(&self) -> String {
        struct Short(&'static str);
        impl fmt::Display for Short {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_short_type_name(self.0, f)
            }
        }
        Short(self.type_name()).to_string()
    }
}

impl fmt::Debug for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActorId({self})")
    }
}

/// `type_name` without module paths: `app::pool::Worker<app::Job>` is written `Worker<Job>`.
fn write_short_type_name(type_name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut rest = type_name;
    while !rest.is_empty() {
        // The next path (identifiers joined by `::`), then the punctuation after it.
        let path_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let (path, after) = rest.split_at(path_len);
        f.write_str(path.rsplit("::").next().unwrap_or(path))?;
        let punct_len = after
            .find(|c: char| c.is_alphanumeric() || c == '_')
            .unwrap_or(after.len());
        let (punct, after) = after.split_at(punct_len);
        f.write_str(punct)?;
        rest = after;
    }
    Ok(())
}

/// What the routing table knows of an actor's type: one static per actor type.
#[derive(Debug)]
pub(crate) struct ActorType {
    pub(crate) type_id: TypeId,
    pub(crate) type_name: fn() -> &'static str,
    pub(crate) handled: &'static [HandledMessage],
}

/// The [`ActorType`] of `A`, as an associated constant so that it is one static per type.
pub(crate) trait TypeOf {
    const ACTOR_TYPE: &'static ActorType;
}

impl<A: Actor> TypeOf for A {
    const ACTOR_TYPE: &'static ActorType = &ActorType {
        type_id: TypeId::of::<A>(),
        type_name: core::any::type_name::<A>,
        handled: A::__HANDLED,
    };
}

#[cfg(test)]
mod tests {
    use core::num::NonZeroU64;

    use super::*;

    struct Shown<'a>(&'a str);

    impl fmt::Display for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_short_type_name(self.0, f)
        }
    }

    #[test]
    fn prints_the_short_type_name() {
        assert_eq!(Shown("app::pool::Worker").to_string(), "Worker");
        assert_eq!(
            Shown("app::Cache<alloc::string::String, app::Key>").to_string(),
            "Cache<String, Key>"
        );
        assert_eq!(Shown("Plain").to_string(), "Plain");
        assert_eq!(Shown("(a::B, [c::D; 2])").to_string(), "(B, [D; 2])");
    }

    #[test]
    fn prints_the_name_and_the_short_type() {
        let address = ActorAddress::from_id(NonZeroU64::new(7).unwrap());
        let actor_type =
            <crate::supervisor::Supervisor as crate::actor::identity::TypeOf>::ACTOR_TYPE;
        let named = ActorId::new(address, actor_type, Some(Arc::from("root")));
        assert_eq!(named.to_string(), "root <Supervisor 7>");
        assert_eq!(
            ActorId::new(address, actor_type, None).to_string(),
            "<Supervisor 7>"
        );
    }
}
