//! Address ranges: the [`Cidr`] type, and the table of private ranges the network policy
//! denies (loopback, RFC 1918, link-local, CGNAT, unique-local, unspecified), looked up after
//! unwrapping IPv4 addresses carried inside IPv6 ones.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An address range: `10.0.0.0/8`, `fd00::/8`, or one address (`127.0.0.1` is
/// `127.0.0.1/32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// The range of `prefix` leading bits of `addr` (bits after the prefix are cleared).
    /// `None` when the prefix is longer than the address.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<Cidr> {
        let bits = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        if prefix > bits {
            return None;
        }
        let addr = match addr {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask32(prefix))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask128(prefix))),
        };
        Some(Cidr { addr, prefix })
    }

    /// Whether `ip` is in the range. An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is
    /// compared as the IPv4 address it carries.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                u32::from(ip) & mask32(self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                u128::from(ip) & mask128(self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }

    /// The first address of the range.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

/// Why a range could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an address range: write an address with an optional prefix length, like \
     10.0.0.0/8, 127.0.0.1 or fd00::/8"
)]
pub struct CidrError(String);

impl FromStr for Cidr {
    type Err = CidrError;

    /// Reads `ADDRESS/PREFIX` or a single `ADDRESS`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || CidrError(s.to_owned());
        let t = s.trim();
        let (addr, prefix) = match t.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (t, None),
        };
        let addr: IpAddr = addr
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| err())?;
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse().map_err(|_| err())?
            }
            Some(_) => return Err(err()),
            None if addr.is_ipv4() => 32,
            None => 128,
        };
        Cidr::new(addr, prefix).ok_or_else(err)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A range the network policy denies unless it is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivateRange {
    /// The range.
    pub cidr: Cidr,
    /// What it is, to complete "in the ... range" (`loopback`).
    pub kind: &'static str,
}

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8, kind: &'static str) -> PrivateRange {
    PrivateRange {
        cidr: Cidr {
            addr: IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
            prefix,
        },
        kind,
    }
}

const fn v6(s: [u16; 8], prefix: u8, kind: &'static str) -> PrivateRange {
    PrivateRange {
        cidr: Cidr {
            addr: IpAddr::V6(Ipv6Addr::new(
                s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
            )),
            prefix,
        },
        kind,
    }
}

/// Every denied range, IPv4 then IPv6.
pub const PRIVATE_RANGES: &[PrivateRange] = &[
    v4(0, 0, 0, 0, 8, "unspecified (\"this network\")"),
    v4(10, 0, 0, 0, 8, "private (RFC 1918)"),
    v4(100, 64, 0, 0, 10, "carrier-grade NAT (RFC 6598)"),
    v4(127, 0, 0, 0, 8, "loopback"),
    v4(169, 254, 0, 0, 16, "link-local"),
    v4(172, 16, 0, 0, 12, "private (RFC 1918)"),
    v4(192, 168, 0, 0, 16, "private (RFC 1918)"),
    v6([0, 0, 0, 0, 0, 0, 0, 0], 128, "unspecified"),
    v6([0, 0, 0, 0, 0, 0, 0, 1], 128, "loopback"),
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "unique-local"),
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local"),
];

/// The NAT64 prefix (RFC 6052): `64:ff9b::10.0.0.1` reaches `10.0.0.1` through a translator.
const NAT64: Cidr = Cidr {
    addr: IpAddr::V6(Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0)),
    prefix: 96,
};

/// The IPv4 address an IPv6 one carries and reaches, if any: NAT64 `64:ff9b::a.b.c.d`
/// (RFC 6052), IPv4-translated `::ffff:0:a.b.c.d` (RFC 2765), the deprecated IPv4-compatible
/// `::a.b.c.d` (RFC 4291 2.5.5.1) and 6to4 `2002:AABB:CCDD::` (RFC 3056). (IPv4-mapped
/// `::ffff:a.b.c.d` is handled by `to_canonical`.)
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(v6);
    let low = Ipv4Addr::from(bits as u32);
    if NAT64.contains(IpAddr::V6(v6)) || bits >> 32 == 0xffff_0000 {
        return Some(low);
    }
    // `::` and `::1` are IPv6's own unspecified and loopback addresses, in the table.
    if bits >> 32 == 0 && bits > 1 {
        return Some(low);
    }
    if bits >> 112 == 0x2002 {
        return Some(Ipv4Addr::from((bits >> 80) as u32));
    }
    None
}

/// The denied range `ip` is in, if any. IPv4 addresses inside IPv6 ones (IPv4-mapped
/// `::ffff:a.b.c.d`, NAT64, IPv4-translated, IPv4-compatible and 6to4) are judged as the IPv4
/// address they reach.
pub fn private_range(ip: IpAddr) -> Option<&'static PrivateRange> {
    let ip = match ip.to_canonical() {
        IpAddr::V6(v6) => embedded_v4(v6).map_or(IpAddr::V6(v6), IpAddr::V4),
        other => other,
    };
    PRIVATE_RANGES.iter().find(|r| r.cidr.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(ip: &str) -> Option<String> {
        private_range(ip.parse().unwrap()).map(|r| r.cidr.to_string())
    }

    #[test]
    fn the_table_is_written_in_canonical_form() {
        for r in PRIVATE_RANGES {
            assert_eq!(Cidr::new(r.cidr.addr(), r.cidr.prefix()), Some(r.cidr));
        }
    }

    #[test]
    fn every_listed_range_is_denied_at_its_edges() {
        for (ip, cidr) in [
            ("0.0.0.0", "0.0.0.0/8"),
            ("0.255.255.255", "0.0.0.0/8"),
            ("10.0.0.0", "10.0.0.0/8"),
            ("10.255.255.255", "10.0.0.0/8"),
            ("100.64.0.0", "100.64.0.0/10"),
            ("100.127.255.255", "100.64.0.0/10"),
            ("127.0.0.1", "127.0.0.0/8"),
            ("127.255.255.254", "127.0.0.0/8"),
            ("169.254.0.1", "169.254.0.0/16"),
            ("169.254.169.254", "169.254.0.0/16"),
            ("172.16.0.0", "172.16.0.0/12"),
            ("172.31.255.255", "172.16.0.0/12"),
            ("192.168.0.1", "192.168.0.0/16"),
            ("192.168.255.255", "192.168.0.0/16"),
            ("::", "::/128"),
            ("::1", "::1/128"),
            ("fc00::1", "fc00::/7"),
            ("fd00:ec2::254", "fc00::/7"),
            ("fdff:ffff::1", "fc00::/7"),
            ("fe80::1", "fe80::/10"),
            ("febf:ffff::1", "fe80::/10"),
            // IPv4-mapped and NAT64 forms of IPv4 ranges.
            ("::ffff:127.0.0.1", "127.0.0.0/8"),
            ("::ffff:0.0.0.0", "0.0.0.0/8"),
            ("::ffff:10.1.2.3", "10.0.0.0/8"),
            ("::ffff:100.64.0.1", "100.64.0.0/10"),
            ("::ffff:169.254.169.254", "169.254.0.0/16"),
            ("::ffff:172.16.0.1", "172.16.0.0/12"),
            ("::ffff:192.168.1.1", "192.168.0.0/16"),
            ("64:ff9b::127.0.0.1", "127.0.0.0/8"),
            ("64:ff9b::a9fe:a9fe", "169.254.0.0/16"),
            // IPv4-translated, IPv4-compatible and 6to4 forms.
            ("::ffff:0:127.0.0.1", "127.0.0.0/8"),
            ("::127.0.0.1", "127.0.0.0/8"),
            ("::10.0.0.1", "10.0.0.0/8"),
            ("2002:7f00:1::", "127.0.0.0/8"),
            ("2002:c0a8:101::1", "192.168.0.0/16"),
        ] {
            assert_eq!(range(ip).as_deref(), Some(cidr), "{ip}");
        }
    }

    #[test]
    fn public_addresses_and_the_edges_outside_the_ranges_are_not() {
        for ip in [
            "1.1.1.1",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "::1:0:0:0",
            "fbff::1",
            "fec0::1",
            "2001:db8::1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "::ffff:0:8.8.8.8",
            "::8.8.8.8",
            "2002:808:808::1",
        ] {
            assert_eq!(range(ip), None, "{ip}");
        }
    }

    #[test]
    fn ranges_parse_contain_and_say_what_is_wrong() {
        let c: Cidr = "10.1.2.3/8".parse().unwrap();
        assert_eq!(c.to_string(), "10.0.0.0/8");
        assert!(c.contains("10.200.0.1".parse().unwrap()));
        assert!(c.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert_eq!(one.to_string(), "127.0.0.1/32");
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let v6: Cidr = "[fd00::]/8".parse().unwrap();
        assert_eq!(v6.to_string(), "fd00::/8");
        assert_eq!("::1".parse::<Cidr>().unwrap().prefix(), 128);
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0/8",
            "localhost",
            "::1/129",
            "1.2.3.4/-1",
        ] {
            assert_eq!(
                bad.parse::<Cidr>().unwrap_err().to_string(),
                format!(
                    "`{bad}` is not an address range: write an address with an optional prefix \
                     length, like 10.0.0.0/8, 127.0.0.1 or fd00::/8"
                )
            );
        }
    }
}
