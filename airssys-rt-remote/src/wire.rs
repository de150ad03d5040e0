//! The wire format: what crosses between two nodes, versioned.
//!
//! A request (a tell's sample, an ask's query) is a header, then the message: the header is the wire
//! format's version and the message's [`MESSAGE_TYPE`](airssys_rt::Message::MESSAGE_TYPE), the stable
//! identity of its type on the wire; the message and a reply are encoded with postcard. A failed ask
//! is answered with a [`Failure`], as a zenoh error reply.

use serde::{Deserialize, Serialize};

/// The version of the wire format; a node refuses requests of another version, with
/// [`Failure::Version`].
pub const WIRE_VERSION: u16 = 1;

/// The header of a request.
#[derive(Debug, Serialize, Deserialize)]
struct Header<'a> {
    version: u16,
    message_type: &'a str,
}

/// A request for `message_type`: its header, then `body`.
pub(crate) fn request(message_type: &str, body: &[u8]) -> Vec<u8> {
    let header = Header {
        version: WIRE_VERSION,
        message_type,
    };
    let mut bytes = postcard::to_stdvec(&header).expect("a header always encodes");
    bytes.extend_from_slice(body);
    bytes
}

/// A request's message type and body; a [`Failure`] if it is not one this node can read.
pub(crate) fn open_request(bytes: &[u8]) -> Result<(&str, &[u8]), Failure> {
    let (header, body) = postcard::take_from_bytes::<Header<'_>>(bytes)
        .map_err(|error| Failure::Decode(format!("the request's header: {error}")))?;
    if header.version != WIRE_VERSION {
        return Err(Failure::Version {
            theirs: header.version,
            ours: WIRE_VERSION,
        });
    }
    Ok((header.message_type, body))
}

/// Why a remote ask got no reply, as its node answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Failure {
    /// No actor of that name is exposed on the node (any more).
    NoSuchName(String),
    /// The actor is exposed, but not for this message type.
    Unhandled {
        /// The actor's name.
        name: String,
        /// The message type it was sent.
        message_type: String,
        /// The message types it takes remotely.
        handled: Vec<String>,
    },
    /// The request, or its reply, could not be decoded (the two sides disagree on the type).
    Decode(String),
    /// The request is of another version of the wire format.
    Version {
        /// The sender's version.
        theirs: u16,
        /// This node's.
        ours: u16,
    },
    /// The actor failed the ask, as a local one would: it stopped, its handler panicked, it dropped
    /// the reply unanswered, or its mailbox refused the message. The words of the local error.
    Actor(String),
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Failure::NoSuchName(name) => write!(f, "no actor is exposed as `{name}` there"),
            Failure::Unhandled {
                name,
                message_type,
                handled,
            } => write!(
                f,
                "`{name}` does not take `{message_type}` remotely (it takes {})",
                handled.join(", ")
            ),
            Failure::Decode(what) => write!(f, "could not decode {what}"),
            Failure::Version { theirs, ours } => write!(
                f,
                "wire format version {theirs} was sent; the node speaks version {ours}"
            ),
            Failure::Actor(error) => write!(f, "the actor failed it: {error}"),
        }
    }
}

impl std::error::Error for Failure {}

/// `value`, encoded.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, Failure> {
    postcard::to_stdvec(value).map_err(|error| Failure::Decode(format!("(encoding) {error}")))
}

/// A `T` out of `bytes`; `what` names it in the error.
/// A `T` out of `bytes`, all of them: bytes left over mean the two sides disagree on the type, even
/// if a prefix happened to decode. `what` names it in the error.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &str,
) -> Result<T, Failure> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(Failure::Decode(format!(
            "{what}: {} bytes left over (the two sides disagree on its type)",
            rest.len()
        ))),
        Err(error) => Err(Failure::Decode(format!("{what}: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_carries_its_type_and_body() {
        let bytes = request("app::Get", &[1, 2, 3]);
        assert_eq!(open_request(&bytes).unwrap(), ("app::Get", &[1, 2, 3][..]));
    }

    #[test]
    fn another_version_is_refused_by_name() {
        let mut bytes = postcard::to_stdvec(&Header {
            version: 9,
            message_type: "app::Get",
        })
        .unwrap();
        bytes.push(0);
        assert_eq!(
            open_request(&bytes).unwrap_err(),
            Failure::Version { theirs: 9, ours: 1 }
        );
        assert!(matches!(open_request(&[0xff]), Err(Failure::Decode(_))));
    }
}
