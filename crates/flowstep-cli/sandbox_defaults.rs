//! What `--sandbox` stands in for: the API base URLs it routes to the local sandbox, and the
//! sandbox's test credentials used for secrets (and settings) the user has not set, the
//! webhook signing secrets among them (so that `serve --sandbox` verifies what its sandbox
//! signs).

use flowstep_sandbox::{
    SANDBOX_RAZORPAY_KEY_ID, SANDBOX_RAZORPAY_KEY_SECRET, SANDBOX_RAZORPAY_WEBHOOK_SECRET,
    SANDBOX_SECRET_KEY, SANDBOX_STRIPE_WEBHOOK_SECRET, SANDBOX_WHATSAPP_APP_SECRET,
    SANDBOX_WHATSAPP_PHONE_NUMBER_ID, SANDBOX_WHATSAPP_TOKEN, WebhookSecrets,
};
use flowstep_server::api::{RAZORPAY_SECRET, STRIPE_SECRET, WHATSAPP_SECRET};

/// The real APIs the sandbox serves on one port (each by its own paths), in the order their
/// routes are added.
pub const APIS: &[&str] = &[
    "https://api.stripe.com",
    "https://api.razorpay.com",
    "https://graph.facebook.com",
];

/// A credential the sandbox provides when the variable is unset.
pub struct SandboxValue {
    /// The environment variable (and flow secret) name.
    pub name: &'static str,
    /// The value the sandbox accepts.
    pub value: &'static str,
    /// What it is, for the note on stderr: "the sandbox {what} is used".
    pub what: &'static str,
}

/// The sandbox's credentials by variable name. A user's own value always wins: with a real
/// test key set, `--sandbox` still routes to the sandbox, which then refuses that key exactly
/// as the real API would refuse a wrong one.
pub const DEFAULTS: &[SandboxValue] = &[
    SandboxValue {
        name: "STRIPE_SECRET_KEY",
        value: SANDBOX_SECRET_KEY,
        what: "test key",
    },
    SandboxValue {
        name: "RAZORPAY_KEY_ID",
        value: SANDBOX_RAZORPAY_KEY_ID,
        what: "test key id",
    },
    SandboxValue {
        name: "RAZORPAY_KEY_SECRET",
        value: SANDBOX_RAZORPAY_KEY_SECRET,
        what: "test key secret",
    },
    SandboxValue {
        name: "WHATSAPP_TOKEN",
        value: SANDBOX_WHATSAPP_TOKEN,
        what: "access token",
    },
    SandboxValue {
        name: "WHATSAPP_PHONE_NUMBER_ID",
        value: SANDBOX_WHATSAPP_PHONE_NUMBER_ID,
        what: "phone number id",
    },
    SandboxValue {
        name: STRIPE_SECRET,
        value: SANDBOX_STRIPE_WEBHOOK_SECRET,
        what: "webhook signing secret",
    },
    SandboxValue {
        name: RAZORPAY_SECRET,
        value: SANDBOX_RAZORPAY_WEBHOOK_SECRET,
        what: "webhook secret",
    },
    SandboxValue {
        name: WHATSAPP_SECRET,
        value: SANDBOX_WHATSAPP_APP_SECRET,
        what: "app secret",
    },
];

/// The secrets the sandbox signs its events with, each read by `read` under the name the
/// server verifies with (`STRIPE_WEBHOOK_SECRET`, `RAZORPAY_WEBHOOK_SECRET`,
/// `WHATSAPP_APP_SECRET`); `read` falls back to the sandbox's own as it sees fit.
pub fn webhook_secrets(read: impl Fn(&'static str) -> String) -> WebhookSecrets {
    WebhookSecrets {
        stripe: read(STRIPE_SECRET),
        razorpay: read(RAZORPAY_SECRET),
        whatsapp: read(WHATSAPP_SECRET),
    }
}

/// The sandbox's value for `name`, if it provides one.
pub fn get(name: &str) -> Option<&'static SandboxValue> {
    DEFAULTS.iter().find(|d| d.name == name)
}

/// One note for the sandbox's values used for variables that are not set:
/// `note: STRIPE_SECRET_KEY and WHATSAPP_TOKEN are not set, so the sandbox's test key and
/// access token are used`.
pub fn notes(used: &[&SandboxValue]) -> String {
    let names: Vec<&str> = used.iter().map(|d| d.name).collect();
    let whats: Vec<&str> = used.iter().map(|d| d.what).collect();
    let verb = if used.len() == 1 { "is" } else { "are" };
    format!(
        "note: {} {verb} not set, so the sandbox's {} {verb} used",
        and_list(&names),
        and_list(&whats)
    )
}

/// `a`, `a and b`, `a, b and c`.
pub fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// An input the sandbox fills, when the flow run has it and it is not given: `path` is the
/// sandbox page it points at.
pub struct SandboxInput {
    /// The input's name.
    pub name: &'static str,
    /// The sandbox's page, under its base URL.
    pub path: &'static str,
}

/// The Stripe preset's pages (and any flow's inputs of these names): the sandbox serves a
/// page for each, so that a trial run needs no site of its own.
pub const INPUTS: &[SandboxInput] = &[
    SandboxInput {
        name: "success_url",
        path: "/c/success?session_id={CHECKOUT_SESSION_ID}",
    },
    SandboxInput {
        name: "cancel_url",
        path: "/c/cancel",
    },
];

/// The inputs of `flow` that the sandbox at `base` fills because `given` does not name them,
/// as (name, value), with one note on stderr naming them.
pub fn fill_inputs(
    flow: &flowstep_spec::Flow,
    given: impl Fn(&str) -> bool,
    base: &str,
) -> Vec<(String, String)> {
    let filled: Vec<(String, String)> = INPUTS
        .iter()
        .filter(|i| flow.inputs.iter().any(|d| d.name.value == i.name) && !given(i.name))
        .map(|i| (i.name.to_owned(), format!("{base}{}", i.path)))
        .collect();
    if !filled.is_empty() {
        let names: Vec<&str> = filled.iter().map(|(n, _)| n.as_str()).collect();
        crate::out::errln!(
            "note: {} not given, so the sandbox's own page{} used",
            and_list(&names),
            if filled.len() == 1 { " is" } else { "s are" }
        );
    }
    filled
}

/// The note printed when the sandbox's value is used.
pub fn note(d: &SandboxValue) -> String {
    format!(
        "note: {} is not set, so the sandbox {} is used",
        d.name, d.what
    )
}
