//! Where a webhook may be delivered. A subscriber names a URL, and Helhed calls it from inside
//! the municipality's network, so a URL is a way to make Helhed call anything it can reach (its
//! own database, a cloud metadata service, an admin interface): server-side request forgery.
//!
//! The rule (api.md, Integration): `https`, or plain `http` only to an address listed in
//! `HELHED_WEBHOOK_ALLOW`; no user info in the URL; and every address the host resolves to must
//! be public, or listed. The check runs at subscription and again at every delivery, after DNS,
//! and the delivering client resolves through [`Guard`], which drops what the rule refuses, so a
//! name that resolves differently at connect time (DNS rebinding) reaches nothing it may not.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, LazyLock};

use ipnet::IpNet;
use url::{Host, Url};

/// The networks `HELHED_WEBHOOK_ALLOW` lists: the only private destinations, and the only ones
/// plain http may reach.
#[derive(Debug, Clone, Default)]
pub struct Allow(Vec<IpNet>);

impl Allow {
    /// Parses a comma-separated list of CIDRs (a bare address is a /32 or /128).
    pub fn parse(text: &str) -> Result<Allow, String> {
        let mut nets = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{item:?} is not a CIDR such as 10.20.0.0/16 or an address"))?;
            nets.push(net);
        }
        Ok(Allow(nets))
    }

    pub fn none() -> Allow {
        Allow(Vec::new())
    }

    fn lists(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// Why a destination is refused; safe to show the subscriber (it repeats nothing they sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub &'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// A checked destination: the URL, and whether it is plain http.
#[derive(Debug, Clone)]
pub struct Destination {
    pub url: Url,
    pub plain_http: bool,
}

/// Checks the URL's form: scheme, user info, host. No DNS yet.
pub fn parse(text: &str) -> Result<Destination, Refused> {
    let url = Url::parse(text).map_err(|_| Refused("the URL cannot be read"))?;
    let plain_http = match url.scheme() {
        "https" => false,
        "http" => true,
        _ => return Err(Refused("the URL must be https (or http to an address in HELHED_WEBHOOK_ALLOW)")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refused("a URL with user info (user:password@) is not accepted"));
    }
    if url.host().is_none() {
        return Err(Refused("the URL names no host"));
    }
    Ok(Destination { url, plain_http })
}

/// Checks a URL completely: its form, then every address its host resolves to now. Blocking
/// (DNS): call it off the request threads.
pub fn check(text: &str, allow: &Allow) -> Result<Destination, Refused> {
    let destination = parse(text)?;
    let port = destination.url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = match destination.url.host() {
        Some(Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(Host::Domain(name)) => (name, port)
            .to_socket_addrs()
            .map_err(|_| Refused("the URL's host does not resolve"))?
            .map(|a| a.ip())
            .collect(),
        None => return Err(Refused("the URL names no host")),
    };
    if addresses.is_empty() {
        return Err(Refused("the URL's host does not resolve"));
    }
    for ip in addresses {
        permitted(ip, destination.plain_http, allow)?;
    }
    Ok(destination)
}

/// The rule for one address.
pub fn permitted(ip: IpAddr, plain_http: bool, allow: &Allow) -> Result<(), Refused> {
    if allow.lists(ip) {
        Ok(())
    } else if plain_http {
        Err(Refused("plain http is only for addresses in HELHED_WEBHOOK_ALLOW"))
    } else if internal(ip) {
        Err(Refused("the host is a loopback, private, link-local or otherwise internal address"))
    } else {
        Ok(())
    }
}

/// An IPv6 address that only carries an IPv4 one (mapped, compatible, NAT64, 6to4) is judged
/// as that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            let embedded =
                |hi: u16, lo: u16| IpAddr::V4(Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8));
            if s[..6] == [0, 0, 0, 0, 0, 0] && !(s[6] == 0 && s[7] <= 1) {
                return embedded(s[6], s[7]); // IPv4-compatible ::a.b.c.d
            }
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return embedded(s[6], s[7]); // NAT64
            }
            if s[..6] == [0, 0, 0, 0, 0xffff, 0] {
                return embedded(s[6], s[7]); // IPv4-translated (SIIT) ::ffff:0:a.b.c.d
            }
            if s[0] == 0x2002 {
                return embedded(s[1], s[2]); // 6to4
            }
            ip
        }
        v4 => v4,
    }
}

/// Networks that are not the public internet (IANA special-purpose registries).
static INTERNAL: LazyLock<Vec<IpNet>> = LazyLock::new(|| {
    [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "100::/64",
        "2001::/23",
        "64:ff9b:1::/48",
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    ]
    .iter()
    .map(|n| n.parse().expect("a CIDR"))
    .collect()
});

/// Whether an address is loopback, private, link-local, unspecified, multicast, reserved or
/// otherwise not a public destination.
pub fn internal(ip: IpAddr) -> bool {
    let ip = canonical(ip);
    INTERNAL.iter().any(|net| net.contains(&ip))
}

/// The delivering client's DNS: resolves as the system does, then keeps only the addresses the
/// rule permits for the scheme this client serves; none left is a failed delivery.
pub struct Guard {
    pub allow: Allow,
    pub plain_http: bool,
}

impl reqwest::dns::Resolve for Guard {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (allow, plain_http) = (self.allow.clone(), self.plain_http);
        let host = name.as_str().to_string();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = (host.as_str(), 0).to_socket_addrs()?.collect();
            let kept: Vec<SocketAddr> =
                resolved.into_iter().filter(|a| permitted(a.ip(), plain_http, &allow).is_ok()).collect();
            if kept.is_empty() {
                return Err("destination not allowed".into());
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A client for one scheme's deliveries: the service's outgoing settings (no redirects, since a
/// 3xx could point anywhere; 5 s), no proxy from the environment, and DNS through [`Guard`].
pub fn client(allow: &Allow, plain_http: bool) -> reqwest::Result<reqwest::blocking::Client> {
    crate::http::client_builder().no_proxy().dns_resolver(Arc::new(Guard { allow: allow.clone(), plain_http })).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_addresses_in_every_disguise() {
        for s in [
            "127.0.0.1",
            "127.0.0.2",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "::ffff:0:a00:1",
            "64:ff9b:1::a00:1",
        ] {
            assert!(internal(ip(s)), "{s} is internal");
        }
        for s in ["93.184.216.34", "8.8.8.8", "2a00:1450:4001::200e", "172.32.0.1", "::ffff:8.8.8.8"] {
            assert!(!internal(ip(s)), "{s} is public");
        }
    }

    #[test]
    fn the_rule_by_scheme_and_list() {
        let allow = Allow::parse("127.0.0.1/32, 10.20.0.0/16").unwrap();
        assert!(permitted(ip("127.0.0.1"), true, &allow).is_ok());
        assert!(permitted(ip("::ffff:127.0.0.1"), true, &allow).is_ok());
        assert!(permitted(ip("127.0.0.2"), true, &allow).is_err());
        assert!(permitted(ip("10.20.3.4"), false, &allow).is_ok());
        assert!(permitted(ip("10.21.3.4"), false, &allow).is_err());
        assert!(permitted(ip("8.8.8.8"), false, &allow).is_ok());
        assert!(permitted(ip("8.8.8.8"), true, &allow).is_err(), "plain http only to listed addresses");
        assert!(Allow::parse("10.0.0.0/33").is_err());
        assert!(Allow::parse("127.0.0.1").is_ok());
    }

    #[test]
    fn urls_are_read_as_a_client_reads_them() {
        let none = Allow::none();
        for (url, why) in [
            ("http://localhost:1@127.0.0.2:9/hook", "user info"),
            ("https://user@example.org/hook", "user info"),
            ("https://:pw@example.org/hook", "user info"),
            ("ftp://example.org/", "scheme"),
            ("https://169.254.169.254/latest/meta-data", "link-local"),
            ("https://[::1]:5432/", "loopback"),
            ("https://0x7f.1/", "loopback in hex"),
            ("https://2130706433/", "loopback as a number"),
            ("https://localhost/", "a name for loopback"),
            ("http://8.8.8.8/", "plain http not listed"),
            ("javascript:alert(1)", "scheme"),
            ("https://", "no host"),
        ] {
            assert!(check(url, &none).is_err(), "{url}: {why}");
        }
        assert!(check("https://8.8.8.8/hook", &none).is_ok());
        let local = Allow::parse("127.0.0.1/32").unwrap();
        assert!(check("http://127.0.0.1:9000/x", &local).is_ok());
        assert!(check("http://127.0.0.2:9000/x", &local).is_err());
    }

    #[tokio::test]
    async fn the_delivering_resolver_drops_what_the_rule_refuses() {
        use reqwest::dns::Resolve;
        let name = || "localhost".parse::<reqwest::dns::Name>().unwrap();
        let guard = Guard { allow: Allow::none(), plain_http: false };
        assert!(guard.resolve(name()).await.is_err(), "https to a name for loopback");
        let listed = Guard { allow: Allow::parse("127.0.0.0/8, ::1/128").unwrap(), plain_http: true };
        let kept: Vec<SocketAddr> = listed.resolve(name()).await.unwrap().collect();
        assert!(!kept.is_empty() && kept.iter().all(|a| a.ip().is_loopback()), "{kept:?}");
    }
}
