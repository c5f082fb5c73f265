//! Input processing: buffered bytes through ws-core, events into messages or echoes. Whole
//! binary frames that fit the read buffer are awaited so they can be echoed in place; text goes
//! to the core as it arrives so invalid UTF-8 fails fast.

use super::core::Core;
use super::{send_header, split, Conn, Mode, Stream};
use crate::deflate::{glue, Session};
use crate::frame_plan::{plan, Passthrough, Plan};
use crate::message::Message;
use crate::outbox::Outbox;
use std::task::Context;
use ws_core::connection::MIN_OUTPUT;
use ws_core::frame::{apply_mask, FrameHeader};
use ws_core::{CloseCode, Event, MessageKind, Role, State};

impl Conn {
    /// Processes buffered input until it needs more bytes, a message completes (Messages mode),
    /// or the outbox reaches its cap.
    pub(super) fn process_input(&mut self, mode: Mode, cx: &mut Context<'_>) -> Option<Message> {
        // One clock read per call, not per frame (the core's timers count milliseconds; with
        // small messages a read per frame was 6% of the server's CPU).
        let now = self.now_ms();
        // The core's automatic replies (pong, close) are written here first and copied to the
        // outbox only when there is one: reserving room in the outbox for every frame cost a
        // memset and a truncate per frame.
        let mut replies = [0u8; MIN_OUTPUT];
        loop {
            if self.reading_paused() || self.core.state() == State::Closed {
                return None;
            }
            let avail = self.input.len();
            if avail == 0 {
                return None;
            }
            if self.core.state() != State::Open {
                self.track = false;
            }
            if self.track && self.frame_left == 0 {
                match FrameHeader::parse(self.input.pending(), self.role) {
                    Ok(None) => return None,
                    Ok(Some((h, hl))) => {
                        // Only an echoing server without compression or a message being
                        // reassembled may echo a frame as it arrives.
                        let may_pass_through = mode == Mode::Echo
                            && self.role == Role::Server
                            && self.deflate.is_none()
                            && !self.assembling;
                        let size = self.input.size();
                        match plan(&h, hl, avail, size, &self.limits, may_pass_through) {
                            Plan::Await => return None,
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
            let message_limit = self.limits.max_message_size;
            let copy_limit = self.input.size().max(16 << 10);
            let Self {
                core,
                input,
                out,
                assembly,
                assembling,
                close_info,
                failed,
                frame_left,
                track,
                role,
                shared,
                deflate,
                io,
                bytes_out,
                passthrough,
                ..
            } = self;
            let mut direct = Direct {
                io: io.as_mut(),
                cx: &mut *cx,
                bytes_out,
            };
            let bytes = input.buf.get_mut(input.start..input.end)?;
            let rec = core.receive(bytes, &mut replies, now);
            if let Some(reply) = replies.get(..rec.written).filter(|r| !r.is_empty()) {
                out.extend(reply);
            }
            input.start += rec.consumed;
            *frame_left = frame_left.saturating_sub(rec.consumed as u64);
            let Some(event) = rec.event else {
                if rec.consumed == 0 {
                    return None;
                }
                continue;
            };
            match event {
                Event::Data {
                    kind,
                    payload,
                    end,
                    compressed: true,
                } => {
                    if *failed {
                        continue;
                    }
                    *assembling = !end;
                    let session = deflate.as_deref_mut();
                    match glue::inflate_chunk(session, kind, payload, end, assembly, message_limit)
                    {
                        Err((code, why)) => {
                            log::info!("conn={} {why} -> close {}", shared.id, code.0);
                            assembly.clear();
                            *assembling = false;
                            let _ = out.write_with(MIN_OUTPUT, |o| {
                                split(core.send_close(Some(code), why, now, o))
                            });
                            *track = false;
                            *failed = true;
                            if close_info.is_none() {
                                *close_info = Some((code, why.to_owned()));
                            }
                        }
                        Ok(()) if !end => {}
                        Ok(()) => match mode {
                            Mode::Echo => {
                                let session = deflate.as_deref_mut();
                                echo_assembled(
                                    core, out, *role, session, kind, assembly, copy_limit,
                                );
                            }
                            Mode::Messages => {
                                return Some(to_message(kind, std::mem::take(assembly)));
                            }
                        },
                    }
                }
                Event::Data {
                    kind,
                    payload,
                    end,
                    compressed: false,
                } => match mode {
                    Mode::Echo if *passthrough != Passthrough::Off => {
                        if let Passthrough::Header(len) = *passthrough {
                            let _ = send_header(core, out, kind, len as usize, false);
                            *passthrough = Passthrough::Body;
                        }
                        direct.send(out, payload);
                        if end {
                            *passthrough = Passthrough::Off;
                        }
                    }
                    Mode::Echo if !*assembling && end => {
                        echo(core, out, deflate.as_deref_mut(), kind, payload);
                    }
                    Mode::Echo => {
                        assembly.extend_from_slice(payload);
                        *assembling = !end;
                        if end {
                            let session = deflate.as_deref_mut();
                            echo_assembled(core, out, *role, session, kind, assembly, copy_limit);
                        }
                    }
                    Mode::Messages => {
                        assembly.extend_from_slice(payload);
                        *assembling = !end;
                        if end {
                            return Some(to_message(kind, std::mem::take(assembly)));
                        }
                    }
                },
                Event::Ping(_) | Event::Pong(_) => {}
                Event::Close { code, reason } => {
                    let code = code.unwrap_or(CloseCode::NO_STATUS);
                    log::debug!("conn={} peer close {}", shared.id, code.0);
                    if close_info.is_none() {
                        *close_info = Some((code, reason.to_owned()));
                    }
                }
                Event::Failed(e) => {
                    *passthrough = Passthrough::Off;
                    log::info!(
                        "conn={} protocol error {:?} -> close {}",
                        shared.id,
                        e,
                        e.close_code().0
                    );
                    *track = false;
                    *failed = true;
                    if close_info.is_none() {
                        *close_info = Some((e.close_code(), format!("{e:?}")));
                    }
                }
            }
        }
    }
}

/// Echoes one whole message straight from the read buffer (compressed when the extension is
/// active and the message is worth it).
fn echo(
    core: &mut Core,
    out: &mut Outbox,
    deflate: Option<&mut Session>,
    kind: MessageKind,
    payload: &[u8],
) {
    if let Some(mut z) = glue::compress(deflate, payload) {
        if let Ok(mask) = send_header(core, out, kind, z.len(), true) {
            if let Some(mask) = mask {
                apply_mask(&mut z, mask, 0);
            }
            out.push_owned(z);
        }
        return;
    }
    match send_header(core, out, kind, payload.len(), false) {
        Err(_) => {}
        Ok(None) => out.extend(payload),
        Ok(Some(mask)) => {
            let mut v = payload.to_vec();
            apply_mask(&mut v, mask, 0);
            out.push_owned(v);
        }
    }
}

/// Echoes a reassembled message: up to `copy_limit` bytes it is copied (the buffer is kept for
/// the next message: no allocation per message), larger ones are handed to the outbox without a
/// copy.
fn echo_assembled(
    core: &mut Core,
    out: &mut Outbox,
    role: Role,
    deflate: Option<&mut Session>,
    kind: MessageKind,
    assembly: &mut Vec<u8>,
    copy_limit: usize,
) {
    if deflate.is_some() || assembly.len() <= copy_limit || role == Role::Client {
        echo(core, out, deflate, kind, assembly);
        assembly.clear();
        if assembly.capacity() > 2 * copy_limit {
            *assembly = Vec::new();
        }
    } else if send_header(core, out, kind, assembly.len(), false).is_ok() {
        out.push_owned(std::mem::take(assembly));
    } else {
        *assembly = Vec::new();
    }
}

/// The transport, for writing a passed-through frame's chunks without copying them into the
/// outbox first. (Only there: for whole frames that fit the read buffer, one vectored write per
/// read beats one write per message; measured on scenario c, write-through cost 9%.)
pub(super) struct Direct<'a, 'b> {
    pub(super) io: Option<&'a mut Box<dyn Stream>>,
    pub(super) cx: &'a mut Context<'b>,
    pub(super) bytes_out: &'a mut u64,
}

impl Direct<'_, '_> {
    /// Sends `payload` after what the outbox holds: written through as far as the transport
    /// takes it without blocking; the rest is copied to the outbox.
    fn send(&mut self, out: &mut Outbox, payload: &[u8]) {
        let mut done = 0;
        if !payload.is_empty() {
            if let Some(io) = self.io.as_mut() {
                let (written, of_payload) = out.write_through(io, self.cx, payload);
                *self.bytes_out += written as u64;
                done = of_payload;
            }
        }
        out.extend(payload.get(done..).unwrap_or_default());
    }
}

/// A message from reassembled bytes (text already validated by ws-core).
fn to_message(kind: MessageKind, bytes: Vec<u8>) -> Message {
    match kind {
        MessageKind::Binary => Message::Binary(bytes),
        MessageKind::Text => match String::from_utf8(bytes) {
            Ok(s) => Message::Text(s),
            Err(e) => {
                log::error!("ws-core passed invalid UTF-8 text; delivering as binary");
                Message::Binary(e.into_bytes())
            }
        },
    }
}
