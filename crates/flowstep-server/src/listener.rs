//! The API's accept loop: one hyper HTTP/1 connection per client, each request answered by the
//! axum router, with a limit on how long a connection may take to send a request's headers
//! (which is also how long a kept-alive connection may stay idle between requests), and a
//! graceful shutdown. `axum::serve` sets no such limit, so a client that trickles header bytes
//! (slowloris) would hold its connection forever; hyper is driven directly here, as the sandbox
//! does.

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::shutdown::Shutdown;

/// Serves `router` on `listener` until `stop`, then stops accepting, lets each request under
/// way be answered (a connection closes after its answer, an idle one at once) and returns
/// once every connection has closed.
///
/// `header_timeout` bounds the time from a connection being ready for a request (just
/// accepted, or done with the previous answer) to that request's headers having arrived: a
/// connection that takes longer is closed without an answer. So it is also the keep-alive
/// idle limit.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    stop: Shutdown,
) -> std::io::Result<()> {
    let service = TowerToHyperService::new(router);
    let mut connections = JoinSet::new();
    loop {
        // Connections that closed are reaped, so the set does not grow.
        while connections.try_join_next().is_some() {}
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Too many open files, a connection reset before it was accepted: wait a
                // little rather than spin, and go on.
                tracing::warn!("cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let service = service.clone();
        let stop = stop.clone();
        connections.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            // Errors here are a client's: it left, sent something that is not HTTP, or took
            // longer than the limit to send its headers.
            let result = tokio::select! {
                r = conn.as_mut() => r,
                _ = stop.wait() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!("connection closed: {e}");
            }
        });
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    Ok(())
}
