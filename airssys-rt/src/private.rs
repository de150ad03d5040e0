//! Support for the code that the macros generate. Not a public API: it changes without notice.

use crate::envelope::{INLINE_ALIGN, INLINE_CAPACITY};
use crate::message::Storage;

/// A message assembled at compile time, for a `panic!` in a `const` that reports a misuse.
#[derive(Debug)]
pub struct ConstMessage {
    bytes: [u8; 512],
    len: usize,
}

impl ConstMessage {
    const fn new() -> Self {
        ConstMessage {
            bytes: [0; 512],
            len: 0,
        }
    }

    const fn push(mut self, text: &str) -> Self {
        let text = text.as_bytes();
        let mut i = 0;
        while i < text.len() && self.len < self.bytes.len() {
            self.bytes[self.len] = text[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    const fn push_usize(mut self, mut value: usize) -> Self {
        let mut digits = [0u8; 20];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (value % 10) as u8;
            count += 1;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        while count > 0 && self.len < self.bytes.len() {
            count -= 1;
            self.bytes[self.len] = digits[count];
            self.len += 1;
        }
        self
    }

    /// The text assembled so far.
    pub const fn as_str(&self) -> &str {
        let (text, _) = self.bytes.split_at(self.len);
        match core::str::from_utf8(text) {
            Ok(text) => text,
            // Only whole `&str`s and ASCII digits are pushed, so this cannot happen.
            Err(_) => "invalid message",
        }
    }
}

/// Why `#[message(inline)]` cannot hold for `T`, named `name` in the user's code, or `None` if it
/// fits. `cause` is what demanded inline storage; `fix` says what to do instead.
pub const fn inline_violation<T>(cause: &str, name: &str, fix: &str) -> Option<ConstMessage> {
    if Storage::fits_inline::<T>() {
        return None;
    }
    let message = ConstMessage::new()
        .push(cause)
        .push(" on `")
        .push(name)
        .push("`, which is ")
        .push_usize(size_of::<T>())
        .push(" bytes with alignment ")
        .push_usize(align_of::<T>())
        .push("; an envelope stores inline at most ")
        .push_usize(INLINE_CAPACITY)
        .push(" bytes with alignment at most ")
        .push_usize(INLINE_ALIGN)
        .push(". ")
        .push(fix);
    Some(message)
}
