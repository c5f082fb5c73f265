//! `frame_header` and `roundtrip`: the header parser is prefix-consistent, enforces the rules a
//! header alone decides, and every accepted header re-encodes to the same bytes; encoded frames
//! decode back to what was encoded.

use crate::input::Input;
use ws_core::frame::{apply_mask, encode_frame, MAX_HEADER_LEN};
use ws_core::{BufferTooSmall, FrameHeader, OpCode, ProtocolError, Role};

/// The role whose rules apply when `mask` is what the sender chose (clients mask).
fn receiver_for(mask: Option<[u8; 4]>) -> Role {
    if mask.is_some() {
        Role::Server
    } else {
        Role::Client
    }
}

/// Input: a byte whose low bit picks the receiving role (1 = server), then header bytes.
pub fn frame_header(data: &[u8]) {
    let Some((&first, bytes)) = data.split_first() else {
        return;
    };
    let role = if first & 1 == 1 {
        Role::Server
    } else {
        Role::Client
    };
    let result = FrameHeader::parse(bytes, role);
    match result {
        Ok(None) => assert!(
            bytes.len() < MAX_HEADER_LEN,
            "needs more than {} bytes",
            bytes.len()
        ),
        Ok(Some((h, n))) => {
            assert!(
                (2..=MAX_HEADER_LEN).contains(&n) && n <= bytes.len(),
                "header length {n}"
            );
            assert_eq!(h.encoded_len(), n, "{h:?} parsed from {:02x?}", &bytes[..n]);
            let mut out = [0u8; MAX_HEADER_LEN];
            assert_eq!(h.encode(&mut out), Ok(n));
            assert_eq!(&out[..n], &bytes[..n], "{h:?} re-encodes differently");
            assert_eq!(
                h.encode(&mut out[..n - 1]),
                Err(BufferTooSmall { needed: n })
            );
            assert_eq!(
                h.mask.is_some(),
                role == Role::Server,
                "mask rule for {role:?}: {h:?}"
            );
            assert!(h.payload_len < 1 << 63);
            if h.opcode.is_control() {
                assert!(
                    h.fin && h.payload_len <= 125,
                    "bad control header accepted: {h:?}"
                );
            }
            assert_eq!(
                FrameHeader::parse(&bytes[..n], role),
                result,
                "trailing bytes matter"
            );
            for k in 0..n {
                assert_eq!(
                    FrameHeader::parse(&bytes[..k], role),
                    Ok(None),
                    "prefix of {k}"
                );
            }
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    ProtocolError::ReservedOpCode
                        | ProtocolError::ControlFrameTooLong
                        | ProtocolError::FragmentedControlFrame
                        | ProtocolError::UnmaskedFrameFromClient
                        | ProtocolError::MaskedFrameFromServer
                        | ProtocolError::NonMinimalLength
                        | ProtocolError::LengthMsbSet
                ),
                "{e:?} is not decided by a header alone"
            );
            for k in 0..bytes.len() {
                let prefix = FrameHeader::parse(&bytes[..k], role);
                assert!(
                    prefix == Ok(None) || prefix == result,
                    "prefix of {k}: {prefix:?} vs {e:?}"
                );
            }
        }
    }
}

const OPCODES: [OpCode; 6] = [
    OpCode::Continuation,
    OpCode::Text,
    OpCode::Binary,
    OpCode::Close,
    OpCode::Ping,
    OpCode::Pong,
];

/// One frame as the roundtrip target generates it.
#[derive(Debug, PartialEq, Eq)]
struct Frame {
    fin: bool,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    payload: Vec<u8>,
}

fn reference_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[(offset + i) % 4];
    }
}

/// Input: frames, each a flags byte (bit 0 FIN, bits 1-3 opcode index, bit 4 masked, bit 5
/// 16-bit length, bit 6 payload padded past 64 KiB), the mask key if masked, a length, the payload; then a
/// header with all fields arbitrary. Checks: [`encode_frame`] reports the exact room needed,
/// the frames decode back equal, chunked [`apply_mask`] equals a byte-at-a-time reference, and
/// any valid header (RSV bits included) survives encode then parse.
pub fn roundtrip(data: &[u8]) {
    let mut input = Input::new(data);
    let mut frames = Vec::new();
    let mut stream = Vec::new();
    for _ in 0..64 {
        if input.is_empty() || stream.len() > 1 << 18 {
            break;
        }
        let flags = input.u8();
        let opcode = OPCODES[usize::from(flags >> 1 & 7) % OPCODES.len()];
        let mask = (flags & 0x10 != 0).then(|| input.array4());
        let len = if flags & 0x20 != 0 {
            usize::from(input.u16())
        } else {
            usize::from(input.u8())
        };
        // Bit 6 pads the payload past 64 KiB so the 64-bit length form is exercised.
        let len = if flags & 0x40 != 0 { len + 65_536 } else { len };
        let mut payload = input.bytes(len).to_vec();
        if flags & 0x40 != 0 {
            payload.resize(len, 0xA5);
        }
        let fin = flags & 1 == 1 || opcode.is_control();
        if opcode.is_control() {
            payload.truncate(125);
        }
        let header = FrameHeader {
            fin,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        let needed = header.encoded_len() + payload.len();
        let mut out = vec![0u8; needed];
        assert_eq!(
            encode_frame(fin, opcode, mask, &payload, &mut out[..needed - 1]),
            Err(BufferTooSmall { needed })
        );
        assert_eq!(
            encode_frame(fin, opcode, mask, &payload, &mut out),
            Ok(needed)
        );
        stream.extend_from_slice(&out);
        frames.push(Frame {
            fin,
            opcode,
            mask,
            payload,
        });
    }

    let mut rest = &stream[..];
    for frame in &frames {
        let role = receiver_for(frame.mask);
        let (h, n) = match FrameHeader::parse(rest, role) {
            Ok(Some(parsed)) => parsed,
            other => panic!("{frame:?} did not decode: {other:?}"),
        };
        let end = n + usize::try_from(h.payload_len).expect("small");
        let mut payload = rest[n..end].to_vec();
        if let Some(key) = h.mask {
            apply_mask(&mut payload, key, 0);
        }
        let decoded = Frame {
            fin: h.fin,
            opcode: h.opcode,
            mask: h.mask,
            payload,
        };
        assert_eq!(&decoded, frame);
        assert!(!h.rsv1 && !h.rsv2 && !h.rsv3);
        rest = &rest[end..];
    }
    assert!(rest.is_empty(), "{} bytes left after decoding", rest.len());

    // Chunked masking equals the reference, and masking twice is the identity.
    let key = input.array4();
    let cut = usize::from(input.u8()) % (stream.len() + 1);
    let mut chunked = stream.clone();
    let (a, b) = chunked.split_at_mut(cut);
    apply_mask(a, key, 0);
    apply_mask(b, key, cut);
    let mut reference = stream.clone();
    reference_mask(&mut reference, key, 0);
    assert_eq!(chunked, reference, "chunked mask at {cut}");
    apply_mask(&mut chunked, key, 0);
    assert_eq!(chunked, stream);

    // Any header that is valid for its receiver survives encode + parse, RSV bits included.
    let flags = input.u8();
    let opcode = OPCODES[usize::from(flags >> 4) % OPCODES.len()];
    let mask = (flags & 0x02 != 0).then(|| input.array4());
    let raw_len = u64::from(input.u16()) << (16 * (input.u8() % 4));
    let header = FrameHeader {
        fin: flags & 1 == 1 || opcode.is_control(),
        rsv1: flags & 0x04 != 0,
        rsv2: flags & 0x08 != 0,
        rsv3: flags & 0x40 != 0,
        opcode,
        mask,
        payload_len: if opcode.is_control() {
            raw_len % 126
        } else {
            raw_len & (u64::MAX >> 1)
        },
    };
    let mut out = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut out).expect("14 bytes suffice");
    assert_eq!(n, header.encoded_len());
    assert_eq!(
        FrameHeader::parse(&out[..n], receiver_for(mask)),
        Ok(Some((header, n)))
    );
}
