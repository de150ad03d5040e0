//! `#[derive(Message)]`: parse the item and its `#[message(...)]` attributes, validate them, expand.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::ctxt::Errors;

pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let parsed = parse::Input::from_syn(input, &mut errors);
    validate::check(&parsed, &mut errors);
    // Expand even when there are errors (with the invalid parts left out), so that one mistake does
    // not turn every use of the type into a second error.
    let expanded = expand::impl_message(&parsed);
    match errors.into_compile_errors() {
        Some(errors) => quote!(#errors #expanded),
        None => expanded,
    }
}
