#![doc = include_str!("../../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod address;
pub mod envelope;
pub mod message;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use address::ActorAddress;
pub use message::{Message, Storage};

/// Derives [`Message`] for a struct or an enum.
///
/// ```
/// use airssys_rt::Message;
///
/// #[derive(Message)]
/// #[message(result = u64)]
/// struct Add(u64);
/// ```
///
/// # Attributes
///
/// All go in `#[message(...)]`, separated by commas; each at most once.
///
/// | attribute | meaning | default |
/// |---|---|---|
/// | `result = Type` | the reply type, [`Message::Result`]: what `ask` returns | `()` |
/// | `name = "..."` | [`Message::MESSAGE_TYPE`], the stable name used in errors, dead letters and routing | `module::path::TypeName` |
/// | `inline` | demand inline storage; a compile error, naming the type and both sizes, if it does not fit | chosen by size |
/// | `boxed` | force boxed storage | chosen by size |
/// | `crate = "path"` | where the runtime crate is, if it was renamed or re-exported | `::airssys_rt` |
///
/// # Accepted and rejected shapes
///
/// Named, tuple and unit structs, and enums, generic or not: generic parameters get the bounds
/// `Send + 'static` that every message needs. Rejected, each with an error at the offending tokens:
/// unions, lifetime parameters (a message owns its data), unknown or repeated attribute keys, and
/// `inline` with `boxed`. A type that is not `Send` fails to compile with rustc's own error naming it.
pub use airssys_rt_macros::Message;

/// The names almost every user of the crate needs.
pub mod prelude {
    pub use crate::address::ActorAddress;
    pub use crate::message::{Message, Storage};
}
