//! Procedural macros for `airssys-rt`. Use them through the `airssys_rt` crate, which re-exports them
//! and documents them: `airssys_rt::Message` and `airssys_rt::actor`.

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

mod actor;
mod ctxt;
mod message;
mod suggest;

/// Derives `airssys_rt::Message`. Documented on the re-export, `airssys_rt::Message`.
#[proc_macro_derive(Message, attributes(message))]
pub fn derive_message(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    message::derive(&input).into()
}

/// Turns an inherent impl block into an actor. Documented on the re-export, `airssys_rt::actor`.
#[proc_macro_attribute]
pub fn actor(args: TokenStream, item: TokenStream) -> TokenStream {
    actor::actor(args.into(), item.into()).into()
}

/// Marks a method of an `#[actor]` block as a plain method, not a handler; `#[actor]` removes it. Used
/// anywhere else, it is an error that says so.
#[proc_macro_attribute]
pub fn helper(_args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let error = syn::Error::new(
        proc_macro2::Span::call_site(),
        "`#[helper]` marks a method inside an `#[actor]` impl block as a plain method, not a handler; \
         here it has no effect\nremove it, or add `#[actor]` to the impl block",
    )
    .into_compile_error();
    quote::quote!(#error #item).into()
}
