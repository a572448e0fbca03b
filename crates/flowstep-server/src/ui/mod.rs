//! The runs page, `/ui`: server-rendered HTML (maud, escaped by default: flows, inputs and
//! API responses are untrusted, and nothing of theirs is ever written unescaped) with no
//! script at all. The runs list ([`runs_list`]), a run's page with its steps, messages and
//! wait ([`run_page`]), and its actions, cancel and retry, as POST forms. Behind the API
//! token: a login form sets a session cookie ([`session`]); actions are checked against
//! cross-site requests (a `SameSite=Strict` cookie and the `Origin` header). docs/server.md,
//! "The runs page", says what a user sees and does.
//!
//! | route | what |
//! |---|---|
//! | `GET /ui` | the runs list: `?status=&flow=&cursor=` |
//! | `GET /ui/runs/{run_id}` | a run |
//! | `POST /ui/runs/{run_id}/cancel`, `POST /ui/runs/{run_id}/retry` | its actions |
//! | `GET`, `POST /ui/login`, `POST /ui/logout` | the session |

mod layout;
mod run_page;
mod runs_list;
mod session;

use crate::api::AppState;
use axum::Router;
use axum::routing::{get, post};

/// The runs page's routes; every one but the login form needs the session cookie.
pub(crate) fn router(state: AppState) -> Router<AppState> {
    let pages = Router::new()
        .route("/ui", get(runs_list::page))
        .route("/ui/", get(runs_list::page))
        .route("/ui/runs/{run_id}", get(run_page::page))
        .route("/ui/runs/{run_id}/cancel", post(run_page::cancel))
        .route("/ui/runs/{run_id}/retry", post(run_page::retry))
        .route("/ui/logout", post(session::logout))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            session::require_session,
        ));
    Router::new()
        .merge(pages)
        .route("/ui/login", get(session::login_form).post(session::login))
}
