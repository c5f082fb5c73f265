//! A peer that keeps the socket busy cannot hold the executor: with every connection on ONE
//! executor thread, a client flooding pings (and reading the pongs) does not stop another
//! client from getting its echo.

mod common;

use common::*;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tungstenite::Message as T;
use ws_server::{Config, Server};

#[test]
fn flooding_peer_does_not_starve_others_on_one_thread() {
    let ex = Arc::new(smol::Executor::<'static>::new());
    let server = smol::block_on(Server::bind("127.0.0.1:0", Config::default())).unwrap();
    let addr = server.local_addr();
    let handle = server.shutdown_handle();
    let spawn_ex = ex.clone();
    let server = server.with_spawner(move |f| spawn_ex.spawn(f).detach());
    let run_ex = ex.clone();
    let serve = ex.spawn(server.serve(ws_server::echo_handler()));
    // The only executor thread.
    let th = std::thread::spawn(move || smol::block_on(run_ex.run(serve)));

    let stop = Arc::new(AtomicBool::new(false));
    let mut flood = raw(addr);
    let mut flood_reader = flood.try_clone().unwrap();
    let stop_r = stop.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0usize;
        while !stop_r.load(Ordering::Relaxed) {
            match flood_reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
        total
    });
    let pings: Vec<u8> = (0..2000).flat_map(|_| frame(true, 9, b"flood")).collect();
    let stop_w = stop.clone();
    let writer = std::thread::spawn(move || {
        let t = Instant::now();
        while !stop_w.load(Ordering::Relaxed) && t.elapsed() < Duration::from_secs(10) {
            if flood.write_all(&pings).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    for i in 0..20 {
        let mut ws = client(addr);
        ws.send(T::text(format!("hello {i}"))).unwrap();
        assert_eq!(ws.read().unwrap(), T::text(format!("hello {i}")));
    }
    let took = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let pongs = reader.join().unwrap();
    eprintln!(
        "20 echo clients served in {took:?} while the flooder got {} KiB of pongs",
        pongs / 1024
    );
    assert!(pongs > 0, "the flooder was not served at all");
    assert!(
        took < Duration::from_secs(5),
        "echo clients starved: {took:?}"
    );
    handle.shutdown();
    th.join().unwrap().unwrap();
}
