//! Runs the Autobahn|Testsuite against ws-server in both roles and summarises the report.
