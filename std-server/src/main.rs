//! `ws-server`: the reference echo server (and, from the apps, the demo server).
//!
//! `ws-server echo --addr 127.0.0.1:9001` echoes every message; SIGINT/SIGTERM shut it down
//! gracefully (1001 to every client, wait up to the close timeout, exit 0). Logs go to stderr.

mod cli;

use clap::{Parser, Subcommand};
use cli::options::ServerOptions;
use std::process::ExitCode;

/// RFC 6455 WebSocket server on ws-core.
#[derive(Parser, Debug)]
#[command(name = "ws-server", version, about)]
struct Cli {
    /// Log level: error, warn, info, debug, trace or off (default: RUST_LOG, else info).
    #[arg(long, global = true, value_parser = parse_level)]
    log_level: Option<log::LevelFilter>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Echo every text and binary message back (the server Autobahn and the benchmarks run against).
    Echo(ServerOptions),
    /// Serve the demo apps: echo page, chat room, live voting (http://127.0.0.1:8000 by default).
    Serve(ws_server::apps::cli::ServeArgs),
}

fn parse_level(s: &str) -> Result<log::LevelFilter, String> {
    cli::logger::parse_level(s).ok_or_else(|| format!("unknown log level {s:?}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::logger::init(cli.log_level);
    let result = async_std::task::block_on(async {
        match cli.command {
            Command::Echo(opts) => run(opts, ws_server::echo_handler()).await,
            Command::Serve(args) => {
                ws_server::apps::cli::serve(&args, |h| {
                    async_std::task::spawn(cli::signals::shutdown_on_signal(h));
                })
                .await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Binds, installs the signal handlers and serves `handler` until a graceful shutdown.
async fn run<H: ws_server::Handler>(opts: ServerOptions, handler: H) -> std::io::Result<()> {
    let server = ws_server::Server::bind(&opts.addr, opts.config()).await?;
    async_std::task::spawn(cli::signals::shutdown_on_signal(server.shutdown_handle()));
    server.serve(handler).await
}
