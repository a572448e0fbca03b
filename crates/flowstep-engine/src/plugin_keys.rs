//! Typed plugin keys: a plugin step declares its keys as a type that derives
//! `serde::Deserialize`, and [`check_keys`] reads the step's keys against it when the flow is
//! compiled, so that an unknown key (with "did you mean"), a missing one or a literal value of
//! the wrong shape is a diagnostic at its position, as for the built-in steps.
//!
//! Before running, a key that holds a template (`order: <<order_id>>`) has no value yet: the
//! check lets it stand for whatever the type asks, and an error that only such a value could
//! cause is left to the run ([`crate::StepContext::keys`]).

use flowstep_spec::steps::{COMMON_KEYS, StepDecl, StepSpec};
use flowstep_spec::yaml::{Node, NodeKind};
use flowstep_spec::{Diagnostic, Span, ValueTemplate, did_you_mean};
use serde::de::value::StrDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

/// Checks the keys of plugin step `decl` against `K`, the type the step reads them into with
/// [`StepContext::keys`](crate::StepContext::keys): every key `K` does not have (E002, with
/// "did you mean"), every field of `K` that is required and not written (E003), and every
/// value written literally that `K` does not take (E004), each at its position. Call it from
/// a binder; a [`step_fn`](crate::step_fn) calls it for you.
///
/// ```
/// use flowstep_engine::{Engine, Step, StepContext, StepError, check_keys};
///
/// #[derive(serde::Deserialize)]
/// struct LookupKeys { order: String, retries: Option<u32> }
///
/// struct Lookup;
/// #[async_trait::async_trait]
/// impl Step for Lookup {
///     async fn run(&self, cx: &mut StepContext<'_>) -> Result<(), StepError> {
///         let keys: LookupKeys = cx.keys()?;
///         cx.set_var("order_status", format!("order {} is paid", keys.order))
///     }
///     fn defines(&self) -> Vec<String> { vec!["order_status".into()] }
/// }
///
/// let mut engine = Engine::new();
/// engine.register("lookup", |decl, _flow| {
///     check_keys::<LookupKeys>(decl)?;
///     Ok(Box::new(Lookup))
/// });
/// let yaml = "flow: f\nsteps:\n  - id: find\n    type: lookup\n    ordr: A-1\n    retries: three\n";
/// let err = engine.compile_text("f.yaml", yaml).unwrap_err();
/// let text = err.to_string();
/// assert!(text.contains("error[E002]: unknown key `ordr` in the `lookup` step"), "{text}");
/// assert!(text.contains("did you mean `order`?"), "{text}");
/// assert!(text.contains("error[E003]: missing `order` in the `lookup` step"), "{text}");
/// assert!(text.contains("error[E004]: `retries` in the `lookup` step: invalid type: string \"three\", expected u32"), "{text}");
/// ```
pub fn check_keys<K: DeserializeOwned>(decl: &StepDecl) -> Result<(), Vec<Diagnostic>> {
    let StepSpec::Plugin(spec) = &decl.spec else {
        return Err(vec![Diagnostic::error(
            "E008",
            format!(
                "`{}` is a built-in step type; its keys are checked by the format",
                decl.kind.value
            ),
            decl.kind.span,
        )]);
    };
    let entries = spec
        .node
        .as_map()
        .unwrap_or_default()
        .iter()
        .filter(|(k, _)| !k.as_str().is_some_and(|k| COMMON_KEYS.contains(&k)))
        .filter_map(|(k, v)| {
            let name = k.as_str()?;
            let value = spec.params.entry(name)?;
            Some((
                Key {
                    text: Some(name.to_owned()),
                    span: k.span,
                },
                build(value, v, name.to_owned()),
            ))
        })
        .collect::<Vec<_>>();
    let certain = entries.iter().all(|(_, item)| item.certain);
    let root = Item {
        kind: Kind::Map(entries),
        span: decl.kind.span,
        certain,
        path: String::new(),
    };
    let checker = Checker {
        kind: &decl.kind.value,
        diags: RefCell::new(Vec::new()),
        unknown: RefCell::new(HashSet::new()),
        silenced: RefCell::new(HashSet::new()),
        supplied: RefCell::new(HashSet::new()),
    };
    // serde stops at the first error; to report every one at once, the value it was about is
    // then read as unknown (or the missing field supplied) and the keys read again. Each pass
    // answers one error more, so there are at most as many passes as values and fields.
    for _ in 0..MAX_PASSES {
        let result = K::deserialize(ItemDe {
            item: &root,
            cx: &checker,
        });
        let Err(e) = result else { break };
        if e.certain != Some(true) {
            break;
        }
        checker.push(e.to_diagnostic(&checker));
        let answered = match (e.missing, e.span) {
            (Some(field), Some(span)) => checker.supplied.borrow_mut().insert((span, field)),
            (None, Some(span)) => checker.silenced.borrow_mut().insert(span),
            (_, None) => false,
        };
        if !answered {
            break;
        }
    }
    let diags = checker.diags.into_inner();
    if diags.is_empty() { Ok(()) } else { Err(diags) }
}

/// The most times the keys are read again to find one more error.
const MAX_PASSES: usize = 64;

/// One value of the step's keys, as far as it is known before the step runs.
struct Item {
    kind: Kind,
    span: Span,
    /// No template anywhere in it: what is written is what the step will read.
    certain: bool,
    /// Where it is (`address.city`, `items[0]`), for messages; empty for the step itself.
    path: String,
}

enum Kind {
    /// Written literally: null, a boolean, a number or text.
    Literal(Value),
    /// A template: its value is known only when the step runs.
    Template,
    List(Vec<Item>),
    Map(Vec<(Key, Item)>),
}

struct Key {
    /// `None` for a templated key (`<<field>>: x`).
    text: Option<String>,
    span: Span,
}

/// Pairs a value tree with the YAML it was compiled from (which has the positions).
fn build(value: &ValueTemplate, node: &Node, path: String) -> Item {
    let span = node.span;
    let (kind, certain) = match (value, &node.kind) {
        (ValueTemplate::List(items), NodeKind::Seq(nodes)) if items.len() == nodes.len() => {
            let items: Vec<Item> = items
                .iter()
                .zip(nodes)
                .enumerate()
                .map(|(i, (v, n))| build(v, n, format!("{path}[{i}]")))
                .collect();
            let certain = items.iter().all(|i| i.certain);
            (Kind::List(items), certain)
        }
        (ValueTemplate::Map(entries), NodeKind::Map(nodes)) if entries.len() == nodes.len() => {
            let entries: Vec<(Key, Item)> = entries
                .iter()
                .zip(nodes)
                .map(|((k, v), (kn, vn))| {
                    let text = k.as_literal().map(str::to_owned);
                    let child = format!("{path}.{}", text.as_deref().unwrap_or("<<...>>"));
                    (
                        Key {
                            text,
                            span: kn.span,
                        },
                        build(v, vn, child),
                    )
                })
                .collect();
            let certain = entries
                .iter()
                .all(|(k, item)| k.text.is_some() && item.certain);
            (Kind::Map(entries), certain)
        }
        (ValueTemplate::String(t), _) => match t.as_literal() {
            Some(text) => (Kind::Literal(Value::String(text.to_owned())), true),
            None => (Kind::Template, false),
        },
        (ValueTemplate::Null, _) => (Kind::Literal(Value::Null), true),
        (ValueTemplate::Bool(b), _) => (Kind::Literal(Value::Bool(*b)), true),
        (ValueTemplate::Number(n), _) => (Kind::Literal(n.to_value()), true),
        // The tree and the YAML always have the same shape; were they not to, the value is
        // left to the run.
        _ => (Kind::Template, false),
    };
    Item {
        kind,
        span,
        certain,
        path,
    }
}

/// What the check found, beyond the first error serde stops at.
struct Checker<'a> {
    /// The step type, for messages.
    kind: &'a str,
    diags: RefCell<Vec<Diagnostic>>,
    /// The unknown keys reported, so that a later pass does not report them again.
    unknown: RefCell<HashSet<Span>>,
    /// Values already reported, read as unknown in later passes.
    silenced: RefCell<HashSet<Span>>,
    /// Missing fields already reported (the mapping's span and the field), supplied as
    /// unknown in later passes.
    supplied: RefCell<HashSet<(Span, &'static str)>>,
}

impl Checker<'_> {
    fn push(&self, d: Diagnostic) {
        self.diags.borrow_mut().push(d);
    }

    fn is_silenced(&self, item: &Item) -> bool {
        !self.silenced.borrow().is_empty() && self.silenced.borrow().contains(&item.span)
    }

    /// The fields of the mapping at `span` already reported missing.
    fn supplied_for(&self, span: Span, fields: &[&'static str]) -> Vec<&'static str> {
        let supplied = self.supplied.borrow();
        fields
            .iter()
            .copied()
            .filter(|f| supplied.contains(&(span, *f)))
            .collect()
    }

    /// `the `lookup` step`, or `` `address` in the `lookup` step ``.
    fn what(&self, path: &str) -> String {
        let path = path.trim_start_matches('.');
        if path.is_empty() {
            format!("the `{}` step", self.kind)
        } else {
            format!("`{path}` in the `{}` step", self.kind)
        }
    }

    /// E002 for each written key of the mapping `item` that `fields` does not have.
    fn unknown_keys(&self, item: &Item, entries: &[(Key, Item)], fields: &[&str]) {
        let top = item.path.is_empty();
        for (key, _) in entries {
            let Some(text) = &key.text else { continue };
            if fields.contains(&text.as_str()) || !self.unknown.borrow_mut().insert(key.span) {
                continue;
            }
            let what = self.what(&item.path);
            let candidates = fields
                .iter()
                .copied()
                .chain(COMMON_KEYS.iter().copied().filter(|_| top));
            let help = match did_you_mean(text, candidates) {
                Some(s) => format!("did you mean `{s}`?"),
                None if fields.is_empty() => format!(
                    "{what} takes no keys{}",
                    if top {
                        " besides the ones every step has"
                    } else {
                        ""
                    }
                ),
                None if top => format!(
                    "{what} accepts: {}, and the keys every step has ({})",
                    fields.join(", "),
                    COMMON_KEYS.join(", ")
                ),
                None => format!("{what} accepts: {}", fields.join(", ")),
            };
            self.push(
                Diagnostic::error("E002", format!("unknown key `{text}` in {what}"), key.span)
                    .with_help(help),
            );
        }
    }
}

/// An error from reading the keys, placed at the value it is about.
#[derive(Debug)]
struct KeyError {
    message: String,
    /// The innermost value the error came out of.
    span: Option<Span>,
    path: String,
    /// Whether a template could have caused it (then the run decides, not the check).
    certain: Option<bool>,
    /// A required field that is not written.
    missing: Option<&'static str>,
}

impl KeyError {
    fn new(message: String) -> Self {
        KeyError {
            message,
            span: None,
            path: String::new(),
            certain: None,
            missing: None,
        }
    }

    /// Places the error at `span` unless an inner value already placed it.
    fn at(mut self, span: Span, path: &str, certain: bool) -> Self {
        if self.span.is_none() {
            self.span = Some(span);
            self.path = path.to_owned();
        }
        if self.certain.is_none() {
            self.certain = Some(certain);
        }
        self
    }

    fn from_json(e: serde_json::Error) -> Self {
        KeyError::new(e.to_string())
    }

    fn to_diagnostic(&self, cx: &Checker<'_>) -> Diagnostic {
        let span = self.span.unwrap_or_default();
        match self.missing {
            Some(field) => Diagnostic::error(
                "E003",
                format!("missing `{field}` in {}", cx.what(&self.path)),
                span,
            )
            .with_label(format!("`{field}` is required here")),
            None => Diagnostic::error(
                "E004",
                format!("{}: {}", cx.what(&self.path), self.message),
                span,
            ),
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for KeyError {}

impl de::Error for KeyError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        KeyError::new(msg.to_string())
    }

    fn missing_field(field: &'static str) -> Self {
        KeyError {
            missing: Some(field),
            ..KeyError::new(format!("missing field `{field}`"))
        }
    }
}

/// A deserializer over one [`Item`].
#[derive(Clone, Copy)]
struct ItemDe<'a> {
    item: &'a Item,
    cx: &'a Checker<'a>,
}

impl<'a> ItemDe<'a> {
    /// What the item is read as: a value already reported reads as unknown.
    fn kind(&self) -> &'a Kind {
        if self.cx.is_silenced(self.item) {
            &WILD.kind
        } else {
            &self.item.kind
        }
    }

    /// Places `e` at this item unless an inner value already placed it; an error about a
    /// value already reported is one a template could have caused.
    fn locate(&self, e: KeyError) -> KeyError {
        let certain = self.item.certain && !self.cx.is_silenced(self.item);
        e.at(self.item.span, &self.item.path, certain)
    }
}

/// The methods whose wildcard answer is a fixed call on the visitor and whose literal answer
/// is `serde_json::Value`'s: a list or mapping answers with itself, whatever was asked.
macro_rules! leaf_methods {
    ($($method:ident => |$v:ident| $wild:expr;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $v: V) -> Result<V::Value, KeyError> {
                match self.kind() {
                    Kind::Literal(value) => value
                        .clone()
                        .$method($v)
                        .map_err(KeyError::from_json)
                        .map_err(|e| self.locate(e)),
                    Kind::Template => $wild,
                    Kind::List(_) | Kind::Map(_) => self.deserialize_any($v),
                }
            }
        )*
    };
}

impl<'de> Deserializer<'de> for ItemDe<'_> {
    type Error = KeyError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, KeyError> {
        let result = match self.kind() {
            Kind::Literal(value) => value
                .clone()
                .deserialize_any(visitor)
                .map_err(KeyError::from_json),
            // A `serde_json::Value` key, an untagged enum: unknown until the run.
            Kind::Template => visitor.visit_unit(),
            Kind::List(items) => visitor.visit_seq(Items {
                items: items.iter(),
                cx: self.cx,
            }),
            Kind::Map(entries) => visitor.visit_map(Entries {
                entries: entries.iter(),
                value: None,
                cx: self.cx,
            }),
        };
        result.map_err(|e| self.locate(e))
    }

    leaf_methods! {
        deserialize_bool => |v| v.visit_bool(false);
        deserialize_i8 => |v| v.visit_i64(0);
        deserialize_i16 => |v| v.visit_i64(0);
        deserialize_i32 => |v| v.visit_i64(0);
        deserialize_i64 => |v| v.visit_i64(0);
        deserialize_i128 => |v| v.visit_i64(0);
        deserialize_u8 => |v| v.visit_u64(0);
        deserialize_u16 => |v| v.visit_u64(0);
        deserialize_u32 => |v| v.visit_u64(0);
        deserialize_u64 => |v| v.visit_u64(0);
        deserialize_u128 => |v| v.visit_u64(0);
        deserialize_f32 => |v| v.visit_f64(0.0);
        deserialize_f64 => |v| v.visit_f64(0.0);
        deserialize_char => |v| v.visit_char('x');
        deserialize_str => |v| v.visit_str("");
        deserialize_string => |v| v.visit_str("");
        deserialize_bytes => |v| v.visit_bytes(b"");
        deserialize_byte_buf => |v| v.visit_bytes(b"");
        deserialize_identifier => |v| v.visit_str("");
        deserialize_ignored_any => |v| v.visit_unit();
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, KeyError> {
        match self.kind() {
            Kind::Literal(Value::Null) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
        .map_err(|e| self.locate(e))
    }

    /// `()` (or a unit struct) takes no keys: each written one is unknown.
    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, KeyError> {
        match self.kind() {
            Kind::Map(entries) => {
                self.cx.unknown_keys(self.item, entries, &[]);
                visitor.visit_unit()
            }
            Kind::Template => visitor.visit_unit(),
            Kind::Literal(value) => value
                .clone()
                .deserialize_unit(visitor)
                .map_err(KeyError::from_json),
            Kind::List(_) => self.deserialize_any(visitor),
        }
        .map_err(|e| self.locate(e))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, KeyError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, KeyError> {
        visitor
            .visit_newtype_struct(self)
            .map_err(|e| self.locate(e))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, KeyError> {
        match self.kind() {
            Kind::Template => visitor.visit_seq(Wildcards {
                left: 0,
                cx: self.cx,
            }),
            _ => return self.deserialize_any(visitor),
        }
        .map_err(|e| self.locate(e))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, KeyError> {
        match self.kind() {
            Kind::Template => visitor.visit_seq(Wildcards {
                left: len,
                cx: self.cx,
            }),
            _ => return self.deserialize_any(visitor),
        }
        .map_err(|e| self.locate(e))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, KeyError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, KeyError> {
        match self.kind() {
            Kind::Template => visitor.visit_map(WildFields {
                fields: [].iter(),
                cx: self.cx,
            }),
            _ => return self.deserialize_any(visitor),
        }
        .map_err(|e| self.locate(e))
    }

    /// Every written key must be one of `fields`; the others are reported (all of them, with
    /// "did you mean") and not handed to the type, so that its own checks go on.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, KeyError> {
        match self.kind() {
            Kind::Map(entries) => {
                self.cx.unknown_keys(self.item, entries, fields);
                let templated_keys = entries.iter().any(|(k, _)| k.text.is_none());
                let supplied = self.cx.supplied_for(self.item.span, fields);
                visitor
                    .visit_map(
                        Entries {
                            entries: entries
                                .iter()
                                .filter(|(k, _)| {
                                    k.text.as_deref().is_some_and(|t| fields.contains(&t))
                                })
                                .collect::<Vec<_>>()
                                .into_iter(),
                            value: None,
                            cx: self.cx,
                        }
                        .chain_wild(supplied),
                    )
                    .map_err(|mut e| {
                        // A templated key might render to the missing one.
                        if e.missing.is_some() && e.span.is_none() {
                            e.certain = Some(!templated_keys);
                        }
                        e
                    })
            }
            Kind::Template => visitor.visit_map(WildFields {
                fields: fields.iter(),
                cx: self.cx,
            }),
            _ => return self.deserialize_any(visitor),
        }
        .map_err(|e| self.locate(e))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, KeyError> {
        match self.kind() {
            Kind::Literal(value) => value
                .clone()
                .deserialize_enum(name, variants, visitor)
                .map_err(KeyError::from_json),
            Kind::Template => match variants.first() {
                Some(variant) => visitor.visit_enum(Variant {
                    name: variant,
                    value: self,
                }),
                None => Err(KeyError::new(format!("`{name}` has no variants"))),
            },
            Kind::Map(entries) => match entries.as_slice() {
                [
                    (
                        Key {
                            text: Some(variant),
                            ..
                        },
                        value,
                    ),
                ] => visitor
                    .visit_enum(Variant {
                        name: variant,
                        value: ItemDe {
                            item: value,
                            cx: self.cx,
                        },
                    })
                    .map_err(|e| {
                        ItemDe {
                            item: value,
                            cx: self.cx,
                        }
                        .locate(e)
                    }),
                _ => Err(KeyError::new(format!(
                    "expected one of {} (as text, or a mapping with one of them as its only key)",
                    variants.join(", ")
                ))),
            },
            Kind::List(_) => return self.deserialize_any(visitor),
        }
        .map_err(|e| self.locate(e))
    }
}

/// The items of a written list.
struct Items<'a> {
    items: std::slice::Iter<'a, Item>,
    cx: &'a Checker<'a>,
}

impl<'de> SeqAccess<'de> for Items<'_> {
    type Error = KeyError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, KeyError> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let de = ItemDe { item, cx: self.cx };
        seed.deserialize(de).map(Some).map_err(|e| de.locate(e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// The entries of a written mapping, then the fields already reported missing (read as
/// unknown).
struct Entries<'a, I: Iterator<Item = &'a (Key, Item)>> {
    entries: I,
    value: Option<&'a Item>,
    cx: &'a Checker<'a>,
}

impl<'a, I: Iterator<Item = &'a (Key, Item)>> Entries<'a, I> {
    fn chain_wild(self, supplied: Vec<&'static str>) -> WithSupplied<'a, I> {
        WithSupplied {
            entries: self,
            supplied: supplied.into_iter(),
            in_supplied: false,
        }
    }
}

/// [`Entries`] followed by fields supplied as unknown.
struct WithSupplied<'a, I: Iterator<Item = &'a (Key, Item)>> {
    entries: Entries<'a, I>,
    supplied: std::vec::IntoIter<&'static str>,
    in_supplied: bool,
}

impl<'de, 'a, I: Iterator<Item = &'a (Key, Item)>> MapAccess<'de> for WithSupplied<'a, I> {
    type Error = KeyError;

    fn next_key_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, KeyError> {
        if !self.in_supplied {
            // Entries are checked one at a time: peek by asking for the next key.
            let Some((key, value)) = self.entries.entries.next() else {
                self.in_supplied = true;
                return self.next_key_seed(seed);
            };
            self.entries.value = Some(value);
            return key_seed(key, seed).map(Some);
        }
        match self.supplied.next() {
            Some(field) => seed
                .deserialize(StrDeserializer::<KeyError>::new(field))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, KeyError> {
        if self.in_supplied {
            return seed.deserialize(ItemDe {
                item: &WILD,
                cx: self.entries.cx,
            });
        }
        self.entries.next_value_seed(seed)
    }
}

/// Reads a written key: its text, or any text for a templated key.
fn key_seed<'de, T: DeserializeSeed<'de>>(key: &Key, seed: T) -> Result<T::Value, KeyError> {
    match &key.text {
        Some(text) => seed.deserialize(StrDeserializer::<KeyError>::new(text)),
        // A templated key: any text, known when the step runs.
        None => seed.deserialize(StrDeserializer::<KeyError>::new("")),
    }
    .map_err(|e| e.at(key.span, "", key.text.is_some()))
}

impl<'de, 'a, I: Iterator<Item = &'a (Key, Item)>> MapAccess<'de> for Entries<'a, I> {
    type Error = KeyError;

    fn next_key_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, KeyError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        key_seed(key, seed).map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, KeyError> {
        let Some(item) = self.value.take() else {
            return Err(KeyError::new("a value was asked for before its key".into()));
        };
        let de = ItemDe { item, cx: self.cx };
        seed.deserialize(de).map_err(|e| de.locate(e))
    }
}

/// What a templated value stands for when a struct is asked of it: every field, each a
/// template too.
struct WildFields<'a> {
    fields: std::slice::Iter<'a, &'static str>,
    cx: &'a Checker<'a>,
}

/// The one value every wildcard reads from.
static WILD: Item = Item {
    kind: Kind::Template,
    span: Span { start: 0, end: 0 },
    certain: false,
    path: String::new(),
};

impl<'de> MapAccess<'de> for WildFields<'_> {
    type Error = KeyError;

    fn next_key_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, KeyError> {
        match self.fields.next() {
            Some(field) => seed
                .deserialize(StrDeserializer::<KeyError>::new(field))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, KeyError> {
        seed.deserialize(ItemDe {
            item: &WILD,
            cx: self.cx,
        })
    }
}

/// `len` templated items.
struct Wildcards<'a> {
    left: usize,
    cx: &'a Checker<'a>,
}

impl<'de> SeqAccess<'de> for Wildcards<'_> {
    type Error = KeyError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, KeyError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(ItemDe {
            item: &WILD,
            cx: self.cx,
        })
        .map(Some)
    }
}

/// An enum variant and its value.
struct Variant<'a> {
    name: &'a str,
    value: ItemDe<'a>,
}

impl<'de, 'a> EnumAccess<'de> for Variant<'a> {
    type Error = KeyError;
    type Variant = ItemDe<'a>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, ItemDe<'a>), KeyError> {
        let v = seed.deserialize(StrDeserializer::<KeyError>::new(self.name))?;
        Ok((v, self.value))
    }
}

impl<'de> VariantAccess<'de> for ItemDe<'_> {
    type Error = KeyError;

    fn unit_variant(self) -> Result<(), KeyError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, KeyError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, KeyError> {
        self.deserialize_tuple(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, KeyError> {
        self.deserialize_struct("", fields, visitor)
    }
}
