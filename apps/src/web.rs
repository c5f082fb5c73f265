//! Small HTTP helpers for the apps: page responses with security headers, form decoding,
//! constant-time comparison, the clock.

use std::time::{SystemTime, UNIX_EPOCH};

use ws_server::HttpResponse;

/// The Content-Security-Policy of every page: scripts, styles and sockets only from this site, so
/// even an injected tag could neither run nor load anything.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the headers every page gets.
pub fn secure(resp: HttpResponse) -> HttpResponse {
    resp.header("Content-Security-Policy", CSP)
        .header("X-Content-Type-Options", "nosniff")
        .header("Referrer-Policy", "same-origin")
        .header("X-Frame-Options", "DENY")
}

/// A dynamic HTML page (not cached).
pub fn page(html: String) -> HttpResponse {
    secure(HttpResponse::html(html)).header("Cache-Control", "no-store")
}

/// A JSON response.
pub fn json(status: u16, value: &serde_json::Value) -> HttpResponse {
    HttpResponse::new(status)
        .header("Content-Type", "application/json")
        .header("Cache-Control", "no-store")
        .body(value.to_string().into_bytes())
}

/// An error as the site's styled page: the status, `text`, and a link back to the index.
pub fn error(status: u16, text: &str) -> HttpResponse {
    let reason = match status {
        400 => "Bad request",
        401 => "Not logged in",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        421 => "Wrong address",
        503 => "Busy",
        _ if status >= 500 => "Server error",
        _ => "Error",
    };
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{status} {reason}</title>\n\
         <link rel=\"stylesheet\" href=\"/static/style.css\">\n\
         <link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n\
         </head>\n<body>\n<nav><a href=\"/\">← apps</a></nav>\n\
         <h1>{status} {reason}</h1>\n<p class=\"error\">{}</p>\n\
         <p><a href=\"/\">Back to the apps</a></p>\n</body>\n</html>\n",
        escape_html(text)
    );
    let mut r = page(html);
    r.status = status;
    r
}

/// A plain-text error for API clients (POST /notify): no page around it.
pub fn api_error(status: u16, text: &str) -> HttpResponse {
    secure(HttpResponse::text(status, text.to_owned()))
}

/// `text` with the five HTML metacharacters escaped.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The value of `name` in an `application/x-www-form-urlencoded` body.
pub fn form_value(body: &[u8], name: &str) -> Option<String> {
    let body = std::str::from_utf8(body).ok()?;
    body.split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .find(|(k, _)| percent_decode(k).as_deref() == Some(name))
        .and_then(|(_, v)| percent_decode(v))
}

/// Decodes `%XX` escapes and `+` (form encoding); `None` if the result is not UTF-8 or an escape
/// is malformed.
pub fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = hex(bytes.next()?)?;
                let lo = hex(bytes.next()?)?;
                out.push(hi << 4 | lo);
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Compares two secrets in time independent of where they differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode() {
        assert_eq!(
            form_value(b"a=1&name=%E5%B0%8F+x", "name").as_deref(),
            Some("小 x")
        );
        assert_eq!(form_value(b"name=%zz", "name"), None);
        assert_eq!(form_value(b"other=1", "name"), None);
        assert_eq!(form_value(b"name", "name").as_deref(), Some(""));
    }

    #[test]
    fn constant_time_eq() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
