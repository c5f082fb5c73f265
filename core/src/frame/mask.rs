//! Masking (RFC 6455 §5.3): XOR with a 4-byte key, word at a time.

/// XORs `buf` in place with `key`, as if `buf` started `offset` bytes into the masked payload,
/// so a payload can be (un)masked in chunks. Masking and unmasking are the same operation.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    todo!()
}
