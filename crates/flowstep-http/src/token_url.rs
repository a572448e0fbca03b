//! Where an `oauth2` auth sends the client secret, checked when the step is bound (so by
//! `flowstep check` too): the token URL is https, or plain http to this machine only, and the
//! origin of every secret the token request reads is one the secret is bound to.

use crate::binding;
use crate::secret_reads::token_reads;
use crate::url::origin_of;
use flowstep_spec::steps::OAuth2;
use flowstep_spec::{Diagnostic, Flow};
use reqwest::Url;
use std::net::IpAddr;

/// The token URL, or a positioned diagnostic for each thing wrong with where it sends the
/// client's credentials.
pub fn check(o: &OAuth2, flow: &Flow) -> Result<Url, Vec<Diagnostic>> {
    let at = o.token_url.span;
    let bad =
        |message: String, help: &str| vec![Diagnostic::error("E010", message, at).with_help(help)];
    let url = Url::parse(o.token_url.value.trim()).map_err(|e| {
        bad(
            format!("`auth.token_url` is not a URL: {e}"),
            "write the token endpoint's full URL: `https://auth.example.com/oauth/token`",
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad(
            "`auth.token_url` must be an https:// URL with a host".to_owned(),
            "write the token endpoint's full URL: `https://auth.example.com/oauth/token`",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "`auth.token_url` carries a user name or password".to_owned(),
            "the client id and secret go in `client_id` and `client_secret`",
        ));
    }
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(bad(
            format!(
                "`auth.token_url` must be https: the client secret would cross the network to \
                 {} unencrypted",
                origin_of(&url)
            ),
            "plain http is allowed only to this machine (`localhost`, `127.0.0.1`, `[::1]`); \
             to try a flow against a local server, keep the https URL and route it: \
             `--route https://auth.example.com=http://127.0.0.1:8080`",
        ));
    }
    let declared: Vec<&str> = flow.secrets.iter().map(|s| s.name.value.as_str()).collect();
    let origin = origin_of(&url);
    let mut out = Vec::new();
    for read in token_reads(o, &declared) {
        let Some(decl) = flow.secrets.iter().find(|s| s.name.value == read.name) else {
            continue;
        };
        if decl.origins.is_empty() || decl.origins.contains(&origin) {
            continue;
        }
        out.push(
            Diagnostic::error(
                "E012",
                format!(
                    "secret `{}` may only be sent to {}; the OAuth2 token request goes to \
                     {origin}",
                    read.name,
                    binding::list(&decl.origins)
                ),
                read.span,
            )
            .with_label("`auth` sends it to `token_url`")
            .with_help(format!(
                "add `{}` to the secret's `hosts:` if the token endpoint is meant to have it",
                host_entry(&url)
            )),
        );
    }
    if out.is_empty() { Ok(url) } else { Err(out) }
}

/// `localhost` (and names under it), `127.0.0.0/8` and `::1`.
fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => {
            let d = host.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
    }
}

/// The `hosts:` entry that binds a secret to `url`'s origin.
fn host_entry(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match (url.scheme(), url.port()) {
        ("https", None) => host.to_owned(),
        ("https", Some(p)) => format!("{host}:{p}"),
        (scheme, None) => format!("{scheme}://{host}"),
        (scheme, Some(p)) => format!("{scheme}://{host}:{p}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowstep_spec::steps::{Auth, StepSpec};
    use flowstep_spec::{SourceFile, read_flow};

    fn checked(secrets: &str, token_url: &str) -> Result<Url, Vec<String>> {
        let yaml = format!(
            "flow: t\nsecrets:\n{secrets}\nsteps:\n  - id: s\n    type: http\n    url: https://api.example.com/x\n    auth:\n      type: oauth2\n      token_url: {token_url}\n      client_id: app\n      client_secret: \"<<secrets.CS>>\"\n"
        );
        let flow = read_flow(SourceFile::new("t.yaml", yaml)).unwrap_or_else(|d| panic!("{d:?}"));
        let StepSpec::Http(h) = &flow.steps[0].spec else {
            unreachable!()
        };
        let Auth::OAuth2(o) = &h.auth else {
            unreachable!()
        };
        check(o, &flow).map_err(|ds| {
            ds.into_iter()
                .map(|d| format!("{} {}", d.code, d.message))
                .collect()
        })
    }

    #[test]
    fn the_token_url_is_https_or_loopback() {
        let any = "  - CS";
        assert!(checked(any, "https://auth.example.com/oauth/token").is_ok());
        for loopback in [
            "http://127.0.0.1:8080/token",
            "http://localhost:9/t",
            "http://[::1]:9/t",
        ] {
            assert!(checked(any, loopback).is_ok(), "{loopback}");
        }
        assert_eq!(
            checked(any, "http://auth.example.com/oauth/token").unwrap_err(),
            [
                "E010 `auth.token_url` must be https: the client secret would cross the network \
              to http://auth.example.com unencrypted"
            ]
        );
        assert_eq!(
            checked(any, "ftp://auth.example.com/t").unwrap_err(),
            ["E010 `auth.token_url` must be an https:// URL with a host"]
        );
        assert_eq!(
            checked(any, "https://u:p@auth.example.com/t").unwrap_err(),
            ["E010 `auth.token_url` carries a user name or password"]
        );
    }

    #[test]
    fn the_client_secret_must_be_bound_to_the_token_url() {
        let bound = "  - { name: CS, hosts: [auth.example.com] }";
        assert!(checked(bound, "https://auth.example.com/oauth/token").is_ok());
        assert_eq!(
            checked(bound, "https://evil.example/oauth/token").unwrap_err(),
            [
                "E012 secret `CS` may only be sent to https://auth.example.com; the OAuth2 token \
              request goes to https://evil.example"
            ]
        );
        // Bound to the API's host only: the token endpoint may not have it.
        let api = "  - { name: CS, hosts: [api.example.com] }";
        assert!(checked(api, "https://auth.example.com/t").is_err());
    }
}
