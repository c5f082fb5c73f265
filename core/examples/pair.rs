//! A full opening handshake and an echo over an in-memory client/server pair, printing every byte
//! that crosses the "wire" (hex and text). No sockets: both ends are `ws_core` state machines.
//!
//! Run with `cargo run -p ws-core --example pair`.

use ws_core::connection::MIN_OUTPUT;
use ws_core::handshake::{
    write_accept_response, write_client_request, Accept, ClientRequest, Header, RequestParser,
    ResponseParser, Status,
};
use ws_core::limits::HeadLimits;
use ws_core::{CloseCode, Connection, Endpoint, Event, Limits, MaskKeys, MessageKind, Timers};

/// Prints bytes going one way as a hex dump with the printable characters alongside.
fn show(direction: &str, what: &str, bytes: &[u8]) {
    println!("{direction} {what} ({} bytes)", bytes.len());
    for line in bytes.chunks(16) {
        let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
        let text: String = line
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        println!("    {:<48} {text}", hex.join(" "));
    }
}

/// A stand-in for a random source, for reproducible output. A real client must draw fresh
/// unpredictable bytes for every frame (RFC 6455 §5.3), e.g. `|| rand::random()`.
struct Keys(u32);

impl MaskKeys for Keys {
    fn next_key(&mut self) -> [u8; 4] {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        self.0.to_be_bytes()
    }
}

/// A data chunk as received: kind, bytes, whether it ends the message.
type Chunk = (MessageKind, Vec<u8>, bool);

/// Feeds all of `wire` to `conn`, printing each event; returns the bytes the connection wrote
/// (pongs, close echoes) and the events' data chunks for an echo.
fn deliver<E: Endpoint>(
    name: &str,
    conn: &mut Connection<E>,
    wire: &mut Vec<u8>,
) -> (Vec<u8>, Vec<Chunk>) {
    let mut replies = Vec::new();
    let mut data = Vec::new();
    let mut out = [0u8; MIN_OUTPUT];
    loop {
        let got = conn.receive(wire, &mut out, 0);
        replies.extend_from_slice(&out[..got.written]);
        let progressed = got.consumed > 0 || got.event.is_some();
        match got.event {
            Some(Event::Data {
                kind, payload, end, ..
            }) => {
                let text = String::from_utf8_lossy(payload);
                println!("  {name} got {kind:?} chunk {text:?} (end: {end})");
                data.push((kind, payload.to_vec(), end));
            }
            Some(event) => println!("  {name} got {event:?}"),
            None => {}
        }
        let consumed = got.consumed;
        wire.drain(..consumed);
        if !progressed {
            return (replies, data);
        }
    }
}

fn main() {
    // 1. The client writes its upgrade request (the nonce comes from the caller's RNG).
    let request = ClientRequest {
        host: "127.0.0.1:8000",
        path: "/chat",
        origin: Some("http://localhost:63342"),
        subprotocols: &[],
        extensions: None,
        extra_headers: &[],
    };
    let mut buf = [0u8; 1024];
    let nonce = *b"sixteen byte key";
    let (n, expected) = write_client_request(&request, nonce, &mut buf).expect("request fits");
    let request_bytes = buf[..n].to_vec();
    show("client -> server", "upgrade request", &request_bytes);

    // 2. The server parses it (here one byte at a time, as a slow network might deliver it).
    let mut parser = RequestParser::new(HeadLimits::DEFAULT);
    let mut headers = [Header::EMPTY; 32];
    let mut head_len = 0;
    for end in 1..=request_bytes.len() {
        if let Status::Complete((req, len)) = parser
            .feed(&request_bytes[..end], &mut headers)
            .expect("valid head")
        {
            let upgrade = req.upgrade().expect("valid upgrade");
            println!(
                "  server: {} {} from Origin {:?}",
                req.method,
                req.path,
                req.origin()
            );
            let mut resp = [0u8; 512];
            let n = write_accept_response(upgrade.key, &Accept::default(), &mut resp)
                .expect("response fits");
            head_len = len;
            show("server -> client", "101 response", &resp[..n]);
            // 3. The client validates the response.
            let mut parser = ResponseParser::new(HeadLimits::DEFAULT);
            let mut headers = [Header::EMPTY; 16];
            let status = parser.feed(&resp[..n], &mut headers, &request, &expected);
            assert!(matches!(status, Ok(Status::Complete(_))), "{status:?}");
            println!(
                "  client: Sec-WebSocket-Accept {} verified",
                expected.as_str()
            );
            break;
        }
    }
    assert_eq!(head_len, request_bytes.len());

    // 4. Both sides switch to frames.
    // The client masks every frame with a key from its source; the server never masks.
    let mut client = Connection::client(Limits::DEFAULT, Timers::default(), 0, Keys(42));
    let mut server = Connection::server(Limits::DEFAULT, Timers::default(), 0);
    let mut to_server = Vec::new();
    let mut out = [0u8; 256];

    let n = client
        .send_data(MessageKind::Text, "Hello, ".as_bytes(), false, &mut out)
        .expect("fits");
    to_server.extend_from_slice(&out[..n]);
    let n = client.send_ping(b"ping!", &mut out).expect("fits");
    to_server.extend_from_slice(&out[..n]);
    let n = client
        .send_data(MessageKind::Text, "WebSocket ✓".as_bytes(), true, &mut out)
        .expect("fits");
    to_server.extend_from_slice(&out[..n]);
    show(
        "client -> server",
        "text in two fragments with a ping between (masked)",
        &to_server,
    );

    // 5. The server echoes every chunk as it arrives; the core wrote the pong itself.
    let (mut to_client, chunks) = deliver("server", &mut server, &mut to_server);
    for (kind, payload, end) in chunks {
        let n = server
            .send_data(kind, &payload, end, &mut out)
            .expect("fits");
        to_client.extend_from_slice(&out[..n]);
    }
    show(
        "server -> client",
        "pong, then the echo (unmasked)",
        &to_client,
    );
    let (replies, chunks) = deliver("client", &mut client, &mut to_client);
    assert!(replies.is_empty());
    let echoed: Vec<u8> = chunks.into_iter().flat_map(|(_, p, _)| p).collect();
    assert_eq!(
        String::from_utf8(echoed).as_deref(),
        Ok("Hello, WebSocket ✓")
    );

    // 6. The client closes; the server echoes the close; both end Closed.
    let n = client
        .send_close(Some(CloseCode::NORMAL), "bye", 0, &mut out)
        .expect("fits");
    to_server.extend_from_slice(&out[..n]);
    show("client -> server", "close 1000 \"bye\"", &to_server);
    let (mut to_client, _) = deliver("server", &mut server, &mut to_server);
    show("server -> client", "close echo", &to_client);
    deliver("client", &mut client, &mut to_client);
    println!(
        "  states: client {:?}, server {:?}",
        client.state(),
        server.state()
    );
    assert_eq!(
        (client.state(), server.state()),
        (ws_core::State::Closed, ws_core::State::Closed)
    );
}
