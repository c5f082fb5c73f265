//! A forward-only tokenizer for `Sec-WebSocket-Extensions` values (RFC 6455 §9.1, RFC 7230 §3.2.6).
//!
//! Every call to [`Lexer::next`] advances by at least one byte or reports the end, and no byte is
//! looked at twice, so the work is linear in the input whatever it holds (an unclosed quote or a long
//! run of whitespace costs one pass).

/// One lexical item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok<'a> {
    /// `1*tchar`.
    Token(&'a str),
    /// The raw text between the quotes of a quoted-string (escapes not yet removed).
    Quoted(&'a str),
    /// `;`
    Semi,
    /// `,`
    Comma,
    /// `=`
    Equals,
    /// A byte that cannot start any item, or a quoted-string without its closing quote.
    Bad,
    /// The input is exhausted.
    End,
}

/// The tokenizer state: the input and the position reached.
#[derive(Clone, Debug)]
pub(crate) struct Lexer<'a> {
    input: &'a str,
    pos: usize,
}

/// `tchar` from RFC 7230 §3.2.6.
const fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`'
        | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `input`.
    pub(crate) const fn new(input: &'a str) -> Self {
        Self { input, pos: 0 }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.input.as_bytes().get(at).copied()
    }

    /// `input[from..to]`, or "" if that is not a char-boundary range (never for ASCII bounds).
    fn slice(&self, from: usize, to: usize) -> &'a str {
        self.input.get(from..to).unwrap_or("")
    }

    /// The next item, skipping spaces and tabs.
    pub(crate) fn next(&mut self) -> Tok<'a> {
        while matches!(self.byte(self.pos), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        let Some(b) = self.byte(self.pos) else {
            return Tok::End;
        };
        let start = self.pos;
        self.pos += 1;
        match b {
            b';' => Tok::Semi,
            b',' => Tok::Comma,
            b'=' => Tok::Equals,
            b'"' => self.quoted(start + 1),
            b if is_tchar(b) => {
                while self.byte(self.pos).is_some_and(is_tchar) {
                    self.pos += 1;
                }
                Tok::Token(self.slice(start, self.pos))
            }
            _ => Tok::Bad,
        }
    }

    /// The rest of a quoted-string whose content starts at `from`; `Bad` if it never closes.
    fn quoted(&mut self, from: usize) -> Tok<'a> {
        loop {
            match self.byte(self.pos) {
                None => return Tok::Bad,
                Some(b'"') => {
                    self.pos += 1;
                    return Tok::Quoted(self.slice(from, self.pos - 1));
                }
                Some(b'\\') => {
                    // A quoted-pair: the escaped byte is taken as is (and must exist).
                    if self.byte(self.pos + 1).is_none() {
                        self.pos += 1;
                        return Tok::Bad;
                    }
                    self.pos += 2;
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// Skips to just after the next top-level comma (quotes respected), or to the end.
    pub(crate) fn skip_element(&mut self) {
        loop {
            match self.next() {
                Tok::Comma | Tok::End => return,
                _ => {}
            }
        }
    }
}

/// The bytes of a quoted-string's raw content with the quoted-pair escapes removed.
pub(crate) fn unescape(raw: &str) -> impl Iterator<Item = u8> + '_ {
    let mut escaped = false;
    raw.bytes().filter(move |&b| {
        if escaped {
            escaped = false;
            true
        } else if b == b'\\' {
            escaped = true;
            false
        } else {
            true
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &str) -> heapless::Vec<Tok<'_>, 32> {
        let mut lexer = Lexer::new(input);
        let mut out = heapless::Vec::new();
        loop {
            let t = lexer.next();
            out.push(t).unwrap();
            if t == Tok::End {
                return out;
            }
        }
    }

    #[test]
    fn tokens_and_separators() {
        assert_eq!(
            all(" permessage-deflate ;a=\"1\\5\", x\t"),
            [
                Tok::Token("permessage-deflate"),
                Tok::Semi,
                Tok::Token("a"),
                Tok::Equals,
                Tok::Quoted("1\\5"),
                Tok::Comma,
                Tok::Token("x"),
                Tok::End
            ]
        );
    }

    #[test]
    fn unclosed_quote_and_bad_bytes() {
        assert_eq!(
            all("a=\"15"),
            [Tok::Token("a"), Tok::Equals, Tok::Bad, Tok::End]
        );
        assert_eq!(all("\"\\"), [Tok::Bad, Tok::End]);
        assert_eq!(
            all("a@b"),
            [Tok::Token("a"), Tok::Bad, Tok::Token("b"), Tok::End]
        );
    }

    #[test]
    fn unescape_removes_quoted_pairs() {
        let v: heapless::Vec<u8, 8> = unescape("1\\5\\\\").collect();
        assert_eq!(&v[..], b"15\\");
    }
}
