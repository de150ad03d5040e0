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
    /// What the handler takes after its message, in its order.
    pub(crate) extras: Vec<Extra>,
}

impl HandlerFn<'_> {
    /// Whether the handler answers through a `ReplySender` instead of returning its reply.
    pub(crate) fn defers(&self) -> bool {
        self.extras
            .iter()
            .any(|extra| matches!(extra, Extra::Reply(_)))
    }
}

/// A handler parameter after the message.
#[derive(Clone, Copy)]
pub(crate) enum Extra {
    /// `ctx: &mut Context<Self>`
    Ctx,
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
        let Some(receiver) = signature.receiver() else {
            return; // an associated function (a constructor, say): not part of the actor's interface
        };
        let name = signature.ident.to_string();
        if HOOKS.contains(&name.as_str()) {
            if let Some(hook) = Hook::parse(function, errors) {
                self.hooks.push(hook);
            }
            return;
        }
        let params: Vec<&syn::PatType> = signature
            .inputs
            .iter()
            .filter_map(|arg| match arg {
                FnArg::Typed(param) => Some(param),
                FnArg::Receiver(_) => None,
            })
            .collect();
        let takes_message = params.first().is_some_and(|param| !is_context(&param.ty));
        if !takes_message {
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
        let message = &*params[0].ty;
        let mut extras = Vec::new();
        for param in &params[1..] {
            let extra = if is_context(&param.ty) {
                Extra::Ctx
            } else if last_segment(&param.ty).as_deref() == Some("ReplySender") {
                if matches!(&*param.ty, Type::Reference(_)) {
                    errors.spanned(
                        &param.ty,
                        format!(
                            "the handler `{name}` must take its `ReplySender` by value: it is the obligation \
                             to answer, moved to wherever the answer is sent\nwrite `reply: ReplySender<...>`"
                        ),
                    );
                    return;
                }
                Extra::Reply(param.ty.span())
            } else if extras.is_empty() {
                errors.spanned(
                    param,
                    format!(
                        "the handler `{name}` takes a second message, `{}`: a handler takes exactly one \
                         message, optionally followed by `reply: ReplySender<..>` and `ctx: &mut Context<Self>`\n\
                         put both values in one message type",
                        type_text(&param.ty),
                    ),
                );
                return;
            } else {
                errors.spanned(
                    param,
                    format!(
                        "the handler `{name}` does not take `{}`: after its message, a handler takes only \
                         `reply: ReplySender<..>` and `ctx: &mut Context<Self>`",
                        type_text(&param.ty),
                    ),
                );
                return;
            };
            if extras
                .iter()
                .any(|seen| core::mem::discriminant(seen) == core::mem::discriminant(&extra))
            {
                errors.spanned(
                    param,
                    format!(
                        "the handler `{name}` takes `{}` twice",
                        type_text(&param.ty)
                    ),
                );
                return;
            }
            extras.push(extra);
        }
        if extras.iter().any(|extra| matches!(extra, Extra::Reply(_)))
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
        });
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
            let arg = match last_segment(&param.ty).as_deref() {
                Some("Context") => HookArg::Ctx,
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

/// `&mut Context<..>` (or `&Context<..>`), by its last path segment: rustc checks the real type.
fn is_context(ty: &Type) -> bool {
    matches!(ty, Type::Reference(_)) && last_segment(ty).as_deref() == Some("Context")
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
