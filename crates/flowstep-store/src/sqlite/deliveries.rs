//! Delivery statuses in the SQLite store: one row per message, the furthest status kept by a
//! single upsert (so concurrent and out-of-order deliveries need no transaction around it),
//! and looked up by delivery ids in one statement.

use super::SqliteStore;
use super::queries::{self, MessageStatusRow};
use crate::MAX_DELIVERY_IDS;
use crate::decode::{millis, time};
use crate::delivery::{DeliveryError, DeliveryState, DeliveryStatus};
use crate::error::StoreError;

impl SqliteStore {
    pub(super) async fn record_status(&self, status: &DeliveryStatus) -> Result<bool, StoreError> {
        if status.delivery_id.is_empty() {
            return Err(StoreError::Invalid(
                "a delivery status needs the message's delivery id, and it is empty".into(),
            ));
        }
        let row = MessageStatusRow {
            delivery_id: &status.delivery_id,
            status: status.state.as_str(),
            rank: status.state.rank(),
            error_code: status.error.as_ref().map(|e| e.code),
            error_title: status.error.as_ref().map(|e| e.title.as_str()),
            at: millis(status.at),
        };
        // One statement is its own transaction, and it takes SQLite's write lock before it
        // reads the row it compares with: two statuses of one message cannot interleave.
        let stored = queries::upsert_message_status(&self.writer, row, self.now())
            .await
            .map_err(|e| self.err(e))?;
        tracing::debug!(delivery_id = %status.delivery_id, status = status.state.as_str(), stored, "delivery status");
        Ok(stored)
    }

    pub(super) async fn statuses(
        &self,
        delivery_ids: &[String],
    ) -> Result<Vec<DeliveryStatus>, StoreError> {
        if delivery_ids.len() > MAX_DELIVERY_IDS {
            return Err(StoreError::Invalid(format!(
                "{} delivery ids were asked for at once; the most is {MAX_DELIVERY_IDS}",
                delivery_ids.len()
            )));
        }
        if delivery_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids_json = self.to_json("the delivery ids", &delivery_ids)?;
        let rows = queries::select_message_statuses(&self.reader, &ids_json)
            .await
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|r| {
                let state = DeliveryState::parse(&r.status).ok_or_else(|| StoreError::Corrupt {
                    location: format!("{} (message `{}`)", self.location, r.delivery_id),
                    reason: format!(
                        "its delivery status `{}` is not one this build knows",
                        r.status
                    ),
                })?;
                Ok(DeliveryStatus {
                    state,
                    at: time(r.at),
                    error: r.error_code.map(|code| DeliveryError {
                        code,
                        title: r.error_title.unwrap_or_default(),
                    }),
                    delivery_id: r.delivery_id,
                })
            })
            .collect()
    }
}
