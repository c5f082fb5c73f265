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
