//! An in-memory client/server pair: fragmented text both ways, ping/pong, close with each valid
//! code, every byte going through both state machines.

mod common;
use common::*;
use ws_core::handshake::{
    write_accept_response, write_client_request, Accept, ClientRequest, Header, RequestParser,
    ResponseParser, Status,
};
use ws_core::limits::HeadLimits;
use ws_core::{Client, CloseCode, Connection, Limits, MaskKeys, MessageKind, State, Timers};

/// A fresh (here: counting, for reproducible bytes) mask key for every client frame.
#[derive(Default)]
struct CountingKeys(u8);

impl MaskKeys for CountingKeys {
    fn next_key(&mut self) -> [u8; 4] {
        self.0 = self.0.wrapping_add(1);
        [self.0, 0xA5, self.0.wrapping_mul(7), 0x3C]
    }
}

/// Both ends; `send_*` helpers put frames on the wire, `pump` delivers them.
struct Pair {
    client: Driver<Client<CountingKeys>>,
    server: Driver,
    to_server: Vec<u8>,
    to_client: Vec<u8>,
}

impl Pair {
    fn new() -> Self {
        let client = Connection::client(Limits::DEFAULT, Timers::default(), 0, CountingKeys(0));
        Self {
            client: Driver::new(client),
            server: Driver::new(server()),
            to_server: vec![],
            to_client: vec![],
        }
    }

    fn client_send(&mut self, kind: MessageKind, payload: &[u8], fin: bool) {
        let mut out = vec![0u8; payload.len() + 14];
        let n = self
            .client
            .conn
            .send_data(kind, payload, fin, &mut out)
            .unwrap();
        self.to_server.extend_from_slice(&out[..n]);
    }

    fn server_send(&mut self, kind: MessageKind, payload: &[u8], fin: bool) {
        let mut out = vec![0u8; payload.len() + 14];
        let n = self
            .server
            .conn
            .send_data(kind, payload, fin, &mut out)
            .unwrap();
        self.to_client.extend_from_slice(&out[..n]);
    }

    /// Delivers pending bytes both ways (in chunks of `chunk`) until both wires are empty.
    fn pump(&mut self, chunk: usize) -> (Vec<Ev>, Vec<Ev>) {
        let (mut at_server, mut at_client) = (vec![], vec![]);
        while !self.to_server.is_empty() || !self.to_client.is_empty() {
            let bytes = std::mem::take(&mut self.to_server);
            at_server.extend(self.server.feed_chunks(&bytes, chunk));
            self.to_client.extend(self.server.take_written());
            let bytes = std::mem::take(&mut self.to_client);
            at_client.extend(self.client.feed_chunks(&bytes, chunk));
            self.to_server.extend(self.client.take_written());
        }
        (merge_data(&at_server), merge_data(&at_client))
    }
}

#[test]
fn pair_fragmented_text_both_ways_with_ping_pong() {
    for chunk in [1, 3, 1000] {
        let mut p = Pair::new();
        p.client_send(MessageKind::Text, "héllo ".as_bytes(), false);
        let mut out = [0u8; 64];
        let n = p.client.conn.send_ping(b"are you there", &mut out).unwrap();
        p.to_server.extend_from_slice(&out[..n]);
        p.client_send(MessageKind::Text, "wörld 😀".as_bytes(), true);
        p.server_send(MessageKind::Text, "€€".as_bytes(), false);
        p.server_send(MessageKind::Text, "€".as_bytes(), true);
        let (at_server, at_client) = p.pump(chunk);
        assert_eq!(
            at_server,
            vec![
                Ev::Data(MessageKind::Text, "héllo ".as_bytes().to_vec(), false),
                Ev::Ping(b"are you there".to_vec()),
                Ev::Data(MessageKind::Text, "wörld 😀".as_bytes().to_vec(), true),
            ],
            "chunk {chunk}"
        );
        // The server's own message, then the core-generated pong reaching the client.
        assert_eq!(
            at_client,
            vec![
                Ev::Data(MessageKind::Text, "€€€".as_bytes().to_vec(), true),
                Ev::Pong(b"are you there".to_vec())
            ],
            "chunk {chunk}"
        );
        // Binary, both ways, large enough for the 16-bit length form.
        let blob: Vec<u8> = (0..5000u32).map(|i| (i * 31) as u8).collect();
        p.client_send(MessageKind::Binary, &blob, true);
        p.server_send(MessageKind::Binary, &blob, true);
        let (at_server, at_client) = p.pump(chunk);
        assert_eq!(
            at_server,
            vec![Ev::Data(MessageKind::Binary, blob.clone(), true)]
        );
        assert_eq!(at_client, vec![Ev::Data(MessageKind::Binary, blob, true)]);
    }
}

#[test]
fn pair_close_with_each_valid_code_from_either_side() {
    let codes = [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999,
    ];
    for code in codes {
        for client_closes in [true, false] {
            let mut p = Pair::new();
            let mut out = [0u8; 64];
            if client_closes {
                let n = p
                    .client
                    .conn
                    .send_close(Some(CloseCode(code)), "done", 0, &mut out)
                    .unwrap();
                p.to_server.extend_from_slice(&out[..n]);
            } else {
                let n = p
                    .server
                    .conn
                    .send_close(Some(CloseCode(code)), "done", 0, &mut out)
                    .unwrap();
                p.to_client.extend_from_slice(&out[..n]);
            }
            let (at_server, at_client) = p.pump(2);
            let (initiator, responder) = if client_closes {
                (at_client, at_server)
            } else {
                (at_server, at_client)
            };
            assert_eq!(
                responder,
                vec![Ev::Close(Some(code), "done".into())],
                "code {code}"
            );
            // The echo carries the code (without the reason).
            assert_eq!(
                initiator,
                vec![Ev::Close(Some(code), String::new())],
                "code {code}"
            );
            assert_eq!(p.client.conn.state(), State::Closed);
            assert_eq!(p.server.conn.state(), State::Closed);
        }
    }
}

#[test]
fn pair_handshake_then_frames_sent_in_the_same_segment() {
    let request = ClientRequest {
        host: "127.0.0.1:8000",
        path: "/chat?room=1",
        origin: Some("http://localhost:63342"),
        subprotocols: &["chat"],
        extensions: None,
        extra_headers: &[],
    };
    let mut buf = [0u8; 512];
    let (n, expected) = write_client_request(&request, [7; 16], &mut buf).unwrap();
    let mut p = Pair::new();
    // The client's first frame follows the head in the same TCP segment.
    let mut wire = buf[..n].to_vec();
    p.client_send(MessageKind::Text, b"first", true);
    wire.append(&mut p.to_server);

    let mut parser = RequestParser::new(HeadLimits::DEFAULT);
    let mut headers = [Header::EMPTY; 16];
    let (head_len, response) = {
        let Ok(Status::Complete((req, len))) = parser.feed(&wire, &mut headers) else {
            panic!("complete head expected");
        };
        assert_eq!((req.path, req.query), ("/chat", Some("room=1")));
        let upgrade = req.upgrade().unwrap();
        assert_eq!(req.subprotocols().collect::<Vec<_>>(), ["chat"]);
        let accept = Accept {
            subprotocol: Some("chat"),
            ..Accept::default()
        };
        let mut out = [0u8; 512];
        let m = write_accept_response(upgrade.key, &accept, &mut out).unwrap();
        (len, out[..m].to_vec())
    };
    // The bytes after the head are the first frame.
    assert_eq!(
        p.server.feed(&wire[head_len..]),
        vec![Ev::Data(MessageKind::Text, b"first".to_vec(), true)]
    );

    // The server's 101 and its first frame arrive together too.
    let mut to_client = response.clone();
    p.server_send(MessageKind::Text, b"welcome", true);
    to_client.append(&mut p.to_client);
    let mut parser = ResponseParser::new(HeadLimits::DEFAULT);
    let mut headers = [Header::EMPTY; 16];
    let Ok(Status::Complete((resp, len))) =
        parser.feed(&to_client, &mut headers, &request, &expected)
    else {
        panic!("valid 101 expected");
    };
    assert_eq!(resp.subprotocol, Some("chat"));
    assert_eq!(len, response.len());
    assert_eq!(
        p.client.feed(&to_client[len..]),
        vec![Ev::Data(MessageKind::Text, b"welcome".to_vec(), true)]
    );
}
