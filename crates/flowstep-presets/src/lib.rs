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
pub const PRESETS: &[Preset] = &[Preset {
    name: "stripe-checkout",
    file: "flows/stripe-checkout.yaml",
    summary: "Create a one-time Stripe Checkout Session and send its URL on WhatsApp.",
    source: include_str!("../../../flows/stripe-checkout.yaml"),
}];

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
