//! Load generator and peer echo servers for benchmarking ws-server.
