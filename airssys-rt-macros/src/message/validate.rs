//! Checks that need the whole item: what a message may not be.

use syn::{Data, GenericParam};

use super::parse::Input;
use crate::ctxt::Errors;

pub(crate) fn check(input: &Input<'_>, errors: &mut Errors) {
    let item = input.original;
    let ident = &item.ident;
    if let Data::Union(data) = &item.data {
        errors.spanned(
            data.union_token,
            format!(
                "`{ident}` is a union, and a union cannot be a message: nothing records which field is \
                 set, so its handler could not read it safely\nuse a struct or an enum"
            ),
        );
    }
    for param in &item.generics.params {
        if let GenericParam::Lifetime(param) = param {
            let lifetime = &param.lifetime;
            errors.spanned(
                lifetime,
                format!(
                    "a message must own its data, but `{ident}` borrows for the lifetime `{lifetime}`: \
                     a message is moved to another task and may outlive what it borrows\nremove \
                     `{lifetime}` and own the data (`String` for `&{ident_lt} str`, `Vec<T>` for \
                     `&{ident_lt} [T]`, `Arc<T>` for shared data)",
                    ident_lt = lifetime,
                ),
            );
        }
    }
    if let (Some(_), Some(boxed)) = (&input.attrs.inline, &input.attrs.boxed) {
        // One error, at the second of the pair: the first is on the same line.
        errors.spanned(
            boxed,
            "`inline` and `boxed` contradict each other: keep one, or neither to let the size decide",
        );
    }
    if let Some(name) = &input.attrs.name
        && name.value().trim().is_empty()
    {
        errors.spanned(
            name,
            "`name` must not be empty: it names the type in errors, dead letters and routing",
        );
    }
}
