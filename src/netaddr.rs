//! Address handling for the two places where hookd reasons about IPs: CIDR
//! allowlists for callers, and the SSRF guard that keeps outgoing deliveries
//! away from internal networks.
//!
//! Invariants: a [`Cidr`] always has its host bits cleared, so equal networks
//! compare equal and display identically; IPv4-mapped IPv6 addresses
//! (`::ffff:a.b.c.d`, which dual-stack sockets report for IPv4 peers) are
//! matched and classified as the IPv4 address they carry, so neither check can
//! be dodged by switching notation. This module must not resolve names or open
//! sockets: callers resolve, check every resolved address with
//! [`is_blocked_target`], and then connect to that same checked address rather
//! than resolving again (which would let DNS rebinding slip past the check).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A network in CIDR notation, IPv4 or IPv6, with host bits cleared.
///
/// IPv4 and IPv6 networks never overlap: `::/0` does not contain `1.2.3.4`, so
/// an allowlist meant to admit everyone needs both `0.0.0.0/0` and `::/0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

/// Why a string is not a CIDR; the message quotes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CIDR {input:?}: {reason}")]
pub struct CidrError {
    input: String,
    reason: &'static str,
}

impl Cidr {
    /// Builds a network, clearing host bits; `None` if `prefix` is longer than
    /// the address (32 for IPv4, 128 for IPv6).
    pub fn new(addr: IpAddr, prefix: u8) -> Option<Self> {
        match addr {
            IpAddr::V4(v4) if prefix <= 32 => Some(Self {
                addr: IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask_v4(prefix))),
                prefix,
            }),
            IpAddr::V6(v6) if prefix <= 128 => {
                // `::ffff:10.0.0.0/104` means exactly `10.0.0.0/8`; storing it
                // that way lets it match IPv4 callers, which `contains` sees
                // in IPv4 form.
                if let (true, Some(v4)) = (prefix >= 96, v6.to_ipv4_mapped()) {
                    return Self::new(IpAddr::V4(v4), prefix - 96);
                }
                Some(Self {
                    addr: IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask_v6(prefix))),
                    prefix,
                })
            }
            _ => None,
        }
    }

    /// The network address (host bits zero).
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` lies in this network; IPv4-mapped IPv6 addresses are
    /// matched as their IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                u32::from(ip) & mask_v4(self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                u128::from(ip) & mask_v6(self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    /// Accepts `addr/len` or a bare address (a single host: /32 or /128).
    /// Surrounding whitespace is ignored; host bits are cleared, so
    /// `10.1.2.3/8` reads as `10.0.0.0/8`. Zone ids (`fe80::1%eth0`) and
    /// IPv4 octets with leading zeros are rejected.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| CidrError {
            input: s.to_owned(),
            reason,
        };
        let text = s.trim();
        if text.is_empty() {
            return Err(err("empty"));
        }
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text
            .parse()
            .map_err(|_| err("not an IPv4 or IPv6 address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            None => max,
            Some(p) => {
                // u8::from_str would take "+8"; only plain digits are a prefix.
                if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err("prefix length must be a number after '/'"));
                }
                let n: u8 = p.parse().map_err(|_| err("prefix length out of range"))?;
                if n > max {
                    return Err(err(if max == 32 {
                        "prefix length must be at most 32 for IPv4"
                    } else {
                        "prefix length must be at most 128 for IPv6"
                    }));
                }
                n
            }
        };
        Self::new(addr, prefix).ok_or_else(|| err("prefix length out of range"))
    }
}

/// In config files a network is its text: `10.0.0.0/8`, or a bare address.
impl serde::Serialize for Cidr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Cidr {
    /// Canonical `addr/len`, always with the length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// IPv4-mapped IPv6 (::ffff:a.b.c.d) callers are treated as their IPv4 address
/// for matching. Other addresses are returned unchanged; in particular the
/// deprecated IPv4-compatible form (`::a.b.c.d`) is not unwrapped, because
/// `::1` would otherwise read as `0.0.0.1`.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// IPv4 ranges an outgoing delivery must not reach.
const BLOCKED_V4: &[(u32, u8)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8: "this network", includes unspecified
    (0x0a00_0000, 8),  // 10.0.0.0/8: private (RFC 1918)
    (0x6440_0000, 10), // 100.64.0.0/10: carrier-grade NAT (RFC 6598)
    (0x7f00_0000, 8),  // 127.0.0.0/8: loopback
    (0xa9fe_0000, 16), // 169.254.0.0/16: link-local, cloud metadata lives here
    (0xac10_0000, 12), // 172.16.0.0/12: private (RFC 1918)
    (0xc000_0000, 24), // 192.0.0.0/24: IETF protocol assignments
    (0xc000_0200, 24), // 192.0.2.0/24: documentation (TEST-NET-1)
    (0xc058_6300, 24), // 192.88.99.0/24: deprecated 6to4 relay anycast
    (0xc0a8_0000, 16), // 192.168.0.0/16: private (RFC 1918)
    (0xc612_0000, 15), // 198.18.0.0/15: benchmarking
    (0xc633_6400, 24), // 198.51.100.0/24: documentation (TEST-NET-2)
    (0xcb00_7100, 24), // 203.0.113.0/24: documentation (TEST-NET-3)
    (0xe000_0000, 4),  // 224.0.0.0/4: multicast
    (0xf000_0000, 4),  // 240.0.0.0/4: reserved, includes 255.255.255.255 broadcast
];

/// IPv6 ranges inside global unicast (2000::/3) that are still off limits.
/// Everything outside 2000::/3 is refused wholesale (see `is_blocked_v6`).
const BLOCKED_V6_IN_GLOBAL: &[(u128, u8)] = &[
    (0x2001_0000 << 96, 32), // 2001::/32: Teredo, destination chosen by a relay
    (0x2001_0002 << 96, 48), // 2001:2::/48: benchmarking
    (0x2001_0010 << 96, 28), // 2001:10::/28: ORCHID (deprecated)
    (0x2001_0020 << 96, 28), // 2001:20::/28: ORCHIDv2, not routable
    (0x2001_0db8 << 96, 32), // 2001:db8::/32: documentation
    (0x2002 << 112, 16),     // 2002::/16: 6to4, destination chosen by a relay
    (0x3fff << 112, 20),     // 3fff::/20: documentation (RFC 9637)
];

/// True for addresses an outgoing delivery must not reach when
/// block_private_targets is on.
///
/// IPv4 (and IPv4-mapped `::ffff:a.b.c.d`, judged as the IPv4 address):
/// 0.0.0.0/8 (includes unspecified), 10.0.0.0/8, 100.64.0.0/10 (CGNAT),
/// 127.0.0.0/8, 169.254.0.0/16 (link-local), 172.16.0.0/12, 192.0.0.0/24
/// (IETF protocol assignments), 192.0.2.0/24, 192.88.99.0/24 (6to4 relay
/// anycast), 192.168.0.0/16, 198.18.0.0/15 (benchmarking), 198.51.100.0/24,
/// 203.0.113.0/24, 224.0.0.0/4 (multicast), 240.0.0.0/4 (reserved, includes
/// broadcast 255.255.255.255).
///
/// IPv6:
/// - `::/96`: unspecified, loopback and the deprecated IPv4-compatible form,
///   whatever IPv4 address it carries;
/// - `64:ff9b::/96` (NAT64 well-known prefix): blocked exactly when the
///   embedded IPv4 address is, so IPv6-only hosts can still reach public
///   IPv4 services;
/// - anything outside global unicast `2000::/3`, which covers `100::/64`
///   (discard), `64:ff9b:1::/48` (local NAT64), `5f00::/16` (SRv6),
///   `fc00::/7` (unique local), `fe80::/10` (link-local), `fec0::/10`
///   (site-local), `ff00::/8` (multicast) and all unallocated space;
/// - inside `2000::/3`: `2001::/32` (Teredo), `2001:2::/48` (benchmarking),
///   `2001:10::/28` and `2001:20::/28` (ORCHID), `2001:db8::/32` and
///   `3fff::/20` (documentation), `2002::/16` (6to4). The two tunnelling
///   prefixes are refused outright because a relay, not this check, decides
///   where their traffic ends up.
pub fn is_blocked_target(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_blocked_v4(v4),
        IpAddr::V6(v6) => is_blocked_v6(v6),
    }
}

fn is_blocked_v4(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    BLOCKED_V4
        .iter()
        .any(|&(net, len)| bits & mask_v4(len) == net)
}

fn is_blocked_v6(ip: Ipv6Addr) -> bool {
    let bits = u128::from(ip);
    let in_net = |net: u128, len: u8| bits & mask_v6(len) == net;
    if in_net(0, 96) {
        return true;
    }
    if in_net(0x0064_ff9b << 96, 96) {
        // Truncation keeps exactly the low 32 bits, the embedded IPv4 address.
        return is_blocked_v4(Ipv4Addr::from(bits as u32));
    }
    if !in_net(0x2000 << 112, 3) {
        return true;
    }
    BLOCKED_V6_IN_GLOBAL
        .iter()
        .any(|&(net, len)| in_net(net, len))
}

/// Network mask for an IPv4 prefix; `checked_shl` covers /0, where a plain
/// shift by 32 would overflow.
fn mask_v4(prefix: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0)
}

fn mask_v6(prefix: u8) -> u128 {
    u128::MAX
        .checked_shl(128 - u32::from(prefix.min(128)))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn parse_display_round_trips() {
        for (input, shown) in [
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("192.168.1.5", "192.168.1.5/32"),
            ("10.1.2.3/8", "10.0.0.0/8"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("255.255.255.255/0", "0.0.0.0/0"),
            ("::1", "::1/128"),
            ("::/0", "::/0"),
            ("2001:db8::/32", "2001:db8::/32"),
            ("2001:DB8:1:2::ff/32", "2001:db8::/32"),
            ("fe80::1/10", "fe80::/10"),
            (" 10.0.0.0/8 ", "10.0.0.0/8"),
            ("::ffff:10.1.2.3/104", "10.0.0.0/8"),
            ("::ffff:192.168.1.5", "192.168.1.5/32"),
            ("::ffff:0:0/96", "0.0.0.0/0"),
            ("::ffff:0:0/95", "::fffe:0:0/95"),
        ] {
            let parsed = cidr(input);
            assert_eq!(parsed.to_string(), shown, "{input}");
            assert_eq!(cidr(shown), parsed, "{shown}");
        }
        let c = cidr("10.9.8.7/16");
        assert_eq!(c.addr(), ip("10.9.0.0"));
        assert_eq!(c.prefix_len(), 16);
    }

    #[test]
    fn bad_inputs_are_rejected() {
        for bad in [
            "",
            "  ",
            "abc",
            "10.0.0.0/33",
            "::/129",
            "1.2.3.4/",
            "1.2.3.4/+8",
            "1.2.3.4/-1",
            "1.2.3.4/ 8",
            "1.2.3.4/0008",
            "1.2.3.4/256",
            "1.2.3.4/8/8",
            "/8",
            "1.2.3",
            "1.2.3.4.5",
            "010.0.0.1",
            "fe80::1%eth0",
            "10.0.0.0/8x",
            "[::1]/128",
            "1.2.3.4/٣",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad:?} should not parse");
        }
        let e = "10.0.0.0/33".parse::<Cidr>().unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid CIDR \"10.0.0.0/33\": prefix length must be at most 32 for IPv4"
        );
        let e = "abc".parse::<Cidr>().unwrap_err().to_string();
        assert_eq!(e, "invalid CIDR \"abc\": not an IPv4 or IPv6 address");
        assert_eq!(Cidr::new(ip("1.2.3.4"), 33), None);
        assert_eq!(Cidr::new(ip("::"), 129), None);
    }

    #[test]
    fn contains_v4_edges() {
        let all = cidr("0.0.0.0/0");
        assert!(all.contains(ip("0.0.0.0")));
        assert!(all.contains(ip("255.255.255.255")));
        assert!(!all.contains(ip("::1")));

        let host = cidr("192.168.1.5/32");
        assert!(host.contains(ip("192.168.1.5")));
        assert!(!host.contains(ip("192.168.1.4")));
        assert!(!host.contains(ip("192.168.1.6")));

        let net = cidr("172.16.0.0/12");
        assert!(net.contains(ip("172.16.0.0")));
        assert!(net.contains(ip("172.31.255.255")));
        assert!(!net.contains(ip("172.32.0.0")));
        assert!(!net.contains(ip("172.15.255.255")));
    }

    #[test]
    fn contains_v6_edges() {
        let all = cidr("::/0");
        assert!(all.contains(ip("::")));
        assert!(all.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
        assert!(!all.contains(ip("1.2.3.4")));

        let host = cidr("2001:db8::1/128");
        assert!(host.contains(ip("2001:db8::1")));
        assert!(!host.contains(ip("2001:db8::2")));
        assert!(!host.contains(ip("2001:db8::")));

        let net = cidr("2001:db8::/32");
        assert!(net.contains(ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
        assert!(!net.contains(ip("2001:db9::")));
        assert!(!net.contains(ip("2001:db7:ffff::")));

        let odd = cidr("fe80::/10");
        assert!(odd.contains(ip("febf::1")));
        assert!(!odd.contains(ip("fec0::1")));
    }

    #[test]
    fn mapped_addresses_match_as_ipv4() {
        assert_eq!(canonical(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
        assert_eq!(canonical(ip("::ffff:a01:203")), ip("10.1.2.3"));
        assert_eq!(canonical(ip("10.1.2.3")), ip("10.1.2.3"));
        assert_eq!(canonical(ip("::1")), ip("::1"));
        assert_eq!(canonical(ip("::10.1.2.3")), ip("::10.1.2.3"));
        assert_eq!(canonical(ip("2001:db8::1")), ip("2001:db8::1"));

        let net = cidr("10.0.0.0/8");
        assert!(net.contains(ip("::ffff:10.200.0.1")));
        assert!(!net.contains(ip("::ffff:11.0.0.1")));
        // The deprecated compatible form is a different address.
        assert!(!net.contains(ip("::10.200.0.1")));

        let mapped_net = cidr("::ffff:10.0.0.0/104");
        assert!(mapped_net.contains(ip("10.9.9.9")));
        assert!(mapped_net.contains(ip("::ffff:10.9.9.9")));
    }

    #[test]
    fn blocked_and_allowed_targets() {
        let blocked = [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.0.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::8.8.8.8",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::ffff:0.0.0.0",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::808:808",
            "100::1",
            "5f00::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "2001::1",
            "2001:0:4136:e378::1",
            "2001:2::1",
            "2001:10::1",
            "2001:20::1",
            "2001:db8::1",
            "2002:c0a8:101::1",
            "2002:808:808::1",
            "3fff::1",
            "1::1",
            "4000::1",
            "e000::1",
        ];
        for a in blocked {
            assert!(is_blocked_target(ip(a)), "{a} should be blocked");
        }
        let allowed = [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "192.88.98.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2606:4700::1111",
            "2001:4860:4860::8888",
            "2001:3::1",
            "2001:4:112::1",
            "2003::1",
            "2a00:1450:4001::1",
            "3ffe::1",
        ];
        for a in allowed {
            assert!(!is_blocked_target(ip(a)), "{a} should be allowed");
        }
    }

    #[test]
    fn block_tables_have_no_host_bits() {
        for &(net, len) in BLOCKED_V4 {
            assert_eq!(net & mask_v4(len), net, "{}/{len}", Ipv4Addr::from(net));
        }
        for &(net, len) in BLOCKED_V6_IN_GLOBAL {
            assert_eq!(net & mask_v6(len), net, "{}/{len}", Ipv6Addr::from(net));
            assert!(cidr("2000::/3").contains(IpAddr::V6(Ipv6Addr::from(net))));
        }
    }

    #[test]
    fn masks_cover_the_extremes() {
        assert_eq!(mask_v4(0), 0);
        assert_eq!(mask_v4(1), 0x8000_0000);
        assert_eq!(mask_v4(32), u32::MAX);
        assert_eq!(mask_v6(0), 0);
        assert_eq!(mask_v6(128), u128::MAX);
    }
}
