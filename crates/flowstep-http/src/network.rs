//! The network policy: which addresses the http step may connect to. It is applied to every
//! connection, redirects included, to the addresses a name resolved to (so a name that
//! resolves to a private address, through DNS rebinding or not, is refused like the address
//! itself), and to addresses written in the URL.

use crate::ip_ranges::{Cidr, PrivateRange, private_range};
use std::fmt;
use std::net::IpAddr;

/// Which addresses requests may reach. The default denies the private ranges
/// ([`PRIVATE_RANGES`](crate::PRIVATE_RANGES): loopback, RFC 1918, link-local including
/// 169.254.169.254, carrier-grade NAT, unique-local IPv6, unspecified, and the IPv4-mapped
/// forms of these), because an embedder runs flows that someone else wrote; the CLI allows
/// everything unless `--deny-private-networks` is given. Routes' targets are always allowed.
///
/// ```
/// use flowstep_http::NetworkPolicy;
/// let mut policy = NetworkPolicy::default();
/// assert!(policy.check("localhost", "127.0.0.1".parse().unwrap()).is_err());
/// assert!(policy.check("api.stripe.com", "54.187.174.169".parse().unwrap()).is_ok());
/// policy.allow_cidrs.push("127.0.0.1/32".parse().unwrap());
/// assert!(policy.check("localhost", "127.0.0.1".parse().unwrap()).is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPolicy {
    /// Whether addresses in the private ranges are refused.
    pub deny_private: bool,
    /// Host names that may reach private addresses anyway: an exact name (`localhost`,
    /// `orders.internal`) or `*.` and a domain for every name under it
    /// (`*.svc.cluster.local`), compared without case.
    pub allow_hosts: Vec<String>,
    /// Ranges that may be reached anyway (`10.1.0.0/16`, `127.0.0.1/32`).
    pub allow_cidrs: Vec<Cidr>,
}

impl Default for NetworkPolicy {
    /// Private networks denied, nothing allowed: [`NetworkPolicy::deny_private`].
    fn default() -> Self {
        NetworkPolicy::deny_private()
    }
}

impl NetworkPolicy {
    /// Private networks denied, nothing allowed. The embedding default.
    pub fn deny_private() -> Self {
        NetworkPolicy {
            deny_private: true,
            allow_hosts: Vec::new(),
            allow_cidrs: Vec::new(),
        }
    }

    /// Every address allowed: the CLI's default (the flows run on the user's own machine).
    pub fn allow_all() -> Self {
        NetworkPolicy {
            deny_private: false,
            ..NetworkPolicy::deny_private()
        }
    }

    /// Whether `host` is on the allowed hosts list.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.allow_hosts.iter().any(|allowed| {
            let allowed = allowed.trim_start_matches('[').trim_end_matches(']');
            match allowed.strip_prefix("*.") {
                Some(domain) => host.len().checked_sub(domain.len() + 1).is_some_and(|cut| {
                    host.is_char_boundary(cut)
                        && host[cut..].starts_with('.')
                        && host[cut + 1..].eq_ignore_ascii_case(domain)
                }),
                None => host.eq_ignore_ascii_case(allowed),
            }
        })
    }

    /// The range that makes `ip` (an address of `host`) refused, or `None` when it may be
    /// reached.
    fn refuses(&self, host: &str, ip: IpAddr) -> Option<PrivateRange> {
        if !self.deny_private || self.allows_host(host) {
            return None;
        }
        let range = private_range(ip)?;
        (!self.allow_cidrs.iter().any(|c| c.contains(ip))).then_some(*range)
    }

    /// Whether `ip` may be reached as `host` (the host as the URL names it).
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), Denied> {
        match self.refuses(host, ip) {
            None => Ok(()),
            Some(range) => Err(Denied {
                host: host.to_owned(),
                resolved: false,
                addresses: vec![(ip, range)],
            }),
        }
    }

    /// The addresses `host` resolved to that may be reached; an error when there are none
    /// because every one was refused.
    pub fn filter(&self, host: &str, addrs: Vec<IpAddr>) -> Result<Vec<IpAddr>, Denied> {
        let mut refused = Vec::new();
        let mut kept = Vec::new();
        for ip in addrs {
            match self.refuses(host, ip) {
                None => kept.push(ip),
                Some(range) => refused.push((ip, range)),
            }
        }
        if kept.is_empty() && !refused.is_empty() {
            return Err(Denied {
                host: host.to_owned(),
                resolved: true,
                addresses: refused,
            });
        }
        Ok(kept)
    }
}

/// A connection the network policy refused: which host, which addresses and why, and how to
/// allow it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Denied {
    /// The host as the URL names it (a name, or the address itself).
    pub host: String,
    /// Whether the addresses came from resolving a name (rather than being the URL's host).
    pub resolved: bool,
    /// Each refused address with the range it is in.
    pub addresses: Vec<(IpAddr, PrivateRange)>,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((first, _)) = self.addresses.first() else {
            return write!(f, "refused to connect to {}", self.host);
        };
        let one =
            |(ip, r): &(IpAddr, PrivateRange)| format!("{ip} (in the {} range {})", r.kind, r.cidr);
        let cidr = format!("{first}/{}", if first.is_ipv4() { 32 } else { 128 });
        if self.resolved {
            let list: Vec<String> = self.addresses.iter().map(one).collect();
            write!(
                f,
                "refused to connect to {}: it resolves to {}, and this run denies private \
                 networks; nothing was sent. To allow it: `--allow-host {}` or `--allow-cidr \
                 {cidr}` (flowstep run), `--allow-private-networks` (flowstep serve), or \
                 `allow_hosts`/`allow_cidrs` in the NetworkPolicy (embedding)",
                self.host,
                list.join(" and "),
                self.host
            )
        } else {
            let (ip, r) = &self.addresses[0];
            write!(
                f,
                "refused to connect to {}: {ip} is in the {} range {}, and this run denies \
                 private networks; nothing was sent. To allow it: `--allow-cidr {cidr}` \
                 (flowstep run), `--allow-private-networks` (flowstep serve), or `allow_cidrs` \
                 in the NetworkPolicy (embedding)",
                self.host, r.kind, r.cidr
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ip_ranges::PRIVATE_RANGES;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_default_denies_every_private_range_and_allows_public_addresses() {
        let policy = NetworkPolicy::default();
        for r in PRIVATE_RANGES {
            assert!(
                policy.check("h.example", r.cidr.addr()).is_err(),
                "{}",
                r.cidr
            );
        }
        for a in [
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "169.254.169.254",
        ] {
            assert!(policy.check("h.example", ip(a)).is_err(), "{a}");
        }
        for a in ["1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(policy.check("h.example", ip(a)).is_ok(), "{a}");
        }
        let all = NetworkPolicy::allow_all();
        for r in PRIVATE_RANGES {
            assert!(all.check("h.example", r.cidr.addr()).is_ok(), "{}", r.cidr);
        }
    }

    #[test]
    fn hosts_and_ranges_can_be_allowed() {
        let policy = NetworkPolicy {
            allow_hosts: vec![
                "Orders.Internal".into(),
                "*.svc.local".into(),
                "[::1]".into(),
            ],
            allow_cidrs: vec!["10.1.0.0/16".parse().unwrap()],
            ..NetworkPolicy::default()
        };
        assert!(policy.check("orders.internal", ip("10.9.9.9")).is_ok());
        assert!(policy.check("a.b.svc.local", ip("192.168.1.1")).is_ok());
        assert!(policy.check("svc.local", ip("192.168.1.1")).is_err());
        assert!(policy.check("evilsvc.local", ip("192.168.1.1")).is_err());
        assert!(policy.check("::1", ip("::1")).is_ok());
        assert!(policy.check("x.example", ip("10.1.200.3")).is_ok());
        assert!(policy.check("x.example", ip("::ffff:10.1.200.3")).is_ok());
        assert!(policy.check("x.example", ip("10.2.0.1")).is_err());
    }

    #[test]
    fn resolved_addresses_are_filtered_and_refusals_say_how_to_allow() {
        let policy = NetworkPolicy::default();
        assert_eq!(
            policy
                .filter("mixed.example", vec![ip("10.0.0.1"), ip("1.1.1.1")])
                .unwrap(),
            [ip("1.1.1.1")]
        );
        let e = policy
            .filter("internal.example", vec![ip("127.0.0.1"), ip("::1")])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "refused to connect to internal.example: it resolves to 127.0.0.1 (in the loopback \
             range 127.0.0.0/8) and ::1 (in the loopback range ::1/128), and this run denies \
             private networks; nothing was sent. To allow it: `--allow-host internal.example` or \
             `--allow-cidr 127.0.0.1/32` (flowstep run), `--allow-private-networks` (flowstep \
             serve), or `allow_hosts`/`allow_cidrs` in the NetworkPolicy (embedding)"
        );
        let e = policy
            .check("169.254.169.254", ip("169.254.169.254"))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "refused to connect to 169.254.169.254: 169.254.169.254 is in the link-local range \
             169.254.0.0/16, and this run denies private networks; nothing was sent. To allow \
             it: `--allow-cidr 169.254.169.254/32` (flowstep run), `--allow-private-networks` \
             (flowstep serve), or `allow_cidrs` in the NetworkPolicy (embedding)"
        );
        assert!(
            policy
                .filter("nothing.example", Vec::new())
                .unwrap()
                .is_empty()
        );
    }
}
