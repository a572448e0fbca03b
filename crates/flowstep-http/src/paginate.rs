//! Following pages (`paginate:`): the request for each next page (a cursor or a number in the
//! query, or the `Link` header's `rel="next"` URL on the step's own origin), the items of each
//! page collected in order, and when to stop (no next page, an empty page, or `max_pages`).
//! Pure: the step sends each page with its usual retries, rate limit and redaction.

use crate::config::{Route, unroute};
use crate::request::PreparedRequest;
use crate::send::Received;
use crate::url::origin_of;
use flowstep_engine::StepError;
use flowstep_spec::jsonpath::{MAX_SELECTED, SelectError};
use flowstep_spec::steps::{NextPage, PaginateSpec};
use reqwest::Url;
use serde_json::{Map, Value, json};

/// The most bytes of page bodies a step collects items from: a bound on memory, however many
/// pages `max_pages` allows.
pub const MAX_COLLECTED_BYTES: usize = 32 * 1024 * 1024;

/// Why the pages stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The API said there is no next page (or a page was empty).
    Done,
    /// `max_pages` pages were requested and the API had more (or may have).
    Capped,
}

/// The pages of one step run: what was collected so far and where the next page is.
#[derive(Debug)]
pub struct Pager<'s> {
    spec: &'s PaginateSpec,
    items: Vec<Value>,
    /// Each page's URL (as the flow means it) and status, for the record.
    requests: Vec<Value>,
    bytes: usize,
    /// The page number or offset the current page asked for.
    number: u64,
    /// The cursors given so far, or with `link:` the URLs of the pages asked for.
    cursors: Vec<String>,
    stop: Option<Stop>,
}

impl<'s> Pager<'s> {
    /// A pager for `spec`, before the first page.
    pub fn new(spec: &'s PaginateSpec) -> Self {
        let number = match &spec.next {
            NextPage::Page { start, .. } | NextPage::Offset { start, .. } => *start,
            _ => 0,
        };
        Pager {
            spec,
            items: Vec::new(),
            requests: Vec::new(),
            bytes: 0,
            number,
            cursors: Vec::new(),
            stop: None,
        }
    }

    /// The first page's request: the step's own, with the page number or offset set.
    pub fn first(&self, req: &PreparedRequest) -> PreparedRequest {
        let mut first = req.clone();
        if let NextPage::Page { param, .. } | NextPage::Offset { param, .. } = &self.spec.next {
            set_param(&mut first.url, &param.value, &self.number.to_string());
        }
        first
    }

    /// How many pages were requested so far.
    pub fn pages(&self) -> u32 {
        self.requests.len() as u32
    }

    /// Takes in one 2xx page (`req` asked for it) and gives the request for the next one, or
    /// `None` when there is none or the cap is reached. A page that cannot be read (not JSON,
    /// no items where `items` points) fails the step, saying which page.
    pub fn next(
        &mut self,
        req: &PreparedRequest,
        page: &Received,
        json: Option<&Value>,
        routes: &[Route],
    ) -> Result<Option<PreparedRequest>, StepError> {
        self.requests
            .push(json!({"url": req.url.as_str(), "status": page.status}));
        let n = self.pages();
        let fail = |why: String| {
            let mut e = StepError::invalid(format!("page {n}: {why}"));
            e.http_status = Some(page.status);
            e
        };
        let Some(json) = json else {
            return Err(fail(format!(
                "the response is not JSON (content-type {}), so `paginate.items` ({}) cannot \
                 be read",
                page.headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("not given"),
                self.spec.items.source()
            )));
        };
        let found = match self.spec.items.select(json) {
            Ok(Value::Array(items)) => items,
            Ok(other) => {
                return Err(fail(format!(
                    "`paginate.items` ({}) selects {}, not a list of items",
                    self.spec.items.source(),
                    kind(&other)
                )));
            }
            Err(SelectError::NoMatch) => {
                return Err(fail(format!(
                    "`paginate.items` ({}) matched nothing in the page",
                    self.spec.items.source()
                )));
            }
            Err(e) => return Err(fail(format!("`paginate.items`: {e}"))),
        };
        let empty = found.is_empty();
        let count = found.len() as u64;
        self.bytes += page.body.len();
        if self.items.len() + found.len() > MAX_SELECTED || self.bytes > MAX_COLLECTED_BYTES {
            return Err(fail(format!(
                "the pages hold more than {MAX_SELECTED} items or {} MiB, the most a step \
                 collects; lower `max_pages` or ask the API for less",
                MAX_COLLECTED_BYTES / (1024 * 1024)
            )));
        }
        self.items.extend(found);

        let mut next = req.clone();
        let more = match &self.spec.next {
            NextPage::Cursor {
                param,
                from,
                while_,
            } => {
                let has_more = match while_ {
                    Some(w) => matches!(w.select(json), Ok(Value::Bool(true))),
                    None => !empty,
                };
                let cursor = match from.select(json) {
                    Ok(Value::String(s)) if !s.is_empty() => Some(s),
                    Ok(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                match (has_more, cursor) {
                    (false, _) => false,
                    (true, None) if empty => false,
                    (true, None) => {
                        return Err(fail(format!(
                            "the page says there are more, but `paginate.cursor.from` ({}) \
                             selects no cursor (text or a number) in it",
                            from.source()
                        )));
                    }
                    (true, Some(c)) => {
                        // An API that hands back a cursor it gave before would be followed
                        // in a circle until the cap.
                        if self.cursors.contains(&c) {
                            return Err(fail(format!(
                                "the API gave the cursor `{c}` a second time; following it \
                                 would request the same pages again"
                            )));
                        }
                        set_param(&mut next.url, &param.value, &c);
                        self.cursors.push(c);
                        true
                    }
                }
            }
            NextPage::Link { rel } => match next_link(page, &rel.value) {
                None => false,
                Some(link) => {
                    let url = req.url.join(&link).map_err(|_| {
                        fail(format!(
                            "the Link header's rel=\"{}\" URL cannot be read",
                            rel.value
                        ))
                    })?;
                    // A page from a routed server links to the server; seen as the URL the
                    // flow meant, like a redirect.
                    let url = unroute(routes, url.as_str())
                        .and_then(|u| Url::parse(&u).ok())
                        .unwrap_or(url);
                    if origin_of(&url) != origin_of(&req.url) {
                        return Err(fail(format!(
                            "the Link header's next page is on {}, another origin than {}; \
                             pages are followed on the step's own origin only, since each \
                             request carries the step's credentials",
                            origin_of(&url),
                            origin_of(&req.url)
                        )));
                    }
                    next.url = keep_auth_query(url, req);
                    // A Link back to a page already read would go round in a circle until
                    // the cap (`cursors` holds the pages' URLs in this mode).
                    if self.cursors.is_empty() {
                        self.cursors.push(req.url.to_string());
                    }
                    let next_url = next.url.to_string();
                    if self.cursors.contains(&next_url) {
                        return Err(fail(format!(
                            "the Link header's next page is a page already read ({}); \
                             following it would request the same pages again",
                            next.url.path()
                        )));
                    }
                    self.cursors.push(next_url);
                    true
                }
            },
            NextPage::Page { param, .. } => {
                self.number += 1;
                set_param(&mut next.url, &param.value, &self.number.to_string());
                !empty
            }
            NextPage::Offset { param, .. } => {
                self.number += count;
                set_param(&mut next.url, &param.value, &self.number.to_string());
                !empty
            }
        };
        if !more {
            self.stop = Some(Stop::Done);
            return Ok(None);
        }
        if n >= self.spec.max_pages {
            self.stop = Some(Stop::Capped);
            return Ok(None);
        }
        Ok(Some(next))
    }

    /// What the mappings read: `{"items": [...], "pages": 3, "capped": false}`.
    pub fn collected(&self) -> Value {
        json!({
            "items": self.items,
            "pages": self.pages(),
            "capped": self.stop == Some(Stop::Capped),
        })
    }

    /// The step's `pagination` record: how pages were found, how many, whether the cap
    /// stopped it, and each page's URL and status.
    pub fn record(&self) -> Value {
        let mut m = Map::new();
        m.insert("by".into(), json!(self.spec.next.describe()));
        m.insert("max_pages".into(), json!(self.spec.max_pages));
        m.insert("pages".into(), json!(self.pages()));
        m.insert("items".into(), json!(self.items.len()));
        m.insert("capped".into(), json!(self.stop == Some(Stop::Capped)));
        m.insert("requests".into(), Value::Array(self.requests.clone()));
        Value::Object(m)
    }
}

/// What a dry run records of `paginate:`: how pages would be followed, and the cap.
pub fn planned(spec: &PaginateSpec) -> Value {
    json!({"by": spec.next.describe(), "max_pages": spec.max_pages})
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "an object",
        Value::String(_) => "text",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Array(_) => "a list",
    }
}

/// Sets query parameter `name` to `value`: replaces it where it is (every other parameter
/// keeps its bytes), or appends it.
pub fn set_param(url: &mut Url, name: &str, value: &str) {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = format!("{}={}", enc(name), enc(value));
    let mut parts: Vec<String> = Vec::new();
    let mut replaced = false;
    for part in url.query().unwrap_or_default().split('&') {
        if part.is_empty() {
            continue;
        }
        let key = part.split('=').next().unwrap_or_default();
        let decoded: String = form_urlencoded::parse(format!("{key}=").as_bytes())
            .next()
            .map(|(k, _)| k.into_owned())
            .unwrap_or_default();
        if decoded == name {
            if !replaced {
                parts.push(pair.clone());
                replaced = true;
            }
        } else {
            parts.push(part.to_owned());
        }
    }
    if !replaced {
        parts.push(pair);
    }
    url.set_query(Some(&parts.join("&")));
}

/// The next page's URL with the `auth: {type: query}` parameter of `req` when the API's link
/// left it out (links are built from the request the API saw, often without credentials).
fn keep_auth_query(mut url: Url, req: &PreparedRequest) -> Url {
    let Some(name) = &req.credentials.query else {
        return url;
    };
    if url.query_pairs().any(|(k, _)| k == name.as_str()) {
        return url;
    }
    if let Some((_, value)) = req.url.query_pairs().find(|(k, _)| k == name.as_str()) {
        set_param(&mut url, name, &value);
    }
    url
}

/// The target of the first `Link` entry (RFC 8288) whose `rel` holds `rel`, in every `Link`
/// header of the page.
fn next_link(page: &Received, rel: &str) -> Option<String> {
    page.headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| link_with_rel(v, rel))
}

/// `<https://x/?page=2>; rel="next", <https://x/?page=9>; rel="last"` -> the target of the
/// entry whose `rel` (a space-separated list, quoted or not) holds `rel`, in any case.
pub fn link_with_rel(header: &str, rel: &str) -> Option<String> {
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let close = open + rest[open..].find('>')?;
        let target = &rest[open + 1..close];
        rest = &rest[close + 1..];
        // The parameters run to the next entry: a comma outside quotes.
        let mut end = rest.len();
        let mut quoted = false;
        for (i, c) in rest.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let params = &rest[..end];
        rest = &rest[end..];
        let matches = params.split(';').any(|p| {
            let Some((k, v)) = p.split_once('=') else {
                return false;
            };
            k.trim().eq_ignore_ascii_case("rel")
                && v.trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case(rel))
        });
        if matches {
            return Some(target.trim().to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::tests::{flow, prepare_with, spec};
    use flowstep_engine::Redactor;
    use reqwest::header::HeaderMap;

    fn page(body: Value) -> Received {
        Received {
            status: 200,
            headers: HeaderMap::new(),
            body: serde_json::to_vec(&body).unwrap(),
        }
    }

    /// Feeds `pages` to a pager for the step written as `paginate` (YAML under `paginate:`):
    /// the URLs asked for, and how it ended (the collection, or the error).
    fn follow(paginate: &str, pages: &[Value]) -> (Vec<String>, Result<Value, String>) {
        let f = flow(&format!(
            "    url: https://api.example.com/items?limit=2\n    paginate:\n{paginate}\n"
        ));
        let spec = spec(&f).paginate.as_ref().unwrap();
        let req = prepare_with(&f, json!({"n": 1}), &Redactor::new()).unwrap();
        let mut pager = Pager::new(spec);
        let mut current = pager.first(&req);
        let mut urls = Vec::new();
        for body in pages {
            urls.push(current.url.to_string());
            let received = page(body.clone());
            match pager.next(&current, &received, Some(body), &[]) {
                Ok(Some(next)) => current = next,
                Ok(None) => return (urls, Ok(pager.collected())),
                Err(e) => return (urls, Err(e.message)),
            }
        }
        panic!("the pager wanted more than {} pages", pages.len());
    }

    #[test]
    fn a_cursor_given_twice_or_missing_fails_instead_of_going_round() {
        let cursor = "      cursor: { param: after, from: \"$.data[-1].id\", while: $.more }\n      items: $.data";
        let (urls, end) = follow(
            cursor,
            &[
                json!({"data": [{"id": "a"}, {"id": "b"}], "more": true}),
                json!({"data": [{"id": "c"}, {"id": "b"}], "more": true}),
            ],
        );
        assert_eq!(
            urls,
            [
                "https://api.example.com/items?limit=2",
                "https://api.example.com/items?limit=2&after=b"
            ]
        );
        assert_eq!(
            end.unwrap_err(),
            "page 2: the API gave the cursor `b` a second time; following it would request the same pages again"
        );
        let (_, end) = follow(cursor, &[json!({"data": [{"name": "x"}], "more": true})]);
        assert_eq!(
            end.unwrap_err(),
            "page 1: the page says there are more, but `paginate.cursor.from` ($.data[-1].id) selects no cursor (text or a number) in it"
        );
        let (_, end) = follow(cursor, &[json!({"data": {"id": "a"}, "more": false})]);
        assert_eq!(
            end.unwrap_err(),
            "page 1: `paginate.items` ($.data) selects an object, not a list of items"
        );
    }

    #[test]
    fn numbers_and_offsets_count_and_the_cap_says_more_may_be_left() {
        let (urls, end) = follow(
            "      offset: skip\n      items: $.r\n      max_pages: 2",
            &[json!({"r": [1, 2]}), json!({"r": [3, 4]})],
        );
        assert_eq!(
            urls,
            [
                "https://api.example.com/items?limit=2&skip=0",
                "https://api.example.com/items?limit=2&skip=2"
            ]
        );
        assert_eq!(
            end.unwrap(),
            json!({"items": [1, 2, 3, 4], "pages": 2, "capped": true})
        );
        let (urls, end) = follow(
            "      page: { param: p, start: 0 }\n      items: $.r",
            &[json!({"r": [1]}), json!({"r": []})],
        );
        assert_eq!(
            urls.last().unwrap(),
            "https://api.example.com/items?limit=2&p=1"
        );
        assert_eq!(
            end.unwrap(),
            json!({"items": [1], "pages": 2, "capped": false})
        );
    }

    #[test]
    fn link_headers_are_read_as_rfc_8288_writes_them() {
        let h = r#"<https://api.github.com/repos?page=2>; rel="next", <https://api.github.com/repos?page=9>; rel="last""#;
        assert_eq!(
            link_with_rel(h, "next").as_deref(),
            Some("https://api.github.com/repos?page=2")
        );
        assert_eq!(
            link_with_rel(h, "last").as_deref(),
            Some("https://api.github.com/repos?page=9")
        );
        assert_eq!(link_with_rel(h, "prev"), None);
        assert_eq!(
            link_with_rel(r#"</p/3>; title="a, b"; rel="prefetch next""#, "NEXT").as_deref(),
            Some("/p/3")
        );
        assert_eq!(
            link_with_rel("</p/3>; rel=next", "next").as_deref(),
            Some("/p/3")
        );
        assert_eq!(link_with_rel("garbage", "next"), None);
        // Whitespace around the target is not part of it (found by the http_answers fuzz
        // target, whose check first expected the target byte for byte between `<` and `>`).
        assert_eq!(
            link_with_rel("<\t\0/a?x=1>; rel=\"prev next\"", "prev").as_deref(),
            Some("\0/a?x=1")
        );
    }

    #[test]
    fn a_query_parameter_is_replaced_in_place_or_appended() {
        let mut url =
            Url::parse("https://x.example/v1/list?limit=2&expand%5B%5D=a&page=1").unwrap();
        set_param(&mut url, "page", "2");
        assert_eq!(
            url.as_str(),
            "https://x.example/v1/list?limit=2&expand%5B%5D=a&page=2"
        );
        set_param(&mut url, "starting_after", "cs_1&x");
        assert_eq!(
            url.as_str(),
            "https://x.example/v1/list?limit=2&expand%5B%5D=a&page=2&starting_after=cs_1%26x"
        );
        let mut url = Url::parse("https://x.example/").unwrap();
        set_param(&mut url, "offset", "0");
        assert_eq!(url.as_str(), "https://x.example/?offset=0");
    }
}
