//! Standard Payment Links: validation of the create body, the `payment_link` entity, and
//! its status changes (pay, cancel, lapse at `expire_by`).
//!
//! Field list, defaults and limits are from Razorpay's "Create a Standard Payment Link"
//! reference and its entity page. Descriptions are Razorpay's where they could be found
//! (the reference's Errors list, live responses quoted in public code); the others are
//! marked as inferred. Where the reference leaves room, the sandbox is stricter: INR only,
//! `notes` values at most 255 characters (the documented error says "greater than 255"
//! although the prose says 256), a reference id used once stays used.

use serde_json::{Map, Value, json};

use super::errors::RzpError;
use crate::api::random_alnum;

/// Where a link's `short_url` points: the sandbox's page for it, `<base>/rzp/i/<code>`,
/// standing in for `https://rzp.io/i/<code>`.
pub(crate) const PAGE: &str = "/rzp/i/";

/// Every body field the Standard Payment Link create endpoint documents.
#[rustfmt::skip]
const KNOWN_FIELDS: &[&str] = &[
    "amount", "currency", "accept_partial", "first_min_partial_amount", "expire_by",
    "reference_id", "description", "customer", "notify", "reminder_enable", "notes",
    "callback_url", "callback_method", "upi_link", "options",
];

/// INR's minimum in paise (₹1.00), from the reference and Razorpay's error text.
const MIN_INR_PAISE: i64 = 100;
/// The largest amount an account takes by default: Rs 5,00,000 per transaction, "can be raised
/// by raising a request with Razorpay Support" (Razorpay's Payment Pages FAQ, quoted in
/// razorpay-php #192). The sandbox account has the default.
const MAX_INR_PAISE: i64 = 50_000_000;
/// `expire_by` must be strictly more than 15 minutes away (reference Errors list; public
/// reports confirm exactly 15 minutes is refused).
const MIN_EXPIRY_SECS: i64 = 15 * 60;
/// "The expire by date cannot exceed more than six months from the date of creation."
/// Six months is taken as 180 days, the shortest reading.
const MAX_EXPIRY_SECS: i64 = 180 * 24 * 60 * 60;
const MAX_REFERENCE_ID: usize = 40;
const MAX_DESCRIPTION: usize = 2048;
const MAX_NOTES: usize = 15;
const MAX_NOTE_VALUE: usize = 255;

/// A stored payment link: the API entity plus the short-url code of its hosted page.
#[derive(Debug, Clone)]
pub(crate) struct PaymentLink {
    object: Value,
    pub(crate) short_code: String,
    /// The key secret of the credentials that created it: its callbacks are signed with it.
    pub(crate) key_secret: String,
}

/// What a successful validation yields, before the entity is built.
pub(crate) struct NewLink {
    pub(crate) reference_id: Option<String>,
    object: Value,
}

impl NewLink {
    /// Builds the stored link; `base_url` is the sandbox's, for `short_url`.
    pub(crate) fn build(mut self, base_url: &str, now: i64, key_secret: String) -> PaymentLink {
        let short_code = random_alnum(7);
        let id = format!("plink_{}", random_alnum(14));
        let obj = self.object.as_object_mut().expect("built as an object");
        obj.insert("created_at".into(), json!(now));
        obj.insert("id".into(), json!(id));
        obj.insert(
            "short_url".into(),
            json!(format!("{base_url}{PAGE}{short_code}")),
        );
        obj.insert("updated_at".into(), json!(now));
        sort_keys(obj);
        PaymentLink {
            object: self.object,
            short_code,
            key_secret,
        }
    }
}

/// Razorpay lists entity fields alphabetically (as its reference samples show).
fn sort_keys(obj: &mut Map<String, Value>) {
    let mut entries: Vec<_> = std::mem::take(obj).into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    obj.extend(entries);
}

impl PaymentLink {
    pub(crate) fn id(&self) -> &str {
        self.object["id"].as_str().unwrap_or_default()
    }

    pub(crate) fn status(&self) -> &str {
        self.object["status"].as_str().unwrap_or_default()
    }

    pub(crate) fn amount(&self) -> i64 {
        self.object["amount"].as_i64().unwrap_or_default()
    }

    pub(crate) fn currency(&self) -> &str {
        self.object["currency"].as_str().unwrap_or_default()
    }

    pub(crate) fn description(&self) -> &str {
        self.object["description"].as_str().unwrap_or_default()
    }

    pub(crate) fn reference_id(&self) -> Option<&str> {
        self.object["reference_id"].as_str()
    }

    /// Where Razorpay sends the browser after a payment: `callback_url` with the
    /// `razorpay_*` parameters, signed with the API key secret (facts file).
    pub(crate) fn callback_redirect(&self, callback_url: &str, key_secret: &str) -> String {
        let callback = flowstep_webhook_signature::razorpay_callback::Callback {
            payment_link_id: self.id().to_string(),
            reference_id: self.reference_id().unwrap_or_default().to_string(),
            status: self.status().to_string(),
            payment_id: self.object["payments"][0]["payment_id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        };
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(callback.query_pairs(key_secret))
            .finish();
        let sep = if callback_url.contains('?') { '&' } else { '?' };
        format!("{callback_url}{sep}{query}")
    }

    pub(crate) fn callback_url(&self) -> Option<&str> {
        self.object["callback_url"]
            .as_str()
            .filter(|u| !u.is_empty())
    }

    /// A link still `created` at its `expire_by` has expired.
    pub(crate) fn refresh(&mut self, now: i64) {
        let expire_by = self.object["expire_by"].as_i64().unwrap_or_default();
        if self.status() == "created" && expire_by > 0 && now >= expire_by {
            self.object["status"] = json!("expired");
            self.object["expired_at"] = json!(expire_by);
            self.object["updated_at"] = json!(expire_by);
        }
    }

    /// The entity as of `now`.
    pub(crate) fn snapshot(&mut self, now: i64) -> Value {
        self.refresh(now);
        self.object.clone()
    }

    /// `POST /v1/payment_links/{id}/cancel`.
    pub(crate) fn cancel(&mut self, now: i64) -> Result<Value, RzpError> {
        self.refresh(now);
        match self.status() {
            "created" => {
                self.object["status"] = json!("cancelled");
                self.object["cancelled_at"] = json!(now);
                self.object["updated_at"] = json!(now);
                Ok(self.object.clone())
            }
            // Quoted in public client tests written against Razorpay's answers.
            "paid" | "partially_paid" => Err(RzpError::bad_request(
                "cannot cancel or expire an already paid/partially paid link",
            )),
            // Inferred wording, by analogy with the paid case.
            other => Err(RzpError::bad_request(format!(
                "cannot cancel an already {other} link"
            ))),
        }
    }

    /// The sandbox page's pay button: the link is paid in full as if by UPI. Returns
    /// whether it changed.
    pub(crate) fn pay(&mut self, now: i64) -> bool {
        self.refresh(now);
        if self.status() != "created" {
            return false;
        }
        let amount = self.amount();
        let payment = json!({
            "amount": amount,
            "created_at": now,
            "method": "upi",
            "payment_id": format!("pay_{}", random_alnum(14)),
            "plink_id": self.id(),
            "status": "captured",
            "updated_at": now,
        });
        self.object["amount_paid"] = json!(amount);
        self.object["payments"] = json!([payment]);
        self.object["status"] = json!("paid");
        self.object["updated_at"] = json!(now);
        true
    }
}

fn is_integer(v: &Value) -> bool {
    v.as_i64().is_some()
}

/// Laravel's wording for a boolean rule, which Razorpay's validators use (inferred for
/// these fields: the Payment Links service's exact text is not documented).
fn boolean(v: &Value, field: &str) -> Result<bool, RzpError> {
    v.as_bool().ok_or_else(|| {
        RzpError::field(
            format!(
                "The {} field must be true or false.",
                field.replace(['_', '.'], " ")
            ),
            field,
        )
    })
}

/// A string field, or an inferred "must be a string." error.
fn string<'a>(v: &'a Value, field: &str) -> Result<&'a str, RzpError> {
    v.as_str().ok_or_else(|| {
        RzpError::field(
            format!("The {} must be a string.", field.replace(['_', '.'], " ")),
            field,
        )
    })
}

fn object<'a>(v: &'a Value, field: &str) -> Result<&'a Map<String, Value>, RzpError> {
    v.as_object().ok_or_else(|| {
        // Inferred wording.
        RzpError::field(format!("The {field} must be an object."), field)
    })
}

/// Razorpay's answer for a field it does not take (the error index's `extra_field_sent`).
fn extra_field(field: &str) -> RzpError {
    RzpError::field(
        format!("{field} is/are not required and should not be sent"),
        field,
    )
}

/// Validates a create body (already parsed as a JSON object). Uniqueness of
/// `reference_id` is checked by the caller, which holds the account's links.
pub(crate) fn validate(body: &Map<String, Value>, now: i64) -> Result<NewLink, RzpError> {
    if let Some(k) = body.keys().find(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
        return Err(extra_field(k));
    }
    if let Some(v) = body.get("upi_link")
        && boolean(v, "upi_link")?
    {
        // The reference's Errors list, verbatim: the sandbox plays test mode.
        return Err(RzpError::field(
            "UPI Payment Links is not supported in Test Mode. Please experience the product in Live Mode.",
            "upi_link",
        ));
    }

    // amount: "The {input field} is required" (reference Errors list, as Laravel words it).
    let amount_v = body
        .get("amount")
        .filter(|v| !v.is_null())
        .ok_or_else(|| RzpError::field("The amount field is required.", "amount"))?;
    if !is_integer(amount_v) {
        // Razorpay's text (its error index, for the same rule on orders).
        return Err(RzpError::field("The amount must be an integer.", "amount"));
    }
    let amount = amount_v.as_i64().unwrap_or_default();

    let currency = match body.get("currency") {
        None | Some(Value::Null) => "INR".to_string(),
        Some(v) => string(v, "currency")?.to_string(),
    };
    if currency != "INR" {
        // Inferred wording. The sandbox account is an Indian test account without
        // international payments, so only INR is taken (stricter than an account that has
        // them enabled).
        return Err(RzpError::field(
            format!("Currency {currency} is not supported"),
            "currency",
        ));
    }
    if amount < MIN_INR_PAISE {
        // Razorpay's text, quoted in many public reports (no final period).
        return Err(RzpError::field(
            "The amount must be atleast INR 1.00",
            "amount",
        ));
    }
    if amount > MAX_INR_PAISE {
        // Razorpay's text for a payment link over the account's limit, as razorpay-node #431
        // quotes the 400 (lower-case first letter, final period).
        return Err(RzpError::field(
            "amount exceeds maximum amount allowed.",
            "amount",
        ));
    }

    let accept_partial = match body.get("accept_partial") {
        None | Some(Value::Null) => false,
        Some(v) => boolean(v, "accept_partial")?,
    };
    let first_min_partial_amount = match body.get("first_min_partial_amount") {
        None | Some(Value::Null) => 0,
        Some(v) => {
            if !is_integer(v) {
                return Err(RzpError::field(
                    "The first min partial amount must be an integer.",
                    "first_min_partial_amount",
                ));
            }
            let min = v.as_i64().unwrap_or_default();
            // The reference: "Must be passed along with accept_partial". Wordings inferred.
            if !accept_partial {
                return Err(RzpError::field(
                    "first_min_partial_amount can be passed only when accept_partial is true",
                    "first_min_partial_amount",
                ));
            }
            if !(MIN_INR_PAISE..=amount).contains(&min) {
                return Err(RzpError::field(
                    format!(
                        "first_min_partial_amount must be between {MIN_INR_PAISE} and the amount ({amount})"
                    ),
                    "first_min_partial_amount",
                ));
            }
            min
        }
    };

    let expire_by = match body.get("expire_by") {
        None | Some(Value::Null) => 0,
        Some(v) => {
            if !is_integer(v) {
                // Inferred wording.
                return Err(RzpError::field(
                    "The expire by must be an integer.",
                    "expire_by",
                ));
            }
            let at = v.as_i64().unwrap_or_default();
            if at <= now + MIN_EXPIRY_SECS {
                // Razorpay's text as live responses quote it (the reference's Errors list
                // gives it without the "expire_by: " prefix).
                return Err(RzpError::field(
                    "expire_by: timestamp must be atleast 15 minutes in future",
                    "expire_by",
                ));
            }
            if at > now + MAX_EXPIRY_SECS {
                // Inferred wording for the reference's six-month limit.
                return Err(RzpError::field(
                    "expire_by: timestamp cannot be more than 6 months in future",
                    "expire_by",
                ));
            }
            at
        }
    };

    let reference_id = match body.get("reference_id") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let r = string(v, "reference_id")?;
            if r.chars().count() > MAX_REFERENCE_ID {
                // Laravel's max wording (inferred for this field).
                return Err(RzpError::field(
                    format!(
                        "The reference id may not be greater than {MAX_REFERENCE_ID} characters."
                    ),
                    "reference_id",
                ));
            }
            Some(r.to_string())
        }
    };

    let description = match body.get("description") {
        None | Some(Value::Null) => String::new(),
        Some(v) => {
            let d = string(v, "description")?;
            if d.chars().count() > MAX_DESCRIPTION {
                return Err(RzpError::field(
                    format!(
                        "The description may not be greater than {MAX_DESCRIPTION} characters."
                    ),
                    "description",
                ));
            }
            d.to_string()
        }
    };

    let customer = match body.get("customer") {
        None | Some(Value::Null) => Map::new(),
        Some(v) => validate_customer(object(v, "customer")?)?,
    };

    let mut notify = Map::new();
    notify.insert("email".into(), json!(false));
    notify.insert("sms".into(), json!(false));
    if let Some(v) = body.get("notify").filter(|v| !v.is_null()) {
        for (k, flag) in object(v, "notify")? {
            let field = format!("notify.{k}");
            if k != "sms" && k != "email" {
                return Err(extra_field(&field));
            }
            notify.insert(k.clone(), json!(boolean(flag, &field)?));
        }
    }

    let reminder_enable = match body.get("reminder_enable") {
        None | Some(Value::Null) => false,
        Some(v) => boolean(v, "reminder_enable")?,
    };

    let notes = match body.get("notes") {
        None | Some(Value::Null) => Value::Null,
        Some(v) => validate_notes(v)?,
    };

    let callback_url = match body.get("callback_url") {
        None | Some(Value::Null) => String::new(),
        Some(v) => {
            let u = string(v, "callback_url")?;
            if !is_http_url(u) {
                // The reference: "it should contain a URL". Wording inferred.
                return Err(RzpError::field(
                    "The callback url format is invalid.",
                    "callback_url",
                ));
            }
            u.to_string()
        }
    };
    let callback_method = match body.get("callback_method") {
        None | Some(Value::Null) => String::new(),
        Some(v) => string(v, "callback_method")?.to_string(),
    };
    if !callback_url.is_empty() && callback_method.is_empty() {
        // The reference: "If callback_url parameter is passed, callback_method must be
        // passed with the value get." Wording inferred.
        return Err(RzpError::field(
            "The callback method field is required when callback url is present.",
            "callback_method",
        ));
    }
    if !callback_method.is_empty() && callback_method != "get" {
        return Err(RzpError::field(
            "The selected callback method is invalid.",
            "callback_method",
        ));
    }
    if let Some(v) = body.get("options").filter(|v| !v.is_null()) {
        // Hosted-page customisations: accepted as given, not modelled.
        object(v, "options")?;
    }

    let object = json!({
        "accept_partial": accept_partial,
        "amount": amount,
        "amount_paid": 0,
        "callback_method": callback_method,
        "callback_url": callback_url,
        "cancelled_at": 0,
        "currency": currency,
        "customer": customer,
        "description": description,
        "expire_by": expire_by,
        "expired_at": 0,
        "first_min_partial_amount": first_min_partial_amount,
        "notes": notes,
        "notify": notify,
        // The entity reference: null until a payment is captured.
        "payments": null,
        "reference_id": reference_id.clone().unwrap_or_default(),
        "reminder_enable": reminder_enable,
        "reminders": [],
        "status": "created",
        "upi_link": false,
        // A test-mode key, not a dashboard user, created it: the reference samples show "".
        "user_id": "",
    });
    Ok(NewLink {
        reference_id,
        object,
    })
}

fn validate_customer(c: &Map<String, Value>) -> Result<Map<String, Value>, RzpError> {
    let mut out = Map::new();
    for (k, v) in c {
        let field = format!("customer.{k}");
        if !["name", "email", "contact"].contains(&k.as_str()) {
            return Err(extra_field(&field));
        }
        if v.is_null() {
            continue;
        }
        let s = string(v, &field)?;
        if k == "email" && !looks_like_email(s) {
            // Laravel's email wording (inferred for this field).
            return Err(RzpError::field(
                "The customer.email must be a valid email address.",
                &field,
            ));
        }
        out.insert(k.clone(), json!(s));
    }
    // Alphabetical, as in the entity samples (contact, email, name).
    sort_keys(&mut out);
    Ok(out)
}

fn validate_notes(v: &Value) -> Result<Value, RzpError> {
    let notes = object(v, "notes")?;
    if notes.len() > MAX_NOTES {
        // Inferred wording (public client code matches on it).
        return Err(RzpError::field(
            format!("notes may contain a maximum of {MAX_NOTES} key-value pairs"),
            "notes",
        ));
    }
    for (k, value) in notes {
        let text = match value {
            Value::String(s) => s.chars().count(),
            Value::Number(n) => n.to_string().len(),
            _ => {
                return Err(RzpError::field(
                    format!("The notes.{k} must be a string."),
                    "notes",
                ));
            }
        };
        if text > MAX_NOTE_VALUE {
            // The reference's Errors list, verbatim.
            return Err(RzpError::field(
                "value: the length must not be greater than 255.",
                "notes",
            ));
        }
    }
    Ok(v.clone())
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !s.contains(' ')
        }
        None => false,
    }
}

fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn defaults_match_the_reference() {
        let link = validate(&body(json!({"amount": 1000})), 1_700_000_000)
            .unwrap()
            .build(
                "http://127.0.0.1:1",
                1_700_000_000,
                crate::razorpay::SANDBOX_RAZORPAY_KEY_SECRET.into(),
            );
        let mut link = link;
        let v = link.snapshot(1_700_000_000);
        assert_eq!(v["currency"], "INR");
        assert_eq!(v["status"], "created");
        assert_eq!(v["accept_partial"], false);
        assert_eq!(v["notes"], Value::Null);
        assert_eq!(v["payments"], Value::Null);
        assert_eq!(v["expire_by"], 0);
        assert!(v["id"].as_str().unwrap().starts_with("plink_"));
        assert_eq!(v["id"].as_str().unwrap().len(), 20);
        assert!(
            v["short_url"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:1/rzp/i/")
        );
        // Alphabetical keys, like the reference samples.
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn expiry_bounds() {
        let now = 1_700_000_000;
        for (at, ok) in [
            (now + 15 * 60, false),
            (now + 15 * 60 + 1, true),
            (now + MAX_EXPIRY_SECS, true),
            (now + MAX_EXPIRY_SECS + 1, false),
        ] {
            let r = validate(&body(json!({"amount": 100, "expire_by": at})), now);
            assert_eq!(r.is_ok(), ok, "{at}");
        }
    }

    #[test]
    fn lapses_then_cannot_be_paid_or_cancelled() {
        let now = 1_700_000_000;
        let mut link = validate(&body(json!({"amount": 100, "expire_by": now + 1000})), now)
            .unwrap()
            .build(
                "http://x",
                now,
                crate::razorpay::SANDBOX_RAZORPAY_KEY_SECRET.into(),
            );
        assert!(!link.pay(now + 1000));
        assert_eq!(link.status(), "expired");
        assert!(link.cancel(now + 1001).is_err());
    }

    #[test]
    fn small_checks() {
        assert!(looks_like_email("gaurav.kumar@example.com"));
        assert!(!looks_like_email("gaurav"));
        assert!(is_http_url("https://example-callback-url.com/"));
        assert!(!is_http_url("example.com"));
        assert!(!is_http_url("https:///x"));
    }
}
