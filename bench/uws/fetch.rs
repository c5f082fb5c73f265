//! Empty: this manifest only fetches libuwebsockets-sys' source (see Cargo.toml).
