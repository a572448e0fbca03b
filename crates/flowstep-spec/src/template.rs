//! Templates: `<<expr>>` inside string values, compiled once with handlebars and rendered to
//! typed JSON values.
//!
//! The text is split at `<< >>` here, and each expression is compiled as a handlebars template
//! of its own; literal text never goes through handlebars, so `{{`, `}}` and backslashes in a
//! customer's text pass through unchanged. A value that is exactly one `<<expr>>` keeps the JSON
//! type of what it reads; text around it makes it a string. Rendered text is never parsed again.

use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::suggest::help_did_you_mean;
use handlebars::template::{Parameter, TemplateElement};
use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, PathSeg, RenderContext, RenderError,
    RenderErrorReason,
};
use serde_json::Value;
use std::fmt;

pub use crate::value_text::value_to_text;

/// How to write the escape inside YAML's quotes, for the helps that point to it.
pub const ESCAPE_NOTE: &str = "inside double quotes, YAML needs `\\\\<<`";

/// Names that `<< >>` reserves for itself.
pub const RESERVED_NAMES: &[&str] = &["secrets", "steps", "run", "this"];

/// The helper that turns a subexpression's value into JSON text, so that `<<helper args>>`
/// keeps the type of what the helper returns.
const TYPED_HELPER: &str = "__flowstep_typed";

// The helpers `<< >>` may call, with their argument counts, are listed in `crate::helpers`.

/// The handlebars registry that holds every compiled expression of one flow.
pub struct TemplateEnv {
    hb: Handlebars<'static>,
    next_id: usize,
}

impl fmt::Debug for TemplateEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemplateEnv")
            .field("templates", &self.next_id)
            .finish()
    }
}

impl Default for TemplateEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl TemplateEnv {
    /// A registry in strict mode, without HTML escaping, with flowstep's helpers.
    pub fn new() -> Self {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        hb.register_helper(TYPED_HELPER, Box::new(typed_helper));
        crate::helpers::register(&mut hb);
        TemplateEnv { hb, next_id: 0 }
    }

    /// Whether `name` is a helper that expressions may call.
    pub fn is_helper(&self, name: &str) -> bool {
        crate::helpers::find(name).is_some()
    }

    fn helper_names(&self) -> Vec<&'static str> {
        crate::helpers::names().collect()
    }

    /// Compiles a string value written at `span` (`raw` is its source text, quotes included),
    /// reporting every problem in it.
    pub fn compile(
        &mut self,
        text: &str,
        span: Span,
        raw: &str,
    ) -> Result<Template, Vec<Diagnostic>> {
        let mut pieces = Vec::new();
        let mut errors = Vec::new();
        let mut rest = text;
        let mut search_from = 0;
        let mut text_run = String::new();
        while let Some(open) = rest.find("<<") {
            // Backslashes right before `<<` escape: `\<<` is a literal `<<`, and `\\<<x>>` is
            // a backslash and then an expression (each pair of backslashes writes one).
            let before = &rest[..open];
            let slashes = before.len() - before.trim_end_matches('\\').len();
            text_run.push_str(&before[..open - slashes]);
            text_run.push_str(&"\\".repeat(slashes / 2));
            if slashes % 2 == 1 {
                text_run.push_str("<<");
                // Step over it in the source too, so that later positions are found after it.
                let _ = locate(raw, "<<", &mut search_from);
                rest = &rest[open + 2..];
                continue;
            }
            if !text_run.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text_run)));
            }
            let after = &rest[open + 2..];
            let Some(close) = find_close(after) else {
                let at = locate(raw, "<<", &mut search_from).map_or(span, |o| span.sub(o, 2));
                errors.push(
                    Diagnostic::error("E006", "unclosed `<<` in template", at)
                        .with_label("this `<<` has no matching `>>`")
                        .with_help(format!("close the expression with `>>`, or write `\\<<` for a literal `<<` ({ESCAPE_NOTE})")),
                );
                rest = "";
                break;
            };
            let source = after[..close].trim().to_owned();
            let whole = &rest[open..open + 2 + close + 2];
            let at = match locate(raw, whole, &mut search_from) {
                Some(o) => span.sub(o, whole.len()),
                // Escapes (`\"` in a double-quoted YAML string) make the source differ from
                // the value: point at the next `<< >>` in the source instead of the whole value.
                None => {
                    locate_escaped(raw, &mut search_from).map_or(span, |(o, len)| span.sub(o, len))
                }
            };
            match self.compile_expr(&source, at) {
                Ok(expr) => pieces.push(Piece::Expr(expr)),
                Err(e) => errors.push(e),
            }
            rest = &after[close + 2..];
        }
        text_run.push_str(rest);
        if !text_run.is_empty() {
            pieces.push(Piece::Text(text_run));
        }
        if errors.is_empty() {
            Ok(Template { pieces, span })
        } else {
            Err(errors)
        }
    }

    fn compile_expr(&mut self, source: &str, span: Span) -> Result<Expr, Diagnostic> {
        if source.is_empty() {
            return Err(Diagnostic::error("E006", "empty `<< >>` expression", span)
                .with_help("write a variable name inside, like `<<amount_paise>>`"));
        }
        if crate::operators::has_operator(source) {
            let help = match crate::operators::translate(source) {
                Some(call) => format!("write `<<{call}>>`: expressions call the helpers `eq`, `ne`, `gt`, `gte`, `lt`, `lte`, `and`, `or` and `not` instead of operators"),
                None => "expressions call the helpers `eq`, `ne`, `gt`, `gte`, `lt`, `lte`, `and`, `or` and `not` instead of operators: `<<eq status \"paid\">>`".to_owned(),
            };
            return Err(Diagnostic::error(
                "E006",
                format!("`<<{source}>>` uses an operator, and flowstep expressions have none"),
                span,
            )
            .with_help(help));
        }
        // Response headers are read in any case: `steps.ID.headers.Request-Id` is compiled as
        // `steps.ID.headers.request-id`, the name the step records.
        let normalized = lower_header_names(source);
        // Most expressions name a variable (`<<amount_paise>>`, `<<steps.pay.status>>`): read
        // without the handlebars parser, which is most of a flow's compile time otherwise.
        if let Some(path) = self.plain_path(&normalized) {
            return Ok(Expr {
                source: source.to_owned(),
                span,
                kind: ExprKind::Path(path.clone()),
                references: vec![Reference {
                    path,
                    span,
                    optional: false,
                }],
            });
        }
        // A helper call (`<<format_time expires_at "human">>`) is rendered by a template that
        // wraps it in the typed helper; parsed that way first, it is parsed once, not twice.
        if let Some((typed, call)) = typed_call(&normalized) {
            let mut references = Vec::new();
            self.collect(
                &call.name,
                &call.params,
                &call.hash,
                source,
                span,
                &mut references,
            )?;
            return Ok(self.register_typed(source, span, typed, references));
        }
        let parsed = handlebars::Template::compile(&format!("{{{{{normalized}}}}}"))
            .map_err(|e| template_syntax_error(source, span, &e.to_string()))?;
        let [TemplateElement::Expression(helper)] = parsed.elements.as_slice() else {
            return Err(Diagnostic::error(
                "E006",
                format!("`<<{source}>>` is not a single expression"),
                span,
            )
            .with_help("block helpers (`#if`, `#each`) and partials are not supported inside `<< >>`; use helpers such as `eq` as values instead"));
        };
        let mut references = Vec::new();
        if helper.params.is_empty() && helper.hash.is_empty() {
            // `<<name>>` or `<<a.b>>`: a variable, read directly so that its type is kept.
            let path = match &helper.name {
                Parameter::Name(n) if !self.is_helper(n) => vec![n.clone()],
                Parameter::Path(p) => path_segments(p, source, span)?,
                Parameter::Literal(v) => {
                    return Ok(Expr {
                        source: source.to_owned(),
                        span,
                        kind: ExprKind::Literal(v.clone()),
                        references,
                    });
                }
                _ => Vec::new(),
            };
            if !path.is_empty() {
                references.push(Reference {
                    path: path.clone(),
                    span,
                    optional: false,
                });
                return Ok(Expr {
                    source: source.to_owned(),
                    span,
                    kind: ExprKind::Path(path),
                    references,
                });
            }
        }
        self.collect(
            &helper.name,
            &helper.params,
            &helper.hash,
            source,
            span,
            &mut references,
        )?;
        let typed =
            handlebars::Template::compile(&format!("{{{{{TYPED_HELPER} ({normalized})}}}}"))
                .map_err(|e| template_syntax_error(source, span, &e.to_string()))?;
        Ok(self.register_typed(source, span, typed, references))
    }

    /// Registers `typed` (an expression wrapped in the typed helper) under a name of its own.
    fn register_typed(
        &mut self,
        source: &str,
        span: Span,
        typed: handlebars::Template,
        references: Vec<Reference>,
    ) -> Expr {
        let name = format!("e{}", self.next_id);
        self.next_id += 1;
        self.hb.register_template(&name, typed);
        Expr {
            source: source.to_owned(),
            span,
            kind: ExprKind::Helper(name),
            references,
        }
    }

    /// The variable `expr` names, when it is nothing but a dotted path of plain names
    /// (`name`, `steps.pay.body.0`) whose first is not a helper's and none a handlebars
    /// keyword: what the handlebars parser would make of it, without running it. Anything
    /// else (`this`, `../x`, `@root`, literals, helper calls, odd characters) returns `None`
    /// and is parsed.
    fn plain_path(&self, expr: &str) -> Option<Vec<String>> {
        let plain = |seg: &str, first: bool| {
            let mut chars = seg.chars();
            chars.next().is_some_and(|c| {
                c.is_ascii_alphabetic() || c == '_' || (!first && c.is_ascii_digit())
            }) && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !matches!(
                    seg,
                    "this" | "else" | "true" | "false" | "null" | "undefined" | "as"
                )
        };
        let segments: Vec<&str> = expr.split('.').collect();
        let ok = segments
            .iter()
            .enumerate()
            .all(|(i, seg)| plain(seg, i == 0))
            && !self.is_helper(segments[0]);
        ok.then(|| segments.into_iter().map(str::to_owned).collect())
    }

    /// Checks helper names and argument counts, and gathers the variables an expression reads.
    fn collect(
        &self,
        name: &Parameter,
        params: &[Parameter],
        hash: &std::collections::HashMap<String, Parameter>,
        source: &str,
        span: Span,
        out: &mut Vec<Reference>,
    ) -> Result<(), Diagnostic> {
        if let Parameter::Name(n) | Parameter::Path(handlebars::Path::Relative((_, n))) = name
            && !self.is_helper(n)
        {
            let names = self.helper_names();
            return Err(Diagnostic::error(
                "E010",
                format!("unknown helper `{n}` in `<<{source}>>`"),
                span,
            )
            .with_help_opt(
                help_did_you_mean(n, names.iter().copied())
                    .or_else(|| Some(format!("helpers are: {}", names.join(", ")))),
            ));
        }
        let helper = match name {
            Parameter::Name(n) | Parameter::Path(handlebars::Path::Relative((_, n))) => {
                crate::helpers::find(n)
            }
            _ => None,
        };
        if let Some(info) = helper {
            check_helper_call(info, params, hash, source, span)?;
        }
        // `default`'s first argument is the one place a variable may be undefined: that is
        // what it is for. Everywhere else, including inside it, reads stay strict.
        let optional_first = helper.is_some_and(|h| h.name == "default");
        for (i, p) in params
            .iter()
            .enumerate()
            .chain(hash.values().map(|p| (usize::MAX, p)))
        {
            // Still a reference: the secret-placement check sees what `default` reads.
            let optional = optional_first && i == 0;
            match p {
                Parameter::Path(path) => out.push(Reference {
                    path: path_segments(path, source, span)?,
                    span,
                    optional,
                }),
                Parameter::Name(n) => out.push(Reference {
                    path: vec![n.clone()],
                    span,
                    optional,
                }),
                Parameter::Subexpression(sub) => {
                    if let TemplateElement::Expression(h) = sub.element.as_ref() {
                        if h.params.is_empty()
                            && h.hash.is_empty()
                            && !matches!(&h.name, Parameter::Name(n) | Parameter::Path(handlebars::Path::Relative((_, n))) if self.is_helper(n))
                        {
                            // `(x)` with no arguments reads a variable.
                            match &h.name {
                                Parameter::Name(n) => out.push(Reference {
                                    path: vec![n.clone()],
                                    span,
                                    optional: false,
                                }),
                                Parameter::Path(path) => out.push(Reference {
                                    path: path_segments(path, source, span)?,
                                    span,
                                    optional: false,
                                }),
                                _ => {}
                            }
                        } else {
                            self.collect(&h.name, &h.params, &h.hash, source, span, out)?;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Renders a template against a scope: `Ok` with a typed value, or the first error.
    pub fn render(&self, template: &Template, scope: &Scope) -> Result<Value, TemplateError> {
        if let [Piece::Expr(e)] = template.pieces.as_slice() {
            return self.eval(e, scope);
        }
        let mut out = String::new();
        for piece in &template.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Expr(e) => out.push_str(&value_to_text(&self.eval(e, scope)?)),
            }
        }
        Ok(Value::String(out))
    }

    /// Renders each piece of a template on its own, in order: `(false, text)` for literal text
    /// as written, `(true, text)` for an expression's value as text. For callers that must
    /// encode what an expression produced differently from what the author wrote (a value
    /// substituted into a URL path is one path segment).
    pub fn render_pieces(
        &self,
        template: &Template,
        scope: &Scope,
    ) -> Result<Vec<(bool, String)>, TemplateError> {
        template
            .pieces
            .iter()
            .map(|piece| match piece {
                Piece::Text(t) => Ok((false, t.clone())),
                Piece::Expr(e) => Ok((true, value_to_text(&self.eval(e, scope)?))),
            })
            .collect()
    }

    /// Renders a template to text for showing, never failing: an expression that cannot be
    /// evaluated is shown as written (`<<format_time expires_at "human">>`). For dry runs, where
    /// values that only a response would provide are placeholders.
    pub fn render_for_display(&self, template: &Template, scope: &Scope) -> String {
        self.render_for_display_with(template, scope, &|_| None)
    }

    /// [`TemplateEnv::render_for_display`] for a dry run whose scope holds stand-ins for values
    /// only a live run would know: `depends` names what a variable depends on (`the response
    /// of `create_session``) when it is such a stand-in. An expression that is only that
    /// variable shows the stand-in (`<payment_url: $.url from create_session>`); any other
    /// expression that reads one is shown as `<EXPR: depends on WHAT>` rather than computed
    /// from the stand-in (`<format_time expires_at "human": depends on ...>`).
    pub fn render_for_display_with(
        &self,
        template: &Template,
        scope: &Scope,
        depends: &dyn Fn(&Reference) -> Option<String>,
    ) -> String {
        template
            .pieces
            .iter()
            .map(|piece| match piece {
                Piece::Text(t) => t.clone(),
                Piece::Expr(e) => {
                    let source = match e.kind {
                        ExprKind::Path(_) => None,
                        _ => e.references.iter().find_map(depends),
                    };
                    match source {
                        Some(what) => format!("<{}: depends on {what}>", e.source),
                        // A path into a stand-in (`steps.a.headers.content-type`) has no
                        // value to show, but says what it waits for.
                        None => match self.eval(e, scope) {
                            Ok(v) => value_to_text(&v),
                            Err(_) => match e.references.iter().find_map(depends) {
                                Some(what) => format!("<{}: depends on {what}>", e.source),
                                None => format!("<<{}>>", e.source),
                            },
                        },
                    }
                }
            })
            .collect()
    }

    fn eval(&self, expr: &Expr, scope: &Scope) -> Result<Value, TemplateError> {
        // Strictness is checked here, uniformly, rather than left to each helper: every variable an
        // expression reads must exist.
        for r in expr.references.iter().filter(|r| !r.optional) {
            if lookup(scope.value(), &r.path).is_none() {
                if r.path.first().is_some_and(|f| f == "secrets")
                    && scope.value().get("secrets").is_none()
                {
                    return Err(TemplateError::SecretNotReadable {
                        name: r.path.get(1).cloned().unwrap_or_default(),
                        expr: expr.source.clone(),
                        span: expr.span,
                    });
                }
                return Err(TemplateError::Undefined {
                    name: r.path.join("."),
                    expr: expr.source.clone(),
                    span: expr.span,
                });
            }
        }
        match &expr.kind {
            ExprKind::Literal(v) => Ok(v.clone()),
            ExprKind::Path(path) => Ok(lookup(scope.value(), path).cloned().unwrap_or(Value::Null)),
            ExprKind::Helper(name) => {
                let text = self
                    .hb
                    .render_with_context(name, &scope.context)
                    .map_err(|e| {
                        let message = match e.reason() {
                            RenderErrorReason::MissingVariable(Some(v)) => {
                                return TemplateError::Undefined {
                                    name: v.clone(),
                                    expr: expr.source.clone(),
                                    span: expr.span,
                                };
                            }
                            // A helper that found nothing (`lookup` of a key that is not
                            // there), which handlebars words as "Failed to access variable in
                            // strict mode None".
                            RenderErrorReason::MissingVariable(None) => {
                                "it found no value (`lookup` takes a key of an object or an index of a list, and the value given has no such key)".to_owned()
                            }
                            other => other.to_string(),
                        };
                        TemplateError::Helper {
                            expr: expr.source.clone(),
                            message,
                            span: expr.span,
                        }
                    })?;
                serde_json::from_str(&text).map_err(|e| TemplateError::Helper {
                    expr: expr.source.clone(),
                    message: format!("helper result is not a value: {e}"),
                    span: expr.span,
                })
            }
        }
    }
}

/// Check-time checks of one helper call: key=value arguments, the argument count, and the
/// arguments written as literals (an unknown currency, a bad duration).
fn check_helper_call(
    info: &crate::helpers::HelperInfo,
    params: &[Parameter],
    hash: &std::collections::HashMap<String, Parameter>,
    source: &str,
    span: Span,
) -> Result<(), Diagnostic> {
    let call = if info.args.is_empty() {
        format!("`<<{}>>`", info.name)
    } else {
        format!("`<<{} {}>>`", info.name, info.args)
    };
    if let Some(key) = hash.keys().next() {
        return Err(Diagnostic::error(
            "E010",
            format!(
                "`{}` takes no `key=value` arguments, found `{key}=`",
                info.name
            ),
            span,
        )
        .with_help(format!("call it as {call}")));
    }
    if let Some(message) = info.count_error(params.len()) {
        return Err(Diagnostic::error("E010", message, span)
            .with_help(format!("call it as {call}; see docs/templating.md")));
    }
    let literals: Vec<Option<Value>> = params
        .iter()
        .map(|p| match p {
            Parameter::Literal(v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    if let Some(message) = info.literal_error(&literals) {
        return Err(Diagnostic::error(
            "E010",
            format!("`<<{source}>>` cannot work: {message}"),
            span,
        ));
    }
    Ok(())
}

fn template_syntax_error(source: &str, span: Span, detail: &str) -> Diagnostic {
    let detail = detail
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(detail)
        .trim();
    // Handlebars' parser gives up on deep nesting with "stack limit reached": say it in words.
    let detail = if detail.contains("stack limit reached") {
        "the expression nests too deeply; compute its inner parts in a `set` step first"
    } else {
        detail
    };
    Diagnostic::error("E006", format!("cannot parse the expression `<<{source}>>`"), span)
        .with_label(detail.to_owned())
        .with_help("an expression is a variable (`<<amount_paise>>`, `<<steps.create_session.status>>`) or a helper call (`<<eq a b>>`)")
}

/// The expression with the header name in each `steps.ID.headers.NAME` path in lower case,
/// leaving quoted strings alone.
fn lower_header_names(source: &str) -> std::borrow::Cow<'_, str> {
    if !source.contains(".headers.") {
        return std::borrow::Cow::Borrowed(source);
    }
    let mut out = String::with_capacity(source.len());
    let mut quote: Option<char> = None;
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let mut segments: Vec<&str> = word.split('.').collect();
        let lowered;
        if segments.len() >= 4 && segments[0] == "steps" && segments[2] == "headers" {
            lowered = segments[3].to_ascii_lowercase();
            segments[3] = &lowered;
            out.push_str(&segments.join("."));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in source.chars() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '"' || c == '\'' => {
                flush(&mut word, &mut out);
                out.push(c);
                quote = Some(c);
            }
            None if c.is_whitespace() || c == '(' || c == ')' => {
                flush(&mut word, &mut out);
                out.push(c);
            }
            None => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    std::borrow::Cow::Owned(out)
}

/// Finds the `>>` that closes an expression, skipping over quoted strings.
fn find_close(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' && bytes.get(i + 1) == Some(&b'>') => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

/// The byte offset of `needle` in the raw source text, searching on from the last find.
fn locate(raw: &str, needle: &str, from: &mut usize) -> Option<usize> {
    let at = raw.get(*from..)?.find(needle)? + *from;
    *from = at + needle.len();
    Some(at)
}

/// The next `<<...>>` in the raw source text, as (offset, length), searching on from the last
/// find: for expressions whose source text has escapes their value does not.
fn locate_escaped(raw: &str, from: &mut usize) -> Option<(usize, usize)> {
    let open = raw.get(*from..)?.find("<<")? + *from;
    let end = raw.get(open + 2..)?.find(">>")? + open + 4;
    *from = end;
    Some((open, end - open))
}

/// `expr` parsed as the template that renders it (`{{__flowstep_typed (expr)}}`) and the helper
/// call inside, when it is one call with arguments (`format_time at "human"`). Anything else (a
/// lone name, a literal, a syntax error, text that does not stay inside the parentheses) is
/// `None`, for the parser to read on its own and to word its errors.
fn typed_call(expr: &str) -> Option<(handlebars::Template, handlebars::template::HelperTemplate)> {
    let typed = handlebars::Template::compile(&format!("{{{{{TYPED_HELPER} ({expr})}}}}")).ok()?;
    let call = match typed.elements.as_slice() {
        [TemplateElement::Expression(outer)]
            if outer.name == Parameter::Name(TYPED_HELPER.to_owned())
                && outer.hash.is_empty()
                && !outer.block =>
        {
            match outer.params.as_slice() {
                [Parameter::Subexpression(sub)] => match sub.element.as_ref() {
                    TemplateElement::Expression(call)
                        if !call.params.is_empty() || !call.hash.is_empty() =>
                    {
                        (**call).clone()
                    }
                    _ => return None,
                },
                _ => return None,
            }
        }
        _ => return None,
    };
    Some((typed, call))
}

fn path_segments(
    path: &handlebars::Path,
    source: &str,
    span: Span,
) -> Result<Vec<String>, Diagnostic> {
    let unsupported = || {
        Diagnostic::error(
            "E006",
            format!("`<<{source}>>` uses a handlebars path form flowstep does not support"),
            span,
        )
        .with_help(
            "name variables from the top: `<<name>>`, `<<steps.ID.status>>`, `<<secrets.NAME>>`",
        )
    };
    match path {
        handlebars::Path::Relative((segs, _)) => segs
            .iter()
            .map(|s| match s {
                PathSeg::Named(n) => Ok(n.clone()),
                _ => Err(unsupported()),
            })
            .collect(),
        handlebars::Path::Local(_) => Err(unsupported()),
    }
}

fn lookup<'v>(mut value: &'v Value, path: &[String]) -> Option<&'v Value> {
    for seg in path {
        value = match value {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

fn typed_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let param = h
        .param(0)
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex(TYPED_HELPER, 0))?;
    if param.is_value_missing() {
        return Err(RenderError::from(RenderErrorReason::MissingVariable(
            param.relative_path().cloned(),
        )));
    }
    let text = serde_json::to_string(param.value()).map_err(RenderErrorReason::from)?;
    out.write(&text)?;
    Ok(())
}

/// A compiled string value: literal text and `<<expr>>` pieces.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pieces: Vec<Piece>,
    span: Span,
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq)]
struct Expr {
    source: String,
    span: Span,
    kind: ExprKind,
    references: Vec<Reference>,
}

#[derive(Debug, Clone, PartialEq)]
enum ExprKind {
    Path(Vec<String>),
    Literal(Value),
    /// The name of the registered template that renders the value as JSON.
    Helper(String),
}

/// A variable an expression reads, as path segments (`steps`, `create_session`, `status`).
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// The segments.
    pub path: Vec<String>,
    /// The expression that reads it.
    pub span: Span,
    /// Read only if it is there (`default`'s first argument): neither the check nor rendering
    /// reports it undefined, but the secret-placement check (E012) still sees it.
    pub optional: bool,
}

impl Reference {
    /// Whether it reads the whole scope at once (`this`), secrets included where they are
    /// readable.
    pub fn is_whole_scope(&self) -> bool {
        self.path.is_empty()
    }
}

impl Template {
    /// A template that is only literal text.
    pub fn literal(text: impl Into<String>, span: Span) -> Self {
        Template {
            pieces: vec![Piece::Text(text.into())],
            span,
        }
    }

    /// Where the string value was written.
    pub fn span(&self) -> Span {
        self.span
    }

    /// The text, if the template has no expressions.
    pub fn as_literal(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [] => Some(""),
            [Piece::Text(t)] => Some(t),
            _ => None,
        }
    }

    /// Whether the template is exactly one `<<expr>>` with no text around it (a value that
    /// keeps the type of what it reads, and the only form a `when:` may take).
    pub fn is_one_expression(&self) -> bool {
        matches!(self.pieces.as_slice(), [Piece::Expr(_)])
    }

    /// Whether an expression passes a secret through a helper (`<<upper secrets.KEY>>`): what it
    /// renders is then the secret in another form, which a redactor that knows the secret's own
    /// text does not recognise.
    pub fn transforms_secret(&self) -> bool {
        self.pieces.iter().any(|p| match p {
            Piece::Expr(e) => {
                matches!(e.kind, ExprKind::Helper(_))
                    && e.references.iter().any(|r| {
                        r.path
                            .first()
                            .is_some_and(|s| s == "secrets" || s == "this")
                    })
            }
            Piece::Text(_) => false,
        })
    }

    /// Every variable the template reads.
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        self.pieces.iter().flat_map(|p| match p {
            Piece::Expr(e) => e.references.as_slice(),
            Piece::Text(_) => &[],
        })
    }

    /// The source of the template with each expression shown as `<<expr>>` and a literal `<<`
    /// as its escape `\<<`, for dry runs and errors.
    pub fn source(&self) -> String {
        self.pieces
            .iter()
            .enumerate()
            .map(|(i, p)| match p {
                Piece::Text(t) => escape_text(t, i + 1 < self.pieces.len()),
                Piece::Expr(e) => format!("<<{}>>", e.source),
            })
            .collect()
    }
}

/// Literal text written back with its escapes: `\<<` for `<<`, and doubled backslashes where
/// backslashes come right before `<<`, or at the end when an expression follows.
fn escape_text(text: &str, expression_follows: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = rest.find("<<");
        let before = &rest[..next.unwrap_or(rest.len())];
        let slashes = before.len() - before.trim_end_matches('\\').len();
        out.push_str(before);
        if next.is_some() || expression_follows {
            out.push_str(&"\\".repeat(slashes));
        }
        match next {
            Some(at) => {
                out.push_str("\\<<");
                rest = &rest[at + 2..];
            }
            None => return out,
        }
    }
}

/// The variables a template is rendered against, wrapped once for handlebars and held only
/// there: reading is free, and a run changes it in place ([`Scope::value_mut`]) rather than
/// building a new one for each step.
#[derive(Debug, Clone)]
pub struct Scope {
    context: Context,
}

impl Scope {
    /// Wraps a JSON object of variables (`secrets` and `steps` are keys in it).
    pub fn new(value: Value) -> Self {
        Scope {
            context: Context::from(value),
        }
    }

    /// The variables.
    pub fn value(&self) -> &Value {
        self.context.data()
    }

    /// The variables, to change in place.
    pub fn value_mut(&mut self) -> &mut Value {
        self.context.data_mut()
    }

    /// The variables, unwrapped.
    pub fn into_value(mut self) -> Value {
        std::mem::take(self.context.data_mut())
    }
}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    /// The expression read a variable that is not set.
    #[error("undefined variable `{name}` in `<<{expr}>>`")]
    Undefined {
        /// The variable, dotted.
        name: String,
        /// The expression.
        expr: String,
        /// Where the expression is.
        span: Span,
    },
    /// The expression reads a secret where secrets are not rendered (anything but an http
    /// step's `auth` and `headers`, or a plugin step's keys).
    #[error(
        "`<<{expr}>>` reads secret `{name}`, but secrets are not readable here: they are rendered only where credentials go (an http step's `auth` and `headers`)"
    )]
    SecretNotReadable {
        /// The secret's name.
        name: String,
        /// The expression.
        expr: String,
        /// Where the expression is.
        span: Span,
    },
    /// A templated mapping key rendered to something that cannot be a key.
    #[error("the key `{key}` {message}")]
    Key {
        /// The key as written.
        key: String,
        /// What it rendered to and why that cannot be a key.
        message: String,
        /// Where the key is.
        span: Span,
    },
    /// A helper failed.
    #[error("`<<{expr}>>` failed: {message}")]
    Helper {
        /// The expression.
        expr: String,
        /// What the helper said.
        message: String,
        /// Where the expression is.
        span: Span,
    },
}

impl TemplateError {
    /// Where the failing expression is.
    pub fn span(&self) -> Span {
        match self {
            TemplateError::Undefined { span, .. }
            | TemplateError::SecretNotReadable { span, .. }
            | TemplateError::Helper { span, .. }
            | TemplateError::Key { span, .. } => *span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn compile(env: &mut TemplateEnv, text: &str) -> Template {
        env.compile(text, Span::new(0, text.len()), text).unwrap()
    }

    /// The shortcut for plain paths reads every one as the handlebars parser does, and
    /// leaves to the parser what is not plain.
    #[test]
    fn a_plain_path_is_read_as_the_parser_reads_it() {
        let env = TemplateEnv::new();
        let plain = [
            "amount_paise",
            "_x",
            "a.b",
            "steps.pay.status",
            "steps.pay.body.0",
            "o.a.1",
            "secrets.STRIPE_SECRET_KEY",
            "A1.b_2.C",
        ];
        for expr in plain {
            let parsed = handlebars::Template::compile(&format!("{{{{{expr}}}}}")).unwrap();
            let [TemplateElement::Expression(e)] = parsed.elements.as_slice() else {
                panic!("{expr}: not one expression");
            };
            let by_parser = match &e.name {
                Parameter::Name(n) => vec![n.clone()],
                Parameter::Path(p) => path_segments(p, expr, Span::new(0, 1)).unwrap(),
                other => panic!("{expr}: {other:?}"),
            };
            assert_eq!(env.plain_path(expr), Some(by_parser), "{expr}");
        }
        // Hyphens (`steps.s.headers.request-id`) are left to the parser too.
        for expr in [
            "this",
            "this.a",
            "../a",
            "@root.a",
            "a/b",
            "true",
            "null",
            "1",
            "a.",
            ".a",
            "a..b",
            "eq a b",
            "now",
            "a.[b c]",
            "a-b",
            "steps.s.headers.request-id",
            "ä",
            "a.else",
        ] {
            assert_eq!(env.plain_path(expr), None, "{expr}");
        }
    }

    /// A helper call read from inside the typed template is the call the parser reads alone,
    /// and what is not one call with arguments is left to the parser.
    #[test]
    fn a_helper_call_is_read_from_its_typed_template_as_the_parser_reads_it() {
        for expr in [
            "format_time expires_at \"human\"",
            "from_now (concat expires_in_minutes \"m\")",
            "default requested_expires_at null",
            "eq steps.pay.status \"succeeded\"",
            "round (mul amount 1.5) 2",
            "lookup o key",
            "concat a b sep=\"-\"",
        ] {
            let (_, call) = typed_call(expr).unwrap_or_else(|| panic!("{expr}: not read"));
            let alone = handlebars::Template::compile(&format!("{{{{{expr}}}}}")).unwrap();
            let [TemplateElement::Expression(by_parser)] = alone.elements.as_slice() else {
                panic!("{expr}: not one expression");
            };
            assert_eq!(call.name, by_parser.name, "{expr}");
            assert_eq!(call.params, by_parser.params, "{expr}");
            assert_eq!(call.hash, by_parser.hash, "{expr}");
        }
        for expr in [
            "now", "a", "a.b", "\"text\"", "5", "a) (b", "a b) (c", "#if a", "a}} {{b", "", "else",
            "(a b)",
        ] {
            assert!(typed_call(expr).is_none(), "{expr}");
        }
    }

    #[test]
    fn exact_expression_keeps_its_type_and_text_makes_a_string() {
        let mut env = TemplateEnv::new();
        let scope = Scope::new(json!({"n": 50000, "ok": true, "o": {"a": [1, 2]}, "s": "x"}));
        let t = compile(&mut env, "<<n>>");
        assert_eq!(env.render(&t, &scope).unwrap(), json!(50000));
        let t = compile(&mut env, "<< o >>");
        assert_eq!(env.render(&t, &scope).unwrap(), json!({"a": [1, 2]}));
        let t = compile(&mut env, "<<o.a.1>>");
        assert_eq!(env.render(&t, &scope).unwrap(), json!(2));
        let t = compile(&mut env, "Rs <<n>> ok=<<ok>>");
        assert_eq!(env.render(&t, &scope).unwrap(), json!("Rs 50000 ok=true"));
        let t = compile(&mut env, "<<eq s \"x\">>");
        assert_eq!(env.render(&t, &scope).unwrap(), json!(true));
    }

    #[test]
    fn literal_braces_and_backslashes_pass_through() {
        let mut env = TemplateEnv::new();
        let scope = Scope::new(json!({"x": "{{y}}"}));
        let t = compile(&mut env, r"{{not a template}} \n \\<<x>> }} \<<x>>");
        assert_eq!(
            env.render(&t, &scope).unwrap(),
            json!(r"{{not a template}} \n \{{y}} }} <<x>>")
        );
    }

    #[test]
    fn a_backslash_escapes_a_literal_open() {
        let mut env = TemplateEnv::new();
        let scope = Scope::new(json!({"n": 5}));
        let t = compile(
            &mut env,
            r"Price \<< 500 >> only, cout \<< <<n>> \<< \\<<n>> \\\<<",
        );
        assert_eq!(
            env.render(&t, &scope).unwrap(),
            json!(r"Price << 500 >> only, cout << 5 << \5 \<<")
        );
        assert_eq!(
            t.source(),
            r"Price \<< 500 >> only, cout \<< <<n>> \<< \\<<n>> \\\<<"
        );
        let t = compile(&mut env, r"\<<");
        assert_eq!(t.as_literal(), Some("<<"));
        let e = env
            .compile("a << b", Span::new(0, 6), "a << b")
            .unwrap_err();
        assert_eq!(
            e[0].help.as_deref(),
            Some(
                r#"close the expression with `>>`, or write `\<<` for a literal `<<` (inside double quotes, YAML needs `\\<<`)"#
            )
        );
    }

    #[test]
    fn undefined_variables_are_errors_naming_the_variable() {
        let mut env = TemplateEnv::new();
        let scope = Scope::new(json!({"a": 1}));
        let t = compile(&mut env, "x <<missing>>");
        let e = env.render(&t, &scope).unwrap_err();
        assert_eq!(
            e.to_string(),
            "undefined variable `missing` in `<<missing>>`"
        );
        let t = compile(&mut env, "<<eq nope 1>>");
        let e = env.render(&t, &scope).unwrap_err();
        assert_eq!(
            e.to_string(),
            "undefined variable `nope` in `<<eq nope 1>>`"
        );
    }

    #[test]
    fn syntax_errors_and_unknown_helpers_are_diagnostics() {
        let mut env = TemplateEnv::new();
        let e = env.compile("a <<b", Span::new(0, 5), "a <<b").unwrap_err();
        assert_eq!(e[0].message, "unclosed `<<` in template");
        assert_eq!(e[0].span, Span::new(2, 4));
        let e = env
            .compile("<<eqq a b>>", Span::new(0, 11), "<<eqq a b>>")
            .unwrap_err();
        assert_eq!(e[0].message, "unknown helper `eqq` in `<<eqq a b>>`");
        assert_eq!(e[0].help.as_deref(), Some("did you mean `eq`?"));
    }

    #[test]
    fn paths_that_climb_to_the_root_are_refused() {
        let mut env = TemplateEnv::new();
        for source in [
            "<<@root.secrets.K>>",
            "<<json @root>>",
            r#"<<lookup ../secrets "K">>"#,
        ] {
            let e = env
                .compile(source, Span::new(0, source.len()), source)
                .unwrap_err();
            assert_eq!(e[0].code, "E006", "{source}");
            assert!(
                e[0].message.contains("path form flowstep does not support"),
                "{source}: {}",
                e[0].message
            );
        }
    }

    #[test]
    fn a_secret_is_not_readable_from_a_scope_without_secrets() {
        let mut env = TemplateEnv::new();
        let scope = Scope::new(json!({"name": "Asha"}));
        let t = compile(&mut env, "Hi <<concat name secrets.K>>");
        assert_eq!(
            env.render(&t, &scope).unwrap_err().to_string(),
            "`<<concat name secrets.K>>` reads secret `K`, but secrets are not readable here: they are rendered only where credentials go (an http step's `auth` and `headers`)"
        );
        // `default` falls back: there is nothing to read.
        let t = compile(&mut env, r#"<<default secrets.K "none">>"#);
        assert_eq!(env.render(&t, &scope).unwrap(), json!("none"));
        let t = compile(&mut env, "<<json this>>");
        assert_eq!(env.render(&t, &scope).unwrap(), json!(r#"{"name":"Asha"}"#));
    }

    #[test]
    fn references_are_collected() {
        let mut env = TemplateEnv::new();
        let t = compile(
            &mut env,
            "<<a>> <<steps.s1.status>> <<eq b (lookup c \"k\")>>",
        );
        let names: Vec<String> = t.references().map(|r| r.path.join(".")).collect();
        assert_eq!(names, ["a", "steps.s1.status", "b", "c"]);
    }
}
