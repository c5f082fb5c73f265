//! A tiny `--key value` argument parser (the generator has a handful of numeric flags).

use std::collections::HashMap;

/// Parsed `--key value` pairs plus the positional words.
#[derive(Debug, Default)]
pub struct Args {
    flags: HashMap<String, String>,
    /// Words that are not flags or flag values, in order.
    pub positional: Vec<String>,
}

impl Args {
    /// Parses `args` (without the program name). Every `--key` takes the next word as its value.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut out = Args::default();
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            if let Some(key) = a.strip_prefix("--") {
                let v = it.next().ok_or_else(|| format!("--{key} needs a value"))?;
                out.flags.insert(key.to_string(), v);
            } else {
                out.positional.push(a);
            }
        }
        Ok(out)
    }

    /// The raw value of `--key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.flags.get(key).map(String::as_str)
    }

    /// `--addr` (default `127.0.0.1:9001`), refused unless it is a loopback address.
    pub fn loopback_addr(&self) -> Result<std::net::SocketAddr, String> {
        let addr: std::net::SocketAddr = self
            .get("addr")
            .unwrap_or("127.0.0.1:9001")
            .parse()
            .map_err(|e| format!("--addr: {e}"))?;
        if !addr.ip().is_loopback() {
            return Err("only loopback addresses are allowed".into());
        }
        Ok(addr)
    }

    /// The value of `--key` parsed as `T`, or `default` when absent.
    pub fn num<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T, String> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{key}: bad value {v:?}")),
        }
    }
}
