//! The checks' oracles on known inputs: the seed handshake is a valid upgrade, and the documented
//! ws-core/tungstenite differences are real (so the differential target's allowances are needed).

use ws_core::handshake::{Header, RequestParser, Status};
use ws_core::ProtocolError;
use ws_fuzz_checks::differential::{
    check_stream, compare, run_core, run_tungstenite, End, Msg, Outcome,
};
use ws_fuzz_checks::handshake::{CHROME_REQUEST, LIMITS};

#[test]
fn chrome64_request_is_a_valid_upgrade_offering_permessage_deflate() {
    let mut headers = [Header::EMPTY; LIMITS.max_headers];
    let Ok(Status::Complete((req, len))) =
        RequestParser::new(LIMITS).feed(CHROME_REQUEST, &mut headers)
    else {
        panic!("not parsed");
    };
    assert_eq!(
        (req.method, req.path, len),
        ("GET", "/chat", CHROME_REQUEST.len())
    );
    assert_eq!(req.upgrade().map(|u| u.key), Ok("CyiOUMgm4Qd6WyjLQ+YbrA=="));
    let ext: Vec<_> = req.extensions().map(|e| (e.name, e.params)).collect();
    assert_eq!(ext, [("permessage-deflate", "client_max_window_bits")]);
}

const HELLO_MASKED: &[u8] = &[
    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];

#[test]
fn both_sides_read_rfc_5_7_frames_alike() {
    let pong: Vec<u8> = [&[0x8a][..], &HELLO_MASKED[1..]].concat();
    let close = [0x88, 0x82, 1, 2, 3, 4, 0x02, 0xea];
    let stream = [HELLO_MASKED, &pong, &close].concat();
    let want = vec![
        Msg::Text("Hello".into()),
        Msg::Pong(b"Hello".to_vec()),
        Msg::Close(Some((1000, String::new()))),
    ];
    assert_eq!(
        run_core(&stream, 1),
        Outcome {
            msgs: want.clone(),
            end: End::Closed
        }
    );
    assert_eq!(
        run_tungstenite(&stream),
        Outcome {
            msgs: want,
            end: End::Closed
        }
    );
}

#[test]
fn non_minimal_length_is_refused_by_ws_core_only() {
    // A masked binary frame of 3 bytes with its length in the 16-bit form.
    let stream = [0x82, 0xFE, 0, 3, 0, 0, 0, 0, 1, 2, 3];
    let core = run_core(&stream, usize::MAX);
    assert_eq!(
        core.end,
        End::Rejected(Some(ProtocolError::NonMinimalLength))
    );
    let tung = run_tungstenite(&stream);
    assert_eq!(tung.msgs, [Msg::Binary(vec![1, 2, 3])]);
    check_stream(&stream);
    // A close of 2 bytes in the 16-bit form: ws-core calls the control frame too long.
    let stream = [0x88, 0xFE, 0, 2, 0, 0, 0, 0, 0x03, 0xe8];
    let core = run_core(&stream, usize::MAX);
    assert_eq!(
        core.end,
        End::Rejected(Some(ProtocolError::ControlFrameTooLong))
    );
    assert_eq!(
        run_tungstenite(&stream).msgs,
        [Msg::Close(Some((1000, String::new())))]
    );
    check_stream(&stream);
}

#[test]
fn close_codes_1005_and_1014_differ_as_documented() {
    let close = |code: u16| {
        let [a, b] = code.to_be_bytes();
        [0x88, 0x82, 0, 0, 0, 0, a, b]
    };
    let substituted = Msg::Close(Some((1002, "Protocol violation".into())));
    let core = run_core(&close(1005), usize::MAX);
    assert_eq!(
        core.end,
        End::Rejected(Some(ProtocolError::InvalidCloseCode))
    );
    let tung = run_tungstenite(&close(1005));
    assert_eq!(tung.msgs, std::slice::from_ref(&substituted));
    compare(&core, &tung);

    let core = run_core(&close(1014), usize::MAX);
    assert_eq!(core.msgs, [Msg::Close(Some((1014, String::new())))]);
    let tung = run_tungstenite(&close(1014));
    assert_eq!(tung.msgs, [substituted]);
    compare(&core, &tung);
}

#[test]
#[should_panic(expected = "ws-core")]
fn compare_rejects_a_real_disagreement() {
    let text = Outcome {
        msgs: vec![Msg::Text("a".into())],
        end: End::Incomplete,
    };
    let binary = Outcome {
        msgs: vec![Msg::Binary(b"a".to_vec())],
        end: End::Incomplete,
    };
    compare(&text, &binary);
}
