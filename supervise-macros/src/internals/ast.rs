//! The model of a supervision tree that the derive and the DSL both build,
//! check and expand.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::ext::IdentExt;

use super::attr::{ChildAttrs, SupAttrs};
use super::ctxt::Ctxt;
use super::symbol::{CHILD, SUPERVISOR};

/// A supervisor: its flags and its children, in declaration order.
pub(crate) struct Tree {
    pub(crate) ident: syn::Ident,
    pub(crate) vis: syn::Visibility,
    pub(crate) attrs: SupAttrs,
    pub(crate) children: Vec<ChildNode>,
    /// Other attributes (docs, derives) of a struct the DSL generates.
    pub(crate) pass_attrs: Vec<syn::Attribute>,
    /// The struct's lint levels (`#[allow(deprecated)]`, ...), which the
    /// items generated for it, the warning included, follow too.
    pub(crate) lint_attrs: Vec<syn::Attribute>,
    /// Its name is taken in its DSL (an error): nothing is generated for it.
    pub(crate) excluded: std::cell::Cell<bool>,
    /// For a supervisor written inline in `supervision_tree!`, the module
    /// its struct is declared in (generic in its fields' types), named
    /// after the tree's root; its name is an alias of that struct (see
    /// `expand::type_path`).
    pub(crate) module: Option<syn::Ident>,
}

/// One child: a field of the supervisor struct.
pub(crate) struct ChildNode {
    pub(crate) ident: syn::Ident,
    pub(crate) vis: syn::Visibility,
    pub(crate) ty: ChildType,
    pub(crate) attrs: ChildAttrs,
    /// Other attributes (docs) of a field the DSL generates.
    pub(crate) pass_attrs: Vec<syn::Attribute>,
    /// A child built from its siblings' handles (`uses = [...]`): the
    /// field's type as written, a function of those handles
    /// (`fn(WorkerHandle<Pool>) -> Cache`); `ty` is what it returns.
    pub(crate) wired: Option<syn::TypeFnPtr>,
}

pub(crate) enum ChildType {
    /// A worker or a supervisor type declared elsewhere.
    Type(Box<syn::Type>),
    /// A supervisor written inline in `supervision_tree!`.
    Inline(Box<Tree>),
}

impl ChildNode {
    /// A field with `uses = [...]` whose type is a function returning the
    /// child (`fn(WorkerHandle<Pool>) -> Cache`): the child's type is what
    /// it returns, and the function is kept to be called at every start.
    /// Any other shape is left as written, and reported by the checks.
    pub(crate) fn wire(mut self) -> Self {
        if self.attrs.uses.get().is_none() {
            return self;
        }
        if let ChildType::Type(ty) = &self.ty {
            if let syn::Type::FnPtr(function) = &**ty {
                if let syn::ReturnType::Type(_, child) = &function.output {
                    let child = child.clone();
                    self.wired = Some(function.clone());
                    self.ty = ChildType::Type(child);
                }
            }
        }
        self
    }

    /// The child's id: `id = ...` or the field's name, without `r#` (a
    /// field `r#type` is the child `"type"`, as serde names it).
    pub(crate) fn id(&self) -> String {
        self.attrs.id.get().cloned().unwrap_or_else(|| self.name())
    }

    /// The field's name, without `r#`.
    pub(crate) fn name(&self) -> String {
        self.ident.unraw().to_string()
    }

    /// The tokens where the id was written.
    pub(crate) fn id_tokens(&self) -> TokenStream {
        self.attrs
            .id
            .tokens()
            .cloned()
            .unwrap_or_else(|| self.ident.to_token_stream())
    }
}

impl Tree {
    /// The model of a `#[derive(Supervisor)]` input, or `None` (with the
    /// errors recorded) when its shape cannot be a supervisor.
    pub(crate) fn from_derive(cx: &Ctxt, input: &syn::DeriveInput) -> Option<Tree> {
        let mut attrs = SupAttrs::new();
        for attr in &input.attrs {
            if attr.path().is_ident(SUPERVISOR) {
                attrs.parse(cx, attr);
            } else if attr.path().is_ident(CHILD) {
                cx.error_spanned_by(
                    attr,
                    "`#[child(...)]` goes on a field; the struct takes `#[supervisor(...)]`",
                );
            }
        }
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &input.generics,
                "a supervisor struct cannot be generic: its children are its field types",
            );
            return None;
        }
        let fields = match &input.data {
            syn::Data::Struct(data) => match &data.fields {
                syn::Fields::Named(named) => named.named.iter().collect::<Vec<_>>(),
                syn::Fields::Unit => Vec::new(),
                syn::Fields::Unnamed(unnamed) => {
                    cx.error_spanned_by(
                        unnamed,
                        "a supervisor needs named fields, one per child (the field's name is the \
                         child's id): write `struct Name { child: Type }`, not a tuple struct",
                    );
                    return None;
                }
            },
            syn::Data::Enum(data) => {
                cx.error_spanned_by(
                    data.enum_token,
                    "`#[derive(Supervisor)]` needs a struct with named fields, one per child; \
                     an enum cannot be a supervisor",
                );
                return None;
            }
            syn::Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "`#[derive(Supervisor)]` needs a struct with named fields, one per child; \
                     a union cannot be a supervisor",
                );
                return None;
            }
        };
        let children = fields
            .into_iter()
            .filter_map(|field| {
                let ident = field.ident.clone()?;
                let mut child_attrs = ChildAttrs::new();
                for attr in &field.attrs {
                    if attr.path().is_ident(CHILD) {
                        child_attrs.parse(cx, attr);
                    } else if attr.path().is_ident(SUPERVISOR) {
                        misplaced_supervisor_attr(cx, attr, &field.ty, true);
                    }
                }
                Some(
                    ChildNode {
                        ident,
                        vis: field.vis.clone(),
                        ty: ChildType::Type(Box::new(field.ty.clone())),
                        attrs: child_attrs,
                        pass_attrs: Vec::new(),
                        wired: None,
                    }
                    .wire(),
                )
            })
            .collect();
        Some(Tree {
            ident: input.ident.clone(),
            vis: input.vis.clone(),
            attrs,
            children,
            pass_attrs: Vec::new(),
            lint_attrs: lint_attrs(&input.attrs),
            excluded: Default::default(),
            module: None,
        })
    }

    /// The supervisor's name as a root: `name = ...` or the struct's name
    /// in snake_case.
    pub(crate) fn root_name(&self) -> String {
        self.attrs
            .name
            .get()
            .cloned()
            .unwrap_or_else(|| snake_case(&self.ident.to_string()))
    }

    /// The path of the runtime crate.
    pub(crate) fn krate(&self) -> TokenStream {
        match self.attrs.krate.get() {
            Some(path) => path.to_token_stream(),
            None => quote!(::supervise),
        }
    }
}

/// The tokens that name an item, where a misplaced attribute is reported:
/// its name, or the whole item when it has none.
pub(crate) fn item_name(item: &syn::Item) -> TokenStream {
    match item {
        syn::Item::Fn(f) => f.sig.ident.to_token_stream(),
        syn::Item::Struct(s) => s.ident.to_token_stream(),
        syn::Item::Enum(e) => e.ident.to_token_stream(),
        syn::Item::Trait(t) => t.ident.to_token_stream(),
        syn::Item::Type(t) => t.ident.to_token_stream(),
        syn::Item::Union(u) => u.ident.to_token_stream(),
        syn::Item::Impl(i) => i.self_ty.to_token_stream(),
        other => other.to_token_stream(),
    }
}

/// The lint-level attributes among `attrs`.
pub(crate) fn lint_attrs(attrs: &[syn::Attribute]) -> Vec<syn::Attribute> {
    attrs
        .iter()
        .filter(|a| {
            ["allow", "warn", "deny", "forbid", "expect"]
                .iter()
                .any(|level| a.path().is_ident(level))
        })
        .cloned()
        .collect()
}

/// True for a field typed `DynamicSupervisor<...>`.
pub(crate) fn is_dynamic(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "DynamicSupervisor"))
}

/// The worker type `W` of a field typed `DynamicSupervisor<W, ...>` or
/// `PartitionSupervisor<W, ...>`: a supervisor of Elixir's flavour, which
/// refuses a child whose shutdown is a timeout of zero.
pub(crate) fn dynamic_worker(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(p) = ty else {
        return None;
    };
    let last = p.path.segments.last()?;
    if last.ident != "DynamicSupervisor" && last.ident != "PartitionSupervisor" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(worker) => Some(worker),
        _ => None,
    }
}

/// What a field's type looks like, as far as the macro can tell: a type
/// that may be a child, or a shape that never is one.
pub(crate) enum Shape<'a> {
    /// A path (`Worker`, `my::Supervisor`, `DynamicSupervisor<W>`): the
    /// compiler checks that it implements `Child`.
    Child,
    /// `Option<T>`: a child that may be absent.
    Optional(&'a syn::Type),
    /// `Vec<T>`, `[T; N]`, `&[T]`, ...: several children.
    Many(&'a syn::Type),
    /// `Box<T>`, `Arc<T>`, `Rc<T>`, `&T`: a pointer to one.
    Pointer(&'a syn::Type),
    /// `(A, B)`: several children in one field.
    Tuple,
    /// `dyn Trait`, `impl Trait`, `_`, `fn()`, ...: no concrete type.
    Abstract,
}

impl<'a> Shape<'a> {
    /// The type a user most likely meant (the handle the fallback gives
    /// the field, so that code using it shows no follow-on error).
    pub(crate) fn meant(&self) -> Option<&'a syn::Type> {
        match self {
            Shape::Optional(t) | Shape::Many(t) | Shape::Pointer(t) => Some(t),
            _ => None,
        }
    }
}

/// The shape of a field's type.
pub(crate) fn shape(ty: &syn::Type) -> Shape<'_> {
    match ty {
        syn::Type::Paren(p) => shape(&p.elem),
        syn::Type::Group(g) => shape(&g.elem),
        syn::Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return Shape::Child;
            };
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return Shape::Child;
            };
            let Some(syn::GenericArgument::Type(inner)) = args.args.first() else {
                return Shape::Child;
            };
            match last.ident.to_string().as_str() {
                "Option" => Shape::Optional(inner),
                "Vec" | "VecDeque" | "LinkedList" | "HashSet" | "BTreeSet" | "BinaryHeap" => {
                    Shape::Many(inner)
                }
                "Box" | "Arc" | "Rc" | "Cow" => Shape::Pointer(inner),
                _ => Shape::Child,
            }
        }
        syn::Type::Path(_) => Shape::Child,
        syn::Type::Array(a) => Shape::Many(&a.elem),
        syn::Type::Slice(s) => Shape::Many(&s.elem),
        syn::Type::Reference(r) => match &*r.elem {
            syn::Type::Slice(s) => Shape::Many(&s.elem),
            elem => Shape::Pointer(elem),
        },
        syn::Type::Ptr(p) => Shape::Pointer(&p.elem),
        syn::Type::Tuple(t) if !t.elems.is_empty() => Shape::Tuple,
        syn::Type::Macro(_) | syn::Type::Verbatim(_) => Shape::Child,
        _ => Shape::Abstract,
    }
}

/// A type as the user wrote it, for messages: `Option<W>`, not
/// `Option < W >`.
pub(crate) fn type_text(ty: &syn::Type) -> String {
    let text = ty.to_token_stream().to_string();
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            let prev = out.chars().last();
            let next = chars.peek().copied();
            let glue = matches!(prev, Some('<' | '&' | ':' | '(' | '[' | '\'' | '#'))
                || matches!(next, Some('<' | '>' | ',' | ':' | ')' | ']' | ';'))
                || (next == Some('(') && prev.is_some_and(char::is_alphanumeric))
                || (prev == Some('>') && next == Some('>'));
            if glue {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// The error for `#[supervisor(...)]` on a field that is not an inline
/// supervisor.
pub(crate) fn misplaced_supervisor_attr(
    cx: &Ctxt,
    attr: &syn::Attribute,
    ty: &syn::Type,
    derive: bool,
) {
    if is_dynamic(ty) {
        cx.error_spanned_by(
            attr,
            "a dynamic supervisor is always `one_for_one` (it restarts each child on its own), \
             so it takes no `#[supervisor(...)]` flags; set its limits on the field's value: \
             `DynamicSupervisor::new().max_children(100).max_restarts(5)`",
        );
    } else if derive {
        cx.error_spanned_by(
            attr,
            "`#[supervisor(...)]` goes on the struct; a field takes `#[child(...)]` \
             (a nested supervisor's flags go on its own struct)",
        );
    } else {
        cx.error_spanned_by(
            attr,
            "`#[supervisor(...)]` configures a supervisor written inline \
             (`name: Name { ... }`); the flags of a supervisor type go on its own struct",
        );
    }
}

pub(crate) fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
