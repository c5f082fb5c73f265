//! The extension list grammar (RFC 6455 §9.1) and the permessage-deflate parameters (RFC 7692 §7.1).
//!
//! [`Elements`] walks a header value one extension at a time. Parameters of `permessage-deflate`
//! are checked on the way; other extensions are skipped (their syntax is still checked, so a
//! malformed neighbour cannot hide a quote that swallows the next offer).

use super::lexer::{unescape, Lexer, Tok};

/// The registered extension token (RFC 7692 §7).
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// How `client_max_window_bits` appeared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum ClientBits {
    /// Not present.
    #[default]
    Absent,
    /// Present without a value (allowed in an offer only).
    Bare,
    /// Present with a value in 8..=15.
    Value(u8),
}

/// The parameters of one `permessage-deflate` element, each seen at most once with a valid value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_max_window_bits: Option<u8>,
    pub(crate) client_max_window_bits: ClientBits,
}

/// Why an element's parameters are not acceptable (the element is declined, the next one tried).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParamError {
    /// Not the extension list grammar.
    Malformed,
    /// A parameter RFC 7692 does not define.
    Unknown,
    /// A parameter given twice.
    Duplicate,
    /// A missing, unexpected or out-of-range value.
    BadValue,
}

/// A parameter value as written.
#[derive(Clone, Copy, Debug)]
enum Value<'a> {
    Token(&'a str),
    Quoted(&'a str),
}

/// A window size value: a decimal 8..=15 without leading zeros (RFC 7692 §7.1.2.1).
fn window_bits(value: Value<'_>) -> Option<u8> {
    let mut n: u8 = 0;
    let mut digits = 0u8;
    let mut check = |b: u8| -> bool {
        if !b.is_ascii_digit() || (digits == 0 && b == b'0') || digits >= 2 {
            return false;
        }
        digits += 1;
        n = n * 10 + (b - b'0');
        true
    };
    let ok = match value {
        Value::Token(t) => t.bytes().all(&mut check),
        Value::Quoted(q) => unescape(q).all(&mut check),
    };
    (ok && (8..=15).contains(&n)).then_some(n)
}

impl Params {
    /// Records one parameter.
    fn apply(&mut self, name: &str, value: Option<Value<'_>>) -> Result<(), ParamError> {
        let is = |known: &str| name.eq_ignore_ascii_case(known);
        if is("server_no_context_takeover") || is("client_no_context_takeover") {
            let flag = if is("server_no_context_takeover") {
                &mut self.server_no_context_takeover
            } else {
                &mut self.client_no_context_takeover
            };
            if *flag {
                return Err(ParamError::Duplicate);
            }
            if value.is_some() {
                return Err(ParamError::BadValue);
            }
            *flag = true;
        } else if is("server_max_window_bits") {
            if self.server_max_window_bits.is_some() {
                return Err(ParamError::Duplicate);
            }
            let bits = value.and_then(window_bits).ok_or(ParamError::BadValue)?;
            self.server_max_window_bits = Some(bits);
        } else if is("client_max_window_bits") {
            if self.client_max_window_bits != ClientBits::Absent {
                return Err(ParamError::Duplicate);
            }
            self.client_max_window_bits = match value {
                None => ClientBits::Bare,
                Some(v) => ClientBits::Value(window_bits(v).ok_or(ParamError::BadValue)?),
            };
        } else {
            return Err(ParamError::Unknown);
        }
        Ok(())
    }
}

/// One element of the extension list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Element<'a> {
    /// The extension token ("" for an element that does not start with one).
    pub(crate) name: &'a str,
    /// Whether `name` is `permessage-deflate` (case-insensitive).
    pub(crate) is_deflate: bool,
    /// For permessage-deflate, its checked parameters; for other extensions `Ok(default)` unless the
    /// syntax is broken.
    pub(crate) params: Result<Params, ParamError>,
}

/// Iterates over the elements of one header value, in order; linear in the input.
#[derive(Clone, Debug)]
pub(crate) struct Elements<'a> {
    lexer: Lexer<'a>,
}

impl<'a> Elements<'a> {
    /// The elements of `value`.
    pub(crate) const fn new(value: &'a str) -> Self {
        Self {
            lexer: Lexer::new(value),
        }
    }

    /// After an unexpected item `t`, moves to the start of the next element.
    fn resync(&mut self, t: Tok<'_>) -> Result<Params, ParamError> {
        if !matches!(t, Tok::Comma | Tok::End) {
            self.lexer.skip_element();
        }
        Err(ParamError::Malformed)
    }

    /// Reads `*( ";" param [ "=" value ] )` up to the element's end.
    fn params(&mut self, check: bool) -> Result<Params, ParamError> {
        let mut params = Params::default();
        let mut error = None;
        let mut sep = self.lexer.next();
        loop {
            match sep {
                Tok::End | Tok::Comma => return error.map_or(Ok(params), Err),
                Tok::Semi => {}
                t => return self.resync(t),
            }
            let name = match self.lexer.next() {
                Tok::Token(name) => name,
                t => return self.resync(t),
            };
            sep = self.lexer.next();
            let mut value = None;
            if sep == Tok::Equals {
                value = match self.lexer.next() {
                    Tok::Token(v) => Some(Value::Token(v)),
                    Tok::Quoted(q) => Some(Value::Quoted(q)),
                    t => return self.resync(t),
                };
                sep = self.lexer.next();
            }
            if check && error.is_none() {
                error = params.apply(name, value).err();
            }
        }
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = Element<'a>;

    fn next(&mut self) -> Option<Element<'a>> {
        loop {
            match self.lexer.next() {
                Tok::End => return None,
                // Empty list elements are allowed by the `#` rule (RFC 7230 §7).
                Tok::Comma => {}
                Tok::Token(name) => {
                    let is_deflate = name.eq_ignore_ascii_case(EXTENSION_NAME);
                    let params = self.params(is_deflate);
                    return Some(Element {
                        name,
                        is_deflate,
                        params,
                    });
                }
                t => {
                    let params = self.resync(t);
                    return Some(Element {
                        name: "",
                        is_deflate: false,
                        params,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(value: &str) -> Result<Params, ParamError> {
        Elements::new(value).next().map(|e| e.params).unwrap()
    }

    #[test]
    fn window_bits_values() {
        for (v, want) in [
            ("8", Some(8)),
            ("15", Some(15)),
            ("7", None),
            ("16", None),
            ("08", None),
            ("", None),
            ("1a", None),
            ("100", None),
        ] {
            assert_eq!(window_bits(Value::Token(v)), want, "{v}");
        }
        assert_eq!(window_bits(Value::Quoted("1\\2")), Some(12));
    }

    #[test]
    fn params_errors() {
        let d = "permessage-deflate";
        let p = |s: &str| first(&[d, s].concat());
        assert_eq!(p("; x"), Err(ParamError::Unknown));
        assert_eq!(
            p("; server_no_context_takeover=1"),
            Err(ParamError::BadValue)
        );
        assert_eq!(p("; server_max_window_bits"), Err(ParamError::BadValue));
        assert_eq!(
            p("; client_max_window_bits; client_max_window_bits=9"),
            Err(ParamError::Duplicate)
        );
        assert_eq!(p("; ; a"), Err(ParamError::Malformed));
        assert_eq!(p(" x"), Err(ParamError::Malformed));
    }
}
