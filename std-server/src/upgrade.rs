//! The server's answers around the upgrade, shared by both engines: the 101 response with
//! permessage-deflate negotiated from the client's offers, and the 503 past the connection limit.

use crate::config::Config;
use crate::http::HttpResponse;
use ws_core::deflate::PerMessageDeflate;
use ws_core::handshake::{self, Accept};

/// An accepted upgrade: the 101 response to write and the extension agreed in it.
#[derive(Debug)]
pub(crate) struct Accepted {
    /// The whole response head.
    pub(crate) response: Vec<u8>,
    /// permessage-deflate, if agreed.
    pub(crate) deflate: Option<PerMessageDeflate>,
}

/// The 101 response for `key` with the application's `subprotocol` and `extra_headers`, and
/// permessage-deflate agreed from the client's `Sec-WebSocket-Extensions` values (`offers`) per
/// `config.deflate`; `None` if a header the application gave is invalid.
pub(crate) fn accept<'a>(
    key: &str,
    subprotocol: Option<&str>,
    extra_headers: &[(String, String)],
    offers: impl IntoIterator<Item = &'a str>,
    config: &Config,
) -> Option<Accepted> {
    let negotiated = config.deflate.policy.negotiate(offers);
    let mut ext_buf = [0u8; ws_core::deflate::MAX_HEADER_VALUE_LEN];
    let extensions = match &negotiated {
        Some(d) => Some(d.write_response(&mut ext_buf).ok()?),
        None => None,
    };
    let extra: Vec<(&str, &str)> = extra_headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let accept = Accept {
        subprotocol,
        extensions,
        extra_headers: &extra,
    };
    let room = 640
        + extra
            .iter()
            .map(|(k, v)| k.len() + v.len() + 4)
            .sum::<usize>();
    let mut response = vec![0u8; room];
    let n = handshake::write_accept_response(key, &accept, &mut response).ok()?;
    response.truncate(n);
    Some(Accepted {
        response,
        deflate: negotiated.map(|d| d.params),
    })
}

/// The answer to a connection past the connection limit.
pub(crate) fn busy() -> HttpResponse {
    HttpResponse::text(503, "Service Unavailable: too many connections").header("Retry-After", "1")
}
