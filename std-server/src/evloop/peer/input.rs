//! What a connection does with the bytes it read: the request head until the upgrade, then
//! frames through ws-core, echoed whole from the read buffer, reassembled, or passed through.

use super::{Peer, Phase, NEVER, REFUSAL_LINGER_MS};
use crate::config::Config;
use crate::evloop::batch::Batch;
use crate::evloop::scratch::Scratch;
use crate::frame_plan::{plan, Passthrough, Plan};
use std::io;
use ws_core::connection::MIN_OUTPUT;
use ws_core::frame::{FrameHeader, MAX_HEADER_LEN};
use ws_core::handshake::{self, Accept, Header, RequestParser, Status};
use ws_core::{Connection, Event, HandshakeError, MessageKind, Role, State};

/// Frames one read's processing may take before the connection lets the others run (the rest
/// of the input is kept as a backlog for its next turn).
const FRAMES_PER_TURN: usize = 2048;

impl Peer {
    /// Processes `s.buf[..len]`; returns how many bytes are done with.
    pub(super) fn process(
        &mut self,
        len: usize,
        now: u64,
        config: &Config,
        s: &mut Scratch,
    ) -> io::Result<usize> {
        match self.phase {
            Phase::Handshake => self.handshake(len, now, config, s),
            Phase::Open => self.frames(0, len, now, config, s),
            Phase::Refused => Ok(len),
        }
    }

    /// Parses the request head; answers 101 (and goes on with the frames behind the head) or
    /// ws-core's error response.
    fn handshake(
        &mut self,
        len: usize,
        now: u64,
        config: &Config,
        s: &mut Scratch,
    ) -> io::Result<usize> {
        let mut headers = vec![Header::EMPTY; config.head.max_headers];
        let mut parser = RequestParser::new(config.head);
        let input = s.buf.get(..len).unwrap_or_default();
        let verdict = match parser.feed(input, &mut headers) {
            Ok(Status::Partial) => return Ok(0),
            Ok(Status::Complete((req, head_len))) => req.upgrade().map(|up| {
                let mut resp = [0u8; 256];
                let accept = Accept {
                    subprotocol: None,
                    extensions: None,
                    extra_headers: &[],
                };
                let n = handshake::write_accept_response(up.key, &accept, &mut resp).unwrap_or(0);
                (head_len, resp, n)
            }),
            Err(e) => Err(e),
        };
        match verdict {
            Ok((head_len, resp, n)) => {
                s.out.push(resp.get(..n).unwrap_or_default());
                self.phase = Phase::Open;
                self.core = Connection::server(config.limits, config.timers(), now);
                self.deadline = NEVER;
                log::info!("conn={} handshake accepted (event loop)", self.id);
                let rest = self.frames(head_len, len, now, config, s)?;
                Ok(rest)
            }
            Err(e) => {
                self.refuse(e, now, s);
                Ok(len)
            }
        }
    }

    /// Queues ws-core's answer to a failed handshake; the connection ends after it.
    fn refuse(&mut self, e: HandshakeError, now: u64, s: &mut Scratch) {
        log::info!("conn={} handshake refused: {e}", self.id);
        let mut resp = [0u8; 512];
        let n = handshake::write_error_response(e, &mut resp).unwrap_or(0);
        s.out.push(resp.get(..n).unwrap_or_default());
        self.phase = Phase::Refused;
        self.deadline = now.saturating_add(REFUSAL_LINGER_MS);
    }

    /// Runs the frames in `s.buf[start..end]` through ws-core and queues the echoes and replies;
    /// returns the offset up to which input is done with (the rest waits for more bytes).
    fn frames(
        &mut self,
        start: usize,
        end: usize,
        now: u64,
        config: &Config,
        s: &mut Scratch,
    ) -> io::Result<usize> {
        let mut pos = start;
        let mut frames = 0;
        let limits = config.limits;
        loop {
            let avail = end.saturating_sub(pos);
            if avail == 0 || self.core.state() == State::Closed {
                return Ok(pos);
            }
            if self.reading_paused(config) || frames == FRAMES_PER_TURN {
                self.backlog = true;
                return Ok(pos);
            }
            if self.core.state() != State::Open {
                self.track = false;
            }
            if self.track && self.frame_left == 0 {
                match FrameHeader::parse(s.buf.get(pos..end).unwrap_or_default(), Role::Server) {
                    Ok(None) => return Ok(pos),
                    Ok(Some((h, hl))) => {
                        let may_pass_through = !self.assembling;
                        match plan(&h, hl, avail, s.buf.len(), &limits, may_pass_through) {
                            Plan::Await => return Ok(pos),
                            Plan::Take {
                                frame_len,
                                passthrough,
                            } => {
                                self.frame_left = frame_len;
                                self.passthrough = passthrough;
                            }
                        }
                    }
                    Err(_) => self.track = false,
                }
            }
            let mut replies = [0u8; MIN_OUTPUT];
            let buf_addr = s.buf.as_ptr() as usize;
            let bytes = s.buf.get_mut(pos..end).unwrap_or_default();
            let rec = self.core.receive(bytes, &mut replies, now);
            let out = &mut s.out;
            out.push(replies.get(..rec.written).unwrap_or_default());
            pos += rec.consumed;
            self.frame_left = self.frame_left.saturating_sub(rec.consumed as u64);
            let Some(event) = rec.event else {
                if rec.consumed == 0 {
                    return Ok(pos);
                }
                continue;
            };
            frames += 1;
            match event {
                // Deflate is never negotiated here: `compressed` is always false.
                Event::Data {
                    kind, payload, end, ..
                } => {
                    if self.passthrough != Passthrough::Off {
                        if let Passthrough::Header(len) = self.passthrough {
                            header(&mut self.core, out, kind, len);
                            self.passthrough = Passthrough::Body;
                        }
                        out.push_payload(payload, buf_addr);
                        if end {
                            self.passthrough = Passthrough::Off;
                        }
                    } else if !self.assembling && end {
                        header(&mut self.core, out, kind, payload.len() as u64);
                        out.push_payload(payload, buf_addr);
                    } else {
                        self.assembly.extend_from_slice(payload);
                        self.assembling = !end;
                        if end {
                            header(&mut self.core, out, kind, self.assembly.len() as u64);
                            let message = std::mem::take(&mut self.assembly);
                            let r = self.transmit(s, &message);
                            self.assembly = message;
                            self.assembly.clear();
                            if self.assembly.capacity() > s.buf.len() {
                                self.assembly = Vec::new();
                            }
                            r?;
                        }
                    }
                }
                Event::Ping(_) | Event::Pong(_) => {}
                Event::Close { code, .. } => {
                    log::debug!("conn={} peer close {}", self.id, code.map_or(1005, |c| c.0));
                }
                Event::Failed(e) => {
                    log::info!(
                        "conn={} protocol error {e:?} -> close {}",
                        self.id,
                        e.close_code().0
                    );
                    self.passthrough = Passthrough::Off;
                    self.track = false;
                    self.failed = true;
                }
            }
        }
    }
}

/// Queues a data frame header for a whole message of `len` bytes.
fn header(core: &mut Connection, out: &mut Batch, kind: MessageKind, len: u64) {
    let mut h = [0u8; MAX_HEADER_LEN];
    if let Ok(n) = core.send_data_header(kind, len, true, &mut h) {
        out.push(h.get(..n).unwrap_or_default());
    }
}
