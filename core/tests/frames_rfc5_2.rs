//! RFC 6455 §5.2 (and §5.1, §5.5): header rules, checked on exact bytes.

use ws_core::frame::{encode_frame, MAX_HEADER_LEN};
use ws_core::{BufferTooSmall, FrameHeader, OpCode, ProtocolError, Role};

/// (name, bytes, receiver, expected error)
const REJECTS: &[(&str, &[u8], Role, ProtocolError)] = &[
    (
        "opcode 3",
        &[0x83, 0x80],
        Role::Server,
        ProtocolError::ReservedOpCode,
    ),
    (
        "opcode 7",
        &[0x87, 0x80],
        Role::Server,
        ProtocolError::ReservedOpCode,
    ),
    (
        "opcode 0xB",
        &[0x8B, 0x80],
        Role::Server,
        ProtocolError::ReservedOpCode,
    ),
    (
        "opcode 0xF",
        &[0x8F, 0x00],
        Role::Client,
        ProtocolError::ReservedOpCode,
    ),
    (
        "ping FIN=0",
        &[0x09, 0x80],
        Role::Server,
        ProtocolError::FragmentedControlFrame,
    ),
    (
        "close FIN=0",
        &[0x08, 0x00],
        Role::Client,
        ProtocolError::FragmentedControlFrame,
    ),
    (
        "pong 126 (16-bit form)",
        &[0x8A, 0xFE, 0x00, 0x7E],
        Role::Server,
        ProtocolError::ControlFrameTooLong,
    ),
    (
        "ping 64-bit form",
        &[0x89, 0x7F],
        Role::Client,
        ProtocolError::ControlFrameTooLong,
    ),
    (
        "unmasked from client",
        &[0x81, 0x05],
        Role::Server,
        ProtocolError::UnmaskedFrameFromClient,
    ),
    (
        "masked from server",
        &[0x81, 0x85],
        Role::Client,
        ProtocolError::MaskedFrameFromServer,
    ),
    (
        "16-bit length 125",
        &[0x82, 0x7E, 0x00, 0x7D],
        Role::Client,
        ProtocolError::NonMinimalLength,
    ),
    (
        "16-bit length 0",
        &[0x82, 0x7E, 0x00, 0x00],
        Role::Client,
        ProtocolError::NonMinimalLength,
    ),
    (
        "64-bit length 65535",
        &[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF],
        Role::Client,
        ProtocolError::NonMinimalLength,
    ),
    (
        "64-bit length 5",
        &[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 5],
        Role::Client,
        ProtocolError::NonMinimalLength,
    ),
    (
        "64-bit MSB set",
        &[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0],
        Role::Client,
        ProtocolError::LengthMsbSet,
    ),
    (
        "64-bit all ones",
        &[0x82, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
        Role::Server,
        ProtocolError::LengthMsbSet,
    ),
];

#[test]
fn rfc5_2_reject_table() {
    for (name, bytes, receiver, error) in REJECTS {
        assert_eq!(FrameHeader::parse(bytes, *receiver), Err(*error), "{name}");
        assert_eq!(error.close_code().0, 1002, "{name}");
    }
}

#[test]
fn rfc5_2_rules_fail_as_soon_as_decided() {
    // The first byte alone decides a reserved opcode or a fragmented control frame.
    assert_eq!(
        FrameHeader::parse(&[0x83], Role::Server),
        Err(ProtocolError::ReservedOpCode)
    );
    assert_eq!(
        FrameHeader::parse(&[0x09], Role::Server),
        Err(ProtocolError::FragmentedControlFrame)
    );
    // The second byte decides the mask direction, before any length or key byte.
    assert_eq!(
        FrameHeader::parse(&[0x82, 0x7F], Role::Server),
        Err(ProtocolError::UnmaskedFrameFromClient)
    );
}

#[test]
fn rfc5_2_rsv_bits_are_left_to_the_connection() {
    let (h, _) = FrameHeader::parse(&[0xF1, 0x00], Role::Client)
        .unwrap()
        .unwrap();
    assert!(h.rsv1 && h.rsv2 && h.rsv3);
}

#[test]
fn rfc5_2_every_prefix_is_incomplete() {
    let frames: &[(&[u8], Role, usize)] = &[
        (&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d], Role::Server, 6),
        (&[0x82, 0x7E, 0x01, 0x00], Role::Client, 4),
        (&[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0], Role::Client, 10),
        (
            &[0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4],
            Role::Server,
            14,
        ),
    ];
    for (bytes, role, len) in frames {
        for cut in 0..*len {
            assert_eq!(
                FrameHeader::parse(&bytes[..cut], *role),
                Ok(None),
                "cut {cut}"
            );
        }
        assert_eq!(FrameHeader::parse(bytes, *role).unwrap().unwrap().1, *len);
    }
}

#[test]
fn rfc5_2_encode_every_length_form_minimally() {
    // (payload length, expected header without mask)
    let cases: &[(u64, &[u8])] = &[
        (0, &[0x82, 0x00]),
        (125, &[0x82, 0x7D]),
        (126, &[0x82, 0x7E, 0x00, 0x7E]),
        (65535, &[0x82, 0x7E, 0xFF, 0xFF]),
        (65536, &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]),
        (
            (1 << 63) - 1,
            &[0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
        ),
    ];
    for (len, expected) in cases {
        let mut h = FrameHeader {
            fin: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode: OpCode::Binary,
            mask: None,
            payload_len: *len,
        };
        let mut out = [0u8; MAX_HEADER_LEN];
        assert_eq!(h.encode(&mut out), Ok(expected.len()), "len {len}");
        assert_eq!(&out[..expected.len()], *expected, "len {len}");
        assert_eq!(h.encoded_len(), expected.len());
        // Too small by one: the room needed, never a panic.
        assert_eq!(
            h.encode(&mut out[..expected.len() - 1]),
            Err(BufferTooSmall {
                needed: expected.len()
            })
        );
        // Masked: the mask bit and the key follow the length.
        h.mask = Some([9, 8, 7, 6]);
        let n = h.encode(&mut out).unwrap();
        assert_eq!(n, expected.len() + 4);
        assert_eq!(out[1] & 0x80, 0x80);
        assert_eq!(&out[n - 4..n], &[9, 8, 7, 6]);
        assert_eq!(
            FrameHeader::parse(&out[..n], Role::Server),
            Ok(Some((h, n)))
        );
    }
}

#[test]
fn rfc5_2_encode_frame_reports_room_needed() {
    let mut out = [0u8; 10];
    assert_eq!(
        encode_frame(true, OpCode::Text, Some([1, 2, 3, 4]), b"Hello", &mut out),
        Err(BufferTooSmall { needed: 11 })
    );
    assert_eq!(
        encode_frame(true, OpCode::Text, None, b"", &mut out[..1]),
        Err(BufferTooSmall { needed: 2 })
    );
    assert_eq!(
        encode_frame(true, OpCode::Text, None, b"", &mut out[..2]),
        Ok(2)
    );
}
