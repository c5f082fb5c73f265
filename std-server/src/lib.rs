//! The async WebSocket server and client on ws-core (futures-io; async-std binary).
