//! Close codes (RFC 6455 §7.4) and close payload parsing/encoding.

/// A close status code (RFC 6455 §7.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: Self = Self(1000);
    /// 1001: going away (server shutdown, page navigation).
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: unsupported data.
    pub const UNSUPPORTED: Self = Self(1003);
    /// 1005: no status code was present (RFC 6455 §7.1.5). Only for reporting a close frame
    /// without a code; never sent ([`CloseCode::is_sendable`] is false).
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: the connection closed without a close frame (RFC 6455 §7.1.5). Only for reporting;
    /// never sent ([`CloseCode::is_sendable`] is false).
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: invalid frame payload data (e.g. bad UTF-8).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: policy violation.
    pub const POLICY: Self = Self(1008);
    /// 1009: message too big.
    pub const TOO_BIG: Self = Self(1009);
    /// 1010: mandatory extension missing (client only).
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: internal error.
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1013: try again later.
    pub const TRY_AGAIN_LATER: Self = Self(1013);

    /// Whether this code may appear in a close frame on the wire (§7.4.1, §7.4.2):
    /// 1000-1003, 1007-1014 and 3000-4999.
    pub const fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

impl core::fmt::Display for CloseCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Longest close reason: a control payload (125) minus the 2-byte code.
pub const MAX_REASON_LEN: usize = 123;

/// Parses a received close payload (§5.5.1): empty, or a 2-byte code followed by a UTF-8 reason.
///
/// ```
/// use ws_core::close::{parse_close_payload, CloseCode};
/// assert_eq!(parse_close_payload(b"\x03\xe8bye"), Ok((Some(CloseCode::NORMAL), "bye")));
/// assert_eq!(parse_close_payload(b""), Ok((None, "")));
/// assert!(parse_close_payload(b"\x03").is_err()); // 1 byte: 1002
/// assert!(parse_close_payload(b"\x03\xed").is_err()); // 1005 may not be sent: 1002
/// ```
pub fn parse_close_payload(
    payload: &[u8],
) -> Result<(Option<CloseCode>, &str), crate::ProtocolError> {
    use crate::ProtocolError;
    match payload {
        [] => Ok((None, "")),
        [_] => Err(ProtocolError::InvalidClosePayload),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_sendable() {
                return Err(ProtocolError::InvalidCloseCode);
            }
            let reason = core::str::from_utf8(reason).map_err(|_| ProtocolError::InvalidUtf8)?;
            Ok((Some(code), reason))
        }
    }
}

/// Writes a close payload (code, then reason) into `out`; returns its length. `None` writes an
/// empty payload; the reason is cut to [`MAX_REASON_LEN`] bytes at a character boundary.
pub(crate) fn write_close_payload(
    code: Option<CloseCode>,
    reason: &str,
    out: &mut [u8; 125],
) -> usize {
    let Some(code) = code else { return 0 };
    let mut end = reason.len().min(MAX_REASON_LEN);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let reason = reason.as_bytes().get(..end).unwrap_or_default();
    let [hi, lo] = code.0.to_be_bytes();
    out[0] = hi;
    out[1] = lo;
    if let Some(dst) = out.get_mut(2..2 + reason.len()) {
        dst.copy_from_slice(reason);
    }
    2 + reason.len()
}
