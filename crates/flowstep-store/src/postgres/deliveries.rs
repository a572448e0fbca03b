//! Delivery statuses in the Postgres store: one row per message, the furthest status kept by a
//! single upsert (Postgres locks the row it conflicts on and checks the rank again, so two
//! statuses of one message cannot interleave), and looked up by delivery ids in one statement.

use super::PostgresStore;
use super::queries;
use crate::decode;
use crate::delivery::DeliveryStatus;
use crate::error::StoreError;

impl PostgresStore {
    pub(super) async fn record_status(&self, status: &DeliveryStatus) -> Result<bool, StoreError> {
        let row = decode::message_status_row(status)?;
        let stored = queries::upsert_message_status(&self.pool, row, self.now())
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
        let rows = queries::select_message_statuses(&self.pool, delivery_ids)
            .await
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|r| decode::delivery_status(&self.location, r))
            .collect()
    }
}
