//! The HTTP server: the accept loop and one hyper HTTP/1 connection per client, each
//! request answered by the axum app. hyper is driven directly, not through `axum::serve`,
//! for what `serve` cannot do: close a connection without answering (the close faults),
//! and drop open connections when the sandbox stops.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::header::CONTENT_LENGTH;
use hyper::body::Incoming;
use hyper::service::{Service, service_fn};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::CloseConnection;

/// `http://HOST:PORT` for a bound address; an unspecified address is reported as loopback
/// since that is where a local client can reach it.
pub(crate) fn base_url_for(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Accepts connections until the shutdown sender is dropped.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    app: Router,
    mut shutdown: watch::Receiver<()>,
    connections: Arc<AtomicUsize>,
) {
    let app = TowerToHyperService::new(app);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                connections.fetch_add(1, Ordering::Relaxed);
                stream
            }
            Err(e) => {
                // E.g. too many open files: back off briefly instead of spinning.
                tracing::warn!("sandbox accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let app = app.clone();
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            // An answer marked `CloseConnection` becomes an error, on which hyper closes
            // the connection without writing a byte of it.
            let service = service_fn(move |req: hyper::Request<Incoming>| {
                let answer = app.call(req);
                async move {
                    let Ok(mut resp) = answer.await;
                    // axum sets a Content-Length hyper would not send on a bodiless status.
                    if matches!(resp.status().as_u16(), 204 | 304) {
                        resp.headers_mut().remove(CONTENT_LENGTH);
                    }
                    match resp.extensions().get::<CloseConnection>() {
                        Some(_) => Err(std::io::Error::other("closed by a sandbox fault")),
                        None => Ok(resp),
                    }
                }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                // Errors here are client disconnects and injected closes: nothing to do.
                _ = conn => {}
                _ = conn_shutdown.changed() => {}
            }
        });
    }
}
