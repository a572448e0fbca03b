//! Delivery statuses in the SQLite store: one row per message, the furthest status kept by a
//! single upsert (so concurrent and out-of-order deliveries need no transaction around it),
//! and looked up by delivery ids in one statement.

use super::SqliteStore;
use super::queries;
use crate::decode;
use crate::delivery::DeliveryStatus;
use crate::error::StoreError;

impl SqliteStore {
    pub(super) async fn record_status(&self, status: &DeliveryStatus) -> Result<bool, StoreError> {
        let row = decode::message_status_row(status)?;
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
        decode::check_delivery_ids(delivery_ids)?;
        if delivery_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids_json = self.to_json("the delivery ids", &delivery_ids)?;
        let rows = queries::select_message_statuses(&self.reader, &ids_json)
            .await
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|r| decode::delivery_status(&self.location, r))
            .collect()
    }
}
