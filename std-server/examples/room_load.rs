//! Server CPU per broadcast delivery: a [`Room`] against the room lib.rs used to show (a `Writer`
//! per member, `send(msg.clone())` in a loop), same load, same run. A quick A/B for the library
//! (the benchmarks with the peers are `scripts/bench`'s).
//!
//! ```sh
//! B=target/release/examples/room_load
//! taskset -c 0 $B serve-room 127.0.0.1:19431 & P=$!       # or serve-writers
//! taskset -c 1 $B load 127.0.0.1:19431 $P 100 60000 16     # members, messages, bytes each
//! kill $P
//! ```
//!
//! Member 0 publishes (all messages at once, 100 frames per write); every member (member 0
//! included) reads until it has every byte; the server's CPU time comes from /proc. Measured
//! 2026-12-07 (server on CPU 0, load on CPU 1, both shared with other work):
//!
//! | load | Room | Writer loop |
//! |---|---|---|
//! | 100 members x 60 000 x 16 B | 0.153 µs/delivery | 0.333 |
//! | 1 000 members x 6 000 x 16 B | 0.182 | 0.303 |
//! | 100 members x 500 x 16 KiB | 6.4, all delivered | members closed (1008) |
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use ws_server::{Config, Reply, Request, Room, Server, Upgrade, WebSocket, Writer};

fn cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &s[s.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn serve(addr: &str, room_mode: bool) {
    async_std::task::block_on(async {
        let room = Arc::new(Room::new());
        let writers: Arc<Mutex<Vec<Writer>>> = Arc::default();
        let server = Server::bind(addr, Config::default()).await.unwrap();
        server
            .serve(move |_req: Request| {
                let room = room.clone();
                let writers = writers.clone();
                async move {
                    Reply::Upgrade(Upgrade::new(move |ws: WebSocket| async move {
                        let (mut reader, writer) = ws.split();
                        if room_mode {
                            room.subscribe(&writer);
                        } else {
                            writers.lock().unwrap().push(writer);
                        }
                        while let Some(msg) = reader.recv().await {
                            if room_mode {
                                room.publish(&msg);
                            } else {
                                writers
                                    .lock()
                                    .unwrap()
                                    .retain(|w| w.send(msg.clone()).is_ok());
                            }
                        }
                    }))
                }
            })
            .await
            .unwrap();
    });
}

fn connect(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    s.write_all(b"GET /room HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).unwrap();
        head.push(b[0]);
    }
    s
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    match a[1].as_str() {
        "serve-room" => serve(&a[2], true),
        "serve-writers" => serve(&a[2], false),
        "load" => {
            let (addr, pid) = (&a[2], a[3].parse::<u32>().unwrap());
            let (n, m, size): (usize, usize, usize) = (
                a[4].parse().unwrap(),
                a[5].parse().unwrap(),
                a[6].parse().unwrap(),
            );
            let hl = if size < 126 {
                2
            } else if size < 65536 {
                4
            } else {
                10
            };
            let want = (m * (size + hl)) as u64;
            let members: Vec<TcpStream> = (0..n).map(|_| connect(addr)).collect();
            std::thread::sleep(std::time::Duration::from_millis(500));
            let mut publisher = members[0].try_clone().unwrap();
            let t0 = Instant::now();
            let c0 = cpu_ticks(pid);
            let readers: Vec<_> = members
                .into_iter()
                .map(|mut s| {
                    std::thread::spawn(move || {
                        let mut got = 0u64;
                        let mut buf = vec![0u8; 256 << 10];
                        while got < want {
                            let k = s.read(&mut buf).unwrap();
                            assert!(k > 0, "closed after {got} of {want}");
                            got += k as u64;
                        }
                    })
                })
                .collect();
            let mut frame = vec![0x82u8];
            if size < 126 {
                frame.push(0x80 | size as u8)
            } else {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(size as u16).to_be_bytes())
            }
            frame.extend_from_slice(&[0, 0, 0, 0]);
            frame.extend(std::iter::repeat_n(b'a', size));
            let mut batch = Vec::new();
            for _ in 0..m.min(100) {
                batch.extend_from_slice(&frame);
            }
            let mut sent = 0;
            while sent < m {
                let k = (m - sent).min(100);
                publisher.write_all(&batch[..k * frame.len()]).unwrap();
                sent += k;
            }
            for r in readers {
                r.join().unwrap();
            }
            let secs = t0.elapsed().as_secs_f64();
            let cpu = (cpu_ticks(pid) - c0) as f64 / 100.0;
            let d = (n * m) as f64;
            println!("{n} members x {m} x {size} B: {:.0} deliveries/s, server CPU {:.3} us/delivery ({:.2} s wall, {:.2} s cpu)", d / secs, cpu * 1e6 / d, secs, cpu);
        }
        _ => panic!(),
    }
}
