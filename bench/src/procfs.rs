//! Reading another process's CPU time and resident memory from /proc.

use std::fs;

/// The state number of an established TCP socket in `/proc/net/tcp` (`TCP_ESTABLISHED`).
pub const TCP_ESTABLISHED: u8 = 1;

/// The state of the IPv4 TCP socket bound to `local` and connected to `remote`, from
/// `/proc/net/tcp` (any process's: on loopback both ends of a connection are listed), or `None`
/// if there is none.
pub fn tcp_state(
    local: std::net::SocketAddrV4,
    remote: std::net::SocketAddrV4,
) -> std::io::Result<Option<u8>> {
    Ok(parse_tcp_state(
        &fs::read_to_string("/proc/net/tcp")?,
        local,
        remote,
    ))
}

/// The `st` field of the line of `text` (a `/proc/net/tcp`) for `local` and `remote`.
pub fn parse_tcp_state(
    text: &str,
    local: std::net::SocketAddrV4,
    remote: std::net::SocketAddrV4,
) -> Option<u8> {
    // Addresses are the u32 as it sits in memory, in hex, then the port in hex.
    let hex = |a: std::net::SocketAddrV4| {
        format!(
            "{:08X}:{:04X}",
            u32::from_ne_bytes(a.ip().octets()),
            a.port()
        )
    };
    let (l, r) = (hex(local), hex(remote));
    text.lines().skip(1).find_map(|line| {
        let mut f = line.split_whitespace().skip(1);
        match (f.next(), f.next(), f.next()) {
            (Some(a), Some(b), Some(st)) if a == l && b == r => u8::from_str_radix(st, 16).ok(),
            _ => None,
        }
    })
}

/// Clock ticks per second of the `utime`/`stime` fields (USER_HZ, 100 on Linux x86-64 and arm64).
pub const CLOCK_TICKS: f64 = 100.0;

/// User plus system CPU time of process `pid` (all its threads, live and exited), in seconds,
/// from `/proc/<pid>/stat`.
pub fn cpu_seconds(pid: u32) -> std::io::Result<f64> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat_cpu(&text).ok_or_else(|| std::io::Error::other("unexpected /proc/<pid>/stat format"))
}

/// utime + stime in seconds from the text of a `/proc/<pid>/stat` file.
pub fn parse_stat_cpu(text: &str) -> Option<f64> {
    // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // `rest` starts at field 3 (state); utime and stime are fields 14 and 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / CLOCK_TICKS)
}

/// Resident set size of process `pid` in KiB (`VmRSS` in `/proc/<pid>/status`).
pub fn rss_kib(pid: u32) -> std::io::Result<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_vmrss(&text).ok_or_else(|| std::io::Error::other("no VmRSS in /proc/<pid>/status"))
}

/// Peak resident set size of process `pid` since it started, in KiB (`VmHWM`).
pub fn peak_rss_kib(pid: u32) -> std::io::Result<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_status_kib(&text, "VmHWM")
        .ok_or_else(|| std::io::Error::other("no VmHWM in /proc/<pid>/status"))
}

/// The `VmRSS` value in KiB from the text of a `/proc/<pid>/status` file.
pub fn parse_vmrss(text: &str) -> Option<u64> {
    parse_status_kib(text, "VmRSS")
}

/// The value of the `field` line (in kB) of a `/proc/<pid>/status` text.
fn parse_status_kib(text: &str, field: &str) -> Option<u64> {
    let line = text
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_state_of_one_connection() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue\n\
   0: 0100007F:258A 00000000:0000 0A 00000000:00000000\n\
   1: 0100007F:258A 0100007F:C350 01 00000000:00000000\n\
   2: 0100007F:C350 0100007F:258A 04 00000000:00000000\n";
        let server = "127.0.0.1:9610".parse().unwrap();
        let client = "127.0.0.1:50000".parse().unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(parse_tcp_state(text, server, client), Some(TCP_ESTABLISHED));
            assert_eq!(parse_tcp_state(text, client, server), Some(4));
        }
        assert_eq!(parse_tcp_state(text, client, client), None);
    }

    #[test]
    fn stat_fields_after_a_name_with_spaces() {
        let text = "42 (a b) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 5 1000 10";
        assert_eq!(parse_stat_cpu(text), Some(3.0));
    }

    #[test]
    fn vmrss_line() {
        let text = "Name:\tx\nVmPeak:\t  9000 kB\nVmRSS:\t    1234 kB\nThreads: 1\n";
        assert_eq!(parse_vmrss(text), Some(1234));
        let text = "VmHWM:\t  5000 kB\nVmRSS:\t  4000 kB\n";
        assert_eq!(parse_status_kib(text, "VmHWM"), Some(5000));
    }

    #[test]
    fn this_process_is_readable() {
        let pid = std::process::id();
        let rss = rss_kib(pid).unwrap();
        assert!(rss > 0);
        assert!(peak_rss_kib(pid).unwrap() >= rss);
        assert!(cpu_seconds(pid).unwrap() >= 0.0);
    }
}
