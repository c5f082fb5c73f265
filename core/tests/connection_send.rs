//! Sending: data frames, fragmentation order, control frames, client masking.

mod common;
use common::*;
use ws_core::frame::apply_mask;
use ws_core::{BufferTooSmall, MessageKind, SendError};

#[test]
fn server_sends_unmasked_fragments_as_continuations() {
    let mut c = server();
    let mut out = [0u8; 32];
    assert_eq!(
        c.send_data(MessageKind::Text, b"Hel", false, [0; 4], &mut out),
        Ok(5)
    );
    assert_eq!(&out[..5], &[0x01, 0x03, b'H', b'e', b'l']);
    // Another kind while a message is open is refused.
    assert_eq!(
        c.send_data(MessageKind::Binary, b"x", true, [0; 4], &mut out),
        Err(SendError::FragmentOrder)
    );
    // A ping may sit between fragments.
    assert_eq!(c.send_ping(b"p", [0; 4], &mut out), Ok(3));
    assert_eq!(&out[..3], &[0x89, 0x01, b'p']);
    assert_eq!(
        c.send_data(MessageKind::Text, b"lo", true, [0; 4], &mut out),
        Ok(4)
    );
    assert_eq!(&out[..4], &[0x80, 0x02, b'l', b'o']);
    // And the next message starts afresh.
    assert_eq!(
        c.send_data(MessageKind::Binary, b"", true, [0; 4], &mut out),
        Ok(2)
    );
    assert_eq!(&out[..2], &[0x82, 0x00]);
}

#[test]
fn client_masks_with_the_given_key() {
    let mut c = client();
    let mut out = [0u8; 32];
    let n = c
        .send_data(
            MessageKind::Text,
            b"Hello",
            true,
            [0x37, 0xfa, 0x21, 0x3d],
            &mut out,
        )
        .unwrap();
    assert_eq!(
        &out[..n],
        &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
    );
    let n = c
        .send_pong(b"Hello", [0x37, 0xfa, 0x21, 0x3d], &mut out)
        .unwrap();
    assert_eq!(
        &out[..n],
        &[0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
    );
}

#[test]
fn send_data_header_lets_the_caller_send_the_payload() {
    let mut c = client();
    let mut out = [0u8; 14];
    let n = c
        .send_data_header(MessageKind::Binary, 70_000, true, [1, 2, 3, 4], &mut out)
        .unwrap();
    assert_eq!(
        &out[..n],
        &[0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0x11, 0x70, 1, 2, 3, 4]
    );
    let mut payload = vec![9u8; 70_000];
    apply_mask(&mut payload, [1, 2, 3, 4], 0);
    let mut wire = out[..n].to_vec();
    wire.extend_from_slice(&payload);
    let mut d = Driver::new(server());
    assert_eq!(
        d.feed(&wire),
        vec![Ev::Data(MessageKind::Binary, vec![9; 70_000], true)]
    );
}

#[test]
fn send_errors_change_nothing() {
    let mut c = server();
    let mut out = [0u8; 4];
    assert_eq!(
        c.send_data(MessageKind::Text, b"Hello", false, [0; 4], &mut out),
        Err(SendError::BufferTooSmall(BufferTooSmall { needed: 7 }))
    );
    // The failed first fragment did not open a message: a new binary message is still allowed.
    assert_eq!(
        c.send_data(MessageKind::Binary, b"", true, [0; 4], &mut out),
        Ok(2)
    );
    assert_eq!(
        c.send_ping(&[0; 126], [0; 4], &mut [0u8; 200]),
        Err(SendError::ControlTooLong)
    );
    assert_eq!(c.send_pong(&[0; 125], [0; 4], &mut [0u8; 200]), Ok(127));
}

#[test]
fn receive_with_too_small_output_consumes_nothing() {
    let ping = client_frame(true, ws_core::OpCode::Ping, &[5; 100]);
    let mut c = server();
    let mut input = ping.clone();
    let mut small = [0u8; 50];
    assert_eq!(
        c.receive(&mut input, &mut small, 0, [0; 4]),
        Err(BufferTooSmall { needed: 102 })
    );
    // Input untouched (still masked), state unchanged: a retry with room works.
    assert_eq!(input, ping);
    let mut d = Driver::new(c);
    assert_eq!(d.feed(&ping), vec![Ev::Ping(vec![5; 100])]);
    assert_eq!(d.written.len(), 102);
}

#[test]
fn control_frames_wait_until_whole() {
    let ping = client_frame(true, ws_core::OpCode::Ping, b"abcdef");
    let mut c = server();
    let mut out = [0u8; 200];
    for cut in 0..ping.len() {
        let mut part = ping[..cut].to_vec();
        let r = c.receive(&mut part, &mut out, 0, [0; 4]).unwrap();
        assert_eq!((r.consumed, r.written, r.event), (0, 0, None), "cut {cut}");
    }
}
