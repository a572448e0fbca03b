//! `flowstep run`'s and `batch`'s TLS and proxy flags (`--cacert`, `--cert`/`--key`, `--insecure`,
//! `--proxy`, named as curl and Hurl name them): the run-wide defaults that a flow's `http:`
//! block and a step's own keys override one by one.

use crate::args::ConnectionArgs;
use flowstep_http::{ClientOptions, Pem, ProxyChoice};

/// The client options the flags ask for, their files read and checked; each problem in the
/// words the user will act on.
pub fn client_options(args: &ConnectionArgs) -> Result<ClientOptions, Vec<String>> {
    let mut problems = Vec::new();
    let mut options = ClientOptions {
        insecure: args.insecure,
        ..ClientOptions::default()
    };
    if let Some(path) = &args.cacert {
        match Pem::ca_bundle(path) {
            Ok(pem) => options.ca = Some(pem),
            Err(e) => problems.push(format!("--cacert: {e}")),
        }
    }
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        match Pem::identity(cert, key) {
            Ok(pem) => options.identity = Some(pem),
            Err(e) => problems.push(format!("--cert/--key: {e}")),
        }
    }
    if let Some(proxy) = &args.proxy {
        options.proxy = match proxy.as_str() {
            "off" | "none" => ProxyChoice::Off,
            url if ["http://", "https://"].iter().any(|p| {
                url.get(..p.len())
                    .is_some_and(|s| s.eq_ignore_ascii_case(p))
            }) && reqwest::Proxy::all(url).is_ok() =>
            {
                ProxyChoice::Url(url.to_owned())
            }
            other => {
                problems.push(format!(
                    "--proxy: `{other}` is not an http:// or https:// URL (or `off`)"
                ));
                ProxyChoice::Environment
            }
        };
    }
    if problems.is_empty() {
        Ok(options)
    } else {
        Err(problems)
    }
}

/// The warning `--insecure` prints on every run it is given to.
pub const INSECURE_WARNING: &str = "warning: --insecure: TLS certificates are not checked for \
     any http step that does not set `tls.insecure: false`; anyone on the network path can read \
     and change those requests and their answers, secrets included";
