//! The typed AST of a message: the user's item, as syn parsed it, and its `#[message(...)]` attributes.

use syn::meta::ParseNestedMeta;
use syn::{DeriveInput, Expr, LitStr, Path, Token, Type};

use crate::ctxt::Errors;

/// The valid keys of `#[message(...)]`, as the errors list them.
const KEYS: &str = "`result = Type`, `name = \"...\"`, `priority = \"high\"`, `inline`, `boxed`, `crate = \"path\"`";

pub(crate) struct Input<'a> {
    pub(crate) original: &'a DeriveInput,
    pub(crate) attrs: Attrs,
}

/// The `#[message(...)]` attributes. Each keeps the user's tokens, for errors that point at them.
#[derive(Default)]
pub(crate) struct Attrs {
    pub(crate) result: Option<Type>,
    pub(crate) name: Option<LitStr>,
    /// The `inline` keyword, if given.
    pub(crate) inline: Option<Path>,
    /// The `boxed` keyword, if given.
    pub(crate) boxed: Option<Path>,
    pub(crate) krate: Option<Path>,
    /// `priority = "high"` (or `"normal"`).
    pub(crate) priority: Option<LitStr>,
}

impl<'a> Input<'a> {
    pub(crate) fn from_syn(original: &'a DeriveInput, errors: &mut Errors) -> Self {
        let mut attrs = Attrs::default();
        for attr in original
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("message"))
        {
            if let Err(error) = attr.parse_nested_meta(|meta| attrs.parse_key(meta, errors)) {
                errors.push(error);
            }
        }
        Input { original, attrs }
    }
}

impl Attrs {
    /// Parses one `key` or `key = value`. Problems that leave the syntax intact (an unknown or
    /// repeated key) are recorded and parsing goes on, so that every problem is reported at once.
    fn parse_key(&mut self, meta: ParseNestedMeta<'_>, errors: &mut Errors) -> syn::Result<()> {
        let path = meta.path.clone();
        let key = match path.get_ident() {
            Some(ident) => ident.to_string(),
            None => String::new(),
        };
        match key.as_str() {
            "result" => {
                let value = meta.value()?;
                if value.peek(LitStr) {
                    // `result = "u64"`, as in actix's `rtype`: the type is written as it is here.
                    let text: LitStr = value.parse()?;
                    return Err(syn::Error::new(
                        text.span(),
                        format!(
                            "`result` takes a type, not a string: write `result = {}`",
                            text.value()
                        ),
                    ));
                }
                let ty: Type = value.parse()?;
                if let Type::Reference(reference) = &ty
                    && reference
                        .lifetime
                        .as_ref()
                        .is_none_or(|lifetime| lifetime.ident != "static")
                {
                    errors.spanned(
                        &ty,
                        "a reply is sent to another task, so it cannot borrow: reply with an owned type \
                         (`String` for `&str`, `Vec<T>` for `&[T]`), or a `&'static` reference",
                    );
                    return Ok(());
                }
                set_once(&mut self.result, ty, &path, errors);
            }
            "name" => {
                let name: LitStr = meta.value()?.parse()?;
                set_once(&mut self.name, name, &path, errors);
            }
            "priority" => {
                let priority: LitStr = meta.value()?.parse()?;
                if !matches!(priority.value().as_str(), "high" | "normal") {
                    errors.spanned(
                        &priority,
                        format!(
                            "unknown priority \"{}\": a message's priority is \"high\" (it overtakes queued \
                             messages) or \"normal\" (the default)",
                            priority.value()
                        ),
                    );
                    return Ok(());
                }
                set_once(&mut self.priority, priority, &path, errors);
            }
            "crate" => {
                let lit: LitStr = meta.value()?.parse()?;
                let krate: Path = lit.parse()?;
                set_once(&mut self.krate, krate, &path, errors);
            }
            "inline" | "boxed" => {
                if meta.input.peek(Token![=])
                    || !(meta.input.is_empty() || meta.input.peek(Token![,]))
                {
                    return Err(
                        meta.error(format!("`{key}` takes no value: write `#[message({key})]`"))
                    );
                }
                let slot = if key == "inline" {
                    &mut self.inline
                } else {
                    &mut self.boxed
                };
                set_once(slot, path.clone(), &path, errors);
            }
            _ => {
                let hint = suggestion(&key)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                errors.spanned(
                    &path,
                    format!(
                        "unknown key `{}` in `#[message(...)]`{hint}\nexpected one of: {KEYS}",
                        quote::quote!(#path)
                    ),
                );
                skip_value(&meta)?;
            }
        }
        Ok(())
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T, key: &Path, errors: &mut Errors) {
    if slot.is_some() {
        let name = quote::quote!(#key);
        errors.spanned(
            key,
            format!("`{name}` is given twice in `#[message(...)]`: keep one"),
        );
    } else {
        *slot = Some(value);
    }
}

/// Consumes the value of an unknown key (`= expr` or `(...)`), so that the keys after it are parsed.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|_| Ok(()))?;
    }
    Ok(())
}

/// The key a misspelt or borrowed key most likely meant.
fn suggestion(key: &str) -> Option<&'static str> {
    const ALIASES: &[(&str, &str)] = &[
        ("reply", "result"),
        ("response", "result"),
        ("returns", "result"),
        ("output", "result"),
        ("rename", "name"),
        ("boxed_storage", "boxed"),
        ("heap", "boxed"),
        ("box", "boxed"),
        ("krate", "crate"),
    ];
    if let Some((_, key)) = ALIASES.iter().find(|(alias, _)| *alias == key) {
        return Some(key);
    }
    ["result", "name", "priority", "inline", "boxed", "crate"]
        .into_iter()
        .find(|candidate| crate::suggest::edit_distance(key, candidate) <= 2)
}
