use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;

use crate::diagnostic::Span;

/// The stack's Docker network.
#[derive(Clone, Debug, Serialize)]
pub struct Network {
    pub name: String,
    pub subnet: Option<Subnet>,
    /// Outlives the compose project: compose only joins it, `obsbuild switch` creates it
    /// when missing, and `obsbuild down` removes it only when obsbuild created it.
    pub external: bool,
    pub span: Option<Span>,
}

/// An IPv4 subnet in CIDR form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Subnet {
    pub address: Ipv4Addr,
    pub prefix: u8,
}

impl Subnet {
    /// Parses `a.b.c.d/n`; the address must be the network address itself.
    pub fn parse(text: &str) -> Result<Subnet, String> {
        let (addr, prefix) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not in CIDR form; write it like `172.28.0.0/16`"))?;
        let address: Ipv4Addr =
            addr.parse().map_err(|_| format!("`{addr}` is not an IPv4 address"))?;
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| (8..=30).contains(p))
            .ok_or_else(|| format!("prefix `/{prefix}` must be a number from 8 to 30"))?;
        let subnet = Subnet { address, prefix };
        if subnet.network() != address {
            return Err(format!(
                "`{text}` has host bits set; the network address is `{}/{prefix}`",
                subnet.network()
            ));
        }
        Ok(subnet)
    }

    fn mask(&self) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0)
    }

    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) & self.mask())
    }

    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) | !self.mask())
    }

    /// Docker gives the first host address to the bridge as its gateway.
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network()) + 1)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.network())
    }

    /// Whether the two subnets share any address.
    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.contains(other.network()) || other.contains(self.network())
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Protocol {
    /// As engines and compose files write it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }

    pub fn is_tcp(&self) -> bool {
        *self == Protocol::Tcp
    }
}

/// A container port published on the host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Port {
    pub host_ip: IpAddr,
    pub host: u16,
    pub container: u16,
    pub protocol: Protocol,
}

impl Port {
    /// Parses `9090`, `"3001:3000"`, `"0.0.0.0:4317:4317"`, `"[::1]:80:80"`, `"6831:6831/udp"`.
    /// Ports without a host address are published on 127.0.0.1 only: an observability stack
    /// holds every log line of its apps, and reaching it from the network is a choice to write
    /// down (`"0.0.0.0:3000:3000"`), not a default.
    pub fn parse(text: &str) -> Result<Port, String> {
        let (spec, protocol) = match text.rsplit_once('/') {
            Some((s, "tcp")) => (s, Protocol::Tcp),
            Some((s, "udp")) => (s, Protocol::Udp),
            Some((_, p)) => return Err(format!("protocol `{p}` is neither `tcp` nor `udp`")),
            None => (text, Protocol::Tcp),
        };
        let number = |p: &str| -> Result<u16, String> {
            p.parse::<u16>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("`{p}` is not a port number from 1 to 65535"))
        };
        let (host_ip, rest) = if let Some(stripped) = spec.strip_prefix('[') {
            let (ip, rest) = stripped
                .split_once("]:")
                .ok_or_else(|| format!("`{text}`: an IPv6 host address is written `[::1]:8080:80`"))?;
            let ip: IpAddr = ip.parse().map_err(|_| format!("`{ip}` is not an IP address"))?;
            (Some(ip), rest)
        } else {
            let parts: Vec<&str> = spec.split(':').collect();
            if parts.len() == 3 {
                let ip: IpAddr =
                    parts[0].parse().map_err(|_| format!("`{}` is not an IP address", parts[0]))?;
                (Some(ip), &spec[parts[0].len() + 1..])
            } else {
                (None, spec)
            }
        };
        let (host, container) = match rest.split_once(':') {
            Some((h, c)) => (number(h)?, number(c)?),
            None => {
                let p = number(rest)?;
                (p, p)
            }
        };
        Ok(Port {
            host_ip: host_ip.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            host,
            container,
            protocol,
        })
    }
}

impl std::fmt::Display for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.host_ip {
            IpAddr::V4(ip) => write!(f, "{ip}:{}:{}", self.host, self.container)?,
            IpAddr::V6(ip) => write!(f, "[{ip}]:{}:{}", self.host, self.container)?,
        }
        if self.protocol == Protocol::Udp {
            f.write_str("/udp")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets() {
        let s = Subnet::parse("172.28.0.0/16").unwrap();
        assert!(s.contains("172.28.0.10".parse().unwrap()));
        assert!(!s.contains("172.29.0.10".parse().unwrap()));
        assert_eq!(s.gateway().to_string(), "172.28.0.1");
        assert_eq!(s.broadcast().to_string(), "172.28.255.255");
        assert!(Subnet::parse("172.28.0.1/16").unwrap_err().contains("172.28.0.0/16"));
        assert!(Subnet::parse("172.28.0.0").is_err());
        assert!(s.overlaps(&Subnet::parse("172.28.5.0/24").unwrap()));
    }

    #[test]
    fn ports() {
        assert_eq!(Port::parse("9090").unwrap().to_string(), "127.0.0.1:9090:9090");
        assert_eq!(Port::parse("3001:3000").unwrap().to_string(), "127.0.0.1:3001:3000");
        assert_eq!(Port::parse("0.0.0.0:4317:4317").unwrap().to_string(), "0.0.0.0:4317:4317");
        assert_eq!(Port::parse("[::1]:80:8080").unwrap().to_string(), "[::1]:80:8080");
        assert_eq!(Port::parse("6831/udp").unwrap().to_string(), "127.0.0.1:6831:6831/udp");
        assert!(Port::parse("0").is_err());
        assert!(Port::parse("70000").is_err());
        assert!(Port::parse("1:2/sctp").is_err());
    }
}
