//! `paginate:` of an http step, as data: how the next page is found (a cursor from the body,
//! the `Link` header, or a page or offset number), which part of each page is its items, and
//! how many pages are followed at most.
//!
//! ```yaml
//! paginate:
//!   cursor: { param: starting_after, from: "$.data[-1].id", while: $.has_more }
//!   items: $.data
//!   max_pages: 10
//! ```

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::jsonpath::CompiledPath;
use crate::reader::{MapReader, expected, scalar_text};
use crate::source::{Span, Spanned};
use crate::yaml::Node;

/// Pages followed when `max_pages` is not written.
pub const DEFAULT_MAX_PAGES: u32 = 10;
/// The most pages a step may follow (`max_pages` above it is a check-time error): with
/// Stripe's largest page (`limit: 100`) that is 10,000 items, the most a mapped list holds.
pub const MAX_PAGES: u32 = 100;

/// The keys of `paginate:`.
const KEYS: &[&str] = &["cursor", "link", "page", "offset", "items", "max_pages"];
/// The ways to find the next page, exactly one of which is written.
const STYLES: &[&str] = &["cursor", "link", "page", "offset"];

/// `paginate:`: follow pages until the last one (or the cap), collecting the items of each.
#[derive(Debug, Clone, PartialEq)]
pub struct PaginateSpec {
    /// How the request for the next page is made, and when there is none.
    pub next: NextPage,
    /// The items of one page (`$.data`); a path that is not singular selects them as a list.
    pub items: CompiledPath,
    /// The most pages requested, the first included.
    pub max_pages: u32,
    /// Where `paginate:` is written.
    pub span: Span,
}

/// How the next page is found.
#[derive(Debug, Clone, PartialEq)]
pub enum NextPage {
    /// Stripe's style: the query parameter `param` gets the value `from` selects in the page
    /// (the last item's id), for as long as `while` selects `true` (when written) and `from`
    /// selects something.
    Cursor {
        /// The query parameter (`starting_after`).
        param: Spanned<String>,
        /// Where the cursor is in a page (`$.data[-1].id`).
        from: CompiledPath,
        /// Whether there is a next page (`$.has_more`); without it, until `from` selects
        /// nothing or a page has no items.
        while_: Option<CompiledPath>,
    },
    /// RFC 8288: the URL of the `Link` header entry whose `rel` is this (`next`), for as long
    /// as there is one.
    Link {
        /// The relation (`next`).
        rel: Spanned<String>,
    },
    /// A page number in the query parameter `param`, from `start` up by one, until a page has
    /// no items.
    Page {
        /// The query parameter (`page`).
        param: Spanned<String>,
        /// The first page's number.
        start: u64,
    },
    /// An offset in the query parameter `param`, from `start` up by the items of each page,
    /// until a page has no items.
    Offset {
        /// The query parameter (`offset`).
        param: Spanned<String>,
        /// The first page's offset.
        start: u64,
    },
}

impl NextPage {
    /// `by cursor starting_after`, `by the Link header (rel="next")`, `by page number page`.
    pub fn describe(&self) -> String {
        match self {
            NextPage::Cursor { param, .. } => format!("by cursor `{}`", param.value),
            NextPage::Link { rel } => format!("by the Link header (rel=\"{}\")", rel.value),
            NextPage::Page { param, .. } => format!("by page number `{}`", param.value),
            NextPage::Offset { param, .. } => format!("by offset `{}`", param.value),
        }
    }

    /// The query parameter the style writes, if any.
    pub fn param(&self) -> Option<&Spanned<String>> {
        match self {
            NextPage::Cursor { param, .. }
            | NextPage::Page { param, .. }
            | NextPage::Offset { param, .. } => Some(param),
            NextPage::Link { .. } => None,
        }
    }
}

impl PaginateSpec {
    /// Reads `paginate:`.
    pub fn read(node: &Node, diags: &mut Diagnostics) -> Option<Self> {
        let mut m = MapReader::new(node, "`paginate`", KEYS, diags)?;
        let start = m.start_span();
        let written: Vec<&str> = STYLES
            .iter()
            .copied()
            .filter(|k| m.key_span(k).is_some())
            .collect();
        let mut next = None;
        match written.as_slice() {
            [] => diags.push(
                Diagnostic::error(
                    "E003",
                    "`paginate` needs one of `cursor`, `link`, `page` and `offset`",
                    start,
                )
                .with_help(
                    "`cursor: {param: starting_after, from: \"$.data[-1].id\", while: \
                     $.has_more}` (Stripe), `link: next` (a `Link` header), `page: page` or \
                     `offset: offset` (numbers, until a page is empty)",
                ),
            ),
            [one] => {
                let n = m.get(one).expect("the key is written");
                next = match *one {
                    "cursor" => read_cursor(n, diags),
                    "link" => match scalar_text(n, "`paginate.link`", diags) {
                        // RFC 8288 relation types are tokens: no space, never empty.
                        Some(rel)
                            if rel.value.is_empty() || rel.value.contains(char::is_whitespace) =>
                        {
                            diags.push(
                                Diagnostic::error(
                                    "E010",
                                    if rel.value.is_empty() {
                                        "`paginate.link` is empty: it names the link relation to follow".to_owned()
                                    } else {
                                        format!("`{}` is not a link relation (relations hold no spaces)", rel.value)
                                    },
                                    rel.span,
                                )
                                .with_help("write the `rel` of the Link entry to follow, usually `link: next`"),
                            );
                            None
                        }
                        rel => rel.map(|rel| NextPage::Link { rel }),
                    },
                    "page" => read_number(n, "page", 1, diags)
                        .map(|(param, start)| NextPage::Page { param, start }),
                    _ => read_number(n, "offset", 0, diags)
                        .map(|(param, start)| NextPage::Offset { param, start }),
                };
            }
            [first, second, ..] => {
                // Read, so that neither is also reported as an unknown key.
                for k in &written {
                    m.get(k);
                }
                let at = m.key_span(second).unwrap_or(start);
                diags.push(
                    Diagnostic::error(
                        "E010",
                        format!("`paginate` has both `{first}` and `{second}`"),
                        at,
                    )
                    .with_help("a step finds its next page one way: keep one of them"),
                );
            }
        }
        let items = match m.required("items", diags) {
            Some(n) => path(n, "`paginate.items`", diags),
            None => None,
        };
        let max_pages = match m.get("max_pages") {
            None => DEFAULT_MAX_PAGES,
            Some(n) => match n.scalar_value().and_then(|v| v.as_u64()) {
                Some(p) if (1..=u64::from(MAX_PAGES)).contains(&p) => p as u32,
                Some(p) if p > u64::from(MAX_PAGES) => {
                    diags.push(
                        Diagnostic::error(
                            "E010",
                            format!("`max_pages` is {p}; a step follows at most {MAX_PAGES} pages"),
                            n.span,
                        )
                        .with_help(format!(
                            "ask the API for larger pages (Stripe's `limit` goes up to 100), or \
                             split the work across runs; the default is {DEFAULT_MAX_PAGES}"
                        )),
                    );
                    DEFAULT_MAX_PAGES
                }
                _ => {
                    diags.push(Diagnostic::error(
                        "E010",
                        format!("`max_pages` must be a whole number from 1 to {MAX_PAGES}"),
                        n.span,
                    ));
                    DEFAULT_MAX_PAGES
                }
            },
        };
        m.finish(diags);
        Some(PaginateSpec {
            next: next?,
            items: items?,
            max_pages,
            span: node.span,
        })
    }
}

fn path(n: &Node, what: &str, diags: &mut Diagnostics) -> Option<CompiledPath> {
    let t = scalar_text(n, what, diags)?;
    CompiledPath::compile(&t.value, t.span)
        .map_err(|d| diags.push(d))
        .ok()
}

fn param_name(n: &Node, what: &str, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    let t = scalar_text(n, what, diags)?;
    if t.value.is_empty() || t.value.contains("<<") {
        diags.push(
            Diagnostic::error(
                "E010",
                format!("{what} must be a query parameter name"),
                t.span,
            )
            .with_help("write the name literally, like `starting_after` or `page`"),
        );
        return None;
    }
    Some(t)
}

/// `{param: starting_after, from: "$.data[-1].id", while: $.has_more}`.
fn read_cursor(n: &Node, diags: &mut Diagnostics) -> Option<NextPage> {
    let mut m = MapReader::new(n, "`paginate.cursor`", &["param", "from", "while"], diags)?;
    let param = m
        .required("param", diags)
        .and_then(|n| param_name(n, "`paginate.cursor.param`", diags));
    let from = m
        .required("from", diags)
        .and_then(|n| path(n, "`paginate.cursor.from`", diags));
    let while_ = m
        .get("while")
        .map(|n| path(n, "`paginate.cursor.while`", diags));
    m.finish(diags);
    Some(NextPage::Cursor {
        param: param?,
        from: from?,
        while_: match while_ {
            Some(p) => Some(p?),
            None => None,
        },
    })
}

/// `page: page`, `page: {param: page, start: 1}` (and the same for `offset`).
fn read_number(
    n: &Node,
    key: &str,
    default_start: u64,
    diags: &mut Diagnostics,
) -> Option<(Spanned<String>, u64)> {
    let what = format!("`paginate.{key}`");
    if n.as_map().is_none() {
        if n.is_null() {
            diags.push(expected(n, "a parameter name or a mapping", &what));
            return None;
        }
        return param_name(n, &what, diags).map(|p| (p, default_start));
    }
    let mut m = MapReader::new(n, what.clone(), &["param", "start"], diags)?;
    let param = m
        .required("param", diags)
        .and_then(|n| param_name(n, &format!("{what}.param"), diags));
    let start = match m.get("start") {
        None => default_start,
        Some(s) => match s.scalar_value().and_then(|v| v.as_u64()) {
            Some(v) => v,
            None => {
                diags.push(expected(s, "a whole number", &format!("{what}.start")));
                default_start
            }
        },
    };
    m.finish(diags);
    Some((param?, start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn read(yaml: &str) -> (Option<PaginateSpec>, Vec<(String, String)>) {
        let file = SourceFile::new("t.yaml", yaml);
        let node = crate::yaml::parse(&file).unwrap();
        let mut diags = Diagnostics::default();
        let out = PaginateSpec::read(&node, &mut diags);
        let d = diags
            .sorted()
            .into_iter()
            .map(|d| (d.code.to_owned(), d.message))
            .collect();
        (out, d)
    }

    #[test]
    fn every_style_is_read_with_its_defaults() {
        let (p, d) = read(
            "cursor: {param: starting_after, from: \"$.data[-1].id\", while: $.has_more}\nitems: $.data\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let p = p.unwrap();
        assert_eq!(p.max_pages, DEFAULT_MAX_PAGES);
        assert_eq!(p.next.describe(), "by cursor `starting_after`");
        let (p, _) = read("link: next\nitems: $\nmax_pages: 100\n");
        assert_eq!(p.unwrap().max_pages, 100);
        let (p, _) = read("page: p\nitems: $.results\n");
        assert!(matches!(p.unwrap().next, NextPage::Page { start: 1, .. }));
        let (p, _) = read("offset: {param: skip, start: 5}\nitems: $.results\n");
        assert!(matches!(p.unwrap().next, NextPage::Offset { start: 5, .. }));
    }

    #[test]
    fn mistakes_are_diagnosed() {
        let (_, d) = read("items: $.data\n");
        assert_eq!(
            d[0].1,
            "`paginate` needs one of `cursor`, `link`, `page` and `offset`"
        );
        let (_, d) = read("link: next\npage: page\nitems: $.data\n");
        assert_eq!(d[0].1, "`paginate` has both `link` and `page`");
        let (_, d) = read("link: next\nitems: $.data\nmax_pages: 500\n");
        assert_eq!(
            d,
            [(
                "E010".to_owned(),
                "`max_pages` is 500; a step follows at most 100 pages".to_owned()
            )]
        );
        let (_, d) = read("link: next\nitems: $.data\nmax_pages: 0\n");
        assert_eq!(d[0].1, "`max_pages` must be a whole number from 1 to 100");
        let (_, d) = read("cursor: {param: after}\nitems: data\n");
        let codes: Vec<&str> = d.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(codes, ["E003", "E007"]);
    }
}
