//! Durations past what a flow file may say (an embedder building an `HttpSpec` by hand) cannot
//! make the step panic: the per-attempt deadline (`Instant + timeout`) and the backoff
//! (`base * 2^n`, jitter) are computed within bounds, and the retry budget still ends waits.

use flowstep_engine::{Engine, RecordingChannel, Redactor, RunMode, RunRequest, RunStatus};
use flowstep_http::{HttpConfig, NetworkPolicy, kind};
use flowstep_spec::steps::StepSpec;
use flowstep_spec::{SourceFile, read_flow};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers the first request 503 and every later one 200 `{}`, one request per connection.
async fn flaky_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut served = 0;
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let mut head = Vec::new();
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let status = if served == 0 {
                "503 Service Unavailable"
            } else {
                "200 OK"
            };
            served += 1;
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    port
}

#[tokio::test]
async fn the_largest_durations_neither_panic_nor_hang() {
    let port = flaky_server().await;
    let yaml = format!(
        "flow: t\nsteps:\n  - id: s\n    type: http\n    url: http://127.0.0.1:{port}/v1/x\n"
    );
    let mut flow = read_flow(SourceFile::new("t.yaml", yaml)).unwrap();
    let StepSpec::Http(spec) = &mut flow.steps[0].spec else {
        unreachable!("an http step")
    };
    spec.timeout = Duration::MAX;
    spec.connect_timeout = Duration::MAX;
    spec.retry.base_delay = Duration::MAX;
    spec.retry.max_delay = Duration::MAX;
    // The one bound left: the backoff is cut to it.
    spec.retry.budget = Duration::from_millis(200);
    let mut engine = Engine::new();
    // The embedding default denies loopback: allow the test server's address.
    let config = HttpConfig {
        network: NetworkPolicy {
            allow_cidrs: vec!["127.0.0.1/32".parse().unwrap()],
            ..NetworkPolicy::default()
        },
        ..HttpConfig::default()
    };
    engine.register("http", kind(config));
    let plan = engine.compile(flow).unwrap();
    let channel = RecordingChannel::new();
    let outcome = tokio::time::timeout(
        Duration::from_secs(20),
        plan.run(RunRequest {
            inputs: Default::default(),
            secrets: Default::default(),
            run_id: Some("big".into()),
            mode: RunMode::Live,
            channel: &channel,
            recipient: None,
            redactor: Arc::new(Redactor::new()),
        }),
    )
    .await
    .expect("the budget ends the wait")
    .unwrap();
    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.steps);
    assert_eq!(outcome.steps[0].attempts, 2);
}
