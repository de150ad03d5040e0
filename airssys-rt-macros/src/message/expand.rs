//! Generates `impl Message`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, GenericParam, Generics, Lifetime, parse_quote};

use super::parse::Input;

/// The `impl Message` for a parsed (and possibly invalid) item. Invalid parts are left out, so that the
/// impl still compiles next to the errors: a union gets no impl, lifetimes become `'static`,
/// contradictory storage attributes are ignored.
pub(crate) fn impl_message(input: &Input<'_>) -> TokenStream {
    let item = input.original;
    if let Data::Union(_) = item.data {
        return TokenStream::new();
    }
    let attrs = &input.attrs;
    let krate = attrs
        .krate
        .clone()
        .unwrap_or_else(|| parse_quote!(::airssys_rt));
    let ident = &item.ident;
    let ident_text = ident.to_string();

    let generics = impl_generics(&item.generics);
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let type_args = type_args(&item.generics);

    let message_type = match &attrs.name {
        Some(name) => quote!(#name),
        None => quote!(::core::concat!(::core::module_path!(), "::", #ident_text)),
    };
    let result = match &attrs.result {
        Some(ty) => quote!(#ty),
        None => quote!(()),
    };
    let inline_fix =
        format!("Remove `inline` so that the message is boxed, or make `{ident}` smaller");
    let storage = match (&attrs.inline, &attrs.boxed) {
        (Some(inline), None) => quote_spanned! {inline.span()=>
            const STORAGE: #krate::Storage = {
                if let ::core::option::Option::Some(error) =
                    #krate::__private::inline_violation::<Self>(
                        "`#[message(inline)]`",
                        #ident_text,
                        #inline_fix,
                    )
                {
                    ::core::panic!("{}", error.as_str());
                }
                #krate::Storage::Inline
            };
        },
        (None, Some(boxed)) => quote_spanned! {boxed.span()=>
            const STORAGE: #krate::Storage = #krate::Storage::Boxed;
        },
        _ => TokenStream::new(),
    };
    let priority = match &attrs.priority {
        Some(priority) if priority.value() == "high" => quote_spanned! {priority.span()=>
            const PRIORITY: #krate::message::Priority = #krate::message::Priority::High;
        },
        _ => TokenStream::new(),
    };
    // A type without type or const parameters is checked right away; a generic one when it is used
    // with concrete parameters (rustc cannot know its size before).
    let check_now = match &attrs.inline {
        Some(inline)
            if generics.type_params().next().is_none()
                && generics.const_params().next().is_none() =>
        {
            quote_spanned! {inline.span()=>
                const _: () = {
                    let _ = <#ident #type_args as #krate::Message>::STORAGE;
                };
            }
        }
        _ => TokenStream::new(),
    };

    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::Message for #ident #type_args #where_clause {
            const MESSAGE_TYPE: &'static str = #message_type;
            type Result = #result;
            #storage
            #priority
        }
        #check_now
    }
}

/// The item's generics without lifetimes (a message has none; validation reports them), each type
/// parameter bound by `Send + 'static` as `Message` requires.
fn impl_generics(generics: &Generics) -> Generics {
    let has_lifetimes = generics.lifetimes().next().is_some();
    let mut out = generics.clone();
    out.params = generics
        .params
        .iter()
        .filter(|param| !matches!(param, GenericParam::Lifetime(_)))
        .cloned()
        .collect();
    if has_lifetimes {
        // Its predicates may name the removed lifetimes; this impl only stands in while the error shows.
        out.where_clause = None;
    }
    let bounds: Vec<syn::WherePredicate> = generics
        .type_params()
        .map(|param| {
            let ident = &param.ident;
            parse_quote!(#ident: ::core::marker::Send + 'static)
        })
        .collect();
    out.make_where_clause().predicates.extend(bounds);
    out
}

/// `<A, B, N>` for the item's parameters, with every lifetime replaced by `'static`.
fn type_args(generics: &Generics) -> TokenStream {
    if generics.params.is_empty() {
        return TokenStream::new();
    }
    let args = generics.params.iter().map(|param| match param {
        GenericParam::Lifetime(param) => {
            let lifetime = Lifetime::new("'static", param.lifetime.span());
            quote!(#lifetime)
        }
        GenericParam::Type(param) => {
            let ident = &param.ident;
            quote!(#ident)
        }
        GenericParam::Const(param) => {
            let ident = &param.ident;
            quote!(#ident)
        }
    });
    quote!(<#(#args),*>)
}
