//! The OpenAPI 3.1 document of the API, generated from the handlers' annotations (utoipa) and
//! served at `GET /v1/openapi.json`. It lists every status a route can answer: each handler
//! names its own, and a modifier adds those of the layers every route passes through (the
//! time limit) and of the run store under every `/v1/runs` and `/v1/events` route. The
//! webhook endpoints (`/webhooks/...`) are not in it: providers call them, authenticated by
//! their signatures (docs/server.md, "Webhooks").

use super::model::*;
use axum::Json;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(title = "flowstep", description = "Start, watch, cancel and retry durable flowstep runs. Every /v1 route but this document needs `Authorization: Bearer <token>`. The webhook endpoints providers call (/webhooks/stripe, /webhooks/razorpay, /webhooks/whatsapp) are authenticated by the providers' signatures and described in docs/server.md, not here. Every error is `{\"error\": {\"code\", \"message\"}}`; a method a path does not take is `405 method_not_allowed` with an `Allow` header."),
    paths(
        super::runs::create, super::runs::list, super::runs::get, super::runs::cancel, super::runs::retry,
        super::flows::list, super::flows::reload,
        super::events::list,
        super::health::healthz, super::health::readyz,
    ),
    components(schemas(CreateRun, RunView, WaitView, RunSummaryView, RunPage, RunStatusView, FlowView, FlowList, EventView, EventPageView, ProviderView, Health, Ready, ErrorBody, ErrorDetail)),
    modifiers(&Bearer, &Common),
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

/// The answers no handler gives itself: `408` on every route (the time limit around them all),
/// and `500`/`503` from the run store on the `/v1/runs` and `/v1/events` routes, each with the
/// error body.
struct Common;

impl Modify for Common {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in api.paths.paths.iter_mut() {
            let store = path.starts_with("/v1/runs") || path.starts_with("/v1/events");
            for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                let answers = &mut op.responses.responses;
                answers.entry("408".into()).or_insert_with(|| {
                    error("The request took longer than the server allows (30 s). A start may have been stored all the same: post it again with the same `run_id` to learn.")
                });
                if store {
                    answers.entry("500".into()).or_insert_with(|| {
                        error("The run store failed; the server's log says why.")
                    });
                    answers.entry("503".into()).or_insert_with(|| {
                        error("The run store cannot be reached now; try again later.")
                    });
                }
            }
        }
    }
}

/// The document, as JSON.
pub fn json() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|e| {
        // utoipa's types serialise to JSON by construction; say so rather than panic.
        tracing::error!("the OpenAPI document does not serialise: {e}");
        Value::Null
    });
    camel_case_links(&mut doc);
    doc
}

/// utoipa 5.5 writes a Link Object's fields in snake case (`operation_id`), which OpenAPI
/// does not know: a client sees a link with neither `operationId` nor `operationRef`
/// (schemathesis refuses the document's links). Renamed here to the spec's names.
fn camel_case_links(doc: &mut Value) {
    const NAMES: [(&str, &str); 3] = [
        ("operation_id", "operationId"),
        ("operation_ref", "operationRef"),
        ("request_body", "requestBody"),
    ];
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let links = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.get_mut("responses").and_then(Value::as_object_mut))
        .flat_map(|responses| responses.values_mut())
        .filter_map(|response| response.get_mut("links").and_then(Value::as_object_mut))
        .flat_map(|links| links.values_mut())
        .filter_map(Value::as_object_mut);
    for link in links {
        for (snake, camel) in NAMES {
            if let Some(v) = link.remove(snake) {
                link.insert(camel.to_owned(), v);
            }
        }
    }
}

/// `GET /v1/openapi.json`.
pub(crate) async fn document() -> Json<Value> {
    Json(json())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_operation_has_a_unique_id_the_408_and_links_by_operation_id() {
        let doc = json();
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                assert!(ids.insert(id.to_owned()), "{id} twice ({method} {path})");
                assert!(op["responses"]["408"].is_object(), "{method} {path}");
                for response in op["responses"].as_object().unwrap().values() {
                    for link in response["links"]
                        .as_object()
                        .into_iter()
                        .flat_map(|l| l.values())
                    {
                        assert!(link["operationId"].is_string(), "{link}");
                        assert!(link.get("operation_id").is_none(), "{link}");
                    }
                }
            }
        }
        assert_eq!(ids.len(), 10, "{ids:?}");
    }
}
