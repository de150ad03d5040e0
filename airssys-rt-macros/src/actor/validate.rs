//! Checks across the handlers of one block.

use super::parse::{ActorImpl, type_text};
use crate::ctxt::Errors;

/// Reports a message type handled twice, and keeps only its first handler so that the expansion does
/// not add rustc's conflicting-impl error to ours.
pub(crate) fn check(parsed: &mut ActorImpl<'_>, errors: &mut Errors) {
    let mut seen: Vec<(String, String)> = Vec::new();
    parsed.handlers.retain(|handler| {
        let message = type_text(handler.message);
        let name = handler.original.sig.ident.to_string();
        if let Some((_, first)) = seen.iter().find(|(seen, _)| *seen == message) {
            errors.spanned(
                handler.message,
                format!(
                    "`{message}` already has a handler, `{first}`: an actor handles each message type once\n\
                     merge `{name}` into `{first}`, or give one of them its own message type"
                ),
            );
            return false;
        }
        seen.push((message, name));
        true
    });
}
