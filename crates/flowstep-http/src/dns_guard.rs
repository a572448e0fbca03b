//! The resolver reqwest is given: it asks the configured [`Resolve`] and, when a policy is
//! set, hands on only the addresses the [`NetworkPolicy`] allows. Because this runs at connect
//! time for every connection (redirects included), the address checked is the address
//! connected to: a name that answers a public address once and a private one later is refused
//! the second time.
//!
//! reqwest's `ClientBuilder::resolve` overrides would skip this resolver, so they are never
//! used.

use crate::network::NetworkPolicy;
use crate::resolve::Resolve;
use reqwest::dns::{Addrs, Name, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;

/// A [`Resolve`] made into reqwest's resolver, filtered by `policy` when there is one.
pub struct DnsGuard {
    /// Where names are looked up.
    pub inner: Arc<dyn Resolve>,
    /// What may be reached; `None` for connections that are always allowed (routes).
    pub policy: Option<Arc<NetworkPolicy>>,
}

impl reqwest::dns::Resolve for DnsGuard {
    fn resolve(&self, name: Name) -> Resolving {
        let inner = self.inner.clone();
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = inner.resolve(&host).await?;
            let addrs = match policy {
                Some(p) => p.filter(&host, addrs)?,
                None => addrs,
            };
            if addrs.is_empty() {
                return Err(format!("{host} resolved to no address").into());
            }
            // Port 0: reqwest puts in the URL's port (or the scheme's).
            let addrs: Addrs = Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}
