//! `deflate_negotiation`: the permessage-deflate (RFC 7692) offer/answer parsers take any header
//! text without panicking and only agree to what was offered and allowed; and for every offer our
//! client writes and every server policy, the server's answer is accepted by that client with the
//! same parameters the server put in force.

use crate::input::Input;
use ws_core::deflate::{ClientOffer, ServerPolicy, MAX_HEADER_VALUE_LEN};
use ws_core::BufferTooSmall;

/// A window size in the documented range 8..=15.
fn bits(input: &mut Input<'_>) -> u8 {
    8 + input.u8() % 8
}

fn in_range(b: u8) -> bool {
    (8..=15).contains(&b)
}

/// Input: an offer byte (bits 0-1: server/client window sizes follow, bits 2-3: no context
/// takeover for server/client), the sizes, a policy byte (bit 0 disables, bits 1-2 no context
/// takeover for server/client), the policy's two sizes, then header text: its lines are the
/// `Sec-WebSocket-Extensions` values given to the server, the whole text is the answer given to
/// the client.
pub fn deflate_negotiation(data: &[u8]) {
    let mut input = Input::new(data);
    let f = input.u8();
    let offer = ClientOffer {
        server_max_window_bits: (f & 1 != 0).then(|| bits(&mut input)),
        client_max_window_bits: (f & 2 != 0).then(|| bits(&mut input)),
        server_no_context_takeover: f & 4 != 0,
        client_no_context_takeover: f & 8 != 0,
    };
    let g = input.u8();
    let policy = ServerPolicy {
        enabled: g & 1 == 0,
        server_max_window_bits: bits(&mut input),
        client_max_window_bits: bits(&mut input),
        server_no_context_takeover: g & 2 != 0,
        client_no_context_takeover: g & 4 != 0,
    };
    let text = String::from_utf8_lossy(input.rest()).into_owned();

    // Our own offer, answered by the server, is accepted with the server's parameters.
    let mut buf = [0u8; MAX_HEADER_VALUE_LEN];
    let written = offer
        .write(&mut buf)
        .expect("MAX_HEADER_VALUE_LEN suffices")
        .to_owned();
    for k in 0..written.len() {
        let err = offer.write(&mut buf[..k]).expect_err("too small");
        assert!(err.needed > k, "{err:?} with {k} bytes");
    }
    match policy.negotiate([written.as_str()]) {
        None => assert!(!policy.enabled, "{policy:?} declined our offer {written:?}"),
        Some(n) => {
            assert!(policy.enabled, "a disabled policy agreed");
            let mut out = [0u8; MAX_HEADER_VALUE_LEN];
            let answer = n
                .write_response(&mut out)
                .expect("MAX_HEADER_VALUE_LEN suffices");
            let accepted = offer.accept(answer);
            assert_eq!(
                accepted,
                Ok(n.params),
                "offer {written:?}, answer {answer:?}"
            );
        }
    }

    // Arbitrary offers: whatever the server agrees to is in range and writable.
    if let Some(n) = policy.negotiate(text.lines()) {
        let p = n.params;
        assert!(
            in_range(p.server_max_window_bits) && in_range(p.client_max_window_bits),
            "{p:?}"
        );
        assert!(
            p.server_max_window_bits <= policy.server_max_window_bits,
            "{p:?} vs {policy:?}"
        );
        assert!(p.server_no_context_takeover >= policy.server_no_context_takeover);
        assert!(p.client_no_context_takeover >= policy.client_no_context_takeover);
        let mut out = [0u8; MAX_HEADER_VALUE_LEN];
        let answer = n
            .write_response(&mut out)
            .expect("MAX_HEADER_VALUE_LEN suffices")
            .to_owned();
        assert!(answer.starts_with("permessage-deflate"), "{answer:?}");
        let mut small = [0u8; MAX_HEADER_VALUE_LEN];
        match n.write_response(&mut small[..answer.len() - 1]) {
            Err(BufferTooSmall { needed }) => assert!(needed >= answer.len()),
            Ok(_) => panic!("{answer:?} fit in fewer bytes"),
        }
    }

    // Arbitrary answers: the client accepts only what it offered.
    if let Ok(p) = offer.accept(&text) {
        assert!(
            in_range(p.server_max_window_bits) && in_range(p.client_max_window_bits),
            "{p:?}"
        );
        if let Some(asked) = offer.server_max_window_bits {
            assert!(p.server_max_window_bits <= asked, "{p:?} for {offer:?}");
        }
        match offer.client_max_window_bits {
            None => assert_eq!(p.client_max_window_bits, 15, "{text:?} for {offer:?}"),
            Some(ours) => assert!(p.client_max_window_bits <= ours, "{p:?} for {offer:?}"),
        }
        assert!(p.server_no_context_takeover >= offer.server_no_context_takeover);
        assert!(p.client_no_context_takeover >= offer.client_no_context_takeover);
    }
}
