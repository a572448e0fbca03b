//! Delivery statuses in the Postgres store: one row per message, the furthest status kept by a
//! single upsert (Postgres locks the row it conflicts on and checks the rank again, so two
//! statuses of one message cannot interleave), and looked up by delivery ids in one statement.

use super::PostgresStore;
use super::queries::{self, MessageStatusRow};
use crate::MAX_DELIVERY_IDS;
use crate::decode::{millis, time};
use crate::delivery::{DeliveryError, DeliveryState, DeliveryStatus};
use crate::error::StoreError;

impl PostgresStore {
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
        if delivery_ids.len() > MAX_DELIVERY_IDS {
            return Err(StoreError::Invalid(format!(
                "{} delivery ids were asked for at once; the most is {MAX_DELIVERY_IDS}",
                delivery_ids.len()
            )));
        }
        if delivery_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = queries::select_message_statuses(&self.pool, delivery_ids)
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
