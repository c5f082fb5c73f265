//! The idle mode: open N connections, complete every handshake, hold them, and report how much
//! the server's resident memory grew per connection.

use crate::handshake::client_handshake;
use crate::procfs;
use socket2::{Domain, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Connections per loopback source address: below the default ephemeral port range
/// (32768-60999), so more connections than one range holds use 127.0.0.2, 127.0.0.3, ...
pub const CONNS_PER_SOURCE: usize = 25_000;

/// What the idle mode measured.
#[derive(Debug)]
pub struct IdleResult {
    /// Connections open and handshaken when memory was read.
    pub conns: usize,
    /// Server VmRSS before the first connection, KiB.
    pub rss_before_kib: u64,
    /// Server VmRSS with every connection held, KiB.
    pub rss_after_kib: u64,
    /// Seconds spent opening and handshaking all connections.
    pub handshake_s: f64,
}

impl IdleResult {
    /// Resident memory growth per held connection, KiB.
    pub fn kib_per_conn(&self) -> f64 {
        (self.rss_after_kib as f64 - self.rss_before_kib as f64) / self.conns.max(1) as f64
    }
}

fn connect(addr: SocketAddr, i: usize) -> std::io::Result<TcpStream> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    // The first range lets connect() pick the source (bind with port 0 searches the port table
    // and is slow with thousands of sockets open); later ranges bind 127.0.0.2, 127.0.0.3, ...
    let n = i / CONNS_PER_SOURCE;
    if let IpAddr::V4(ip) = addr.ip() {
        if ip.is_loopback() && n > 0 {
            let src = Ipv4Addr::new(127, 0, (n / 250) as u8, (n % 250) as u8 + 1);
            sock.bind(&SocketAddr::new(IpAddr::V4(src), 0).into())?;
        }
    }
    sock.connect(&addr.into())?;
    sock.set_tcp_nodelay(true)?;
    Ok(sock.into())
}

/// Opens and handshakes `conns` connections one after the other, waits `settle`, reads the
/// server's memory, holds the connections `hold` longer (for measurements made from outside),
/// then closes them all.
pub fn run(
    addr: SocketAddr,
    conns: usize,
    server_pid: u32,
    settle: Duration,
    hold: Duration,
) -> Result<IdleResult, String> {
    // Let the server finish whatever it allocates at start-up before the baseline.
    std::thread::sleep(settle);
    let rss_before_kib = procfs::rss_kib(server_pid).map_err(|e| format!("server status: {e}"))?;
    let start = Instant::now();
    let mut held = Vec::with_capacity(conns);
    for i in 0..conns {
        let mut s = connect(addr, i).map_err(|e| format!("connect #{i}: {e}"))?;
        client_handshake(&mut s, addr).map_err(|e| format!("handshake #{i}: {e}"))?;
        held.push(s);
    }
    let handshake_s = start.elapsed().as_secs_f64();
    std::thread::sleep(settle);
    let rss_after_kib = procfs::rss_kib(server_pid).map_err(|e| format!("server status: {e}"))?;
    std::thread::sleep(hold);
    drop(held);
    Ok(IdleResult {
        conns,
        rss_before_kib,
        rss_after_kib,
        handshake_s,
    })
}
