//! Reading another process's CPU time and resident memory from /proc.

use std::fs;

/// How many descriptors process `pid` has open (`/proc/<pid>/fd`).
pub fn open_fds(pid: u32) -> std::io::Result<usize> {
    Ok(fs::read_dir(format!("/proc/{pid}/fd"))?.count())
}

/// Clock ticks per second of the `utime`/`stime` fields (USER_HZ, 100 on Linux x86-64 and arm64).
pub const CLOCK_TICKS: f64 = 100.0;

/// User plus system CPU time of process `pid` (all its threads, live and exited), in seconds,
/// from `/proc/<pid>/stat`.
pub fn cpu_seconds(pid: u32) -> std::io::Result<f64> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat_cpu(&text).ok_or_else(|| std::io::Error::other("unexpected /proc/<pid>/stat format"))
}

/// CPU seconds of the server (if its pid is known) and of this process from a start point: the
/// measured window of a load run.
#[derive(Clone, Copy, Debug)]
pub struct CpuClock {
    server: Option<(u32, f64)>,
    own: f64,
}

impl CpuClock {
    /// Starts now, reading the server's (`server_pid`) and this process's CPU time.
    pub fn start(server_pid: Option<u32>) -> Result<Self, String> {
        let server = server_pid
            .map(|pid| cpu_seconds(pid).map(|c| (pid, c)))
            .transpose()
            .map_err(|e| format!("server stat: {e}"))?;
        Ok(Self {
            server,
            own: Self::own_total()?,
        })
    }

    /// This process's CPU seconds since it started.
    pub fn own_total() -> Result<f64, String> {
        cpu_seconds(std::process::id()).map_err(|e| format!("own stat: {e}"))
    }

    /// CPU seconds used since the start: the server's (if known) and this process's.
    pub fn elapsed(&self) -> Result<(Option<f64>, f64), String> {
        let server = self
            .server
            .map(|(pid, c0)| cpu_seconds(pid).map(|c| c - c0))
            .transpose()
            .map_err(|e| format!("server stat: {e}"))?;
        Ok((server, Self::own_total()? - self.own))
    }
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
    fn open_fds_counts_a_new_descriptor() {
        let me = std::process::id();
        let before = open_fds(me).unwrap();
        // Other tests open and close files meanwhile: a margin of 10.
        let files: Vec<fs::File> = (0..100)
            .map(|_| fs::File::open("/proc/self/status").unwrap())
            .collect();
        assert!(open_fds(me).unwrap() >= before + 90);
        drop(files);
        assert!(open_fds(999_999_999).is_err());
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
