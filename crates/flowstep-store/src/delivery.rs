//! Delivery statuses of the messages runs sent: what the channel's provider reported later
//! (WhatsApp's `sent`, `delivered`, `read`, `failed` status webhooks), kept under the
//! message's delivery id (its `wamid`), the furthest one only.

use std::time::SystemTime;

/// How far a message got, in the order a message goes: `sent` < `delivered` < `read`, and
/// `failed`, which ends it and outranks the others.
///
/// Providers deliver statuses at least once and in no set order (a `delivered` may arrive
/// after the `read`), so a status is kept only when it ranks above the one stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeliveryState {
    /// The provider sent it on.
    Sent,
    /// It reached the recipient's device.
    Delivered,
    /// The recipient read it.
    Read,
    /// It could not be delivered ([`DeliveryStatus::error`] says why).
    Failed,
}

impl DeliveryState {
    /// Every state, lowest rank first.
    pub const ALL: [DeliveryState; 4] = [
        DeliveryState::Sent,
        DeliveryState::Delivered,
        DeliveryState::Read,
        DeliveryState::Failed,
    ];

    /// The state named `name` (`sent`, `delivered`, `read`, `failed`, as WhatsApp names
    /// them); `None` for any other (a status a provider adds later is not ranked).
    pub fn parse(name: &str) -> Option<DeliveryState> {
        DeliveryState::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Its name, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Sent => "sent",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Read => "read",
            DeliveryState::Failed => "failed",
        }
    }

    /// Its rank: 1 to 4, in the order of [`DeliveryState::ALL`].
    pub fn rank(self) -> i64 {
        match self {
            DeliveryState::Sent => 1,
            DeliveryState::Delivered => 2,
            DeliveryState::Read => 3,
            DeliveryState::Failed => 4,
        }
    }
}

/// Why a message failed, as the provider said (WhatsApp's `errors[0]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    /// The provider's error code (WhatsApp's `131047`: outside the 24-hour window).
    pub code: i64,
    /// Its title (`Re-engagement message`).
    pub title: String,
}

/// A delivery status of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStatus {
    /// The message's id at the provider: a `MessageRecord`'s `delivery_id` (a `wamid`).
    pub delivery_id: String,
    /// How far it got.
    pub state: DeliveryState,
    /// When the provider says it got there (second precision for WhatsApp).
    pub at: SystemTime,
    /// Why it failed, for [`DeliveryState::Failed`] when the provider said.
    pub error: Option<DeliveryError>,
}
