//! What the request and response parsers share: the linear head scanner, the nom header-line
//! parser and the character classes of RFC 9110/9112.
//!
//! Line endings are strict: every line ends in CR LF. A bare LF or a CR not followed by LF is
//! rejected as [`HandshakeError::Malformed`] (RFC 9112 §2.2 allows a recipient to accept a bare
//! LF; this crate does not, so that every peer sees the same head boundaries).

use nom::bytes::complete::{tag, take_while, take_while1, take_while_m_n};
use nom::character::complete::char;
use nom::{IResult, Parser};

use super::Header;
use crate::error::HandshakeError;
use crate::limits::HeadLimits;

/// Finds the end of a head (the empty line) in bytes that arrive in pieces.
///
/// Linearity: `scanned` only grows, and each call examines only `input[scanned..]`, so every byte
/// is examined once however the head is split. Nothing is parsed before the head is complete; the
/// one full parse then runs once over the finished head.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scanner {
    /// Bytes examined so far (a prefix of every later input).
    scanned: usize,
    /// Where the line being scanned starts.
    line_start: usize,
    /// Completed non-empty lines, the start line included.
    lines: usize,
    /// The previous byte was CR.
    cr: bool,
    /// The empty line was found; the head is `scanned` bytes long.
    done: bool,
}

impl Scanner {
    /// A scanner at the start of a head.
    pub(crate) const fn new() -> Self {
        Self {
            scanned: 0,
            line_start: 0,
            lines: 0,
            cr: false,
            done: false,
        }
    }

    /// Examines the bytes not seen yet; returns the head length once the empty line is found.
    ///
    /// Fails with 431 as soon as the head cannot fit `limits.max_head_bytes`, or has more header
    /// lines than `limits.max_headers` or `slots` (the caller's header slice), whichever is less.
    /// `input` must extend the bytes passed before; a shorter input yields `Ok(None)`.
    pub(crate) fn scan(
        &mut self,
        input: &[u8],
        limits: &HeadLimits,
        slots: usize,
    ) -> Result<Option<usize>, HandshakeError> {
        if self.done {
            return Ok((input.len() >= self.scanned).then_some(self.scanned));
        }
        let max_headers = limits.max_headers.min(slots);
        let stop = input.len().min(limits.max_head_bytes);
        for &byte in input.get(self.scanned..stop).unwrap_or(&[]) {
            self.scanned += 1;
            match (self.cr, byte) {
                (true, b'\n') => {
                    self.cr = false;
                    // `scanned - 2` is where the CR was: an empty line ends the head.
                    if self.scanned - 2 == self.line_start {
                        if self.lines == 0 {
                            return Err(HandshakeError::Malformed);
                        }
                        self.done = true;
                        return Ok(Some(self.scanned));
                    }
                    self.lines += 1;
                    if self.lines - 1 > max_headers {
                        return Err(HandshakeError::TooManyHeaders);
                    }
                    self.line_start = self.scanned;
                }
                (true, _) | (false, b'\n') => return Err(HandshakeError::Malformed),
                (false, b'\r') => self.cr = true,
                (false, _) => {}
            }
        }
        if self.scanned >= limits.max_head_bytes {
            return Err(HandshakeError::HeadTooLarge);
        }
        Ok(None)
    }
}

/// `tchar` (RFC 9110 §5.6.2): the bytes of a token such as a method or header name.
pub(crate) const fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z'
        | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`'
        | b'|' | b'~')
}

/// Whether `s` is a non-empty token.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// A byte allowed in a header value: visible ASCII, space or horizontal tab.
pub(crate) const fn is_value_byte(b: u8) -> bool {
    matches!(b, b'\t' | b' '..=b'~')
}

/// Whether `s` may be written as a header value: only visible ASCII, spaces and tabs, and no
/// leading or trailing whitespace (which a reader would trim away).
pub(crate) fn is_header_value(s: &str) -> bool {
    s.bytes().all(is_value_byte) && trim_ows_str(s).len() == s.len()
}

/// Visible ASCII (`VCHAR`), e.g. the bytes of a request target.
pub(crate) const fn is_vchar(b: u8) -> bool {
    matches!(b, b'!'..=b'~')
}

/// One header line `name ":" OWS value OWS CRLF`, the value still untrimmed and unchecked.
/// The scanner has already guaranteed that CR only occurs in CR LF.
fn header_line(i: &[u8]) -> IResult<&[u8], (&[u8], &[u8])> {
    let (i, (name, _, value, _)) = (
        take_while1(is_tchar),
        char(':'),
        take_while(|b| b != b'\r'),
        tag("\r\n"),
    )
        .parse(i)?;
    Ok((i, (name, value)))
}

/// Parses the header lines and the final empty line of a complete head into `headers`; returns
/// how many were stored. `rest` starts after the start line and ends with the empty line.
pub(crate) fn parse_headers<'a>(
    mut rest: &'a [u8],
    headers: &mut [Header<'a>],
) -> Result<usize, HandshakeError> {
    let mut count = 0;
    while rest != b"\r\n" {
        let (after, (name, value)) = header_line(rest).map_err(|_| HandshakeError::Malformed)?;
        let value = trim_ows(value);
        if !value.iter().all(|&b| is_value_byte(b)) {
            return Err(HandshakeError::InvalidHeaderValue);
        }
        let slot = headers
            .get_mut(count)
            .ok_or(HandshakeError::TooManyHeaders)?;
        *slot = Header {
            name: ascii(name)?,
            value: ascii(value)?,
        };
        count += 1;
        rest = after;
    }
    Ok(count)
}

/// Where `v` starts and ends without leading and trailing spaces and tabs.
fn ows_bounds(v: &[u8]) -> (usize, usize) {
    let ows = |b: &u8| matches!(b, b' ' | b'\t');
    let start = v.iter().position(|b| !ows(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !ows(b)).map_or(start, |p| p + 1);
    (start, end)
}

/// `v` without leading and trailing spaces and tabs (only those: other bytes are checked).
fn trim_ows(v: &[u8]) -> &[u8] {
    let (start, end) = ows_bounds(v);
    v.get(start..end).unwrap_or(&[])
}

/// `s` without leading and trailing optional whitespace (RFC 9110 §5.6.3). Byte-wise, because
/// `str::trim_matches` with a char predicate costs 286 B of thumbv7em code (scripts/embedded);
/// the result is the same since OWS is ASCII.
pub(crate) fn trim_ows_str(s: &str) -> &str {
    let (start, end) = ows_bounds(s.as_bytes());
    s.get(start..end).unwrap_or("")
}

/// `s` split at the first `byte` (ASCII), without it. Byte-wise, for the same reason as
/// [`trim_ows_str`]: `str::split_once(char)` brings in `CharSearcher` (344 B on thumbv7em).
pub(crate) fn split_once_ascii(s: &str, byte: u8) -> Option<(&str, &str)> {
    let at = s.bytes().position(|b| b == byte)?;
    Some((s.get(..at)?, s.get(at + 1..)?))
}

/// Bytes already checked to be ASCII, as text.
pub(crate) fn ascii(bytes: &[u8]) -> Result<&str, HandshakeError> {
    core::str::from_utf8(bytes).map_err(|_| HandshakeError::Malformed)
}

/// The `HTTP/1.x` version of a start line, as its minor digit.
pub(crate) fn http_version(i: &[u8]) -> IResult<&[u8], u8> {
    let (i, (_, minor)) = (
        tag("HTTP/1."),
        take_while_m_n(1, 1, |b: u8| b.is_ascii_digit()),
    )
        .parse(i)?;
    Ok((i, minor.first().map_or(0, |d| d - b'0')))
}
