//! Compression bombs from many connections at once against an echo server; prints one JSON line
//! with the server's peak RSS growth (issue 13, "memory that an attacker cannot multiply").
//!
//! ```text
//! ws-bomb --addr 127.0.0.1:9001 --server-pid PID --conns N --inflate-mib M [--label NAME]
//! ```
//! Each connection offers permessage-deflate, sends one compressed binary message that inflates
//! to M MiB of zeros (a few KiB on the wire), half of it before any connection sends its second
//! half (so all hold a partly inflated message at once), and reads until the server closes. The
//! server's VmHWM (peak resident set) minus its RSS before the attack is the figure.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use ws_bench::args::Args;
use ws_server::deflate::Encoder;

fn main() {
    if let Err(e) = run() {
        eprintln!("ws-bomb: {e}");
        std::process::exit(1);
    }
}

/// A status field of /proc/PID/status in KiB.
fn status_kib(pid: u32, field: &str) -> Result<u64, String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    text.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no {field} for {pid}"))
}

/// A masked frame (FIN, RSV1, binary) carrying `payload`.
fn compressed_frame(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xc2];
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= 0xffff {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    let key = [0x11, 0x22, 0x33, 0x44];
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// Upgrades with a permessage-deflate offer; `Err` if refused or not agreed.
fn upgrade(addr: SocketAddr) -> Result<TcpStream, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(300)))
        .map_err(|e| e.to_string())?;
    let req = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).map_err(|e| e.to_string())?;
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    if !head.starts_with("http/1.1 101") || !head.contains("permessage-deflate") {
        return Err(format!("not upgraded with deflate: {head}"));
    }
    Ok(s)
}

/// The close code in what the server sent (the last close frame), reading until EOF.
fn close_code(s: &mut TcpStream) -> Option<u16> {
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    let mut code = None;
    let mut at = 0;
    while at + 2 <= all.len() {
        let (len, hl) = match all[at + 1] & 0x7f {
            126 if at + 4 <= all.len() => {
                (u16::from_be_bytes([all[at + 2], all[at + 3]]) as usize, 4)
            }
            127 if at + 10 <= all.len() => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&all[at + 2..at + 10]);
                (u64::from_be_bytes(b) as usize, 10)
            }
            n if n < 126 => (n as usize, 2),
            _ => break,
        };
        if all[at] & 0x0f == 8 && len >= 2 && at + hl + 2 <= all.len() {
            code = Some(u16::from_be_bytes([all[at + hl], all[at + hl + 1]]));
        }
        at += hl + len;
    }
    code
}

fn run() -> Result<(), String> {
    let a = Args::parse(std::env::args().skip(1))?;
    let addr = a.loopback_addr()?;
    let pid: u32 = a.num("server-pid", 0)?;
    let conns: usize = a.num("conns", 100)?;
    let mib: usize = a.num("inflate-mib", 65)?;
    let label = a.get("label").unwrap_or("server").to_string();

    let mut enc = Encoder::new(9, 15, 8, true);
    let mut z = Vec::new();
    let piece = vec![0u8; 1 << 20];
    for i in 0..mib {
        enc.compress_piece(&piece, i + 1 == mib, &mut z)
            .map_err(|e| e.to_string())?;
    }
    let bomb = Arc::new(compressed_frame(&z));
    let rss_before = status_kib(pid, "VmRSS:")?;
    let started = Instant::now();
    let halfway = Arc::new(Barrier::new(conns));
    let threads: Vec<_> = (0..conns)
        .map(|_| {
            let (bomb, halfway) = (bomb.clone(), halfway.clone());
            std::thread::Builder::new()
                .stack_size(64 << 10)
                .spawn(move || -> Option<u16> {
                    let s = upgrade(addr);
                    let (first, second) = bomb.split_at(bomb.len() / 2);
                    let mut s = match s {
                        Ok(mut s) => {
                            let sent = s.write_all(first).is_ok();
                            halfway.wait();
                            if !sent {
                                return None;
                            }
                            std::thread::sleep(Duration::from_millis(200));
                            let _ = s.write_all(second);
                            s
                        }
                        Err(_) => {
                            halfway.wait();
                            return None;
                        }
                    };
                    close_code(&mut s)
                })
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    for t in threads {
        let code = t.join().unwrap_or(None);
        let key = code.map_or_else(|| "none".to_string(), |c| c.to_string());
        *codes.entry(key).or_default() += 1;
    }
    let peak = status_kib(pid, "VmHWM:")?;
    println!(
        "{{\"label\":\"{label}\",\"conns\":{conns},\"inflate_mib\":{mib},\"bomb_bytes\":{},\
         \"rss_before_kib\":{rss_before},\"peak_kib\":{peak},\"peak_growth_mib\":{:.1},\
         \"seconds\":{:.1},\"close_codes\":{}}}",
        bomb.len(),
        peak.saturating_sub(rss_before) as f64 / 1024.0,
        started.elapsed().as_secs_f64(),
        serde_json::to_string(&codes).map_err(|e| e.to_string())?
    );
    Ok(())
}
