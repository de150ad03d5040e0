//! Generates the `Actor` impl (dispatch, handled-message table, hooks) and one `Handler` impl per
//! handled message.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ImplItem, ItemImpl, ReturnType, parse_quote};

use super::parse::{ActorImpl, Args, Extra, Hook, HookArg, is_helper};

pub(crate) fn expand(parsed: &ActorImpl<'_>, args: &Args) -> TokenStream {
    let krate = args
        .krate
        .clone()
        .unwrap_or_else(|| parse_quote!(::airssys_rt));
    let original = parsed.original;
    let self_ty = &original.self_ty;
    // An actor is `Send + 'static`: the generated impls require it of the block's type parameters, so
    // that a generic actor need not spell it, and an instance that is not one is refused where it is
    // spawned (not inside the runtime).
    let mut generics = original.generics.clone();
    let type_params: Vec<Ident> = generics
        .type_params()
        .map(|param| param.ident.clone())
        .collect();
    if !type_params.is_empty() {
        let where_clause = generics.make_where_clause();
        for param in type_params {
            where_clause
                .predicates
                .push(parse_quote!(#param: ::core::marker::Send + 'static));
        }
    }
    let (impl_generics, _, where_clause) = generics.split_for_impl();

    // Every use of a handler's message type goes through `HandlerMessage<index>`, whose impl is the one
    // place that requires it to be a `Message`: a parameter that is not one is one error, there.
    // Spanned at the user's parameter: the uses that fail with it then report the same error at the
    // same place, which rustc shows once.
    let checked = |index: usize| {
        let span = parsed.handlers[index].message.span();
        let index = index as u32;
        let projection = quote!(<#self_ty as #krate::__private::HandlerMessage<#index>>::Message);
        respan(&projection, span)
    };
    let handled = parsed.handlers.iter().enumerate().map(|(index, handler)| {
        let krate = respan(&krate, handler.message.span());
        let message = checked(index);
        let entry = quote_spanned!(handler.message.span()=> #krate::__private::HandledMessage::of::<#message>());
        let cfgs = cfg_attributes(handler.original);
        if cfgs.is_empty() {
            return entry;
        }
        // A handler compiled out keeps its index (the others' do not move): a placeholder entry.
        let predicates = cfgs.iter().map(|attr| match &attr.meta {
            syn::Meta::List(list) => list.tokens.clone(),
            _ => quote!(all()),
        });
        quote! {{
            #(#cfgs)*
            let entry = #entry;
            #[cfg(not(all(#(#predicates),*)))]
            let entry = #krate::__private::HandledMessage::of::<#krate::__private::Unhandled>();
            entry
        }}
    });

    // The generated code's own names, made here with one span (the call site) and interpolated, so
    // that they resolve whatever span the user's tokens around them have (tokens from a
    // `macro_rules!` expansion carry that macro's hygiene).
    let [message_id, reply_id, ctx_id, sender_id] =
        ["message", "reply", "ctx", "sender"].map(|name| Ident::new(name, Span::call_site()));

    // Synchronous handlers run in place from `__dispatch_sync`; only `async` ones build a future.
    let mut sync_arms = Vec::new();
    let mut async_arms = Vec::new();
    for (index, handler) in parsed.handlers.iter().enumerate() {
        let index = index as u32;
        let cfgs = cfg_attributes(handler.original);
        let (sync_before, async_before) = (sync_arms.len(), async_arms.len());
        let signature = &handler.original.sig;
        let name = &signature.ident;
        let user_message = handler.message;
        let message = checked(index as usize);
        let mut args: Vec<TokenStream> = handler
            .extras
            .iter()
            .map(|extra| match extra {
                Extra::Ctx(span) => locate(&ctx_id, *span),
                Extra::Reply(span) => locate(&sender_id, *span),
            })
            .collect();
        // In the user's order: a context may come before the message.
        args.insert(handler.message_at, message_id.to_token_stream());
        let call_args = quote!(self #(, #args)*);
        // Errors about the handler's reply type or future point at its return type, or its name.
        let span = match &signature.output {
            ReturnType::Type(_, ty) => ty.span(),
            ReturnType::Default => name.span(),
        };
        let krate = respan(&krate, message.span());
        if signature.asyncness.is_some() {
            sync_arms.push(quote! {
                #index => ::core::option::Option::Some(#message_id),
            });
            // Whether the handler's future is boxed is decided by rustc from the message's size. A
            // const argument cannot name the impl's generic parameters: a message type that does
            // keeps its future inline.
            let boxed = if mentions_generics(user_message, &original.generics) {
                quote!(false)
            } else {
                quote!({ #krate::__private::boxes_handler_future::<#user_message>() })
            };
            async_arms.push(if handler.defers() {
                quote_spanned! {span=>
                    #index => {
                        #krate::__private::deliver_async_deferred::<#message, _, #boxed>(#message_id, |#message_id, #sender_id| {
                            let future = <#self_ty>::#name(#call_args);
                            #krate::__private::assert_send_future(&future);
                            future
                        })
                        .await
                    }
                }
            } else {
                quote_spanned! {span=>
                    #index => {
                        #krate::__private::deliver_async::<#message, _, #boxed>(#message_id, #reply_id, |#message_id| {
                            let future = <#self_ty>::#name(#call_args);
                            #krate::__private::assert_send_future(&future);
                            #krate::__private::assert_reply_type::<#message, _>(&future);
                            future
                        })
                        .await
                    }
                }
            });
        } else if handler.defers() {
            sync_arms.push(quote_spanned! {span=>
                #index => {
                    #krate::__private::deliver_deferred::<#message>(#message_id, |#message_id, #sender_id| <#self_ty>::#name(#call_args));
                    ::core::option::Option::None
                }
            });
        } else {
            sync_arms.push(quote_spanned! {span=>
                #index => {
                    #krate::__private::deliver::<#message, _>(#message_id, #reply_id, |#message_id| {
                        let output = <#self_ty>::#name(#call_args);
                        #krate::__private::assert_sync_reply_type::<#message, _>(&output);
                        output
                    });
                    ::core::option::Option::None
                }
            });
        }
        // A handler behind `#[cfg]` has its arms behind the same `#[cfg]`.
        for arm in sync_arms[sync_before..]
            .iter_mut()
            .chain(&mut async_arms[async_before..])
        {
            *arm = quote!(#(#cfgs)* #arm);
        }
    }

    let unwrap_arms = parsed.handlers.iter().enumerate().map(|(index, handler)| {
        let krate = respan(&krate, handler.message.span());
        let message = checked(index);
        let index = index as u32;
        let cfgs = cfg_attributes(handler.original);
        quote_spanned! {message.span()=>
            #(#cfgs)*
            #index => #krate::__private::unwrap_ask::<#message>(#message_id),
        }
    });

    let handler_impls = parsed.handlers.iter().enumerate().map(|(index, handler)| {
        let user_message = handler.message;
        let krate = respan(&krate, user_message.span());
        let message = checked(index);
        let index = index as u32;
        // The one check that the parameter is a message, at the parameter.
        let is_message = respan(
            &quote!(<#user_message as #krate::__private::IsMessage>::Itself),
            user_message.span(),
        );
        // `do_not_recommend` on the generated impls: without it, an error about one actor lists the
        // handlers of every other actor in scope (the runtime's own `Supervisor` among them).
        let cfgs = cfg_attributes(handler.original);
        quote_spanned! {message.span()=>
            #(#cfgs)*
            #[automatically_derived]
            #[diagnostic::do_not_recommend]
            impl #impl_generics #krate::__private::Handler<#user_message> for #self_ty #where_clause {}

            #(#cfgs)*
            #[automatically_derived]
            impl #impl_generics #krate::__private::HandlerMessage<#index> for #self_ty #where_clause {
                type Message = #is_message;
            }

            #(#cfgs)*
            #[automatically_derived]
            #[diagnostic::do_not_recommend]
            impl #impl_generics #krate::__private::HandlerByActorMacro<#user_message> for #self_ty #where_clause {
                const __INDEX: u32 = #index;
            }
        }
    });

    let hooks = parsed
        .hooks
        .iter()
        .map(|hook| expand_hook(hook, self_ty, &krate));
    let user_impl = without_helper_attributes(original);

    quote! {
        #user_impl

        #[automatically_derived]
        #[diagnostic::do_not_recommend]
        impl #impl_generics #krate::__private::Actor for #self_ty #where_clause {
            #(#hooks)*
        }

        #[automatically_derived]
        #[diagnostic::do_not_recommend]
        impl #impl_generics #krate::__private::ActorByActorMacro for #self_ty #where_clause {
            const __HANDLED: &'static [#krate::__private::HandledMessage] = &[#(#handled),*];

            #[allow(unused_variables, clippy::let_unit_value)]
            fn __dispatch_sync(
                &mut self,
                message: #krate::__private::ErasedEnvelope,
                index: u32,
                reply: &mut #krate::__private::ReplyTo,
                ctx: &mut #krate::__private::Context<Self>,
            ) -> ::core::option::Option<#krate::__private::ErasedEnvelope> {
                match index {
                    #(#sync_arms)*
                    _ => #krate::__private::wrong_handler(&message),
                }
            }

            fn __unwrap_ask(
                message: #krate::__private::ErasedEnvelope,
                index: u32,
            ) -> (#krate::__private::ErasedEnvelope, bool) {
                match index {
                    #(#unwrap_arms)*
                    _ => (message, false),
                }
            }

            #[allow(unused_variables, clippy::let_unit_value)]
            fn __dispatch<'__airssys>(
                &'__airssys mut self,
                message: #krate::__private::ErasedEnvelope,
                index: u32,
                reply: &'__airssys mut #krate::__private::ReplyTo,
                ctx: &'__airssys mut #krate::__private::Context<Self>,
            ) -> impl ::core::future::Future<Output = ()> + ::core::marker::Send + '__airssys {
                async move {
                    match index {
                        #(#async_arms)*
                        _ => #krate::__private::wrong_handler(&message),
                    }
                }
            }
        }

        #(#handler_impls)*
    }
}

/// The trait method that calls the user's hook, passing the arguments it declared, in its order.
fn expand_hook(hook: &Hook<'_>, self_ty: &syn::Type, krate: &syn::Path) -> TokenStream {
    let signature = &hook.original.sig;
    let name = &signature.ident;
    let args = hook.args.iter().map(|arg| match arg {
        HookArg::Ctx => quote!(ctx),
        HookArg::Reason => quote!(reason),
        HookArg::Panic => quote!(panic),
    });
    let call = quote_spanned!(name.span()=> <#self_ty>::#name(self, #(#args),*));
    let body = if signature.asyncness.is_some() {
        quote!(#call)
    } else {
        quote!(async move { #call })
    };
    let future = quote!(impl ::core::future::Future<Output = ()> + ::core::marker::Send);
    match name.to_string().as_str() {
        "on_start" => quote! {
            #[allow(unused_variables)]
            fn on_start(&mut self, ctx: &mut #krate::__private::Context<Self>) -> #future {
                #body
            }
        },
        "on_stop" => quote! {
            #[allow(unused_variables)]
            fn on_stop(&mut self, ctx: &mut #krate::__private::Context<Self>, reason: &#krate::StopReason) -> #future {
                #body
            }
        },
        _ => quote! {
            #[allow(unused_variables)]
            fn on_panic(
                &mut self,
                ctx: &mut #krate::__private::Context<Self>,
                panic: &#krate::ActorPanic,
            ) -> #krate::AfterPanic {
                #call
            }
        },
    }
}

/// The user's impl block as written, minus the `#[helper]` markers (which are not real attributes).
fn without_helper_attributes(original: &ItemImpl) -> ItemImpl {
    let mut cleaned = original.clone();
    for item in &mut cleaned.items {
        if let ImplItem::Fn(function) = item
            && is_helper(function)
        {
            function
                .attrs
                .retain(|attr| !attr.path().is_ident("helper"));
        }
    }
    cleaned
}

/// Whether `ty` names one of `generics`' type or const parameters (or `Self`, which stands for a
/// generic type in a generic impl).
fn mentions_generics(ty: &syn::Type, generics: &syn::Generics) -> bool {
    let names: Vec<String> = generics
        .params
        .iter()
        .filter_map(|param| match param {
            syn::GenericParam::Type(param) => Some(param.ident.to_string()),
            syn::GenericParam::Const(param) => Some(param.ident.to_string()),
            syn::GenericParam::Lifetime(_) => None,
        })
        .chain(core::iter::once("Self".to_owned()))
        .collect();
    fn walk(tokens: TokenStream, names: &[String]) -> bool {
        tokens.into_iter().any(|token| match token {
            proc_macro2::TokenTree::Ident(ident) => names.iter().any(|name| ident == name),
            proc_macro2::TokenTree::Group(group) => walk(group.stream(), names),
            _ => false,
        })
    }
    walk(ty.to_token_stream(), &names)
}

/// `tokens` with every span, hygiene included, set to `span`: errors about a path the macro wrote (the
/// runtime crate's) then point at the user's tokens the path is used for, and a type that must report
/// its errors at exactly one place of the user's code does.
fn respan(tokens: &impl ToTokens, span: proc_macro2::Span) -> TokenStream {
    tokens
        .to_token_stream()
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut respanned =
                    proc_macro2::Group::new(group.delimiter(), respan(&group.stream(), span));
                respanned.set_span(span);
                token = proc_macro2::TokenTree::Group(respanned);
            }
            token.set_span(span);
            token
        })
        .collect()
}

/// The `#[cfg(..)]` attributes of a method: what is generated for it is compiled under them too.
fn cfg_attributes(function: &syn::ImplItemFn) -> Vec<&syn::Attribute> {
    function
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
        .collect()
}

/// `ident` shown at `span` (where an error about it is reported) but resolved at the call site, so that
/// it names the generated binding whatever hygiene the user's tokens carry (a `macro_rules!` expansion's).
fn locate(ident: &Ident, span: Span) -> TokenStream {
    let mut located = ident.clone();
    located.set_span(Span::call_site().located_at(span));
    located.to_token_stream()
}
