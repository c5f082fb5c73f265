//! The input format shared by every target: values are read front to back (little-endian
//! integers, zero once the input runs out), so a seed can be written by hand with [`Seed`] and
//! the fuzzer's mutations stay local.

use arbitrary::Unstructured;

/// A reader over one fuzz input.
pub struct Input<'a> {
    u: Unstructured<'a>,
}

impl<'a> Input<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            u: Unstructured::new(data),
        }
    }

    /// The next byte, or 0 at the end.
    pub fn u8(&mut self) -> u8 {
        self.u.arbitrary().unwrap_or(0)
    }

    /// The next two bytes as a little-endian `u16`, zero-padded at the end.
    pub fn u16(&mut self) -> u16 {
        self.u.arbitrary().unwrap_or(0)
    }

    /// The next byte's low bit.
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// Up to `n` next bytes (fewer at the end).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.u.len());
        self.u.bytes(n).unwrap_or(&[])
    }

    /// Four bytes (zero-padded at the end).
    pub fn array4(&mut self) -> [u8; 4] {
        let mut key = [0; 4];
        let b = self.bytes(4);
        key[..b.len()].copy_from_slice(b);
        key
    }

    /// Everything not read yet.
    pub fn rest(self) -> &'a [u8] {
        self.u.take_rest()
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.u.is_empty()
    }

    /// Reads a split-point list (a count byte, then that many `u16`s, count taken modulo 16) and
    /// returns the rest of the input with the sorted, distinct cut points inside it (0 and the end
    /// excluded).
    pub fn cuts_then_rest(mut self) -> (Vec<usize>, &'a [u8]) {
        let n = usize::from(self.u8() % 16);
        let raw: Vec<u16> = (0..n).map(|_| self.u16()).collect();
        let rest = self.rest();
        let mut cuts: Vec<usize> = raw
            .into_iter()
            .map(|c| usize::from(c) % (rest.len() + 1))
            .filter(|&c| c > 0 && c < rest.len())
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        (cuts, rest)
    }
}

/// Writes inputs in the format [`Input`] reads (for seeds and tests).
#[derive(Clone, Debug, Default)]
pub struct Seed(pub Vec<u8>);

impl Seed {
    /// An empty seed.
    pub fn new() -> Self {
        Self(Vec::new())
    }
    /// Appends a byte.
    pub fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    /// Appends a little-endian `u16`.
    pub fn u16(mut self, v: u16) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    /// Appends bytes.
    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
    /// Appends a cut list (for [`Input::cuts_then_rest`]).
    pub fn cuts(self, cuts: &[u16]) -> Self {
        let mut s = self.u8(cuts.len() as u8);
        for &c in cuts {
            s = s.u16(c);
        }
        s
    }
}
