//! The server conversation through the blocking embedded-io adapter, over an in-memory stream
//! that hands the client's bytes out 16 at a time: accept, the two-fragment "Hello" read as one
//! message and echoed, the ping answered on the way, the close echoed. Every byte written is
//! compared with the exact bytes expected.
#![no_std]
#![no_main]

use core::convert::Infallible;
use core::hint::black_box;
use cortex_m_rt::entry;
use ws_embedded_io::blocking::WebSocket;
use ws_embedded_io::Message;
use ws_firmware::StackProbe;
use ws_scenario::{Failure, Phase, Probe};
use ws_scenario::{CLOSE_ECHO, CLOSE_IN, FRAGMENTS_IN, PING_IN, PONG, REQUEST, RESPONSE_101};

/// The client's side, scripted: reads come from `input`, writes go to `output`.
struct Stream<'a> {
    input: &'a [u8],
    output: [u8; 256],
    written: usize,
}

impl embedded_io::ErrorType for Stream<'_> {
    type Error = Infallible;
}

impl embedded_io::Read for Stream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let n = buf.len().min(self.input.len()).min(16);
        let (now, later) = self.input.split_at(n);
        if let Some(dst) = buf.get_mut(..n) {
            dst.copy_from_slice(now);
        }
        self.input = later;
        Ok(n)
    }
}

impl embedded_io::Write for Stream<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        let end = self.written + buf.len();
        if let Some(dst) = self.output.get_mut(self.written..end) {
            dst.copy_from_slice(buf);
            self.written = end;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// Serves one connection; returns the bytes written, or the failing step.
#[inline(never)]
fn serve(input: &[u8]) -> Result<Stream<'_>, u8> {
    let (mut rx, mut tx, mut msg) = ([0u8; 256], [0u8; 160], [0u8; 64]);
    let stream = Stream {
        input,
        output: [0; 256],
        written: 0,
    };
    let mut ws = WebSocket::accept(stream, &mut rx, &mut tx).map_err(|_| 1)?;
    match ws.read(&mut msg) {
        Ok(Message::Text("Hello")) => {}
        _ => return Err(2),
    }
    ws.send_text("Hello").map_err(|_| 3)?;
    match ws.read(&mut msg) {
        Ok(Message::Close(Some(ws_core::CloseCode::NORMAL))) => {}
        _ => return Err(4),
    }
    Ok(ws.into_inner())
}

#[entry]
fn main() -> ! {
    let mut input = [0u8; 256];
    let mut len = 0;
    for part in [REQUEST, FRAGMENTS_IN, PING_IN, CLOSE_IN] {
        if let Some(dst) = input.get_mut(len..len + part.len()) {
            dst.copy_from_slice(black_box(part));
        }
        len += part.len();
    }
    let input = input.get(..len).unwrap_or_default();
    let result = StackProbe.phase(Phase::Adapter, || serve(input));
    let fail = |step| Failure {
        phase: Phase::Adapter,
        step,
    };
    let result = result.map_err(fail).and_then(|stream| {
        let mut expected = [0u8; 256];
        let mut n = 0;
        for part in [RESPONSE_101, b"\x81\x05Hello", PONG, CLOSE_ECHO] {
            if let Some(dst) = expected.get_mut(n..n + part.len()) {
                dst.copy_from_slice(part);
            }
            n += part.len();
        }
        if stream.output.get(..stream.written) == expected.get(..n) {
            Ok(())
        } else {
            Err(fail(9))
        }
    });
    ws_firmware::finish(result)
}
