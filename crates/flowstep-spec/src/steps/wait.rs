//! The `wait` step: the run suspends until a provider's event that matches arrives (a paid
//! Checkout Session, a WhatsApp reply) or a deadline passes.

use crate::diagnostic::{Diagnostic, Diagnostics};
pub use crate::duration::MAX_WAIT;
use crate::duration::parse_wait_duration;
use crate::jsonpath::CompiledPath;
use crate::reader::{MapReader, expected, is_identifier, scalar_text};
use crate::source::{SourceFile, Spanned};
use crate::suggest::help_did_you_mean;
use crate::template::{RESERVED_NAMES, Template, TemplateEnv};
use crate::value_template::compile_string;
use crate::yaml::Node;
use std::time::Duration;

/// Keys of a wait step.
pub const KEYS: &[&str] = &[
    "id",
    "type",
    "description",
    "when",
    "next",
    "on_error",
    "for",
    "match",
    "timeout",
    "until",
    "map",
    "on_timeout",
];

/// The event types a wait may name, as `provider.type`: what `flowstep serve`'s webhook
/// endpoints receive (docs/flow-format.md, "wait"). Stripe's and Razorpay's names are theirs
/// (<https://docs.stripe.com/api/events/types>, <https://razorpay.com/docs/webhooks/payloads/>);
/// WhatsApp's are an inbound `message` and each message status (`status.delivered`).
pub const EVENT_TYPES: &[&str] = &[
    "stripe.checkout.session.completed",
    "stripe.checkout.session.expired",
    "stripe.checkout.session.async_payment_succeeded",
    "stripe.checkout.session.async_payment_failed",
    "stripe.payment_intent.succeeded",
    "stripe.payment_intent.payment_failed",
    "stripe.payment_intent.canceled",
    "stripe.charge.succeeded",
    "stripe.charge.failed",
    "stripe.charge.refunded",
    "stripe.refund.created",
    "stripe.refund.updated",
    "razorpay.payment_link.paid",
    "razorpay.payment_link.partially_paid",
    "razorpay.payment_link.expired",
    "razorpay.payment_link.cancelled",
    "razorpay.payment.authorized",
    "razorpay.payment.captured",
    "razorpay.payment.failed",
    "razorpay.order.paid",
    "razorpay.refund.processed",
    "whatsapp.message",
    "whatsapp.status.sent",
    "whatsapp.status.delivered",
    "whatsapp.status.read",
    "whatsapp.status.failed",
];

/// The most event types one wait awaits, and the most fields it matches on.
pub const MAX_EVENTS: usize = 8;

/// `type: wait`.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitSpec {
    /// `for:`: the event types awaited (`stripe.checkout.session.completed`), one or more.
    pub events: Vec<Spanned<String>>,
    /// `match:`: a dotted path into the event (`data.object.id`) and the value it must have,
    /// in file order. Empty: any event of the types awaited.
    pub matches: Vec<(Spanned<String>, Template)>,
    /// `timeout:` or `until:`.
    pub deadline: Deadline,
    /// `map:`: variables set from the event that arrived, by JSONPath (`$.data.object.id`).
    pub map: Vec<(Spanned<String>, CompiledPath)>,
    /// `on_timeout:`: the step the run goes to when the deadline passes first; without it,
    /// the step fails (and `on_error:` applies).
    pub on_timeout: Option<Spanned<String>>,
}

/// When a wait stops waiting.
#[derive(Debug, Clone, PartialEq)]
pub enum Deadline {
    /// `timeout: 30m`: this long after the step is reached.
    After(Duration),
    /// `timeout: <<ttl>>`: a duration (`30m`) or a number of seconds, rendered when the step
    /// is reached.
    AfterRendered(Template),
    /// `until: <<expires_at>>`: a Unix time in seconds (Stripe's `expires_at`), rendered when
    /// the step is reached.
    At(Template),
}

impl WaitSpec {
    /// Every template in the step.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out: Vec<&Template> = self.matches.iter().map(|(_, t)| t).collect();
        match &self.deadline {
            Deadline::AfterRendered(t) | Deadline::At(t) => out.push(t),
            Deadline::After(_) => {}
        }
        out
    }

    /// Reads the type-specific keys.
    pub fn read(
        m: &mut MapReader<'_>,
        file: &SourceFile,
        env: &mut TemplateEnv,
        diags: &mut Diagnostics,
    ) -> Option<Self> {
        // Every key is read (and so known) before any is judged: a mistake in one must not
        // make the others "unknown".
        let events = m.required("for", diags).map(|n| read_events(n, diags));
        let matches = match m.get("match") {
            None => Some(Vec::new()),
            Some(n) => read_matches(n, file, env, diags),
        };
        let deadline = read_deadline(m, file, env, diags);
        let map = m.get("map").map_or_else(Vec::new, |n| read_map(n, diags));
        let on_timeout = m
            .get("on_timeout")
            .and_then(|n| scalar_text(n, "`on_timeout`", diags));
        Some(WaitSpec {
            events: events??,
            matches: matches?,
            deadline: deadline?,
            map,
            on_timeout,
        })
    }
}

fn read_events(node: &Node, diags: &mut Diagnostics) -> Option<Vec<Spanned<String>>> {
    let items: Vec<&Node> = match node.as_seq() {
        Some(seq) => seq.iter().collect(),
        None => vec![node],
    };
    if items.is_empty() || items.len() > MAX_EVENTS {
        diags.push(Diagnostic::error(
            "E010",
            format!("`for` names 1 to {MAX_EVENTS} event types"),
            node.span,
        ));
        return None;
    }
    let mut out: Vec<Spanned<String>> = Vec::new();
    for item in items {
        let name = scalar_text(item, "`for`", diags)?;
        if !EVENT_TYPES.contains(&name.value.as_str()) {
            let mut d = Diagnostic::error(
                "E010",
                format!("`{}` is not an event type flowstep receives", name.value),
                name.span,
            );
            d = d.with_help(
                help_did_you_mean(&name.value, EVENT_TYPES.iter().copied()).unwrap_or_else(
                    || {
                        "event types are `provider.type`: `stripe.checkout.session.completed`, \
                         `razorpay.payment_link.paid`, `whatsapp.message`, `whatsapp.status.failed` \
                         (the full list is in docs/flow-format.md)"
                            .into()
                    },
                ),
            );
            diags.push(d);
            return None;
        }
        if out.iter().any(|e| e.value == name.value) {
            diags.push(Diagnostic::error(
                "E010",
                format!("`for` names `{}` twice", name.value),
                name.span,
            ));
            return None;
        }
        out.push(name);
    }
    Some(out)
}

/// Whether `path` is a dotted path into an event: segments of letters, digits, `_` and `-`
/// (a number indexes a list).
pub fn is_event_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 200
        && path.split('.').all(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

fn read_matches(
    node: &Node,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Option<Vec<(Spanned<String>, Template)>> {
    let Some(entries) = node.as_map() else {
        diags.push(expected(
            node,
            "a mapping of event paths to values",
            "`match`",
        ));
        return None;
    };
    let mut out: Vec<(Spanned<String>, Template)> = Vec::new();
    for (k, v) in entries {
        let path = scalar_text(k, "a `match` path", diags)?;
        if !is_event_path(&path.value) {
            diags.push(
                Diagnostic::error(
                    "E010",
                    format!("`{}` is not a path into an event", path.value),
                    path.span,
                )
                .with_help("write the fields from the event's top, joined by dots: `data.object.id`; a number picks an item of a list"),
            );
            return None;
        }
        if out.len() >= MAX_EVENTS {
            diags.push(Diagnostic::error(
                "E010",
                format!("`match` compares at most {MAX_EVENTS} fields"),
                k.span,
            ));
            return None;
        }
        let text = match (v.as_str(), v.is_null()) {
            (Some(s), false) => s.to_owned(),
            _ => {
                diags.push(expected(
                    v,
                    "a value (text, a number or a template)",
                    &format!("`match.{}`", path.value),
                ));
                return None;
            }
        };
        out.push((path, compile_string(&text, v, file, env, diags)));
    }
    Some(out)
}

fn read_deadline(
    m: &mut MapReader<'_>,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Option<Deadline> {
    let (timeout, until) = (m.get("timeout"), m.get("until"));
    match (timeout, until) {
        (Some(t), Some(_)) => {
            diags.push(Diagnostic::error(
                "E010",
                "a wait has `timeout` or `until`, not both",
                t.span,
            ));
            None
        }
        (None, None) => {
            diags.push(
                Diagnostic::error("E010", "a wait needs a deadline: `timeout` or `until`", m.start_span())
                    .with_help(format!(
                        "`timeout: 30m` waits 30 minutes; `until: <<expires_at>>` waits until a Unix time in seconds; at most {} days",
                        MAX_WAIT.as_secs() / 86_400
                    )),
            );
            None
        }
        (Some(t), None) => {
            let text = scalar_text(t, "`timeout`", diags)?;
            if text.value.contains("<<") {
                return Some(Deadline::AfterRendered(compile_string(
                    &text.value,
                    t,
                    file,
                    env,
                    diags,
                )));
            }
            match parse_wait_duration(&text.value) {
                Ok(d) if d.is_zero() => {
                    diags.push(Diagnostic::error(
                        "E010",
                        "`timeout` must be more than zero",
                        t.span,
                    ));
                    None
                }
                Ok(d) => Some(Deadline::After(d)),
                Err(e) => {
                    diags.push(Diagnostic::error("E010", e, t.span));
                    None
                }
            }
        }
        (None, Some(u)) => {
            let text = scalar_text(u, "`until`", diags)?;
            Some(Deadline::At(compile_string(
                &text.value,
                u,
                file,
                env,
                diags,
            )))
        }
    }
}

fn read_map(node: &Node, diags: &mut Diagnostics) -> Vec<(Spanned<String>, CompiledPath)> {
    let Some(entries) = node.as_map() else {
        if !node.is_null() {
            diags.push(expected(
                node,
                "a mapping of variable names to JSONPaths",
                "`map`",
            ));
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let Some(name) = scalar_text(k, "a `map` name", diags) else {
            continue;
        };
        if !is_identifier(&name.value) || RESERVED_NAMES.contains(&name.value.as_str()) {
            diags.push(
                Diagnostic::error("E010", format!("`{}` cannot be a variable name", name.value), name.span)
                    .with_help("variable names are letters, digits and `_`, starting with a letter; `secrets`, `steps`, `run` and `this` are reserved"),
            );
            continue;
        }
        let Some(path) = scalar_text(v, &format!("`map.{}`", name.value), diags) else {
            continue;
        };
        match CompiledPath::compile(&path.value, v.span) {
            Ok(p) => out.push((name, p)),
            Err(d) => diags.push(d),
        }
    }
    out
}
