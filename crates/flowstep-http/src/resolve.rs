//! Turning host names into addresses: the [`Resolve`] trait, the system's resolver, and a
//! fixed table ([`StaticResolver`]) for tests and for embedders that pin names.
//!
//! The http step asks the configured resolver, then puts the answer through the network
//! policy before connecting (see `dns_guard`), so whatever resolver is used, the policy
//! applies to the addresses actually contacted.

use async_trait::async_trait;
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;

/// Resolves a host name (never an address: those are checked without resolving).
#[async_trait]
pub trait Resolve: Send + Sync {
    /// The addresses of `host`, in the order to try them.
    async fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>>;
}

/// The operating system's resolver (`getaddrinfo`, on a blocking thread).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

#[async_trait]
impl Resolve for SystemResolver {
    async fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        let addrs = tokio::net::lookup_host((host, 0)).await?;
        Ok(addrs.map(|a| a.ip()).collect())
    }
}

/// Names resolved from a fixed table; any other name fails to resolve (nothing is asked of
/// DNS).
///
/// ```
/// use flowstep_http::StaticResolver;
/// let resolver = StaticResolver::new([("orders.internal", "127.0.0.1".parse().unwrap())]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct StaticResolver {
    table: HashMap<String, Vec<IpAddr>>,
}

impl StaticResolver {
    /// A table of name and address pairs; a name given twice has both addresses.
    pub fn new<'n>(entries: impl IntoIterator<Item = (&'n str, IpAddr)>) -> Self {
        let mut table: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for (name, ip) in entries {
            table.entry(name.to_ascii_lowercase()).or_default().push(ip);
        }
        StaticResolver { table }
    }
}

#[async_trait]
impl Resolve for StaticResolver {
    async fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        self.table
            .get(&host.to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{host} is not in the resolver's table"),
                )
            })
    }
}

/// The resolver an [`HttpConfig`](crate::HttpConfig) uses: the system's unless set.
#[derive(Clone, Default)]
pub struct Resolver(Option<Arc<dyn Resolve>>);

impl Resolver {
    /// The operating system's resolver.
    pub fn system() -> Self {
        Resolver(None)
    }

    /// A resolver of your own (a [`StaticResolver`] in tests).
    pub fn new(resolver: impl Resolve + 'static) -> Self {
        Resolver(Some(Arc::new(resolver)))
    }

    /// The resolver set with [`Resolver::new`], if any.
    pub(crate) fn custom(&self) -> Option<Arc<dyn Resolve>> {
        self.0.clone()
    }

    /// The resolver to ask: the custom one, or the system's.
    pub(crate) fn get(&self) -> Arc<dyn Resolve> {
        self.0.clone().unwrap_or_else(|| Arc::new(SystemResolver))
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            None => "Resolver(system)",
            Some(_) => "Resolver(custom)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_static_table_answers_its_names_only() {
        let r = StaticResolver::new([
            ("A.test", "127.0.0.1".parse().unwrap()),
            ("a.test", "::1".parse().unwrap()),
        ]);
        let ips: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()];
        assert_eq!(r.resolve("a.TEST").await.unwrap(), ips);
        let e = r.resolve("b.test").await.unwrap_err();
        assert_eq!(e.to_string(), "b.test is not in the resolver's table");
    }
}
