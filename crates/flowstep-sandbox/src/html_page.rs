//! The HTML shell the sandbox's hosted pages share (Stripe checkout, Razorpay payment links):
//! a banner that says no real payment happens, a title and a body, and HTML escaping.

use bytes::Bytes;

use crate::stripe::ApiResponse;

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page with `status`, headed by `banner` (HTML, already escaped) and `title`.
pub(crate) fn page(status: u16, banner: &str, title: &str, body: &str) -> ApiResponse {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · flowstep sandbox</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#222}}\
.banner{{background:#fff3cd;border:1px solid #e0c060;padding:.6rem .8rem;border-radius:6px}}\
table{{width:100%;border-collapse:collapse;margin:1rem 0}}td{{padding:.3rem 0;border-bottom:1px solid #eee}}\
td.r{{text-align:right}}.total{{font-weight:bold}}.amount{{font-size:1.6rem;font-weight:bold}}\
button{{font-size:1.1rem;padding:.6rem 1.4rem;cursor:pointer}}</style>\
</head><body>\n<p class=\"banner\">{banner}</p>\n<h1>{title}</h1>\n{body}\n</body></html>\n"
    );
    ApiResponse {
        status,
        body: Bytes::from(html),
        headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
    }
}
