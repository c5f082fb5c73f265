//! Property tests: encode→parse round trips; any chunking of the input yields the same events;
//! arbitrary bytes never panic and never consume more than given.

mod common;
use common::*;
use proptest::prelude::*;
use ws_core::connection::MIN_OUTPUT;
use ws_core::{Connection, Endpoint, FrameHeader, Limits, OpCode, Role, Timers};

fn opcode() -> impl Strategy<Value = OpCode> {
    prop_oneof![
        Just(OpCode::Continuation),
        Just(OpCode::Text),
        Just(OpCode::Binary),
        Just(OpCode::Close),
        Just(OpCode::Ping),
        Just(OpCode::Pong),
    ]
}

fn length() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..=125, 126u64..=0xFFFF, 0x1_0000u64..(1 << 63)]
}

/// One frame a peer might send (masked if `masked`): mostly valid, sometimes not (bad UTF-8, bad
/// close codes, fragmentation order).
fn wire_frame(masked: bool) -> impl Strategy<Value = Vec<u8>> {
    let key = masked.then_some(KEY);
    let data = (
        any::<bool>(),
        prop_oneof![
            Just(OpCode::Text),
            Just(OpCode::Binary),
            Just(OpCode::Continuation)
        ],
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40),
            "[a-zé€😀 ]{0,12}".prop_map(String::into_bytes)
        ],
    )
        .prop_map(move |(fin, op, p)| frame(fin, op, key, &p));
    let ping = proptest::collection::vec(any::<u8>(), 0..10)
        .prop_map(move |p| frame(true, OpCode::Ping, key, &p));
    let pong = proptest::collection::vec(any::<u8>(), 0..10)
        .prop_map(move |p| frame(true, OpCode::Pong, key, &p));
    let close = (
        prop_oneof![Just(1000u16), Just(1005), Just(3000), any::<u16>()],
        "[a-z]{0,5}",
    )
        .prop_map(move |(c, r)| frame(true, OpCode::Close, key, &close_body(c, &r)));
    prop_oneof![6 => data, 2 => ping, 1 => pong, 1 => close]
}

/// The role receiving, and frames as its peer sends them.
fn role_and_frames() -> impl Strategy<Value = (Role, Vec<Vec<u8>>)> {
    prop_oneof![
        proptest::collection::vec(wire_frame(true), 1..12).prop_map(|f| (Role::Server, f)),
        proptest::collection::vec(wire_frame(false), 1..12).prop_map(|f| (Role::Client, f)),
    ]
}

/// Merged data events, where a text message failed for bad UTF-8 loses its data: how much of its
/// valid prefix came out before the failure depends on where chunks ended (fail-fast per chunk).
fn normalize(events: &[Ev]) -> Vec<Ev> {
    let mut merged = merge_data(events);
    if let Some(i) = merged
        .iter()
        .position(|e| *e == Ev::Failed(ws_core::ProtocolError::InvalidUtf8))
    {
        if i > 0 && matches!(merged[i - 1], Ev::Data(_, _, false)) {
            merged.remove(i - 1);
        }
    }
    merged
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn encode_then_parse_round_trips(fin in any::<bool>(), rsv in 0u8..8, opcode in opcode(),
                                     mask in proptest::option::of(any::<[u8; 4]>()), len in length()) {
        let (fin, len) = if opcode.is_control() { (true, len % 126) } else { (fin, len) };
        let h = FrameHeader { fin, rsv1: rsv & 4 != 0, rsv2: rsv & 2 != 0, rsv3: rsv & 1 != 0,
                              opcode, mask, payload_len: len };
        let mut out = [0u8; 14];
        let n = h.encode(&mut out).unwrap();
        prop_assert_eq!(n, h.encoded_len());
        let receiver = if mask.is_some() { Role::Server } else { Role::Client };
        prop_assert_eq!(FrameHeader::parse(&out[..n], receiver), Ok(Some((h, n))));
        for cut in 0..n {
            prop_assert_eq!(FrameHeader::parse(&out[..cut], receiver), Ok(None));
        }
    }

    #[test]
    fn any_chunking_yields_the_same_events((role, frames) in role_and_frames(),
                                           sizes in proptest::collection::vec(1usize..20, 1..8)) {
        let wire = frames.concat();
        match role {
            Role::Server => same_events(server, &wire, &sizes)?,
            Role::Client => same_events(client, &wire, &sizes)?,
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_or_overconsume(bytes in proptest::collection::vec(any::<u8>(), 0..400),
                                                  client_role in any::<bool>()) {
        let limits = Limits { max_frame_payload: 200, max_message_size: 300, max_fragments: 4 };
        if client_role {
            never_overconsume(client_with(limits, Timers::default(), 0), bytes)?;
        } else {
            never_overconsume(Connection::server(limits, Timers::default(), 0), bytes)?;
        }
    }
}

/// Feeding `wire` whole or split into `sizes` chunks gives the same events, bytes and state.
fn same_events<E: Endpoint>(
    conn: impl Fn() -> Connection<E>,
    wire: &[u8],
    sizes: &[usize],
) -> Result<(), TestCaseError> {
    let mut whole = Driver::new(conn());
    whole.feed(wire);
    let mut split = Driver::new(conn());
    let mut at = 0;
    for size in sizes.iter().cycle() {
        if at >= wire.len() {
            break;
        }
        let end = (at + size).min(wire.len());
        split.feed(&wire[at..end]);
        at = end;
    }
    prop_assert_eq!(normalize(&whole.events), normalize(&split.events));
    prop_assert_eq!(&whole.written, &split.written);
    prop_assert_eq!(whole.conn.state(), split.conn.state());
    Ok(())
}

/// Arbitrary bytes never panic, never consume more than given, and every reply fits.
fn never_overconsume<E: Endpoint>(
    mut conn: Connection<E>,
    mut input: Vec<u8>,
) -> Result<(), TestCaseError> {
    let mut out = [0u8; MIN_OUTPUT];
    let mut at = 0;
    for _ in 0..1000 {
        let rest = &mut input[at..];
        let len = rest.len();
        let r = conn.receive(rest, &mut out, 0);
        prop_assert!(r.consumed <= len);
        prop_assert!(r.written <= MIN_OUTPUT);
        if r.consumed == 0 && r.event.is_none() {
            break;
        }
        at += r.consumed;
    }
    Ok(())
}
