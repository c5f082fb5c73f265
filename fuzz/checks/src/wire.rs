//! An independent frame writer for the peer's side of the connection targets: it can write any
//! frame, valid or not (RSV bits, reserved opcodes, wrong masking, non-minimal lengths).

use crate::input::{Input, Seed};

/// How the payload length is written (RFC 6455 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LenForm {
    /// The shortest form (what a correct sender writes).
    Minimal,
    /// Always the 16-bit form (non-minimal below 126).
    Ext16,
    /// Always the 64-bit form (non-minimal below 65 536).
    Ext64,
}

/// A frame as the peer sends it, payload in clear.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireFrame {
    /// FIN.
    pub fin: bool,
    /// RSV1-3 as bits 2, 1, 0.
    pub rsv: u8,
    /// The 4-bit opcode.
    pub opcode: u8,
    /// The mask key, if masked.
    pub mask: Option<[u8; 4]>,
    /// The length form.
    pub len_form: LenForm,
    /// The payload, in clear.
    pub payload: Vec<u8>,
}

/// Opcode of each frame kind a flags byte can pick (index 6 reads a raw opcode).
const KINDS: [u8; 6] = [0x0, 0x1, 0x2, 0x8, 0x9, 0xA];

impl WireFrame {
    /// Whether the frame is valid apart from its payload and its place in the stream: RSV bits
    /// clear, known opcode, control frames final and short, masked as `masked` says, minimal
    /// length.
    pub fn well_formed(&self, masked: bool) -> bool {
        let control = self.opcode & 0x8 != 0;
        self.rsv == 0
            && matches!(self.opcode, 0x0..=0x2 | 0x8..=0xA)
            && (!control || (self.fin && self.payload.len() <= 125))
            && self.mask.is_some() == masked
            && matches!(self.effective_form(), f if f == LenForm::Minimal || f == minimal_form(self.payload.len()))
    }

    /// The length form actually written (a 16-bit form cannot hold more than 65 535 bytes).
    fn effective_form(&self) -> LenForm {
        match self.len_form {
            LenForm::Ext16 if self.payload.len() > 0xFFFF => LenForm::Ext64,
            form => form,
        }
    }

    /// Whether this is a data frame (continuation, text or binary).
    pub fn is_data(&self) -> bool {
        self.opcode <= 0x2
    }

    /// Reads a frame sent by a peer that masks iff `masked`. Format: a flags byte (bits 0-2 kind:
    /// continuation, text, binary, close, ping, pong, raw opcode from the next byte; bit 3 clears
    /// FIN; bit 4 reads an oddities byte: bits 0-2 RSV, bit 3 flips masking, bits 4-5 length form;
    /// bit 5 reads a 16-bit payload length instead of 8-bit), the raw opcode / oddities bytes, for
    /// the close kind the code's two bytes as on the wire (a raw opcode 8 has no code), the length, the
    /// payload, and the mask key last (so the mask never shifts the payload's bytes).
    pub fn read(input: &mut Input<'_>, masked: bool) -> Self {
        let flags = input.u8();
        let kind = usize::from(flags & 7);
        let opcode = match KINDS.get(kind) {
            Some(&op) => op,
            None => input.u8() & 0xF,
        };
        let (rsv, flip, len_form) = if flags & 0x10 != 0 {
            let odd = input.u8();
            let form = match odd >> 4 & 3 {
                1 => LenForm::Ext16,
                2 => LenForm::Ext64,
                _ => LenForm::Minimal,
            };
            (odd & 7, odd & 8 != 0, form)
        } else {
            (0, false, LenForm::Minimal)
        };
        let mut payload = Vec::new();
        if kind == 3 {
            payload.extend_from_slice(&input.u16().to_le_bytes());
        }
        let len = if flags & 0x20 != 0 {
            usize::from(input.u16())
        } else {
            usize::from(input.u8())
        };
        payload.extend_from_slice(input.bytes(len));
        let mask = (masked != flip).then(|| input.array4());
        Self {
            fin: flags & 0x08 == 0,
            rsv,
            opcode,
            mask,
            len_form,
            payload,
        }
    }

    /// Appends the bytes [`WireFrame::read`] turns into this frame (for seeds). Frames with a
    /// close payload under 2 bytes use the raw-opcode kind.
    pub fn seed(&self, seed: Seed, masked: bool) -> Seed {
        let short_close = self.opcode == 0x8 && self.payload.len() < 2;
        let kind = match KINDS.iter().position(|&k| k == self.opcode) {
            Some(k) if !short_close => k as u8,
            _ => 6,
        };
        let odd =
            self.rsv != 0 || (self.mask.is_some() != masked) || self.len_form != LenForm::Minimal;
        let (body, code) = if kind == 3 {
            (&self.payload[2..], Some([self.payload[0], self.payload[1]]))
        } else {
            (&self.payload[..], None)
        };
        let wide = body.len() > 255;
        let flags = kind | u8::from(!self.fin) << 3 | u8::from(odd) << 4 | u8::from(wide) << 5;
        let mut s = seed.u8(flags);
        if kind == 6 {
            s = s.u8(self.opcode);
        }
        if odd {
            let form = match self.len_form {
                LenForm::Minimal => 0,
                LenForm::Ext16 => 1,
                LenForm::Ext64 => 2,
            };
            s = s.u8(self.rsv | u8::from(self.mask.is_some() != masked) << 3 | form << 4);
        }
        if let Some(code) = code {
            s = s.bytes(&code);
        }
        s = if wide {
            s.u16(body.len() as u16)
        } else {
            s.u8(body.len() as u8)
        };
        s = s.bytes(body);
        match self.mask {
            Some(key) => s.bytes(&key),
            None => s,
        }
    }

    /// Appends the frame's wire bytes to `out`, masking the payload if a key is set.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(self.fin) << 7 | (self.rsv & 7) << 4 | (self.opcode & 0xF));
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let len = self.payload.len();
        match self.effective_form() {
            LenForm::Minimal if len < 126 => out.push(mask_bit | len as u8),
            LenForm::Minimal if len <= 0xFFFF => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            LenForm::Ext16 => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            LenForm::Minimal | LenForm::Ext64 => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        match self.mask {
            Some(key) => {
                out.extend_from_slice(&key);
                out.extend(self.payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
            }
            None => out.extend_from_slice(&self.payload),
        }
    }
}

fn minimal_form(len: usize) -> LenForm {
    match len {
        0..=125 => LenForm::Minimal,
        126..=0xFFFF => LenForm::Ext16,
        _ => LenForm::Ext64,
    }
}
