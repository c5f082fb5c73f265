//! Masking (RFC 6455 §5.3): XOR with a 4-byte key, word at a time.

/// XORs `buf` in place with `key`, as if `buf` started `offset` bytes into the masked payload,
/// so a payload can be (un)masked in chunks. Masking and unmasking are the same operation.
///
/// Works on 8-byte words (the compiler vectorises the loop), then byte by byte for the tail.
///
/// ```
/// use ws_core::frame::apply_mask;
/// // RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
/// let mut buf = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// apply_mask(&mut buf[..2], [0x37, 0xfa, 0x21, 0x3d], 0);
/// apply_mask(&mut buf[2..], [0x37, 0xfa, 0x21, 0x3d], 2);
/// assert_eq!(&buf, b"Hello");
/// ```
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    // Rotating as an integer: `<[u8]>::rotate_left` brings in memmove (714 B on thumbv7em).
    let key = u32::from_be_bytes(key)
        .rotate_left(8 * (offset % 4) as u32)
        .to_be_bytes();
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let masked = u64::from_ne_bytes(bytes) ^ word;
        chunk.copy_from_slice(&masked.to_ne_bytes());
    }
    for (byte, k) in chunks.into_remainder().iter_mut().zip(key.iter().cycle()) {
        *byte ^= k;
    }
}
