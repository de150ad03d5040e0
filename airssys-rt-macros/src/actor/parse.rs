//! The typed AST of an `#[actor]` block: each method classified as a handler, a hook or left alone,
//! keeping the user's tokens for late errors.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, ImplItemFn, Item, ItemImpl, LitStr, Path, ReturnType, Type};

use crate::ctxt::Errors;

/// The hooks an actor block may define.
pub(crate) const HOOKS: [&str; 3] = ["on_start", "on_stop", "on_panic"];

#[derive(Default)]
pub(crate) struct Args {
    pub(crate) krate: Option<Path>,
}

impl Args {
    pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> Self {
        let mut parsed = Args::default();
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                if parsed.krate.replace(lit.parse()?).is_some() {
                    return Err(meta.error("`crate` is given twice in `#[actor(...)]`: keep one"));
                }
                Ok(())
            } else {
                let path = &meta.path;
                Err(meta.error(format!(
                    "unknown argument `{}` in `#[actor(...)]`\nthe only argument is `crate = \"path\"`; \
                     handlers and hooks are methods of the impl block",
                    quote::quote!(#path)
                )))
            }
        });
        if let Err(error) = parser.parse2(args) {
            errors.push(error);
        }
        parsed
    }
}

pub(crate) struct ActorImpl<'a> {
    pub(crate) original: &'a ItemImpl,
    pub(crate) handlers: Vec<HandlerFn<'a>>,
    pub(crate) hooks: Vec<Hook<'a>>,
}

/// `fn name(&mut self, message: M [, reply: ReplySender<M::Result>] [, ctx: &mut Context<Self>]) [-> R]`,
/// maybe `async`; `reply` and `ctx` in either order.
pub(crate) struct HandlerFn<'a> {
    pub(crate) original: &'a ImplItemFn,
    pub(crate) message: &'a Type,
    /// What the handler takes besides its message, in its order.
    pub(crate) extras: Vec<Extra>,
    /// How many of `extras` come before the message.
    pub(crate) message_at: usize,
}

impl HandlerFn<'_> {
    /// Whether the handler answers through a `ReplySender` instead of returning its reply.
    pub(crate) fn defers(&self) -> bool {
        defers(&self.extras)
    }
}

/// Whether a handler taking `extras` answers through a `ReplySender`.
fn defers(extras: &[Extra]) -> bool {
    extras.iter().any(|extra| matches!(extra, Extra::Reply(_)))
}

/// A handler parameter after the message.
#[derive(Clone, Copy)]
pub(crate) enum Extra {
    /// `ctx: &mut Context<Self>` (or an alias of it), with the span of its type.
    Ctx(Span),
    /// `reply: ReplySender<M::Result>`, with the span of its type, where a wrong reply type is
    /// reported.
    Reply(Span),
}

/// A lifecycle hook, with the arguments it takes in the user's order.
pub(crate) struct Hook<'a> {
    pub(crate) original: &'a ImplItemFn,
    pub(crate) args: Vec<HookArg>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum HookArg {
    Ctx,
    Reason,
    Panic,
}

impl<'a> ActorImpl<'a> {
    /// `None` when `item` is not an inherent impl block (the error is recorded).
    pub(crate) fn from_item(item: &'a Item, errors: &mut Errors) -> Option<Self> {
        let Item::Impl(original) = item else {
            errors.push(syn::Error::new(
                item_span(item),
                "`#[actor]` goes on an `impl` block that defines the actor's handlers:\n\
                 `#[actor] impl MyActor { fn handle(&mut self, message: MyMessage) { ... } }`",
            ));
            return None;
        };
        if matches!(
            &*original.self_ty,
            Type::TraitObject(_) | Type::ImplTrait(_) | Type::Reference(_)
        ) {
            errors.spanned(
                &original.self_ty,
                format!(
                    "`#[actor]` goes on the impl block of the actor's own type (a struct or an enum, which holds \
                     its state), not of `{}`",
                    type_text(&original.self_ty),
                ),
            );
            return None;
        }
        if let Some((trait_path, _)) = &original.trait_ {
            errors.spanned(
                trait_path,
                format!(
                    "`#[actor]` goes on an inherent impl block (`impl {ty}`), not a trait impl: \
                     it implements the actor traits itself\nwrite the handlers in `#[actor] impl {ty} {{ ... }}`",
                    ty = type_text(&original.self_ty),
                ),
            );
            return None;
        }
        let mut parsed = ActorImpl {
            original,
            handlers: Vec::new(),
            hooks: Vec::new(),
        };
        for item in &original.items {
            if let ImplItem::Fn(function) = item {
                parsed.classify(function, errors);
            }
        }
        Some(parsed)
    }

    fn classify(&mut self, function: &'a ImplItemFn, errors: &mut Errors) {
        let signature = &function.sig;
        if is_helper(function) {
            return;
        }
        let name = signature.ident.to_string();
        let Some(receiver) = signature.receiver() else {
            if HOOKS.contains(&name.as_str()) {
                errors.spanned(
                    &signature.ident,
                    format!(
                        "the hook `{name}` must take `&mut self`: without it, it is an associated function \
                         and would never run\nwrite `fn {name}(&mut self, ...)`"
                    ),
                );
            }
            return; // an associated function (a constructor, say): not part of the actor's interface
        };
        if HOOKS.contains(&name.as_str()) {
            if let Some(hook) = Hook::parse(function, errors) {
                self.hooks.push(hook);
            }
            return;
        }
        let Some((message, extras, message_at)) = classify_params(signature, &name, errors) else {
            return;
        };
        let Some(message) = message else {
            if let Some(hook) = looks_like_hook(&name) {
                errors.spanned(
                    &signature.ident,
                    format!(
                        "`{name}` is not a hook, so it would never run; did you mean `{hook}`?\n\
                         the hooks are `on_start`, `on_stop` and `on_panic`; a handler takes a message \
                         after `self`; mark a plain method `#[helper]`"
                    ),
                );
            }
            return; // a method without a message: a helper
        };
        if let Some(hook) = looks_like_hook(&name).filter(|_| name.starts_with("on_")) {
            errors.spanned(
                &signature.ident,
                format!(
                    "`{name}` is not a hook; did you mean `{hook}`?\nthe hooks are `on_start`, `on_stop` and \
                     `on_panic`; to make `{name}` a handler of `{}`, give it a name that does not start with `on_`",
                    type_text(message)
                ),
            );
            return;
        }
        if let Some(why) = not_a_message(message) {
            errors.spanned(
                message,
                format!(
                    "`{ty}` cannot be a message: {why}\nwrap it in a type of your own with \
                     `#[derive(Message)]`, or, if `{name}` is not a handler, mark it `#[helper]`",
                    ty = type_text(message),
                ),
            );
            return;
        }
        if !matches!(receiver.kind, syn::ReceiverKind::Reference(..)) {
            errors.spanned(
                receiver,
                format!("the handler `{name}` must take `&mut self` or `&self`: the actor keeps its state between messages"),
            );
            return;
        }
        if !signature.generics.params.is_empty() {
            errors.spanned(
                &signature.generics,
                format!(
                    "the handler `{name}` cannot be generic: an actor's handlers are fixed at compile time, \
                     one per message type\nwrite one handler per message type, or make the message an enum"
                ),
            );
            return;
        }
        if let Some(abi) = &signature.abi {
            errors.spanned(
                abi,
                format!(
                    "the handler `{name}` cannot be `extern`: the runtime calls it as a Rust method (and a \
                     panic must unwind to the runtime, which an `extern` function aborts)\nremove `{}`",
                    quote::quote!(#abi)
                ),
            );
            return;
        }
        if let syn::Safety::Unsafe(unsafety) = &signature.safety {
            errors.spanned(
                unsafety,
                format!(
                    "the handler `{name}` cannot be `unsafe`: the runtime calls it for every message, with \
                     no caller to uphold its contract\nremove `unsafe`, and use an `unsafe` block inside"
                ),
            );
            return;
        }
        if defers(&extras)
            && let ReturnType::Type(_, ty) = &signature.output
        {
            errors.spanned(
                ty,
                format!(
                    "the handler `{name}` takes a `ReplySender`, so it answers through it and returns nothing\n\
                     remove the return type, and answer with `reply.send(..)`"
                ),
            );
            return;
        }
        self.handlers.push(HandlerFn {
            original: function,
            message,
            extras,
            message_at,
        });
    }
}

/// The message parameter (if any), what else a method takes in its order, and how many of those come
/// before the message: `&mut` anything is the
/// context (rustc checks its type, so an alias of `Context<Self>` works), a `ReplySender` is the reply,
/// the one parameter by value is the message. `None` after an error.
fn classify_params<'a>(
    signature: &'a syn::Signature,
    name: &str,
    errors: &mut Errors,
) -> Option<(Option<&'a Type>, Vec<Extra>, usize)> {
    let mut message: Option<&'a Type> = None;
    let mut message_at = 0;
    // `&mut` parameters not named `Context`: the context through an alias, if there is a message.
    let mut other_mut_refs: Vec<&'a Type> = Vec::new();
    let mut extras: Vec<Extra> = Vec::new();
    for param in signature.inputs.iter().filter_map(|arg| match arg {
        FnArg::Typed(param) => Some(param),
        FnArg::Receiver(_) => None,
    }) {
        let ty = &*param.ty;
        let extra = match ty {
            Type::Reference(reference) if reference.mutability.is_some() => {
                if last_segment(ty).as_deref() == Some("ReplySender") {
                    errors.spanned(
                        ty,
                        format!(
                            "the handler `{name}` must take its `ReplySender` by value: it is the obligation \
                             to answer, moved to wherever the answer is sent\nwrite `reply: ReplySender<...>`"
                        ),
                    );
                    return None;
                }
                if last_segment(ty).as_deref() != Some("Context") {
                    other_mut_refs.push(ty);
                }
                Extra::Ctx(context_span(ty))
            }
            Type::Reference(_) if last_segment(ty).as_deref() == Some("Context") => {
                Extra::Ctx(ty.span())
            }
            Type::Reference(reference) => {
                let owned = &reference.elem;
                errors.spanned(
                    ty,
                    format!(
                        "`{name}` takes `{}`, a reference: a handler takes its message by value, as it owns it \
                         once sent\nwrite `{}`; or, if `{name}` is not a handler, mark it `#[helper]`",
                        type_text(ty),
                        type_text(owned),
                    ),
                );
                return None;
            }
            _ if last_segment(ty).as_deref() == Some("ReplySender") => Extra::Reply(ty.span()),
            _ => {
                if let Some(first) = message {
                    errors.spanned(
                        param,
                        format!(
                            "the handler `{name}` takes a second message, `{}`, after `{}`: a handler takes \
                             exactly one message, and may also take `reply: ReplySender<..>` and \
                             `ctx: &mut Context<Self>`\nput both values in one message type",
                            type_text(ty),
                            type_text(first),
                        ),
                    );
                    return None;
                }
                message = Some(ty);
                message_at = extras.len();
                continue;
            }
        };
        if extras
            .iter()
            .any(|seen| core::mem::discriminant(seen) == core::mem::discriminant(&extra))
        {
            errors.spanned(
                param,
                format!("the handler `{name}` takes `{}` twice", type_text(ty)),
            );
            return None;
        }
        extras.push(extra);
    }
    if message.is_none()
        && let Some(ty) = other_mut_refs.first()
    {
        let Type::Reference(reference) = ty else {
            unreachable!("collected as references");
        };
        errors.spanned(
            ty,
            format!(
                "`{name}` takes `{}` and no message: a handler takes its message by value (write `{}`), \
                 and a plain method is marked `#[helper]`",
                type_text(ty),
                type_text(&reference.elem),
            ),
        );
        return None;
    }
    Some((message, extras, message_at))
}

/// Why `ty` cannot be a message whatever its definition, if it is one of the types that no user crate
/// can derive `Message` for (primitives, the standard library's containers, tuples, slices, trait
/// objects, `impl Trait`).
fn not_a_message(ty: &Type) -> Option<&'static str> {
    // Not `Arc`: the runtime implements `Message` for `Arc<M>` (what topic subscribers handle).
    const STD: [&str; 23] = [
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "f32", "f64", "bool", "char", "str", "String", "Vec", "Option", "Result", "Box", "HashMap",
    ];
    match ty {
        Type::ImplTrait(_) => Some("a handler takes one concrete message type, not `impl Trait`"),
        Type::TraitObject(_) => {
            Some("a handler takes one concrete message type, not a trait object")
        }
        Type::Tuple(_) | Type::Array(_) | Type::Slice(_) => {
            Some("tuples, arrays and slices are not messages")
        }
        Type::Ptr(_) | Type::FnPtr(_) | Type::Never(_) => Some("it is not a type that can be sent"),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?.ident.to_string();
            STD.contains(&last.as_str()).then_some(
                "it is a type of the standard library, which cannot implement `Message` (only a type \
                 defined in your crate can)",
            )
        }
        _ => None,
    }
}

impl<'a> Hook<'a> {
    fn parse(function: &'a ImplItemFn, errors: &mut Errors) -> Option<Self> {
        let signature = &function.sig;
        let name = signature.ident.to_string();
        let expected = match name.as_str() {
            "on_start" => "fn on_start(&mut self, ctx: &mut Context<Self>)",
            "on_stop" => "fn on_stop(&mut self, ctx: &mut Context<Self>, reason: &StopReason)",
            _ => {
                "fn on_panic(&mut self, ctx: &mut Context<Self>, panic: &ActorPanic) -> AfterPanic"
            }
        };
        let wrong = |errors: &mut Errors, tokens: &dyn quote::ToTokens, what: &str| {
            errors.spanned(
                tokens,
                format!("{what}\nthe hook's signature is `{expected}`; `ctx` and the other parameters are optional"),
            );
        };
        let mut ok = true;
        if !signature.generics.params.is_empty() {
            wrong(
                errors,
                &signature.generics,
                &format!("the hook `{name}` cannot be generic"),
            );
            ok = false;
        }
        if name == "on_panic" && signature.asyncness.is_some() {
            wrong(
                errors,
                &signature.asyncness,
                "`on_panic` cannot be `async`: it decides at once what happens next",
            );
            ok = false;
        }
        match (&signature.output, name.as_str()) {
            (ReturnType::Type(_, ty), "on_start" | "on_stop") => {
                wrong(errors, ty, &format!("the hook `{name}` returns nothing"));
                ok = false;
            }
            (ReturnType::Default, "on_panic") => {
                wrong(
                    errors,
                    &signature.ident,
                    "`on_panic` returns an `AfterPanic`: `Stop` or `Resume`",
                );
                ok = false;
            }
            _ => {}
        }
        let mut args = Vec::new();
        for input in &signature.inputs {
            let FnArg::Typed(param) = input else {
                continue;
            };
            let is_mut_ref = matches!(&*param.ty, Type::Reference(r) if r.mutability.is_some());
            let arg = match last_segment(&param.ty).as_deref() {
                // `&mut` anything is the context, as in handlers: rustc checks the type.
                _ if is_mut_ref => HookArg::Ctx,
                Some("Context") => HookArg::Ctx,
                Some(by_value @ ("StopReason" | "ActorPanic"))
                    if !matches!(&*param.ty, Type::Reference(_)) =>
                {
                    wrong(
                        errors,
                        &param.ty,
                        &format!(
                            "the hook `{name}` borrows its `{by_value}`: write `&{by_value}`, not `{by_value}`"
                        ),
                    );
                    ok = false;
                    continue;
                }
                Some("StopReason") if name == "on_stop" => HookArg::Reason,
                Some("ActorPanic") if name == "on_panic" => HookArg::Panic,
                _ => {
                    wrong(
                        errors,
                        param,
                        &format!("the hook `{name}` does not take `{}`", type_text(&param.ty)),
                    );
                    ok = false;
                    continue;
                }
            };
            if args.contains(&arg) {
                wrong(
                    errors,
                    param,
                    &format!("the hook `{name}` takes `{}` once", type_text(&param.ty)),
                );
                ok = false;
            }
            args.push(arg);
        }
        ok.then_some(Hook {
            original: function,
            args,
        })
    }
}

/// Whether a method is marked `#[helper]`: kept as is, whatever its parameters.
pub(crate) fn is_helper(function: &ImplItemFn) -> bool {
    function
        .attrs
        .iter()
        .any(|attr| attr.path().is_ident("helper"))
}

fn last_segment(ty: &Type) -> Option<String> {
    let ty = match ty {
        Type::Reference(reference) => &*reference.elem,
        other => other,
    };
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|segment| segment.ident.to_string()),
        _ => None,
    }
}

/// The hook a message-less method's name most likely meant, if it looks like one.
fn looks_like_hook(name: &str) -> Option<&'static str> {
    let closest = HOOKS
        .into_iter()
        .min_by_key(|hook| crate::suggest::edit_distance(name, hook))?;
    (name.starts_with("on_") || crate::suggest::edit_distance(name, closest) <= 2)
        .then_some(closest)
}

pub(crate) fn type_text(ty: &Type) -> String {
    quote::quote!(#ty)
        .to_string()
        .replace(" :: ", "::")
        .replace(" < ", "<")
        .replace(" >", ">")
        .replace("& ", "&")
}

fn item_span(item: &Item) -> Span {
    match item {
        Item::Fn(function) => function.sig.fn_token.span,
        Item::Struct(item) => item.struct_token.span,
        Item::Enum(item) => item.enum_token.span,
        Item::Trait(item) => item.trait_token.span,
        Item::Mod(item) => item.mod_token.span,
        other => other.span(),
    }
}

/// Where a wrong context type is reported: at its type argument (`Other` in `&mut Context<Other>`), or
/// at the type's name.
fn context_span(ty: &Type) -> Span {
    let Type::Reference(reference) = ty else {
        return ty.span();
    };
    let Type::Path(path) = &*reference.elem else {
        return reference.elem.span();
    };
    let Some(segment) = path.path.segments.last() else {
        return ty.span();
    };
    match &segment.arguments {
        syn::PathArguments::AngleBracketed(args) => args
            .args
            .first()
            .map_or(segment.ident.span(), Spanned::span),
        _ => segment.ident.span(),
    }
}
