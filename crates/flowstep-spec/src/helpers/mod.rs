//! The helpers `<< >>` expressions may call: one table of names and signatures that both the
//! check-time name and argument-count checks and the handlebars registry are built from, so a
//! helper cannot be callable without being checked, or checked without being callable.
//!
//! Every helper returns a typed JSON value (`<<minor_units amount "inr">>` is an integer), never
//! text: handlebars calls them through `call_inner`, and the template layer serialises the value.

mod arithmetic;
mod compare;
mod money;
mod text;
mod time;
mod values;

use handlebars::{
    Context, Handlebars, Helper, HelperDef, RenderContext, RenderError, RenderErrorReason,
    ScopedJson,
};
use serde_json::Value;

pub use money::{MAX_MINOR_UNITS, minor_units};
pub use time::{format_human, format_iso, parse_ahead};

/// One helper: its name, what its arguments are called, and how many it takes.
#[derive(Debug, Clone, Copy)]
pub struct HelperInfo {
    /// The name expressions call it by.
    pub name: &'static str,
    /// Its arguments as documented (`AMOUNT CURRENCY`); `...` marks "and more".
    pub args: &'static str,
    /// The fewest arguments it takes.
    pub min: usize,
    /// The most it takes; `None` for any number.
    pub max: Option<usize>,
    /// What it does, in a few words.
    pub summary: &'static str,
}

/// Every helper flowstep offers, in the order the docs list them.
pub const HELPERS: &[HelperInfo] = &[
    info(
        "minor_units",
        "AMOUNT CURRENCY",
        2,
        Some(2),
        "a decimal amount in integer minor units",
    ),
    info("add", "A B ...", 2, None, "the exact sum of amounts"),
    info("sub", "A B", 2, Some(2), "A minus B, exactly"),
    info("mul", "A B ...", 2, None, "the exact product of amounts"),
    info(
        "div",
        "A B [DECIMALS]",
        2,
        Some(3),
        "A divided by B, exact or rounded to DECIMALS",
    ),
    info(
        "round",
        "AMOUNT DECIMALS",
        2,
        Some(2),
        "AMOUNT rounded half away from zero",
    ),
    info(
        "sum",
        "LIST [KEY]",
        1,
        Some(2),
        "the exact sum of a list's amounts (or of each item's KEY)",
    ),
    info(
        "default",
        "VALUE FALLBACK",
        2,
        Some(2),
        "VALUE, or FALLBACK when it is undefined or null",
    ),
    info("upper", "TEXT", 1, Some(1), "text in upper case"),
    info("lower", "TEXT", 1, Some(1), "text in lower case"),
    info(
        "trim",
        "TEXT",
        1,
        Some(1),
        "text without leading and trailing white space",
    ),
    info(
        "len",
        "VALUE",
        1,
        Some(1),
        "characters of a string, items of a list or mapping",
    ),
    info("json", "VALUE", 1, Some(1), "a value as JSON text"),
    info("concat", "A B ...", 1, None, "text of the values joined"),
    info("lookup", "VALUE KEY", 2, Some(2), "VALUE's item KEY"),
    info("now", "", 0, Some(0), "the time now, in Unix seconds"),
    info(
        "from_now",
        "DURATION",
        1,
        Some(1),
        "Unix seconds DURATION from now",
    ),
    info(
        "format_time",
        "TS FORMAT",
        2,
        Some(2),
        "Unix seconds as `human` or `iso` text",
    ),
    info("eq", "A B", 2, Some(2), "whether A equals B"),
    info("ne", "A B", 2, Some(2), "whether A differs from B"),
    info("gt", "A B", 2, Some(2), "whether A > B"),
    info("gte", "A B", 2, Some(2), "whether A >= B"),
    info("lt", "A B", 2, Some(2), "whether A < B"),
    info("lte", "A B", 2, Some(2), "whether A <= B"),
    info("and", "A B ...", 2, None, "whether every value is truthy"),
    info("or", "A B ...", 2, None, "whether any value is truthy"),
    info("not", "A", 1, Some(1), "whether A is falsy"),
];

const fn info(
    name: &'static str,
    args: &'static str,
    min: usize,
    max: Option<usize>,
    summary: &'static str,
) -> HelperInfo {
    HelperInfo {
        name,
        args,
        min,
        max,
        summary,
    }
}

/// The helper called `name`.
pub fn find(name: &str) -> Option<&'static HelperInfo> {
    HELPERS.iter().find(|h| h.name == name)
}

/// The names of every helper.
pub fn names() -> impl Iterator<Item = &'static str> {
    HELPERS.iter().map(|h| h.name)
}

impl HelperInfo {
    /// Checks how many arguments a call passes: `None` when the count fits, else the message
    /// ("`minor_units` takes 2 arguments (AMOUNT CURRENCY), found 1").
    pub fn count_error(&self, found: usize) -> Option<String> {
        let fits = found >= self.min && self.max.is_none_or(|max| found <= max);
        if fits {
            return None;
        }
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        let takes = match self.max {
            Some(0) => "takes no arguments".to_owned(),
            Some(max) if max == self.min => {
                format!("takes {max} {} ({})", plural(max), self.args)
            }
            Some(max) => format!("takes {} to {max} arguments ({})", self.min, self.args),
            None => format!(
                "takes at least {} {} ({})",
                self.min,
                plural(self.min),
                self.args
            ),
        };
        Some(format!("`{}` {takes}, found {found}", self.name))
    }

    /// Checks the arguments that are literals in the expression (`Some`), for mistakes that
    /// can be caught before anything runs: an unknown currency, a bad duration or format.
    pub fn literal_error(&self, literals: &[Option<Value>]) -> Option<String> {
        let arg = |i: usize| literals.get(i).and_then(Option::as_ref);
        match self.name {
            "minor_units" => money::check_literals(arg(0), arg(1)),
            "from_now" => arg(0).and_then(|d| time::from_now_value(d, 0).err()),
            "format_time" => arg(1).and_then(|f| time::check_format(f).err()),
            "div" | "round" => {
                let args: Vec<Option<&Value>> = literals.iter().map(Option::as_ref).collect();
                arithmetic::check_literals(self.name, &args)
            }
            _ => None,
        }
    }
}

/// The signature of a helper function: each argument, `None` where the variable is undefined
/// (only `default` ever sees that; strictness is checked before any helper runs).
type HelperFn = fn(&[Option<&Value>]) -> Result<Value, String>;

/// Adapts a [`HelperFn`] to handlebars, returning its value rather than writing text.
struct ValueHelper {
    name: &'static str,
    f: HelperFn,
    /// Whether the function accepts undefined arguments (`default`).
    takes_missing: bool,
}

impl HelperDef for ValueHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let mut args = Vec::with_capacity(h.params().len());
        for p in h.params() {
            if p.is_value_missing() {
                if !self.takes_missing {
                    return Err(
                        RenderErrorReason::MissingVariable(p.relative_path().cloned()).into(),
                    );
                }
                args.push(None);
            } else {
                args.push(Some(p.value()));
            }
        }
        (self.f)(&args).map(ScopedJson::Derived).map_err(|message| {
            RenderErrorReason::Other(format!("`{}`: {message}", self.name)).into()
        })
    }
}

/// Registers flowstep's helpers, replacing handlebars' own `len` (which counts bytes) and its
/// comparisons (which compare `"19.99"` and `"5"` as text).
pub(crate) fn register(hb: &mut Handlebars<'static>) {
    let own: &[(&'static str, HelperFn)] = &[
        ("minor_units", money::minor_units_helper),
        ("add", arithmetic::add),
        ("sub", arithmetic::sub),
        ("mul", arithmetic::mul),
        ("div", arithmetic::div),
        ("round", arithmetic::round),
        ("sum", arithmetic::sum),
        ("upper", text::upper),
        ("lower", text::lower),
        ("trim", text::trim),
        ("concat", text::concat),
        ("len", values::len),
        ("json", values::json),
        ("now", time::now),
        ("from_now", time::from_now),
        ("format_time", time::format_time),
        ("eq", compare::eq),
        ("ne", compare::ne),
        ("gt", compare::gt),
        ("gte", compare::gte),
        ("lt", compare::lt),
        ("lte", compare::lte),
    ];
    for (name, f) in own {
        hb.register_helper(
            name,
            Box::new(ValueHelper {
                name,
                f: *f,
                takes_missing: false,
            }),
        );
    }
    hb.register_helper(
        "default",
        Box::new(ValueHelper {
            name: "default",
            f: values::default,
            takes_missing: true,
        }),
    );
    // `and`, `or`, `not` and `lookup` are handlebars' own: they already return values
    // (booleans by JavaScript truthiness, and the looked-up value).
}

/// A word for a value's kind, for "`upper` takes text, found a number".
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// The argument at `i`; the count was checked when the flow was read.
fn arg<'a>(args: &[Option<&'a Value>], i: usize) -> Result<&'a Value, String> {
    args.get(i)
        .copied()
        .flatten()
        .ok_or_else(|| format!("missing argument {}", i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_counts_are_explained() {
        let m = find("minor_units").unwrap();
        assert_eq!(m.count_error(2), None);
        assert_eq!(
            m.count_error(1).unwrap(),
            "`minor_units` takes 2 arguments (AMOUNT CURRENCY), found 1"
        );
        assert_eq!(
            find("now").unwrap().count_error(1).unwrap(),
            "`now` takes no arguments, found 1"
        );
        assert_eq!(
            find("upper").unwrap().count_error(0).unwrap(),
            "`upper` takes 1 argument (TEXT), found 0"
        );
        assert_eq!(
            find("and").unwrap().count_error(1).unwrap(),
            "`and` takes at least 2 arguments (A B ...), found 1"
        );
        assert_eq!(find("concat").unwrap().count_error(7), None);
    }

    #[test]
    fn every_helper_is_registered() {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        register(&mut hb);
        for name in names() {
            // In strict mode a name that is not a helper is a missing variable.
            let result = hb.render_template(&format!("{{{{{name}}}}}"), &serde_json::json!({}));
            assert!(
                !matches!(&result, Err(e) if matches!(e.reason(), RenderErrorReason::MissingVariable(_))),
                "{name} is listed but not registered: {result:?}"
            );
        }
    }

    /// Helpers called through `<< >>`, as flows call them.
    mod through_templates {
        use crate::source::Span;
        use crate::template::{Scope, TemplateEnv};
        use serde_json::{Value, json};

        fn render(text: &str, vars: Value) -> Result<Value, String> {
            let mut env = TemplateEnv::new();
            let t = env
                .compile(text, Span::new(0, text.len()), text)
                .map_err(|d| d[0].message.clone())?;
            env.render(&t, &Scope::new(vars)).map_err(|e| e.to_string())
        }

        #[test]
        fn helpers_return_typed_values() {
            let vars = json!({"amount": "19.99", "f": 19.99, "currency": "INR", "status": "open",
                              "name": "  asha ", "items": [1, 2], "n": 5});
            assert_eq!(
                render("<<minor_units amount currency>>", vars.clone()),
                Ok(json!(1999))
            );
            assert_eq!(
                render("<<minor_units f \"inr\">>", vars.clone()),
                Ok(json!(1999))
            );
            assert_eq!(
                render("<<minor_units 19.99 \"usd\">>", vars.clone()),
                Ok(json!(1999))
            );
            assert_eq!(
                render("<<eq status \"open\">>", vars.clone()),
                Ok(json!(true))
            );
            assert_eq!(
                render("<<and (eq status \"open\") (gt n 3)>>", vars.clone()),
                Ok(json!(true))
            );
            assert_eq!(render("<<or false 0>>", vars.clone()), Ok(json!(false)));
            assert_eq!(render("<<not (lt n 3)>>", vars.clone()), Ok(json!(true)));
            assert_eq!(
                render("<<upper (trim name)>>", vars.clone()),
                Ok(json!("ASHA"))
            );
            assert_eq!(render("<<len items>>", vars.clone()), Ok(json!(2)));
            assert_eq!(render("<<json items>>", vars.clone()), Ok(json!("[1,2]")));
            assert_eq!(
                render("<<concat \"order-\" n>>", vars.clone()),
                Ok(json!("order-5"))
            );
            assert_eq!(render("<<lookup items 1>>", vars.clone()), Ok(json!(2)));
            assert_eq!(
                render("<<minor_units (mul amount 3) currency>>", vars.clone()),
                Ok(json!(5997))
            );
            assert_eq!(render("<<mul n 2>>", vars.clone()), Ok(json!(10)));
            assert_eq!(
                render("<<sum items>> <<div n 2>>", vars.clone()),
                Ok(json!("3 2.5"))
            );
            assert_eq!(
                render("Rs <<minor_units amount currency>> paise", vars),
                Ok(json!("Rs 1999 paise"))
            );
        }

        #[test]
        fn default_is_the_only_place_an_undefined_variable_is_allowed() {
            let vars = json!({"set": "x", "nothing": null, "steps": {"a": {"status": "failed"}}});
            assert_eq!(
                render("<<default missing \"none\">>", vars.clone()),
                Ok(json!("none"))
            );
            assert_eq!(render("<<default nothing 0>>", vars.clone()), Ok(json!(0)));
            assert_eq!(
                render("<<default set \"none\">>", vars.clone()),
                Ok(json!("x"))
            );
            assert_eq!(
                render("<<default steps.a.outputs.url \"-\">>", vars.clone()),
                Ok(json!("-"))
            );
            // The fallback, and anything inside a subexpression, stay strict.
            assert_eq!(
                render("<<default missing other>>", vars.clone()),
                Err("undefined variable `other` in `<<default missing other>>`".to_owned())
            );
            assert_eq!(
                render("<<default (upper missing) \"x\">>", vars.clone()),
                Err(
                    "undefined variable `missing` in `<<default (upper missing) \"x\">>`"
                        .to_owned()
                )
            );
            assert_eq!(
                render("<<upper missing>>", vars),
                Err("undefined variable `missing` in `<<upper missing>>`".to_owned())
            );
            let mut env = TemplateEnv::new();
            let t = env
                .compile("<<default a b>>", Span::new(0, 15), "<<default a b>>")
                .unwrap();
            // `a` is still a reference, so the secret-placement check sees it, but an optional
            // one, so no check reports it undefined.
            let refs: Vec<(String, bool)> = t
                .references()
                .map(|r| (r.path.join("."), r.optional))
                .collect();
            assert_eq!(refs, [("a".to_owned(), true), ("b".to_owned(), false)]);
        }

        #[test]
        fn helper_failures_name_the_expression_and_the_reason() {
            assert_eq!(
                render("<<minor_units amount \"inr\">>", json!({"amount": "19.999"})),
                Err("`<<minor_units amount \"inr\">>` failed: `minor_units`: 19.999 INR has more than 2 decimals; it would have to be rounded".to_owned())
            );
            assert_eq!(
                render("<<upper n>>", json!({"n": 5})),
                Err("`<<upper n>>` failed: `upper`: upper takes text, found a number".to_owned())
            );
        }

        #[test]
        fn names_counts_and_literals_are_checked_when_compiling() {
            let check = |text: &str| {
                let mut env = TemplateEnv::new();
                env.compile(text, Span::new(0, text.len()), text)
                    .err()
                    .map(|d| (d[0].message.clone(), d[0].help.clone().unwrap_or_default()))
            };
            assert_eq!(
                check("<<minor_units amount>>").unwrap(),
                (
                    "`minor_units` takes 2 arguments (AMOUNT CURRENCY), found 1".to_owned(),
                    "call it as `<<minor_units AMOUNT CURRENCY>>`; see docs/templating.md"
                        .to_owned()
                )
            );
            assert_eq!(
                check("<<now 1>>").unwrap().0,
                "`now` takes no arguments, found 1"
            );
            assert_eq!(
                check("<<eq (upper) 1>>").unwrap().0,
                "`upper` takes 1 argument (TEXT), found 0"
            );
            assert_eq!(
                check("<<minor_units amount \"usdd\">>").unwrap().0,
                "`<<minor_units amount \"usdd\">>` cannot work: unknown currency \"usdd\"; write an ISO code Stripe takes, like \"inr\", \"usd\" or \"eur\""
            );
            assert!(
                check("<<from_now \"1 day\">>")
                    .unwrap()
                    .0
                    .contains("is not a duration")
            );
            assert!(
                check("<<format_time ts \"long\">>")
                    .unwrap()
                    .0
                    .contains("unknown time format")
            );
            assert_eq!(
                check("<<upper x y=1>>").unwrap().0,
                "`upper` takes no `key=value` arguments, found `y=`"
            );
            assert_eq!(check("<<minor_units amount \"INR\">>"), None);
            assert_eq!(check("<<now>>"), None);
            assert_eq!(check("<<and a b c>>"), None);
        }
    }
}
