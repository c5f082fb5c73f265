//! Sending: data frames, fragmentation order, control frames, client masking.

mod common;
use common::*;
use ws_core::connection::MIN_OUTPUT;
use ws_core::frame::apply_mask;
use ws_core::{BufferTooSmall, CloseCode, Connection, Limits, MessageKind, SendError, Timers};

#[test]
fn server_sends_unmasked_fragments_as_continuations() {
    let mut c = server();
    let mut out = [0u8; 32];
    assert_eq!(
        c.send_data(MessageKind::Text, b"Hel", false, &mut out),
        Ok(5)
    );
    assert_eq!(&out[..5], &[0x01, 0x03, b'H', b'e', b'l']);
    // Another kind while a message is open is refused.
    assert_eq!(
        c.send_data(MessageKind::Binary, b"x", true, &mut out),
        Err(SendError::FragmentOrder)
    );
    // A ping may sit between fragments.
    assert_eq!(c.send_ping(b"p", &mut out), Ok(3));
    assert_eq!(&out[..3], &[0x89, 0x01, b'p']);
    assert_eq!(c.send_data(MessageKind::Text, b"lo", true, &mut out), Ok(4));
    assert_eq!(&out[..4], &[0x80, 0x02, b'l', b'o']);
    // And the next message starts afresh.
    assert_eq!(c.send_data(MessageKind::Binary, b"", true, &mut out), Ok(2));
    assert_eq!(&out[..2], &[0x82, 0x00]);
}

#[test]
fn client_masks_with_the_given_key() {
    let mut c = Connection::client(Limits::DEFAULT, Timers::default(), 0, || KEY);
    let mut out = [0u8; 32];
    let n = c
        .send_data(MessageKind::Text, b"Hello", true, &mut out)
        .unwrap();
    assert_eq!(
        &out[..n],
        &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
    );
    let n = c.send_pong(b"Hello", &mut out).unwrap();
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
        .send_data_header(MessageKind::Binary, 70_000, true, &mut out)
        .unwrap();
    assert_eq!(
        &out[..n],
        &[0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0x11, 0x70, 1, 2, 3, 4]
    );
    // The header's last 4 bytes are the key to mask the payload with.
    let key: [u8; 4] = out[n - 4..n].try_into().unwrap();
    assert_eq!(key, CLIENT_KEY);
    let mut payload = vec![9u8; 70_000];
    apply_mask(&mut payload, key, 0);
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
        c.send_data(MessageKind::Text, b"Hello", false, &mut out),
        Err(SendError::BufferTooSmall(BufferTooSmall { needed: 7 }))
    );
    // The failed first fragment did not open a message: a new binary message is still allowed.
    assert_eq!(c.send_data(MessageKind::Binary, b"", true, &mut out), Ok(2));
    assert_eq!(
        c.send_ping(&[0; 126], &mut [0u8; 200]),
        Err(SendError::ControlTooLong)
    );
    assert_eq!(c.send_pong(&[0; 125], &mut [0u8; 200]), Ok(127));
}

/// The largest replies `receive` writes fit its `[u8; MIN_OUTPUT]` output: a client's pong to a
/// 125-byte ping (2 + 4 + 125 = 131 bytes, masked) and a server's (127).
#[test]
fn rfc6455_5_5_largest_replies_fit_min_output() {
    let ping = client_frame(true, ws_core::OpCode::Ping, &[5; 125]);
    let mut d = Driver::new(server());
    assert_eq!(d.feed(&ping), vec![Ev::Ping(vec![5; 125])]);
    assert_eq!(
        d.written,
        frame(true, ws_core::OpCode::Pong, None, &[5; 125])
    );
    let mut d = Driver::new(client());
    let ping = server_frame(true, ws_core::OpCode::Ping, &[5; 125]);
    assert_eq!(d.feed(&ping), vec![Ev::Ping(vec![5; 125])]);
    assert_eq!(
        d.written,
        frame(true, ws_core::OpCode::Pong, Some(CLIENT_KEY), &[5; 125])
    );
    assert_eq!(d.written.len(), 131);
    assert!(d.written.len() <= MIN_OUTPUT);
}

#[test]
fn control_frames_wait_until_whole() {
    let ping = client_frame(true, ws_core::OpCode::Ping, b"abcdef");
    let mut c = server();
    let mut out = [0u8; MIN_OUTPUT];
    for cut in 0..ping.len() {
        let mut part = ping[..cut].to_vec();
        let r = c.receive(&mut part, &mut out, 0);
        assert_eq!((r.consumed, r.written, r.event), (0, 0, None), "cut {cut}");
    }
}

/// RFC 6455 §5.3: a client masks every frame with a fresh key drawn from the source it was built
/// with — data, control frames, replies written by `receive` and timer frames alike.
#[test]
fn rfc6455_5_3_client_draws_a_fresh_key_for_every_frame() {
    let mut drawn = 0u8;
    let keys = move || {
        drawn += 1;
        [drawn, drawn, drawn, drawn]
    };
    let timers = Timers {
        idle_ping: Some(10),
        ..Timers::default()
    };
    let mut c = Connection::client(Limits::DEFAULT, timers, 0, keys);
    let mut out = [0u8; MIN_OUTPUT];
    // (bytes written, expected wire bytes)
    let mut wire = Vec::new();
    let n = c
        .send_data(MessageKind::Binary, b"", true, &mut out)
        .unwrap();
    wire.push(out[..n].to_vec());
    let n = c.send_ping(b"", &mut out).unwrap();
    wire.push(out[..n].to_vec());
    let mut ping = vec![0x89, 0x00];
    let r = c.receive(&mut ping, &mut out, 1);
    wire.push(out[..r.written].to_vec());
    let t = c.handle_timeout(11, &mut out);
    wire.push(out[..t.written].to_vec());
    let n = c
        .send_close(Some(CloseCode::NORMAL), "", 12, &mut out)
        .unwrap();
    wire.push(out[..n].to_vec());
    let expected: [&[u8]; 5] = [
        &[0x82, 0x80, 1, 1, 1, 1],
        &[0x89, 0x80, 2, 2, 2, 2],
        &[0x8A, 0x80, 3, 3, 3, 3],
        &[0x89, 0x80, 4, 4, 4, 4],
        &[0x88, 0x82, 5, 5, 5, 5, 0x03 ^ 5, 0xE8 ^ 5],
    ];
    assert_eq!(wire, expected.map(<[u8]>::to_vec));
}

/// RFC 6455 §5.1: a server never masks, a client always does, with no mask argument anywhere.
#[test]
fn rfc6455_5_1_role_decides_masking() {
    let mut out = [0u8; 16];
    let mut s = server();
    assert_eq!(s.role(), ws_core::Role::Server);
    let n = s
        .send_data(MessageKind::Text, b"a", true, &mut out)
        .unwrap();
    assert_eq!(&out[..n], &[0x81, 0x01, b'a']);
    let mut c = client();
    assert_eq!(c.role(), ws_core::Role::Client);
    let n = c
        .send_data(MessageKind::Text, b"a", true, &mut out)
        .unwrap();
    assert_eq!(&out[..n], &[0x81, 0x81, 1, 2, 3, 4, b'a' ^ 1]);
}

/// RFC 6455 §5.3: one key per frame written — a send that fails (too small a buffer, closing,
/// too long a control payload) draws none.
#[test]
fn rfc6455_5_3_failed_sends_draw_no_key() {
    let mut drawn = 0u8;
    let keys = move || {
        drawn += 1;
        [drawn; 4]
    };
    let mut c = Connection::client(Limits::DEFAULT, Timers::default(), 0, keys);
    let mut small = [0u8; 6];
    assert_eq!(
        c.send_data(MessageKind::Binary, b"ab", true, &mut small),
        Err(SendError::BufferTooSmall(BufferTooSmall { needed: 8 }))
    );
    assert_eq!(
        c.send_ping(b"abc", &mut small),
        Err(SendError::BufferTooSmall(BufferTooSmall { needed: 9 }))
    );
    assert_eq!(
        c.send_pong(&[0; 126], &mut [0u8; 200]),
        Err(SendError::ControlTooLong)
    );
    let mut out = [0u8; 16];
    let n = c
        .send_data(MessageKind::Binary, b"ab", true, &mut out)
        .unwrap();
    assert_eq!(&out[..n], &[0x82, 0x82, 1, 1, 1, 1, b'a' ^ 1, b'b' ^ 1]);
    c.send_close(None, "", 0, &mut out).unwrap();
    assert_eq!(
        c.send_data(MessageKind::Binary, b"", true, &mut out),
        Err(SendError::Closing)
    );
}
