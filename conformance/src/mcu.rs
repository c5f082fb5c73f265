//! The bare-metal firmware's side of the server-mcu role: how QEMU boots it, how it says it is
//! ready, and its RAM report (`GET /ram`, read after the run, when the stack has seen the worst).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The line the firmware prints (over semihosting) once its sockets listen.
pub const READY: &str = "net-echo: ready";

/// Where the role's RAM report is kept, in the output directory.
pub const RAM_REPORT: &str = "server-mcu-ram.txt";

/// Where the lines of the checks passed after the run are kept (see [`crate::mcu_checks`]).
pub const CHECKS_REPORT: &str = "server-mcu-checks.txt";

/// QEMU's arguments before `-kernel FIRMWARE`: the MPS2 AN386 board (Cortex-M4) with its LAN9118
/// on QEMU's user-mode network, 127.0.0.1:`port` forwarded to the firmware's port 80, the
/// firmware's semihosting output on stdout, no display and no monitor.
pub fn qemu_args(port: u16) -> Vec<String> {
    [
        "-cpu",
        "cortex-m4",
        "-machine",
        "mps2-an386",
        "-nographic",
        "-monitor",
        "none",
        "-serial",
        "null",
        "-semihosting-config",
        "enable=on,target=native",
        "-nic",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!(
        "user,model=lan9118,hostfwd=tcp:127.0.0.1:{port}-:80"
    )])
    .collect()
}

/// Reads the firmware's RAM report: `GET /ram` at `addr` (`127.0.0.1:PORT`), the body. Right
/// after the suite every slot may still be held by a connection whose FIN QEMU's user network
/// has not passed on (the firmware frees such a slot after 3 s): a 503 is retried for 10 s.
pub fn fetch_ram(addr: &str) -> Result<String, String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = get_ram(addr)?;
        if text.starts_with("HTTP/1.1 503 ") && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(500));
            continue;
        }
        return parse_ram_response(&text)
            .ok_or_else(|| format!("GET http://{addr}/ram: unexpected answer {text:?}"));
    }
}

/// One `GET /ram`: the whole answer.
fn get_ram(addr: &str) -> Result<String, String> {
    let fail = |e: std::io::Error| format!("GET http://{addr}/ram: {e}");
    let mut s = TcpStream::connect(addr).map_err(fail)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(fail)?;
    s.write_all(b"GET /ram HTTP/1.1\r\nHost: mcu\r\nConnection: close\r\n\r\n")
        .map_err(fail)?;
    let mut text = String::new();
    s.read_to_string(&mut text).map_err(fail)?;
    Ok(text)
}

/// The body of a `200 OK` answer to `GET /ram`, if that is what `text` is.
pub fn parse_ram_response(text: &str) -> Option<String> {
    let (head, body) = text.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200 ").then(|| body.to_owned())
}

/// The peak RAM the report states (`ram total: N B of M B`): (N, M).
pub fn ram_total(report: &str) -> Option<(u64, u64)> {
    let line = report.lines().find(|l| l.starts_with("ram total: "))?;
    let mut words = line.split_whitespace();
    let used = words.nth(2)?.parse().ok()?;
    let region = words.nth(2)?.parse().ok()?;
    Some((used, region))
}
