//! Checkout Sessions: parameter validation for create, the `checkout.session` object, and
//! its status changes (expire, pay, lapse at `expires_at`).
//!
//! The sandbox models hosted, `mode=payment` sessions with `price_data` line items, which
//! is what flowstep's presets create. Parameters that name objects the sandbox cannot have
//! (`price`, `price_data[product]`, `customer`) are refused the way Stripe refuses unknown
//! ids, so a flow that passes here never relies on something that only exists here.
//! Messages are Stripe's where they could be found (see the comments); the rest are
//! marked as inferred.

use serde_json::{Map, Value, json};

use super::currency;
use super::errors::ApiError;
use super::params::{Node, get};
use crate::api::random_alnum;

/// Every top-level parameter of `POST /v1/checkout/sessions` in Stripe's current API
/// reference. Anything else is `parameter_unknown`.
#[rustfmt::skip]
const KNOWN_PARAMS: &[&str] = &[
    "adaptive_pricing", "after_expiration", "allow_promotion_codes", "automatic_tax",
    "billing_address_collection", "branding_settings", "cancel_url", "client_reference_id",
    "consent_collection", "currency", "custom_fields", "custom_text", "customer",
    "customer_account", "customer_creation", "customer_email", "customer_update", "discounts",
    "excluded_payment_method_types", "expand", "expires_at", "invoice_creation", "line_items",
    "locale", "metadata", "mode", "name_collection", "optional_items", "origin_context",
    "payment_intent_data", "payment_method_collection", "payment_method_configuration",
    "payment_method_data", "payment_method_options", "payment_method_types", "permissions",
    "phone_number_collection", "redirect_on_completion", "return_url",
    "saved_payment_method_options", "setup_intent_data", "shipping_address_collection",
    "shipping_options", "submit_type", "subscription_data", "success_url", "tax_id_collection",
    "ui_mode", "wallet_options",
];

#[rustfmt::skip]
const LINE_ITEM_KEYS: &[&str] = &[
    "adjustable_quantity", "dynamic_tax_rates", "price", "price_data", "quantity", "tax_rates",
];
#[rustfmt::skip]
const PRICE_DATA_KEYS: &[&str] = &[
    "currency", "product", "product_data", "recurring", "tax_behavior", "unit_amount",
    "unit_amount_decimal",
];
#[rustfmt::skip]
const PRODUCT_DATA_KEYS: &[&str] = &[
    "description", "images", "metadata", "name", "tax_code", "unit_label",
];

/// Payment method types Stripe Checkout accepts in `payment_method_types`.
#[rustfmt::skip]
const PAYMENT_METHOD_TYPES: &[&str] = &[
    "acss_debit", "affirm", "afterpay_clearpay", "alipay", "alma", "amazon_pay",
    "au_becs_debit", "bacs_debit", "bancontact", "billie", "blik", "boleto", "card", "cashapp",
    "crypto", "customer_balance", "eps", "fpx", "giropay", "grabpay", "ideal", "kakao_pay",
    "klarna", "konbini", "kr_card", "link", "mobilepay", "multibanco", "naver_pay",
    "nz_bank_account", "oxxo", "p24", "pay_by_bank", "payco", "paynow", "paypal", "pix",
    "promptpay", "revolut_pay", "samsung_pay", "satispay", "sepa_debit", "sofort", "swish",
    "twint", "upi", "us_bank_account", "wechat_pay", "zip",
];

/// Where a session's `url` points: the sandbox's hosted checkout page, `<base>/c/pay/<id>`.
pub(crate) const PAGE: &str = "/c/pay/";

/// Stripe's largest amount: 8 digits (facts file).
const MAX_AMOUNT: i128 = 99_999_999;

/// A line item as the checkout page shows it.
#[derive(Debug, Clone)]
pub(crate) struct LineItem {
    pub(crate) name: String,
    pub(crate) quantity: i128,
    pub(crate) amount_total: i128,
}

/// A stored Checkout Session: the API object plus what the checkout page needs.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    object: Value,
    pub(crate) line_items: Vec<LineItem>,
    /// The session lapsed at its `expires_at` and no `checkout.session.expired` has been
    /// sent for it yet (the sweeper in `expiry` sends it; a lapse is noticed wherever the
    /// session is next read).
    lapsed_unannounced: bool,
}

impl Session {
    pub(crate) fn id(&self) -> &str {
        self.object["id"].as_str().unwrap_or_default()
    }

    pub(crate) fn status(&self) -> &str {
        self.object["status"].as_str().unwrap_or_default()
    }

    pub(crate) fn currency(&self) -> &str {
        self.object["currency"].as_str().unwrap_or_default()
    }

    pub(crate) fn amount_total(&self) -> i128 {
        self.object["amount_total"].as_i64().unwrap_or_default() as i128
    }

    pub(crate) fn created(&self) -> i64 {
        self.object["created"].as_i64().unwrap_or_default()
    }

    pub(crate) fn success_url(&self) -> Option<&str> {
        self.object["success_url"].as_str()
    }

    /// A session still open at its `expires_at` has expired (Stripe expires it then).
    pub(crate) fn refresh(&mut self, now: i64) {
        let expires_at = self.object["expires_at"].as_i64().unwrap_or(i64::MAX);
        if self.status() == "open" && now >= expires_at {
            self.object["status"] = json!("expired");
            self.object["url"] = Value::Null;
            self.lapsed_unannounced = true;
        }
    }

    /// Whether the session lapsed since this was last asked (see `lapsed_unannounced`).
    pub(crate) fn take_lapse(&mut self) -> bool {
        std::mem::take(&mut self.lapsed_unannounced)
    }

    /// The API object as of `now`.
    pub(crate) fn snapshot(&mut self, now: i64) -> Value {
        self.refresh(now);
        self.object.clone()
    }

    /// `POST /v1/checkout/sessions/{id}/expire`.
    pub(crate) fn expire(&mut self, now: i64) -> Result<Value, ApiError> {
        self.refresh(now);
        if self.status() != "open" {
            // Stripe's message, quoted in public issue reports.
            return Err(ApiError::invalid(format!(
                "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of `{}`.",
                self.status()
            )));
        }
        self.object["status"] = json!("expired");
        self.object["url"] = Value::Null;
        Ok(self.object.clone())
    }

    /// The "Pay (sandbox)" button: the session completes as if the customer paid.
    pub(crate) fn pay(&mut self, now: i64) -> bool {
        self.refresh(now);
        if self.status() != "open" {
            return false;
        }
        self.object["status"] = json!("complete");
        self.object["url"] = Value::Null;
        if self.amount_total() == 0 {
            // A no-cost order completes without a payment: `no_payment_required` and no
            // PaymentIntent (https://docs.stripe.com/payments/checkout/no-cost-orders; the
            // API reference's `payment_status` enum).
            self.object["payment_status"] = json!("no_payment_required");
        } else {
            self.object["payment_status"] = json!("paid");
            // Real Stripe creates the PaymentIntent when the customer pays.
            self.object["payment_intent"] = json!(format!("pi_3{}", random_alnum(23)));
        }
        let email = self.object["customer_email"].clone();
        self.object["customer_details"] = json!({
            "address": null,
            "email": email,
            "name": null,
            "phone": null,
            "tax_exempt": "none",
            "tax_ids": [],
        });
        true
    }
}

/// A string parameter; an empty string means "unset" in Stripe's encoding, so it reads as
/// absent. A hash where a string is expected is an error naming the parameter.
fn opt_str<'a>(
    map: &'a [(String, Node)],
    key: &str,
    param: &str,
) -> Result<Option<&'a str>, ApiError> {
    match get(map, key) {
        None => Ok(None),
        Some(Node::Value(v)) if v.is_empty() => Ok(None),
        Some(Node::Value(v)) => Ok(Some(v)),
        // Inference: Stripe's wording for a hash given where a string is expected.
        Some(Node::Map(_)) => Err(ApiError::invalid("Invalid string: {...}").param(param)),
    }
}

fn req_str<'a>(map: &'a [(String, Node)], key: &str, param: &str) -> Result<&'a str, ApiError> {
    opt_str(map, key, param)?.ok_or_else(|| ApiError::missing(param))
}

fn check_unknown(
    map: &[(String, Node)],
    allowed: &[&str],
    prefix: Option<&str>,
) -> Result<(), ApiError> {
    for (k, _) in map {
        if !allowed.contains(&k.as_str()) {
            let name = match prefix {
                Some(p) => format!("{p}[{k}]"),
                None => k.clone(),
            };
            return Err(ApiError::unknown_among(&name, k, allowed));
        }
    }
    Ok(())
}

/// Stripe's integer parsing: optional sign, digits only ("Invalid integer: 19.99").
fn parse_integer(value: &str, param: &str) -> Result<i128, ApiError> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty() || digits.len() > 30 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid_integer(param, value));
    }
    value
        .parse::<i128>()
        .map_err(|_| ApiError::invalid_integer(param, value))
}

/// Inference: Stripe's "Invalid string: ...; must be at most N characters" shape for
/// over-long strings (the exact abbreviation of the value is not documented).
fn too_long(param: &str, value: &str, max: usize) -> ApiError {
    let shown: String = value.chars().take(20).collect();
    ApiError::invalid(format!(
        "Invalid string: {shown}...; must be at most {max} characters"
    ))
    .param(param)
}

/// `Not a valid URL` / `url_invalid` (Stripe's, observed for `success_url`). A URL must be
/// absolute http(s) with a host and no whitespace; `{CHECKOUT_SESSION_ID}` is allowed.
fn check_url(param: &str, url: &str) -> Result<(), ApiError> {
    if url.chars().count() > 5000 {
        // Stripe's message, observed in 2026.
        return Err(
            ApiError::invalid("Invalid URL: URL must be 5000 characters or less.").param(param),
        );
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let host_ok = rest
        .map(|r| {
            let host = r.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !host.starts_with(':')
        })
        .unwrap_or(false);
    if !host_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::invalid("Not a valid URL")
            .code("url_invalid")
            .param(param));
    }
    Ok(())
}

fn parse_bool(map: &[(String, Node)], key: &str) -> Result<Option<bool>, ApiError> {
    match opt_str(map, key, key)? {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        // Stripe's boolean error (same shape as "Invalid integer").
        Some(other) => Err(ApiError::invalid(format!("Invalid boolean: {other}")).param(key)),
    }
}

fn check_enum(
    map: &[(String, Node)],
    key: &str,
    allowed: &[&str],
) -> Result<Option<String>, ApiError> {
    match opt_str(map, key, key)? {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
        Some(_) => Err(enum_error(key, allowed)),
    }
}

/// Stripe's enum error: "Invalid mode: must be one of payment, setup, or subscription".
fn enum_error(param: &str, allowed: &[&str]) -> ApiError {
    let list = match allowed {
        [] => String::new(),
        [one] => one.to_string(),
        [a, b] => format!("{a} or {b}"),
        [init @ .., last] => format!("{}, or {last}", init.join(", ")),
    };
    ApiError::invalid(format!("Invalid {param}: must be one of {list}")).param(param)
}

/// Validates a line item and returns (currency, amount in minor units, item).
fn line_item(
    i: usize,
    node: &Node,
    mode_is_payment: bool,
) -> Result<(String, i128, LineItem), ApiError> {
    let p = format!("line_items[{i}]");
    let item = node.as_map(&p)?;
    check_unknown(item, LINE_ITEM_KEYS, Some(&p))?;
    let price = opt_str(item, "price", &format!("{p}[price]"))?;
    let price_data = get(item, "price_data");
    let price_data = match (price, price_data) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "You may only specify one of these parameters: price, price_data.",
            )
            .code("parameters_exclusive")
            .param(&p));
        }
        (Some(id), None) => {
            // The sandbox has no Price objects, so every id is unknown, as on a fresh
            // Stripe account.
            return Err(ApiError::resource_missing(
                400,
                format!("No such price: '{id}'"),
                &format!("{p}[price]"),
            ));
        }
        // Stripe's message, quoted in public issue reports.
        (None, None) => {
            return Err(ApiError::invalid(
                "You must provide either price or price_data for each line item when using prices.",
            )
            .param(&p));
        }
        (None, Some(pd)) => pd,
    };
    let pdp = format!("{p}[price_data]");
    let pd = price_data.as_map(&pdp)?;
    check_unknown(pd, PRICE_DATA_KEYS, Some(&pdp))?;
    if let Some(product_data) = get(pd, "product_data") {
        let pp = format!("{pdp}[product_data]");
        check_unknown(product_data.as_map(&pp)?, PRODUCT_DATA_KEYS, Some(&pp))?;
    }

    let currency_param = format!("{pdp}[currency]");
    let currency = req_str(pd, "currency", &currency_param)?.to_ascii_lowercase();
    if !currency::is_supported(&currency) {
        // Stripe's message (observed; the list is Stripe's presentment currencies).
        return Err(ApiError::invalid(format!(
            "Invalid currency: {currency}. Stripe currently supports these currencies: {}",
            currency::CURRENCIES.join(", ")
        ))
        .param(&currency_param));
    }

    let product = opt_str(pd, "product", &format!("{pdp}[product]"))?;
    let product_data = get(pd, "product_data");
    let name = match (product, product_data) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "You may only specify one of these parameters: product, product_data.",
            )
            .code("parameters_exclusive")
            .param(&pdp));
        }
        (Some(id), None) => {
            return Err(ApiError::resource_missing(
                400,
                format!("No such product: '{id}'"),
                &format!("{pdp}[product]"),
            ));
        }
        // Inference: with neither, the sandbox names the field a Checkout integration
        // almost always means to send, so the error points at the line to add.
        (None, None) => return Err(ApiError::missing(&format!("{pdp}[product_data][name]"))),
        (None, Some(pd_node)) => {
            let pp = format!("{pdp}[product_data]");
            let map = pd_node.as_map(&pp)?;
            req_str(map, "name", &format!("{pp}[name]"))?.to_string()
        }
    };

    if get(pd, "recurring").is_some() && mode_is_payment {
        // Stripe's message for a recurring price in payment mode.
        return Err(ApiError::invalid(
            "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.",
        )
        .param(format!("{pdp}[recurring]")));
    }

    let ua_param = format!("{pdp}[unit_amount]");
    let uad_param = format!("{pdp}[unit_amount_decimal]");
    let unit_amount = opt_str(pd, "unit_amount", &ua_param)?;
    // `unit_amount=` (empty) is not "unset" here: Stripe answers "Invalid integer: ".
    let unit_amount = match (unit_amount, get(pd, "unit_amount")) {
        (None, Some(Node::Value(_))) => Some(""),
        (u, _) => u,
    };
    let unit_amount_decimal = opt_str(pd, "unit_amount_decimal", &uad_param)?;

    let qp = format!("{p}[quantity]");
    let quantity = match get(item, "quantity") {
        None => {
            // Stripe's message for a price_data line item without quantity (observed in
            // a 2023 report; the param is inferred).
            return Err(ApiError::invalid(format!(
                "Quantity is required. Add `quantity` to `{p}`"
            ))
            .code("parameter_missing")
            .param(&qp));
        }
        Some(Node::Value(v)) => parse_integer(v, &qp)?,
        Some(Node::Map(_)) => return Err(ApiError::invalid_integer(&qp, "{...}")),
    };
    if quantity < 1 {
        // Inference: Stripe's range wording ("This value must be greater than or equal to").
        return Err(
            ApiError::invalid("This value must be greater than or equal to 1.")
                .code("parameter_invalid_integer")
                .param(&qp),
        );
    }

    let amount = match (unit_amount, unit_amount_decimal) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
            )
            .code("parameters_exclusive")
            .param(&pdp));
        }
        (None, None) => return Err(ApiError::missing(&ua_param)),
        (Some(v), None) => {
            let ua = parse_integer(v, &ua_param)?;
            if ua < 0 {
                // Stripe's message (observed for `amount`).
                return Err(ApiError::invalid("Invalid non-negative integer")
                    .code("parameter_invalid_integer")
                    .param(&ua_param));
            }
            if ua > MAX_AMOUNT {
                // Inference: Stripe's range wording; the limit is Stripe's 8 digits.
                return Err(ApiError::invalid(format!(
                    "This value must be less than or equal to {MAX_AMOUNT}."
                ))
                .code("parameter_invalid_integer")
                .param(&ua_param));
            }
            ua.saturating_mul(quantity)
        }
        (None, Some(v)) => decimal_times(v, quantity).ok_or_else(|| {
            // Inference: same shape as "Invalid integer: ...".
            ApiError::invalid(format!("Invalid decimal: {v}")).param(&uad_param)
        })?,
    };
    Ok((
        currency,
        amount,
        LineItem {
            name,
            quantity,
            amount_total: amount,
        },
    ))
}

/// `unit_amount_decimal * quantity`, rounded half up to a whole minor unit, in exact
/// integer arithmetic (at most 12 decimals, as Stripe allows). `None` if not a decimal.
fn decimal_times(value: &str, quantity: i128) -> Option<i128> {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    let ok = |s: &str, max: usize| s.len() <= max && s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !ok(int, 12) || !ok(frac, 12) || (value.contains('.') && frac.is_empty()) {
        return None;
    }
    let scale = 10i128.pow(12);
    let frac_scaled: i128 = format!("{frac:0<12}").parse().ok()?;
    let scaled = int.parse::<i128>().ok()? * scale + frac_scaled;
    let total = scaled.checked_mul(quantity)?;
    Some((total + scale / 2) / scale)
}

/// Validates `POST /v1/checkout/sessions` parameters and builds the session.
pub(crate) fn create(
    params: &[(String, Node)],
    base_url: &str,
    now: i64,
) -> Result<Session, ApiError> {
    check_unknown(params, KNOWN_PARAMS, None)?;

    let mode = req_str(params, "mode", "mode")?;
    match mode {
        "payment" => {}
        "setup" | "subscription" => {
            return Err(ApiError::invalid(format!(
                "The flowstep sandbox only supports `mode=payment` Checkout Sessions; `mode={mode}` is valid on Stripe but not modelled here."
            ))
            .param("mode"));
        }
        _ => return Err(enum_error("mode", &["payment", "setup", "subscription"])),
    }

    let ui_mode = opt_str(params, "ui_mode", "ui_mode")?.unwrap_or("hosted");
    match ui_mode {
        // API version 2026-03-25 renamed the values; both spellings mean the hosted page.
        "hosted" | "hosted_page" => {}
        "embedded" | "custom" | "embedded_page" | "elements" => {
            return Err(ApiError::invalid(format!(
                "The flowstep sandbox only supports the hosted checkout page; `ui_mode={ui_mode}` is valid on Stripe but not modelled here."
            ))
            .param("ui_mode"));
        }
        _ => return Err(enum_error("ui_mode", &["custom", "embedded", "hosted"])),
    }

    let items_node = get(params, "line_items").ok_or_else(|| ApiError::missing("line_items"))?;
    let items = items_node.as_list("line_items")?;
    if items.is_empty() {
        return Err(ApiError::missing("line_items"));
    }
    if items.len() > 100 {
        // Inference: Stripe's limit is 100 line items; the wording is the sandbox's.
        return Err(
            ApiError::invalid("You may only specify up to 100 line items.").param("line_items"),
        );
    }
    let mut currency: Option<String> = None;
    let mut total: i128 = 0;
    let mut line_items = Vec::with_capacity(items.len());
    for (i, node) in items.iter().enumerate() {
        let (cur, amount, item) = line_item(i, node, true)?;
        match &currency {
            None => currency = Some(cur),
            Some(c) if *c != cur => {
                // Inference: Stripe requires one currency per session; wording is ours.
                return Err(ApiError::invalid(format!(
                    "All line items must have the same currency; line_items[{i}] has {cur} but line_items[0] has {c}."
                ))
                .param(format!("line_items[{i}][price_data][currency]")));
            }
            Some(_) => {}
        }
        total = total.saturating_add(amount);
        line_items.push(item);
    }
    let currency = currency.unwrap_or_default();
    if let Some(top) = opt_str(params, "currency", "currency")? {
        let top = top.to_ascii_lowercase();
        if !currency::is_supported(&top) {
            return Err(ApiError::invalid(format!(
                "Invalid currency: {top}. Stripe currently supports these currencies: {}",
                currency::CURRENCIES.join(", ")
            ))
            .param("currency"));
        }
    }

    let success_url = opt_str(params, "success_url", "success_url")?;
    let success_url = success_url.ok_or_else(|| ApiError::missing("success_url"))?;
    check_url("success_url", success_url)?;
    let cancel_url = opt_str(params, "cancel_url", "cancel_url")?;
    if let Some(u) = cancel_url {
        check_url("cancel_url", u)?;
    }
    if opt_str(params, "return_url", "return_url")?.is_some() {
        // Inference: `return_url` belongs to the embedded and custom UI modes.
        return Err(ApiError::invalid(
            "You can only use `return_url` with `ui_mode` set to `embedded` or `custom`; use `success_url` with the hosted page.",
        )
        .param("return_url"));
    }

    let client_reference_id = opt_str(params, "client_reference_id", "client_reference_id")?;
    if let Some(c) = client_reference_id
        && c.chars().count() > 200
    {
        return Err(too_long("client_reference_id", c, 200));
    }

    let customer_email = opt_str(params, "customer_email", "customer_email")?;
    if let Some(e) = customer_email {
        let valid = e.chars().count() <= 800
            && e.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
            && !e.chars().any(char::is_whitespace);
        if !valid {
            return Err(ApiError::invalid(format!("Invalid email address: {e}"))
                .code("email_invalid")
                .param("customer_email"));
        }
    }
    if let Some(c) = opt_str(params, "customer", "customer")? {
        if customer_email.is_some() {
            return Err(ApiError::invalid(
                "You may only specify one of these parameters: customer, customer_email.",
            )
            .code("parameters_exclusive"));
        }
        // The sandbox has no Customer objects (see the module comment).
        return Err(ApiError::resource_missing(
            400,
            format!("No such customer: '{c}'"),
            "customer",
        ));
    }

    let metadata = metadata(params)?;

    let created = now;
    let expires_at = match get(params, "expires_at") {
        None => created + 86_400,
        Some(Node::Value(v)) if v.is_empty() => created + 86_400,
        Some(Node::Value(v)) => {
            let e = parse_integer(v, "expires_at")?;
            // Stripe's messages, quoted in public reports (the lower bound was 60 minutes
            // in 2022 and is 30 minutes now). Both bounds are inclusive: the default is
            // exactly created + 24 hours.
            if e < (created + 1_800) as i128 {
                return Err(ApiError::invalid(
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                )
                .param("expires_at"));
            }
            if e > (created + 86_400) as i128 {
                return Err(ApiError::invalid(
                    "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                )
                .param("expires_at"));
            }
            e as i64
        }
        Some(Node::Map(_)) => return Err(ApiError::invalid_integer("expires_at", "{...}")),
    };

    let payment_method_types = match get(params, "payment_method_types") {
        None => vec!["card".to_string()],
        Some(node) => {
            let list = node.as_list("payment_method_types")?;
            let mut out = Vec::new();
            for (i, n) in list.iter().enumerate() {
                let param = format!("payment_method_types[{i}]");
                match n.as_str() {
                    Some(t) if PAYMENT_METHOD_TYPES.contains(&t) => out.push(t.to_string()),
                    _ => return Err(enum_error(&param, PAYMENT_METHOD_TYPES)),
                }
            }
            if out.is_empty() {
                vec!["card".to_string()]
            } else {
                out
            }
        }
    };
    let billing_address_collection =
        check_enum(params, "billing_address_collection", &["auto", "required"])?;
    let submit_type = check_enum(
        params,
        "submit_type",
        &["auto", "book", "donate", "pay", "subscribe"],
    )?;
    let customer_creation = check_enum(params, "customer_creation", &["always", "if_required"])?;
    let allow_promotion_codes = parse_bool(params, "allow_promotion_codes")?;
    let locale = opt_str(params, "locale", "locale")?;

    // Amount rules on the total (facts file + Stripe's minimum charge table). A total of
    // zero is a no-cost order, which Checkout allows in payment mode since API version
    // 2023-08-16 (https://docs.stripe.com/payments/checkout/no-cost-orders and
    // https://docs.stripe.com/changelog/2023-08-16/no-cost-orders-checkout-session); the
    // minimum applies to a total that is due.
    if let Some(min) = currency::minimum_amount(&currency)
        && total != 0
        && total < min
    {
        // Stripe's message (observed for USD, HKD, HUF; INR by the same pattern).
        return Err(ApiError::invalid(format!(
            "The Checkout Session's total amount due must add up to at least {}",
            currency::stripe_amount(min, &currency)
        )));
    }
    if total > MAX_AMOUNT {
        // Inference: the mirror image of the minimum message, with Stripe's 8-digit limit.
        return Err(ApiError::invalid(format!(
            "The Checkout Session's total amount due must be no more than {}",
            currency::stripe_amount(MAX_AMOUNT, &currency)
        )));
    }
    let divisor = currency::required_divisor(&currency);
    if divisor > 1 && total % divisor != 0 {
        // Inference: facts-file rule, wording ours.
        return Err(ApiError::invalid(format!(
            "Amounts in {currency} must be divisible by {divisor} (in the smallest currency unit)."
        )));
    }

    let id = format!("cs_test_a1{}", random_alnum(56));
    let url = format!("{base_url}{PAGE}{id}#{}", url_fragment());
    let object = json!({
        "id": id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": false},
        "after_expiration": null,
        "allow_promotion_codes": allow_promotion_codes,
        "amount_subtotal": total as i64,
        "amount_total": total as i64,
        "automatic_tax": {"enabled": false, "liability": null, "provider": null, "status": null},
        "billing_address_collection": billing_address_collection,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "client_secret": null,
        "collected_information": null,
        "consent": null,
        "consent_collection": null,
        "created": created,
        "currency": currency,
        "currency_conversion": null,
        "custom_fields": [],
        "custom_text": {
            "after_submit": null,
            "shipping_address": null,
            "submit": null,
            "terms_of_service_acceptance": null
        },
        "customer": null,
        "customer_creation": customer_creation.unwrap_or_else(|| "if_required".to_string()),
        "customer_details": null,
        "customer_email": customer_email,
        "discounts": [],
        "expires_at": expires_at,
    });
    // Split in two because one json! literal this size exceeds the macro recursion limit.
    let rest = json!({
        "invoice": null,
        "invoice_creation": {
            "enabled": false,
            "invoice_data": {
                "account_tax_ids": null,
                "custom_fields": null,
                "description": null,
                "footer": null,
                "issuer": null,
                "metadata": {},
                "rendering_options": null
            }
        },
        "livemode": false,
        "locale": locale,
        "metadata": Value::Object(metadata),
        "mode": "payment",
        "origin_context": null,
        "payment_intent": null,
        "payment_link": null,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": null,
        "payment_method_options": {},
        "payment_method_types": payment_method_types,
        "payment_status": "unpaid",
        "permissions": null,
        "phone_number_collection": {"enabled": false},
        "recovered_from": null,
        "saved_payment_method_options": null,
        "setup_intent": null,
        "shipping_address_collection": null,
        "shipping_cost": null,
        "shipping_options": [],
        "status": "open",
        "submit_type": submit_type,
        "subscription": null,
        "success_url": success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": ui_mode,
        "url": url,
        "wallet_options": null
    });
    let mut object = object;
    if let (Some(o), Value::Object(r)) = (object.as_object_mut(), rest) {
        o.extend(r);
    }
    Ok(Session {
        object,
        line_items,
        lapsed_unannounced: false,
    })
}

/// `metadata[key]=value`: at most 50 keys, keys at most 40 characters, values at most 500
/// (facts file). An empty value unsets the key. Messages are Stripe's, from public reports.
fn metadata(params: &[(String, Node)]) -> Result<Map<String, Value>, ApiError> {
    let mut out = Map::new();
    let Some(node) = get(params, "metadata") else {
        return Ok(out);
    };
    let map = node.as_map("metadata")?;
    for (k, v) in map {
        if k.chars().count() > 40 {
            return Err(ApiError::invalid(format!(
                "Invalid key: {k} must be a string under 40 characters"
            ))
            .param("metadata"));
        }
        let value = match v {
            Node::Value(s) => s,
            Node::Map(_) => {
                return Err(ApiError::invalid(format!(
                    "Invalid val: {{...}} for key {k} must be a string under 500 characters"
                ))
                .param("metadata"));
            }
        };
        if value.chars().count() > 500 {
            return Err(ApiError::invalid(format!(
                "Invalid val: {value} must be a string under 500 characters"
            ))
            .param("metadata"));
        }
        if !value.is_empty() {
            out.insert(k.clone(), json!(value));
        }
    }
    if out.len() > 50 {
        return Err(ApiError::invalid(format!(
            "Metadata can have up to 50 keys, but you've set {}. Email us at support+metadata@stripe.com for more information.",
            out.len()
        ))
        .param("metadata"));
    }
    Ok(out)
}

/// The opaque fragment after `#` in a checkout URL. Real ones are base64 with `+`, `/`
/// and `=` percent-encoded (e.g. `...dic%2FcXdwYHgl`); this one has the same alphabet so a
/// client that mangles `%2F` or drops the fragment is caught in tests.
fn url_fragment() -> String {
    use base64::Engine;
    let bytes: Vec<u8> = (0..90).map(|_| rand::random::<u8>()).collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let body = b64
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    // Make sure every encoded form appears at least once, whatever the random bytes were.
    format!("fidkdWxOYHwnPyd1blpxYHZxWjA0%2BdW%2Fk{body}%3D")
}

#[cfg(test)]
mod tests {
    use super::super::params::build_tree;
    use super::*;
    use crate::api::form_pairs as decode_pairs;

    fn try_create(body: &str) -> Result<Session, ApiError> {
        let tree = build_tree(&decode_pairs(body.as_bytes()))?;
        create(&tree, "http://127.0.0.1:1", 1_700_000_000)
    }

    const GOOD: &str = "mode=payment&line_items[0][price_data][currency]=inr&line_items[0][price_data][product_data][name]=T-shirt&line_items[0][price_data][unit_amount]=50000&line_items[0][quantity]=2&success_url=https://example.com/ok";

    #[test]
    fn good_request() {
        let mut s = try_create(GOOD).unwrap();
        let v = s.snapshot(1_700_000_000);
        assert_eq!(v["amount_total"], 100_000);
        assert_eq!(v["expires_at"], 1_700_086_400i64);
        assert_eq!(v["id"].as_str().unwrap().len(), 66);
        assert!(v["url"].as_str().unwrap().contains("#fid"));
        assert_eq!(v["cancel_url"], Value::Null);
        assert_eq!(v["metadata"], json!({}));
        // Lapses at expires_at.
        assert_eq!(s.snapshot(1_700_086_400)["status"], "expired");
    }

    #[test]
    fn decimal_amounts() {
        assert_eq!(decimal_times("1999.5", 1), Some(2000));
        assert_eq!(decimal_times("0.333333333333", 3), Some(1));
        assert_eq!(decimal_times("12", 2), Some(24));
        assert_eq!(decimal_times("1.", 2), None);
        assert_eq!(decimal_times("-1", 2), None);
        assert_eq!(decimal_times("1e5", 2), None);
    }

    #[test]
    fn errors() {
        let e = try_create(&GOOD.replace("mode=payment&", "")).unwrap_err();
        assert_eq!(e.message, "Missing required param: mode.");
        let e = try_create(&GOOD.replace("mode=payment", "mode=pay")).unwrap_err();
        assert_eq!(
            e.message,
            "Invalid mode: must be one of payment, setup, or subscription"
        );
        let e = try_create(&GOOD.replace("=50000", "=10")).unwrap_err();
        assert_eq!(
            e.message,
            "The Checkout Session's total amount due must add up to at least ₹0.50 inr"
        );
        let e = try_create(&GOOD.replace("=50000", "=24")).unwrap_err();
        assert!(e.message.contains("₹0.50"), "2 x 24 paise is 48: {e:?}");
        assert!(
            try_create(&GOOD.replace("=50000", "=25")).is_ok(),
            "2 x 25 paise is 50"
        );
        let e = try_create(&format!("{GOOD}&metadata[{}]=x", "k".repeat(41))).unwrap_err();
        assert!(e.message.starts_with("Invalid key: "));
        let e = try_create(&format!("{GOOD}&expires_at=1700000100")).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("expires_at"));
        assert!(try_create(&format!("{GOOD}&expires_at=1700001800")).is_ok());
        assert!(try_create(&format!("{GOOD}&expires_at=1700086401")).is_err());
        let e = try_create(&format!("{GOOD}&customer=cus_123")).unwrap_err();
        assert_eq!(e.code, Some("resource_missing"));
        let e = try_create(&GOOD.replace("unit_amount]=50000", "unit_amount]=-5")).unwrap_err();
        assert_eq!(e.message, "Invalid non-negative integer");
        let e =
            try_create(&GOOD.replace("unit_amount]=50000", "unit_amount]=100000000")).unwrap_err();
        assert_eq!(
            e.message,
            "This value must be less than or equal to 99999999."
        );
        let e = try_create(&GOOD.replace("=inr", "=usd&line_items[1][price_data][currency]=inr&line_items[1][price_data][product_data][name]=x&line_items[1][price_data][unit_amount]=100&line_items[1][quantity]=1")).unwrap_err();
        assert!(
            e.message
                .starts_with("All line items must have the same currency")
        );
        let e = try_create(&GOOD.replace("https://example.com/ok", "example.com/ok")).unwrap_err();
        assert_eq!(e.message, "Not a valid URL");
    }
}
