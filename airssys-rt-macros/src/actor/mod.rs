//! `#[actor]`: parse the impl block into handlers, hooks and helpers, validate, expand.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Errors;

pub(crate) fn actor(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = parse::Args::parse(args, &mut errors);
    let item = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(item) => item,
        Err(error) => return error.into_compile_error(),
    };
    let Some(mut parsed) = parse::ActorImpl::from_item(&item, &mut errors) else {
        // Not an inherent impl block: keep the item so that the error is the only one.
        let errors = errors.into_compile_errors();
        return quote!(#errors #item);
    };
    validate::check(&mut parsed, &mut errors);
    let expanded = expand::expand(&parsed, &args);
    let errors = errors.into_compile_errors();
    quote!(#errors #expanded)
}
