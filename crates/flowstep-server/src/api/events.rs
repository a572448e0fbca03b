//! `GET /v1/events`: the event inbox, for operators and tests: what the webhook endpoints
//! recorded, newest first, a page at a time.

use super::AppState;
use super::error::{ApiError, shorten};
use super::extract::QueryParams;
use super::model::{EventListParams, EventPageView};
use axum::Json;
use axum::extract::State;
use flowstep_store::{Cursor, StoreError};

/// Lists the events providers sent (verified webhooks), newest first, a page at a time.
#[utoipa::path(get, path = "/v1/events", operation_id = "list_events", tag = "events", security(("bearer" = [])),
    params(EventListParams),
    responses(
        (status = 200, description = "A page of events.", body = EventPageView),
        (status = 400, description = "A bad provider, limit or cursor.", body = super::model::ErrorBody),
        (status = 401, description = "No or wrong token.", body = super::model::ErrorBody),
    ))]
pub(crate) async fn list(
    State(app): State<AppState>,
    QueryParams(params): QueryParams<EventListParams>,
) -> Result<Json<EventPageView>, ApiError> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to 1000, not {limit}"
        )));
    }
    let limit = u32::try_from(limit).unwrap_or(1000);
    let cursor = params.cursor.map(Cursor::new);
    let provider = params.provider.map(|p| p.as_str());
    let page = match app
        .0
        .store
        .list_events(provider, limit, cursor.as_ref())
        .await
    {
        Ok(page) => page,
        Err(StoreError::Invalid(_)) if cursor.is_some() => {
            let given = cursor.as_ref().map(Cursor::as_str).unwrap_or_default();
            return Err(ApiError::bad_request(format!(
                "the page cursor `{}` was not made by this server for events; pass the `next_cursor` of the page before, as it was given",
                shorten(given)
            )));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Json(EventPageView {
        events: page.events.into_iter().map(Into::into).collect(),
        next_cursor: page.next.map(|c| c.as_str().to_owned()),
    }))
}
