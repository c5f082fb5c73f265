//! SHA-1 (FIPS 180-4 §6.1) for the accept key only (RFC 6455 §4.2.2 hashes public values: no
//! secrecy, no constant time needed). Written for size: one rolled 80-round loop over a 16-word
//! schedule, bytes fed one at a time. On thumbv7em at opt-level s it is ~0.4 KB of code and ~0.1 KB
//! of stack, where sha1_smol's unrolled rounds took 2.9 KB and a 280-byte frame (measured with
//! scripts/embedded); for the 60 bytes of a handshake the speed difference does not matter.

/// A running SHA-1 hash.
pub(crate) struct Sha1 {
    state: [u32; 5],
    /// The block being filled, as big-endian words: it is the start of the message schedule, which
    /// [`compress`] extends in place (no second 64-byte array on the stack).
    block: [u32; 16],
    /// Bytes hashed so far (the position in `block` is `len % 64`).
    len: u64,
}

impl Sha1 {
    /// The initial hash value (FIPS 180-4 §5.3.1).
    pub(crate) const fn new() -> Self {
        Self {
            state: [
                0x6745_2301,
                0xEFCD_AB89,
                0x98BA_DCFE,
                0x1032_5476,
                0xC3D2_E1F0,
            ],
            block: [0; 16],
            len: 0,
        }
    }

    /// Hashes `data`.
    pub(crate) fn update(&mut self, data: &[u8]) {
        for &byte in data {
            self.push(byte);
        }
    }

    fn push(&mut self, byte: u8) {
        let at = (self.len % 64) as usize;
        if let Some(word) = self.block.get_mut(at / 4) {
            let shift = 24 - 8 * (at % 4);
            *word = (*word & !(0xff << shift)) | u32::from(byte) << shift;
        }
        self.len = self.len.wrapping_add(1);
        if at == 63 {
            compress(&mut self.state, &mut self.block);
        }
    }

    /// Pads (FIPS 180-4 §5.1.1) and returns the 20-byte digest.
    pub(crate) fn digest(&mut self) -> [u8; 20] {
        let bits = self.len.wrapping_mul(8);
        self.push(0x80);
        while self.len % 64 != 56 {
            self.push(0);
        }
        self.update(&bits.to_be_bytes());
        let mut out = [0u8; 20];
        for (dst, word) in out.chunks_mut(4).zip(self.state) {
            dst.copy_from_slice(&word.to_be_bytes());
        }
        out
    }
}

/// Word `i` (mod 16) of the schedule; the mask keeps it in bounds, so no panic path is compiled.
fn at(w: &[u32; 16], i: usize) -> u32 {
    w.get(i & 15).copied().unwrap_or(0)
}

/// One block into the state (FIPS 180-4 §6.1.2); `w` (the block's words) becomes the schedule.
fn compress(state: &mut [u32; 5], w: &mut [u32; 16]) {
    let [mut a, mut b, mut c, mut d, mut e] = *state;
    for i in 0..80 {
        if i >= 16 {
            let next = (at(w, i + 13) ^ at(w, i + 8) ^ at(w, i + 2) ^ at(w, i)).rotate_left(1);
            if let Some(slot) = w.get_mut(i & 15) {
                *slot = next;
            }
        }
        let (f, k) = match i / 20 {
            0 => ((b & c) | (!b & d), 0x5A82_7999),
            1 => (b ^ c ^ d, 0x6ED9_EBA1),
            2 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
            _ => (b ^ c ^ d, 0xCA62_C1D6),
        };
        let t = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(at(w, i));
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = t;
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e]) {
        *s = s.wrapping_add(v);
    }
}

#[cfg(test)]
mod tests {
    use super::Sha1;
    use proptest::prelude::*;

    fn hex(digest: [u8; 20]) -> [u8; 40] {
        let mut out = [0u8; 40];
        for (pair, byte) in out.chunks_mut(2).zip(digest) {
            pair[0] = b"0123456789abcdef"[usize::from(byte >> 4)];
            pair[1] = b"0123456789abcdef"[usize::from(byte & 15)];
        }
        out
    }

    fn sha1(parts: &[&[u8]]) -> [u8; 40] {
        let mut h = Sha1::new();
        for part in parts {
            h.update(part);
        }
        hex(h.digest())
    }

    #[test]
    fn fips_180_examples() {
        // FIPS 180-4 example vectors (one block, two blocks) and the empty message.
        assert_eq!(
            &sha1(&[b"abc"]),
            b"a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            &sha1(&[b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"]),
            b"84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(&sha1(&[]), b"da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }

    #[test]
    fn a_million_a_in_pieces() {
        let mut h = Sha1::new();
        for _ in 0..1000 {
            h.update(&[b'a'; 1000]);
        }
        assert_eq!(
            &hex(h.digest()),
            b"34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
    }

    /// The digest of sha1_smol, the reference (and the default implementation).
    fn reference(parts: &[&[u8]]) -> [u8; 20] {
        let mut h = sha1_smol::Sha1::new();
        for part in parts {
            h.update(part);
        }
        h.digest().bytes()
    }

    fn digest(parts: &[&[u8]]) -> [u8; 20] {
        let mut h = Sha1::new();
        for part in parts {
            h.update(part);
        }
        h.digest()
    }

    #[test]
    fn every_length_around_the_block_boundaries() {
        // 0-200 bytes: every padding case (55, 56, 63, 64 bytes into a block) over three blocks,
        // alone and followed by the GUID as in the accept key.
        let guid = crate::handshake::GUID.as_bytes();
        let bytes: [u8; 200] = core::array::from_fn(|i| (i as u8).wrapping_mul(7).wrapping_add(3));
        for len in 0..=200 {
            let data = &bytes[..len];
            assert_eq!(digest(&[data]), reference(&[data]), "length {len}");
            assert_eq!(
                digest(&[data, guid]),
                reference(&[data, guid]),
                "length {len} + GUID"
            );
        }
    }

    proptest! {
        #[test]
        fn equals_sha1_smol(
            data in proptest::collection::vec(any::<u8>(), 0..300),
            split in any::<prop::sample::Index>(),
        ) {
            let (a, b) = data.split_at(split.index(data.len() + 1).min(data.len()));
            prop_assert_eq!(digest(&[a, b]), reference(&[&data]));
        }
    }
}
