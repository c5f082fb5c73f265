//! Runs the Autobahn|Testsuite against ws-server in both roles and summarises the report.
//!
//! The binary (`ws-conformance`, run by `scripts/conformance`) starts the reference echo server on
//! each engine with `wstest -m fuzzingclient` against it (roles `server`, `server-loop` and
//! `server-app-loop`, the last the echo as an application on the event loop), boots
//! the bare-metal echo firmware under QEMU and runs the fuzzingclient against it through QEMU's
//! port forward (role `server-mcu`), and runs `wstest -m fuzzingserver` with our echo client
//! against that (role `client`), all side by side; it prints a table per section and role, keeps
//! the HTML reports under `target/autobahn/<role>/`, and fails on any FAILED case or any case worse
//! than `conformance/expected.json`. With `--url` it runs the fuzzingclient against any server
//! instead (role `external`: a user's own device), failing on any FAILED case.
//!
//! This crate does not install Autobahn (`scripts/install-autobahn` does) and does not run it in
//! Docker; every connection is on 127.0.0.1.

pub mod args;
pub mod expected;
pub mod mcu;
pub mod mcu_checks;
pub mod process;
pub mod report;
pub mod role;
pub mod run;
pub mod spec;
pub mod summary;
pub mod testee;
