//! Which site the apps are: the public origins (scheme, host, port) pages are served under, and
//! the checks built on them.
//!
//! - The `Host` of every request must name one of them (else 421): a DNS-rebound name that
//!   resolves to this server is not served.
//! - A WebSocket handshake's `Origin`, when present, must be one of them exactly, scheme included
//!   (else 403). Browsers always send it; clients that are not browsers send none and are judged
//!   by their credentials alone.
//! - A state-changing request (`POST /login`, `POST /logout`) must come from the site: its
//!   `Origin`, or without one its `Referer`, must be one of them (else 403; login/logout CSRF).
//!   Browsers send `Origin` on every POST (`null` from a no-referrer page, also refused).

use std::net::{IpAddr, SocketAddr};

use ws_server::Request;

/// A URL scheme the apps can be served under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `http://` (port 80 by default).
    Http,
    /// `https://` (port 443 by default), i.e. behind a TLS proxy.
    Https,
}

impl Scheme {
    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// One origin: scheme, lower-cased host (IPv6 without brackets) and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The scheme.
    pub scheme: Scheme,
    /// The host, lower case.
    pub host: String,
    /// The port (the scheme's default when the text has none).
    pub port: u16,
}

impl Origin {
    /// Parses `scheme://host[:port]` (a trailing `/` is allowed); `None` if it is anything else.
    pub fn parse(text: &str) -> Option<Origin> {
        let text = text.trim();
        let text = text.strip_suffix('/').unwrap_or(text);
        let (scheme, authority) = split_scheme(text)?;
        if authority.contains(['/', '?', '#', '@']) {
            return None;
        }
        let (host, port) = split_authority(authority, scheme.default_port())?;
        Some(Origin { scheme, host, port })
    }

    /// The origin a `Referer` URL belongs to.
    fn of_url(url: &str) -> Option<Origin> {
        let (scheme, rest) = split_scheme(url.trim())?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return None;
        }
        let (host, port) = split_authority(authority, scheme.default_port())?;
        Some(Origin { scheme, host, port })
    }

    /// Whether a `Host` header value names this origin's host and port.
    fn serves_host(&self, host_header: &str) -> bool {
        split_authority(host_header.trim(), self.scheme.default_port())
            .is_some_and(|(h, p)| h == self.host && p == self.port)
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.scheme.default_port() {
            write!(f, "{scheme}://{host}")
        } else {
            write!(f, "{scheme}://{host}:{}", self.port)
        }
    }
}

fn split_scheme(text: &str) -> Option<(Scheme, &str)> {
    let (scheme, rest) = text.split_once("://")?;
    let scheme = if scheme.eq_ignore_ascii_case("http") {
        Scheme::Http
    } else if scheme.eq_ignore_ascii_case("https") {
        Scheme::Https
    } else {
        return None;
    };
    Some((scheme, rest))
}

/// `host[:port]` or `[v6][:port]` into a lower-case host and a port.
fn split_authority(authority: &str, default_port: u16) -> Option<(String, u16)> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        match after.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if after.is_empty() => (h, None),
            None => return None,
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
        Some(_) => return None,
        None => default_port,
    };
    if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return None;
    }
    Some((host.to_ascii_lowercase(), port))
}

/// The origins a server listening on `addr` answers to when none is configured: on a loopback
/// or unspecified address, `localhost`, `127.0.0.1` and `[::1]` with its port; else the address
/// itself. Other names (a public host name, a proxy) need `--public-origin`.
pub fn defaults_for(addr: SocketAddr) -> Vec<Origin> {
    let port = addr.port();
    let http = |host: &str| Origin {
        scheme: Scheme::Http,
        host: host.to_owned(),
        port,
    };
    let ip = addr.ip();
    if ip.is_loopback() || ip.is_unspecified() {
        vec![http("localhost"), http("127.0.0.1"), http("::1")]
    } else {
        match ip {
            IpAddr::V4(v4) => vec![http(&v4.to_string())],
            IpAddr::V6(v6) => vec![http(&v6.to_string())],
        }
    }
}

/// The site: the origins it is served under.
#[derive(Debug, Clone)]
pub struct Site {
    origins: Vec<Origin>,
}

/// Why a request is refused by [`Site`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 421: the `Host` names no origin of this site (or is missing).
    UnknownHost,
    /// 403: the `Origin` (or `Referer`) is another site.
    CrossSite,
}

impl Site {
    /// A site served under `origins` (at least one).
    pub fn new(origins: Vec<Origin>) -> Site {
        Site { origins }
    }

    /// The origins.
    pub fn origins(&self) -> &[Origin] {
        &self.origins
    }

    /// The origin the request's `Host` names, if it is one of this site's.
    pub fn origin_for(&self, req: &Request) -> Option<&Origin> {
        let host = req.header("host")?;
        self.origins.iter().find(|o| o.serves_host(host))
    }

    fn is_own(&self, origin: &Origin) -> bool {
        self.origins.contains(origin)
    }

    /// Checks a page or API request: a known `Host`.
    pub fn check_host(&self, req: &Request) -> Result<(), Refusal> {
        self.origin_for(req).map(|_| ()).ok_or(Refusal::UnknownHost)
    }

    /// Checks a WebSocket handshake: a known `Host`, and an `Origin` of this site if present.
    pub fn check_websocket(&self, req: &Request) -> Result<(), Refusal> {
        self.check_host(req)?;
        match req.origin() {
            None => Ok(()),
            Some(o) if Origin::parse(o).is_some_and(|o| self.is_own(&o)) => Ok(()),
            Some(_) => Err(Refusal::CrossSite),
        }
    }

    /// Checks a state-changing request: a known `Host`, and its `Origin` (or, without one, its
    /// `Referer`) of this site when either is present.
    pub fn check_state_change(&self, req: &Request) -> Result<(), Refusal> {
        self.check_host(req)?;
        let from = match (req.origin(), req.header("referer")) {
            (Some(o), _) => Origin::parse(o),
            (None, Some(r)) => Origin::of_url(r),
            (None, None) => return Ok(()),
        };
        match from {
            Some(o) if self.is_own(&o) => Ok(()),
            _ => Err(Refusal::CrossSite),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises_origins() {
        let o = Origin::parse("HTTP://Example.COM").unwrap();
        assert_eq!(
            (o.scheme, o.host.as_str(), o.port),
            (Scheme::Http, "example.com", 80)
        );
        assert_eq!(Origin::parse("https://a.b:8443/").unwrap().port, 8443);
        assert_eq!(Origin::parse("http://[::1]:8000").unwrap().host, "::1");
        assert_eq!(
            Origin::parse("http://[::1]:8000").unwrap().to_string(),
            "http://[::1]:8000"
        );
        assert_eq!(
            Origin::parse("https://a.b:443").unwrap().to_string(),
            "https://a.b"
        );
        for bad in [
            "null",
            "ws://a",
            "http://",
            "http://a:x",
            "http://a/b",
            "http://u@a",
            "a.b",
        ] {
            assert_eq!(Origin::parse(bad), None, "{bad}");
        }
        let r = Origin::of_url("https://a.b/vote?x=1").unwrap();
        assert_eq!(
            (r.scheme, r.host.as_str(), r.port),
            (Scheme::Https, "a.b", 443)
        );
    }

    #[test]
    fn host_matches_with_or_without_the_default_port() {
        let o = Origin::parse("https://a.b").unwrap();
        assert!(o.serves_host("a.b") && o.serves_host("A.B:443"));
        assert!(!o.serves_host("a.b:80") && !o.serves_host("a.b.evil") && !o.serves_host(""));
    }

    #[test]
    fn defaults_cover_the_loopback_names() {
        let d = defaults_for("127.0.0.1:8000".parse().unwrap());
        let names: Vec<String> = d.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "http://localhost:8000",
                "http://127.0.0.1:8000",
                "http://[::1]:8000"
            ]
        );
        let d = defaults_for("192.0.2.7:80".parse().unwrap());
        assert_eq!(d[0].to_string(), "http://192.0.2.7");
    }
}
