//! Child processes that cannot outlive us, and loopback ports.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::thread::sleep;
use std::time::{Duration, Instant};

use async_signal::{Signal, Signals};
use async_std::stream::StreamExt;

/// PIDs of the children still running, for the signal handler.
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn live(pid: u32, running: bool) {
    if let Ok(mut pids) = LIVE.lock() {
        pids.retain(|p| *p != pid);
        if running {
            pids.push(pid);
        }
    }
}

/// On SIGINT or SIGTERM, kills every running [`Child`] (SIGKILL by PID) and exits with 130, so an
/// interrupted run leaves no server behind.
pub fn kill_children_on_signal() -> Result<(), String> {
    let mut signals =
        Signals::new([Signal::Int, Signal::Term]).map_err(|e| format!("signal handlers: {e}"))?;
    std::thread::spawn(move || {
        let signal = async_std::task::block_on(signals.next());
        let pids = LIVE.lock().map(|p| p.clone()).unwrap_or_default();
        for pid in &pids {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        eprintln!("conformance: {signal:?}: killed children {pids:?}");
        std::process::exit(130);
    });
    Ok(())
}

/// A child process with its output in a log file; killed (by its PID) when dropped.
pub struct Child {
    name: String,
    log: PathBuf,
    inner: std::process::Child,
}

impl Child {
    /// Starts `cmd` with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, cmd: &mut Command, log: &Path) -> Result<Child, String> {
        let out = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let inner = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {name} ({:?}): {e}", cmd.get_program()))?;
        eprintln!(
            "conformance: started {name} (pid {}), log {}",
            inner.id(),
            log.display()
        );
        live(inner.id(), true);
        Ok(Child {
            name: name.to_owned(),
            log: log.to_owned(),
            inner,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.inner.id()
    }

    /// The exit status if it has exited.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>, String> {
        let status = self
            .inner
            .try_wait()
            .map_err(|e| format!("{} (pid {}): {e}", self.name, self.pid()))?;
        if status.is_some() {
            live(self.pid(), false);
        }
        Ok(status)
    }

    /// Waits for the exit, at most `limit`; past it the child is killed and this is an error.
    pub fn wait_timeout(&mut self, limit: Duration) -> Result<ExitStatus, String> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                self.kill();
                return Err(format!(
                    "{} (pid {}) still running after {} s: killed; log tail:\n{}",
                    self.name,
                    self.pid(),
                    limit.as_secs(),
                    self.log_tail(2000)
                ));
            }
            sleep(Duration::from_millis(100));
        }
    }

    /// Waits until something accepts TCP connections on 127.0.0.1:`port`, at most `limit`.
    pub fn wait_listening(&mut self, port: u16, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        loop {
            let connected = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok();
            if connected {
                // Someone listens; make sure it is our child (a port stolen by another process
                // makes the child exit at once with "address in use").
                sleep(Duration::from_millis(200));
            }
            if let Some(status) = self.try_wait()? {
                return Err(format!(
                    "{} exited early ({status}); log tail:\n{}",
                    self.name,
                    self.log_tail(2000)
                ));
            }
            if connected {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{} not listening on port {port} after {} s",
                    self.name,
                    limit.as_secs()
                ));
            }
            sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the log holds a line containing `needle`, at most `limit`; an early exit is an
    /// error with the log's tail.
    pub fn wait_log_line(&mut self, needle: &str, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        loop {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if log.lines().any(|l| l.contains(needle)) {
                return Ok(());
            }
            if let Some(status) = self.try_wait()? {
                return Err(format!(
                    "{} exited early ({status}); log tail:\n{}",
                    self.name,
                    self.log_tail(2000)
                ));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{} did not print {needle:?} within {} s; log tail:\n{}",
                    self.name,
                    limit.as_secs(),
                    self.log_tail(2000)
                ));
            }
            sleep(Duration::from_millis(50));
        }
    }

    /// Kills the process (SIGKILL to its PID) if it still runs, and reaps it.
    pub fn kill(&mut self) {
        if let Ok(None) = self.inner.try_wait() {
            let _ = self.inner.kill();
            let _ = self.inner.wait();
            live(self.inner.id(), false);
            eprintln!(
                "conformance: stopped {} (pid {})",
                self.name,
                self.inner.id()
            );
        }
    }

    /// The last `max` bytes of the log.
    pub fn log_tail(&self, max: u64) -> String {
        log_tail(&self.log, max).unwrap_or_else(|e| format!("({}: {e})", self.log.display()))
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill();
    }
}

fn log_tail(path: &Path, max: u64) -> io::Result<String> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(max)))?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
pub fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| format!("bind 127.0.0.1:0: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}
