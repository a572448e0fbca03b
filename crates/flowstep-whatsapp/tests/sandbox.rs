//! The WhatsApp channel against the sandbox's Cloud API stand-in: delivery byte for byte, the
//! message id in a run's outcome, one channel and one pool for many recipients, Meta's errors
//! for a bad token or number, transient failures.

use flowstep_engine::{
    Channel, Engine, OutgoingMessage, Redactor, RunMode, RunRequest, RunStatus, Secret,
    resolve_inputs,
};
use flowstep_sandbox::{
    Fault, FaultAction, SANDBOX_WHATSAPP_PHONE_NUMBER_ID, SANDBOX_WHATSAPP_TOKEN, Sandbox,
};
use flowstep_spec::SourceFile;
use flowstep_whatsapp::{WhatsAppChannel, WhatsAppConfig};
use std::sync::Arc;
use std::time::Duration;

async fn sandbox() -> Sandbox {
    Sandbox::start(([127, 0, 0, 1], 0).into()).await.unwrap()
}

fn config(sandbox: &Sandbox, token: &str) -> WhatsAppConfig {
    let mut c = WhatsAppConfig::new(SANDBOX_WHATSAPP_PHONE_NUMBER_ID, Secret::new(token));
    c.base_url = sandbox.base_url();
    c
}

fn message(text: &str) -> OutgoingMessage {
    message_to("+919000090000", text)
}

fn message_to(to: &str, text: &str) -> OutgoingMessage {
    OutgoingMessage {
        flow: "f".into(),
        step: "s".into(),
        text: text.into(),
        to: Some(to.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn text_arrives_byte_for_byte_and_the_id_comes_back() {
    let sb = sandbox().await;
    let channel = WhatsAppChannel::new(config(&sb, SANDBOX_WHATSAPP_TOKEN));
    let text = "आपका ऑर्डर #1042 तैयार है 🎉\n\"Pay\" here: https://checkout.stripe.com/c/pay/cs_test_a1b2#fidkdWxOYHwnPyd1%2B&x=1";
    let delivery = channel.send(&message(text)).await.unwrap();
    let received = sb.whatsapp_messages();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].text, text);
    assert_eq!(received[0].to, "+919000090000");
    assert_eq!(
        received[0].phone_number_id,
        SANDBOX_WHATSAPP_PHONE_NUMBER_ID
    );
    assert_eq!(delivery.id.as_deref(), Some(received[0].id.as_str()));
}

#[tokio::test]
async fn a_run_records_the_message_id_in_its_outcome() {
    let sb = sandbox().await;
    let channel = WhatsAppChannel::new(config(&sb, SANDBOX_WHATSAPP_TOKEN));
    let yaml = "flow: hello\ninputs:\n  name: { type: string }\nsteps:\n  - id: greet\n    type: message\n    text: \"Hello, <<name>> 👋\"\n";
    let (plan, _) = Engine::new()
        .compile_source(SourceFile::new("hello.yaml", yaml))
        .unwrap();
    let inputs = resolve_inputs(
        plan.flow(),
        vec![(
            "name".into(),
            flowstep_engine::InputValue::Text("Asha".into()),
        )],
    )
    .unwrap();
    let outcome = plan
        .run(RunRequest {
            inputs,
            secrets: Default::default(),
            run_id: None,
            mode: RunMode::Live,
            channel: &channel,
            recipient: Some("+919000090000".into()),
            redactor: Arc::new(Redactor::new()),
        })
        .await
        .unwrap();
    assert_eq!(outcome.status, RunStatus::Succeeded);
    assert_eq!(outcome.messages[0].text, "Hello, Asha 👋");
    let received = sb.whatsapp_messages();
    assert_eq!(
        outcome.messages[0].delivery_id.as_deref(),
        Some(received[0].id.as_str())
    );
}

/// A backend with many conversations: one channel, shared by the runs of two customers, each
/// run naming its recipient; both messages arrive, each to its customer, over one connection
/// of the channel's one pool.
#[tokio::test]
async fn one_channel_delivers_to_two_recipients_through_one_pool() {
    let sb = sandbox().await;
    let channel = WhatsAppChannel::new(config(&sb, SANDBOX_WHATSAPP_TOKEN));
    let yaml = "flow: hello\ninputs:\n  name: { type: string }\nsteps:\n  - id: greet\n    type: message\n    text: \"Hello, <<name>>\"\n";
    let (plan, _) = Engine::new()
        .compile_source(SourceFile::new("hello.yaml", yaml))
        .unwrap();
    let mut outcomes = Vec::new();
    for (name, to) in [("Asha", "+919000090001"), ("Ravi", "+919000090002")] {
        let request = RunRequest::new()
            .input("name", name)
            .to(to)
            .channel(&channel);
        outcomes.push(plan.run(request).await.unwrap());
    }
    let received = sb.whatsapp_messages();
    let got: Vec<(&str, &str)> = received
        .iter()
        .map(|m| (m.to.as_str(), m.text.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("+919000090001", "Hello, Asha"),
            ("+919000090002", "Hello, Ravi")
        ]
    );
    for (outcome, m) in outcomes.iter().zip(&received) {
        assert_eq!(outcome.status, RunStatus::Succeeded);
        assert_eq!(outcome.messages[0].to.as_deref(), Some(m.to.as_str()));
        assert_eq!(
            outcome.messages[0].delivery_id.as_deref(),
            Some(m.id.as_str())
        );
    }
    assert_eq!(
        sb.connections_accepted(),
        1,
        "the second customer's message should reuse the pool's connection"
    );
    // Two channels would have been two pools, and two connections: what the test tells apart.
    let other = WhatsAppChannel::new(config(&sb, SANDBOX_WHATSAPP_TOKEN));
    other
        .send(&message_to("+919000090003", "hi"))
        .await
        .unwrap();
    assert_eq!(sb.connections_accepted(), 2);
}

#[tokio::test]
async fn a_message_without_a_recipient_is_refused_unless_the_channel_has_a_default() {
    let sb = sandbox().await;
    let mut m = message("hi");
    m.to = None;
    let e = WhatsAppChannel::new(config(&sb, SANDBOX_WHATSAPP_TOKEN))
        .send(&m)
        .await
        .unwrap_err();
    assert_eq!(
        e.message,
        "no recipient for the message from step `s`: give the run one (RunRequest::to) or the channel a default (WhatsAppConfig::with_default_recipient)"
    );
    assert!(!e.transient);
    assert!(sb.whatsapp_messages().is_empty());
    let with_default = config(&sb, SANDBOX_WHATSAPP_TOKEN).with_default_recipient("+919000090009");
    WhatsAppChannel::new(with_default).send(&m).await.unwrap();
    assert_eq!(sb.whatsapp_messages()[0].to, "+919000090009");
}

#[tokio::test]
async fn a_bad_token_is_metas_error_and_the_token_stays_hidden() {
    let sb = sandbox().await;
    let token = "EAAthisTokenIsWrong0000000000987";
    let channel = WhatsAppChannel::new(config(&sb, token));
    let e = channel.send(&message("hi")).await.unwrap_err();
    assert_eq!(
        e.message,
        "WhatsApp Cloud API answered HTTP 401, code 190: Invalid OAuth access token - Cannot parse access token"
    );
    assert!(!e.transient);
    assert!(sb.whatsapp_messages().is_empty());
    let shown = format!("{channel:?}");
    assert!(!shown.contains(token), "{shown}");
    assert!(
        shown.contains("EAAthisT") || shown.contains("...0987"),
        "{shown}"
    );
}

#[tokio::test]
async fn an_unknown_number_id_and_a_bad_recipient_are_refused() {
    let sb = sandbox().await;
    let mut c = config(&sb, SANDBOX_WHATSAPP_TOKEN);
    c.phone_number_id = "999".into();
    let e = WhatsAppChannel::new(c)
        .send(&message("hi"))
        .await
        .unwrap_err();
    assert!(
        e.message.contains(
            "code 100, subcode 33: Unsupported post request. Object with ID '999' does not exist"
        ),
        "{}",
        e.message
    );
    let e = WhatsAppChannel::new(config(&sb, SANDBOX_WHATSAPP_TOKEN))
        .send(&message_to("0091 90000 90000", "hi"))
        .await
        .unwrap_err();
    assert_eq!(
        e.message,
        "WhatsApp Cloud API answered HTTP 400, code 100: (#100) Invalid parameter (Parameter Invalid)"
    );
}

#[tokio::test]
async fn server_errors_rate_limits_and_lost_connections_are_transient() {
    let sb = sandbox().await;
    let channel = WhatsAppChannel::new(config(&sb, SANDBOX_WHATSAPP_TOKEN));
    for status in [503, 429] {
        sb.inject(Fault {
            path_prefix: None,
            count: 1,
            action: FaultAction::Status {
                status,
                body: None,
                headers: Vec::new(),
            },
        });
        let e = channel.send(&message("hi")).await.unwrap_err();
        assert!(e.transient, "{status}: {}", e.message);
        assert!(
            e.message
                .starts_with(&format!("WhatsApp Cloud API answered HTTP {status}")),
            "{}",
            e.message
        );
    }
    sb.inject(Fault {
        path_prefix: None,
        count: 1,
        action: FaultAction::CloseBeforeProcessing,
    });
    let e = channel.send(&message("hi")).await.unwrap_err();
    assert!(e.transient, "{}", e.message);
    assert!(sb.whatsapp_messages().is_empty());
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let sb = sandbox().await;
    let mut c = config(&sb, SANDBOX_WHATSAPP_TOKEN);
    c.timeout = Duration::from_millis(200);
    sb.inject(Fault {
        path_prefix: None,
        count: 1,
        action: FaultAction::Delay { ms: 2000 },
    });
    let e = WhatsAppChannel::new(c)
        .send(&message("hi"))
        .await
        .unwrap_err();
    assert!(e.transient);
    assert!(
        e.message.starts_with(
            "no answer from the WhatsApp Cloud API within 200ms; the message may have been sent"
        ),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn nothing_listening_is_a_transient_connection_error() {
    let sb = sandbox().await;
    let base = sb.base_url();
    sb.shutdown();
    let mut c = WhatsAppConfig::new("1", Secret::new(SANDBOX_WHATSAPP_TOKEN));
    c.base_url = base.clone();
    let e = WhatsAppChannel::new(c)
        .send(&message("hi"))
        .await
        .unwrap_err();
    assert!(e.transient);
    assert!(
        e.message.starts_with(&format!(
            "cannot connect to the WhatsApp Cloud API at {base}"
        )),
        "{}",
        e.message
    );
    assert!(!e.message.contains(SANDBOX_WHATSAPP_TOKEN));
}
