//! The loopback stub the throughput benches send to: hyper on 127.0.0.1, answering every
//! request with a Checkout Session (the JSON the sandbox gives, 2 KB). Shared by
//! `flowstep-http`'s `throughput` and `flowstep-server`'s `durable` benches.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;

const SESSION: &str = include_str!("../session.json");

/// Serves the session JSON to every request on 127.0.0.1, on the current runtime.
pub async fn stub() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let _ = req.into_body().collect().await;
                    Ok::<_, std::convert::Infallible>(
                        hyper::Response::builder()
                            .header("content-type", "application/json")
                            .header("request-id", "req_bench")
                            .body(Full::new(Bytes::from_static(SESSION.as_bytes())))
                            .unwrap(),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}
