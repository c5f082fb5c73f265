//! Runs the Autobahn|Testsuite against ws-server in both roles and summarises the report.
//!
//! The binary (`ws-conformance`, run by `scripts/conformance`) starts the reference echo server and
//! `wstest -m fuzzingclient` against it (server role), then `wstest -m fuzzingserver` and our echo
//! client against that (client role); it prints a table per section, keeps the HTML reports under
//! `target/autobahn/`, and fails on any FAILED case or any case worse than `conformance/expected.json`.
//!
//! This crate does not install Autobahn (`scripts/install-autobahn` does) and does not run it in
//! Docker; every connection is on 127.0.0.1.

pub mod args;
pub mod expected;
pub mod process;
pub mod report;
pub mod run;
pub mod spec;
pub mod summary;
pub mod testee;
