//! Header values as lists: comma-separated elements (RFC 9110 §5.6.1) and header lookup.

use super::head::{split_once_ascii, trim_ows_str};
use super::Header;

/// The values of every header called `name` (case-insensitive), in order.
pub(crate) fn values<'a, 'h>(
    headers: &'h [Header<'a>],
    name: &'h str,
) -> impl Iterator<Item = &'a str> + 'h {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

/// The list elements of every header called `name`, in order.
pub(crate) fn elements<'a, 'h>(
    headers: &'h [Header<'a>],
    name: &'h str,
) -> impl Iterator<Item = &'a str> + 'h {
    values(headers, name).flat_map(List::new)
}

/// Whether some header `name` lists `token` (case-insensitive), e.g. `Connection: keep-alive, Upgrade`.
pub(crate) fn has_token(headers: &[Header<'_>], name: &str, token: &str) -> bool {
    elements(headers, name).any(|e| e.eq_ignore_ascii_case(token))
}

/// An extension element split into its name and the parameters after the first `;`.
pub(crate) fn split_params(element: &str) -> (&str, &str) {
    match split_once_ascii(element, b';') {
        Some((name, params)) => (trim_ows_str(name), trim_ows_str(params)),
        None => (element, ""),
    }
}

/// The elements of one comma-separated list, trimmed, empty ones skipped. Commas inside quoted
/// strings (with `\` escapes) do not split, so `a; p="x,y", b` has two elements.
#[derive(Clone, Debug)]
pub(crate) struct List<'a> {
    rest: &'a str,
}

impl<'a> List<'a> {
    /// The elements of `value`.
    pub(crate) const fn new(value: &'a str) -> Self {
        Self { rest: value }
    }
}

impl<'a> Iterator for List<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        while !self.rest.is_empty() {
            let (mut quoted, mut escaped) = (false, false);
            let mut end = self.rest.len();
            for (i, b) in self.rest.bytes().enumerate() {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' if quoted => escaped = true,
                    b'"' => quoted = !quoted,
                    b',' if !quoted => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            // `end` is the index of an ASCII comma or the length, so a char boundary.
            let (element, rest) = self.rest.split_at_checked(end)?;
            self.rest = rest.strip_prefix(',').unwrap_or(rest);
            let element = trim_ows_str(element);
            if !element.is_empty() {
                return Some(element);
            }
        }
        None
    }
}
