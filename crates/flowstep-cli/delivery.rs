//! The channel a run delivers its messages through (`--channel`): the terminal, or WhatsApp,
//! where each message goes out through the Cloud API and is then printed with its message id.

use crate::args::{ChannelKind, RunArgs};
use crate::out::errln;
use crate::sandbox_defaults;
use crate::terminal_channel::TerminalChannel;
use async_trait::async_trait;
use flowstep_engine::{Channel, ChannelError, Delivery, OutgoingMessage, Redactor, Secret};
use flowstep_whatsapp::{DEFAULT_BASE_URL, WhatsAppChannel, WhatsAppConfig};
use std::sync::Arc;

/// The settings `--channel whatsapp` reads from the environment (or `.env`).
const TOKEN_VAR: &str = "WHATSAPP_TOKEN";
const PHONE_NUMBER_ID_VAR: &str = "WHATSAPP_PHONE_NUMBER_ID";

/// The channel of one run.
pub enum CliChannel {
    /// Prints each message.
    Terminal(TerminalChannel),
    /// Sends each message on WhatsApp, then prints it (when `print`) with its message id.
    WhatsApp {
        /// The Cloud API channel.
        whatsapp: WhatsAppChannel,
        /// Whether to print what was sent.
        print: bool,
    },
}

/// Problems with `--channel`/`--to` that need no flow to find: each is one `error:` line.
pub fn check_args(args: &RunArgs) -> Vec<String> {
    match (args.channel, &args.to) {
        (ChannelKind::Whatsapp, None) => vec![
            "--channel whatsapp needs --to PHONE: the customer's WhatsApp number with country code, e.g. --to +919000090000".to_owned(),
        ],
        (ChannelKind::Terminal, Some(_)) => {
            vec!["--to is only used with --channel whatsapp".to_owned()]
        }
        // Checked before anything is sent: a bad number found by the Cloud API only when the
        // message goes would leave a payment session created and its link undelivered.
        (ChannelKind::Whatsapp, Some(to)) if !is_phone_number(to) => vec![format!(
            "--to {to:?} is not a phone number: give the customer's WhatsApp number with country \
             code, 8 to 15 digits (`+`, spaces, `-` and parentheses allowed), e.g. --to +919000090000"
        )],
        _ => Vec::new(),
    }
}

/// Whether `to` is a phone number the WhatsApp Cloud API takes as a recipient: a country code
/// and number, at most 15 digits (E.164), written with an optional `+`, spaces, hyphens and
/// parentheses (Meta's "Phone number formats" for sent messages). Eight digits is the shortest
/// country code and subscriber number that occur together.
pub fn is_phone_number(to: &str) -> bool {
    let body = to.strip_prefix('+').unwrap_or(to);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    body.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'))
        && (8..=15).contains(&digits)
        && !body.starts_with('0')
}

/// Builds the channel `args` ask for. `graph_url` is where graph.facebook.com is routed (the
/// sandbox, or a `--route`). WhatsApp settings that are missing are returned as `error:` lines.
pub fn build(
    args: &RunArgs,
    print: bool,
    sandbox: bool,
    graph_url: Option<String>,
    redactor: &Arc<Redactor>,
) -> Result<CliChannel, Vec<String>> {
    let Some(to) = args
        .to
        .clone()
        .filter(|_| args.channel == ChannelKind::Whatsapp)
    else {
        return Ok(CliChannel::Terminal(TerminalChannel { print }));
    };
    let whatsapp = whatsapp_channel(sandbox, graph_url, &args.whatsapp_graph_version, redactor)?;
    errln!(
        "note: messages go to WhatsApp {to} through {}",
        whatsapp.config().base_url
    );
    Ok(CliChannel::WhatsApp { whatsapp, print })
}

/// The WhatsApp Cloud API channel, with WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID from the
/// environment or `.env` (the sandbox's test values when `sandbox` and unset). The token joins
/// `redactor`. `graph_url` is where graph.facebook.com is routed; `graph_version` is the Graph
/// API version in each URL (already checked by the flag's parser). What is missing is returned
/// as `error:` lines.
pub fn whatsapp_channel(
    sandbox: bool,
    graph_url: Option<String>,
    graph_version: &str,
    redactor: &Redactor,
) -> Result<WhatsAppChannel, Vec<String>> {
    let names = [TOKEN_VAR.to_owned(), PHONE_NUMBER_ID_VAR.to_owned()];
    let read = crate::secrets::read(&names).map_err(|e| vec![e.to_string()])?;
    let mut found = read.values.clone();
    let mut problems = Vec::new();
    let mut used = Vec::new();
    for name in read.missing.iter().cloned() {
        match sandbox_defaults::get(&name).filter(|_| sandbox) {
            Some(d) => {
                used.push(d);
                found.insert(name, Secret::new(d.value));
            }
            None => problems.push(format!(
                "--channel whatsapp needs {name}: {}{}",
                read.how_to_set(&name),
                if name == TOKEN_VAR {
                    "; add --sandbox to try it without a token"
                } else {
                    ""
                }
            )),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if !used.is_empty() {
        errln!(
            "{} for the WhatsApp channel",
            sandbox_defaults::notes(&used)
        );
    }
    let token = found.remove(TOKEN_VAR).expect("read or defaulted above");
    // From here on the token is hidden in everything the run prints or records.
    redactor.add(token.expose());
    let phone_number_id = found
        .remove(PHONE_NUMBER_ID_VAR)
        .expect("read or defaulted above");
    // The recipient travels with each message (the run's `--to`), as in a backend where one
    // channel serves every customer.
    let mut config = WhatsAppConfig::new(phone_number_id.expose(), token)
        .with_api_version(graph_version)
        .map_err(|e| vec![e])?;
    config.base_url = graph_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
    Ok(WhatsAppChannel::new(config))
}

#[async_trait]
impl Channel for CliChannel {
    async fn send(&self, message: &OutgoingMessage) -> Result<Delivery, ChannelError> {
        match self {
            CliChannel::Terminal(t) => t.send(message).await,
            CliChannel::WhatsApp { whatsapp, print } => {
                let delivery = whatsapp.send(message).await?;
                if *print {
                    let id = delivery.id.as_deref().unwrap_or("no id");
                    let to = whatsapp.recipient(message).unwrap_or("nobody");
                    let mut text = format!(
                        "message from {} (sent on WhatsApp to {to}, {id}):\n",
                        message.step_label(),
                    );
                    for line in message.readable().lines() {
                        text.push_str(&format!("  │ {line}\n"));
                    }
                    text.push('\n');
                    crate::out::write(crate::out::Stream::Stdout, &text);
                }
                Ok(delivery)
            }
        }
    }
}
