//! The OpenAPI 3.1 document of the API, generated from the handlers' annotations (utoipa) and
//! served at `GET /v1/openapi.json`.

use super::model::*;
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(title = "flowstep", description = "Start, watch and cancel durable flowstep runs. Every /v1 route but this document needs `Authorization: Bearer <token>`."),
    paths(
        super::runs::create, super::runs::list, super::runs::get, super::runs::cancel,
        super::flows::list, super::flows::reload,
        super::health::healthz, super::health::readyz,
    ),
    components(schemas(CreateRun, RunView, RunSummaryView, RunPage, RunStatusView, FlowView, FlowList, Health, Ready, ErrorBody, ErrorDetail)),
    modifiers(&Bearer),
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document.
pub(crate) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
