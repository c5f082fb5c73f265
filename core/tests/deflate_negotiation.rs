//! permessage-deflate negotiation (RFC 7692 §5, §7.1): the server's choice among offers and the
//! client's check of the answer, table-driven.

use ws_core::deflate::{AnswerError, ClientOffer, PerMessageDeflate, ServerPolicy};
use ws_core::{HandshakeError, Role};

/// The server's answer to `offers` under `policy`, as the response header text.
fn answer(policy: ServerPolicy, offers: &[&str]) -> Option<String> {
    let agreed = policy.negotiate(offers.iter().copied())?;
    let mut buf = [0u8; ws_core::deflate::MAX_HEADER_VALUE_LEN];
    Some(agreed.write_response(&mut buf).unwrap().to_owned())
}

const P: ServerPolicy = ServerPolicy::DEFAULT;

#[test]
fn rfc7692_section5_server_answers_each_parameter() {
    let small = ServerPolicy {
        server_max_window_bits: 10,
        client_max_window_bits: 11,
        ..P
    };
    let cases: &[(ServerPolicy, &str, Option<&str>)] = &[
        (P, "permessage-deflate", Some("permessage-deflate")),
        // The seed's captured Chrome offer.
        (
            P,
            "permessage-deflate; client_max_window_bits",
            Some("permessage-deflate"),
        ),
        (
            small,
            "permessage-deflate; client_max_window_bits",
            Some("permessage-deflate; server_max_window_bits=10; client_max_window_bits=11"),
        ),
        (
            P,
            "permessage-deflate; client_max_window_bits=9",
            Some("permessage-deflate; client_max_window_bits=9"),
        ),
        (
            small,
            "permessage-deflate; client_max_window_bits=13",
            Some("permessage-deflate; server_max_window_bits=10; client_max_window_bits=11"),
        ),
        (
            P,
            "permessage-deflate; server_max_window_bits=12",
            Some("permessage-deflate; server_max_window_bits=12"),
        ),
        (
            P,
            "permessage-deflate; server_max_window_bits=15",
            Some("permessage-deflate; server_max_window_bits=15"),
        ),
        (
            small,
            "permessage-deflate; server_max_window_bits=12",
            Some("permessage-deflate; server_max_window_bits=10"),
        ),
        (
            P,
            "permessage-deflate; server_max_window_bits=8",
            Some("permessage-deflate; server_max_window_bits=8"),
        ),
        (
            P,
            "permessage-deflate; server_no_context_takeover",
            Some("permessage-deflate; server_no_context_takeover"),
        ),
        (
            P,
            "permessage-deflate; client_no_context_takeover",
            Some("permessage-deflate; client_no_context_takeover"),
        ),
        (
            ServerPolicy {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                ..P
            },
            "permessage-deflate",
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ),
        // Case-insensitive names, quoted values (RFC 7692 §7.1: the unquoted form must be a token).
        (
            P,
            "PerMessage-Deflate; Server_Max_Window_Bits=\"10\"",
            Some("permessage-deflate; server_max_window_bits=10"),
        ),
        (
            P,
            "permessage-deflate; client_max_window_bits=\"1\\2\"",
            Some("permessage-deflate; client_max_window_bits=12"),
        ),
        (ServerPolicy::DISABLED, "permessage-deflate", None),
        (P, "", None),
        (P, "x-webkit-deflate-frame", None),
    ];
    for (policy, offer, want) in cases {
        assert_eq!(
            answer(*policy, &[offer]).as_deref(),
            *want,
            "offer {offer:?}"
        );
    }
}

#[test]
fn rfc7692_section7_bad_offers_are_declined() {
    for offer in [
        "permessage-deflate; unknown",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits; client_max_window_bits",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits=\"\"",
        "permessage-deflate; server_max_window_bits=-9",
        "permessage-deflate; client_max_window_bits=0",
        "permessage-deflate; client_max_window_bits=\"16\"",
        "permessage-deflate; client_no_context_takeover=1",
        "permessage-deflate; server_no_context_takeover=\"\"",
        "permessage-deflate;",
        "permessage-deflate; =9",
        "permessage-deflate client_max_window_bits",
        "permessage-deflate; server_max_window_bits=\"10",
        "\"permessage-deflate\"",
    ] {
        assert_eq!(answer(P, &[offer]), None, "offer {offer:?}");
    }
}

#[test]
fn rfc7692_section5_1_next_offer_is_tried() {
    let cases: &[(&[&str], &str)] = &[
        (&["permessage-deflate; bogus, permessage-deflate; client_max_window_bits=10"],
            "permessage-deflate; client_max_window_bits=10"),
        (&["x-foo; a=\"b, c\", permessage-deflate; server_max_window_bits=9"],
            "permessage-deflate; server_max_window_bits=9"),
        (&["permessage-deflate; server_max_window_bits=20", "permessage-deflate"],
            "permessage-deflate"),
        (&["permessage-deflate; server_max_window_bits=@, permessage-deflate; server_no_context_takeover"],
            "permessage-deflate; server_no_context_takeover"),
        // Autobahn 13.7's offer list: the first acceptable one wins.
        (&["permessage-deflate; client_no_context_takeover; client_max_window_bits=8, permessage-deflate; client_no_context_takeover, permessage-deflate"],
            "permessage-deflate; client_no_context_takeover; client_max_window_bits=8"),
        (&[",, ,permessage-deflate ,"], "permessage-deflate"),
    ];
    for (offers, want) in cases {
        assert_eq!(
            answer(P, offers).as_deref(),
            Some(*want),
            "offers {offers:?}"
        );
    }
}

#[test]
fn negotiated_parameters_per_role() {
    let small = ServerPolicy {
        server_max_window_bits: 10,
        client_max_window_bits: 11,
        ..P
    };
    let agreed = small
        .negotiate(["permessage-deflate; client_max_window_bits; server_max_window_bits=8"])
        .unwrap();
    let p = agreed.params;
    assert_eq!(
        p,
        PerMessageDeflate {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 8,
            client_max_window_bits: 11,
        }
    );
    assert_eq!(p.outgoing(Role::Server).max_window_bits, 8);
    assert_eq!(p.outgoing(Role::Server).zlib_window_bits(), 9);
    assert_eq!(p.incoming(Role::Server).max_window_bits, 11);
    assert_eq!(p.outgoing(Role::Client), p.incoming(Role::Server));
    // A client that does not offer client_max_window_bits compresses with 15 whatever we want.
    let plain = small.negotiate(["permessage-deflate"]).unwrap().params;
    assert_eq!(plain.client_max_window_bits, 15);
}

#[test]
fn response_buffer_too_small_says_how_much() {
    let all = ServerPolicy {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        ..P
    };
    let agreed = all
        .negotiate(["permessage-deflate; server_max_window_bits=9; client_max_window_bits=9"])
        .unwrap();
    let mut big = [0u8; 128];
    let text = agreed.write_response(&mut big).unwrap().len();
    let mut small = [0u8; 20];
    assert_eq!(agreed.write_response(&mut small).unwrap_err().needed, text);
    assert!(text <= ws_core::deflate::MAX_HEADER_VALUE_LEN);
}

fn offer_text(offer: ClientOffer) -> String {
    let mut buf = [0u8; 128];
    offer.write(&mut buf).unwrap().to_owned()
}

#[test]
fn client_offer_text() {
    assert_eq!(
        offer_text(ClientOffer::DEFAULT),
        "permessage-deflate; client_max_window_bits"
    );
    let all = ClientOffer {
        server_max_window_bits: Some(10),
        client_max_window_bits: Some(9),
        server_no_context_takeover: true,
        client_no_context_takeover: true,
    };
    let text = offer_text(all);
    assert_eq!(text, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9");
    // Our own offer is acceptable to our own server, with the same parameters.
    let agreed = P.negotiate([text.as_str()]).unwrap().params;
    let mut buf = [0u8; 128];
    let response = P
        .negotiate([text.as_str()])
        .unwrap()
        .write_response(&mut buf)
        .unwrap()
        .to_owned();
    assert_eq!(all.accept(&response), Ok(agreed));
}

#[test]
fn rfc7692_section7_client_checks_the_answer() {
    let d = ClientOffer::DEFAULT;
    let strict = ClientOffer {
        server_max_window_bits: Some(10),
        client_max_window_bits: None,
        server_no_context_takeover: true,
        client_no_context_takeover: false,
    };
    let ok = |o: ClientOffer, r: &str| o.accept(r).unwrap();
    assert_eq!(ok(d, "permessage-deflate"), PerMessageDeflate::DEFAULT);
    assert_eq!(
        ok(d, "permessage-deflate; client_max_window_bits=9").client_max_window_bits,
        9
    );
    assert_eq!(
        ok(d, "permessage-deflate; server_max_window_bits=8").server_max_window_bits,
        8
    );
    assert!(ok(d, "permessage-deflate; client_no_context_takeover").client_no_context_takeover);
    assert!(ok(d, "permessage-deflate; server_no_context_takeover").server_no_context_takeover);
    let s = ok(
        strict,
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
    );
    assert_eq!(
        (s.server_max_window_bits, s.client_max_window_bits),
        (9, 15)
    );

    let cases: &[(ClientOffer, &str, AnswerError)] = &[
        (d, "", AnswerError::Malformed),
        (d, "x-other", AnswerError::NotOffered),
        (d, "permessage-deflate, permessage-deflate", AnswerError::NotOffered),
        (d, "permessage-deflate; foo", AnswerError::UnknownParameter),
        (d, "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            AnswerError::DuplicateParameter),
        (d, "permessage-deflate; client_max_window_bits", AnswerError::InvalidValue),
        (d, "permessage-deflate; server_max_window_bits=16", AnswerError::InvalidValue),
        (d, "permessage-deflate; server_max_window_bits=\"9", AnswerError::Malformed),
        (strict, "permessage-deflate; server_max_window_bits=9", AnswerError::MissingParameter),
        (strict, "permessage-deflate; server_no_context_takeover", AnswerError::MissingParameter),
        (strict, "permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
            AnswerError::NotAllowed),
        (strict, "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9",
            AnswerError::NotAllowed),
        (ClientOffer { client_max_window_bits: Some(10), ..d },
            "permessage-deflate; client_max_window_bits=11", AnswerError::NotAllowed),
    ];
    for (offer, response, want) in cases {
        assert_eq!(offer.accept(response), Err(*want), "response {response:?}");
    }
    assert_eq!(
        HandshakeError::from(AnswerError::NotAllowed),
        HandshakeError::UnexpectedExtension
    );
}
