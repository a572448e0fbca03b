//! The bundled flows from `flows/`, embedded in the binary at build time.
//!
//! ```
//! let preset = flowstep_presets::get("stripe-checkout").unwrap();
//! assert!(preset.source.contains("flow: stripe-checkout"));
//! ```

/// One bundled flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// The name `flowstep run NAME` takes (the file name without `.yaml`).
    pub name: &'static str,
    /// The file under `flows/`.
    pub file: &'static str,
    /// One line saying what it does.
    pub summary: &'static str,
    /// The YAML text.
    pub source: &'static str,
}

/// Every bundled flow, sorted by name.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "razorpay-payment-link",
        file: "flows/razorpay-payment-link.yaml",
        summary: "Create a Razorpay Payment Link and send its short URL on WhatsApp.",
        source: include_str!("../flows/razorpay-payment-link.yaml"),
    },
    Preset {
        name: "razorpay-payment-link-status",
        file: "flows/razorpay-payment-link-status.yaml",
        summary: "Look up a Razorpay Payment Link by reference id and say whether it is paid, open, expired or cancelled.",
        source: include_str!("../flows/razorpay-payment-link-status.yaml"),
    },
    Preset {
        name: "stripe-checkout",
        file: "flows/stripe-checkout.yaml",
        summary: "Create a one-time Stripe Checkout Session and send its URL on WhatsApp.",
        source: include_str!("../flows/stripe-checkout.yaml"),
    },
    Preset {
        name: "stripe-checkout-status",
        file: "flows/stripe-checkout-status.yaml",
        summary: "Look up a Stripe Checkout Session and say whether it is paid, open or expired.",
        source: include_str!("../flows/stripe-checkout-status.yaml"),
    },
    Preset {
        name: "whatsapp-send-template",
        file: "flows/whatsapp-send-template.yaml",
        summary: "Send an approved WhatsApp template message (a payment reminder) through the WhatsApp Cloud API.",
        source: include_str!("../flows/whatsapp-send-template.yaml"),
    },
    Preset {
        name: "whatsapp-send-text",
        file: "flows/whatsapp-send-text.yaml",
        summary: "Send a WhatsApp text message through the WhatsApp Cloud API.",
        source: include_str!("../flows/whatsapp-send-text.yaml"),
    },
];

/// The preset called `name`.
pub fn get(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The names of every preset.
pub fn names() -> impl Iterator<Item = &'static str> {
    PRESETS.iter().map(|p| p.name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn presets_are_sorted_by_name_and_summaries_match_descriptions() {
        let names: Vec<_> = super::names().collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        for p in super::PRESETS {
            assert!(
                p.source.contains(&format!(
                    "\ndescription: {}",
                    p.summary.trim_end_matches('.')
                )),
                "{}: the summary should be the flow's description",
                p.file
            );
        }
    }

    #[test]
    fn every_preset_names_itself() {
        for p in super::PRESETS {
            assert!(
                p.source.contains(&format!("\nflow: {}\n", p.name)),
                "{} must declare `flow: {}`",
                p.file,
                p.name
            );
        }
    }
}
