//! `ws-server`: the reference echo server (and, from the apps, the demo server).
//!
//! `ws-server echo --addr 127.0.0.1:9001` echoes every message; SIGINT/SIGTERM shut it down
//! gracefully (1001 to every client, wait up to the close timeout, exit 0). Logs go to stderr.
//! `ws-server room --addr 127.0.0.1:9001` serves one broadcast room on `/room`: every message a
//! member sends goes to every member, the sender included (`--engine loop`: on the event loop, as
//! an application with a topic).

mod cli;

use async_signal::Signals;
use clap::{Args, Parser, Subcommand, ValueEnum};
use cli::options::{RoomOptions, ServerOptions};
use std::process::ExitCode;
use ws_apps::relay;
use ws_server::evloop::AppLoop;

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
    Echo(EchoArgs),
    /// One broadcast room on /room: every message any member sends is published, unchanged, to
    /// every member (the sender included). The reference the broadcast benchmarks run against.
    Room(RoomArgs),
    /// Serve the demo apps: echo page, chat room, live voting (http://127.0.0.1:8000 by default).
    Serve(ws_apps::serve::ServeArgs),
}

/// The echo command's flags.
#[derive(Args, Debug)]
struct EchoArgs {
    /// Which server runs the echo: `tasks` (the async server, one task per connection), `loop`
    /// (the event-loop engine's built-in echo: one thread, no task per connection) or `app-loop`
    /// (the echo as an application on the event loop: whole messages through callbacks). All
    /// three negotiate permessage-deflate.
    #[arg(long, value_enum, default_value_t = Engine::Tasks)]
    engine: Engine,
    /// With `--engine loop` or `app-loop`: listen with SO_REUSEPORT, so several processes can serve one port
    /// (the kernel spreads new connections over them; e.g. one per CPU, or past a per-process
    /// descriptor limit).
    #[arg(long)]
    reuse_port: bool,
    #[command(flatten)]
    server: ServerOptions,
    /// wss:// (`--engine tasks` only: the event-loop engine has no TLS yet, see the README).
    #[command(flatten)]
    tls: ws_apps::tls::TlsArgs,
}

/// The room command's flags.
#[derive(Args, Debug)]
struct RoomArgs {
    /// Which server runs the room: `tasks` (the async server with a `Room`) or `loop` (an
    /// application on the event loop with a topic; no TLS).
    #[arg(long, value_enum, default_value_t = Engine::Tasks)]
    engine: Engine,
    #[command(flatten)]
    room: RoomOptions,
    #[command(flatten)]
    server: ServerOptions,
}

/// The echo server's engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Engine {
    /// `ws_server::Server` with `echo_handler` on async-std.
    Tasks,
    /// `ws_server::evloop::EchoLoop` (for `room`: `AppLoop` with `relay::LoopRelay`).
    Loop,
    /// `ws_server::evloop::AppLoop` with `relay::LoopEcho` (echo only).
    AppLoop,
}

fn parse_level(s: &str) -> Result<log::LevelFilter, String> {
    cli::logger::parse_level(s).ok_or_else(|| format!("unknown log level {s:?}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::logger::init(cli.log_level);
    // Before anything listens: a client may trigger a signal as soon as it can connect, and until
    // the handlers are installed a signal kills the process without the graceful shutdown.
    let signals = match cli::signals::install() {
        Ok(s) => Some(s),
        Err(e) => {
            log::error!("cannot install signal handlers: {e}");
            None
        }
    };
    let result = match cli.command {
        Command::Echo(echo) if echo.engine != Engine::Tasks && echo.tls.enabled() => {
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "TLS needs --engine tasks (the event-loop engine has no TLS yet; see the README)",
            ))
        }
        Command::Echo(echo) if echo.engine == Engine::Loop => {
            run_loop(&echo.server, echo.reuse_port, signals)
        }
        Command::Echo(echo) if echo.engine == Engine::AppLoop => {
            run_app_echo(&echo.server, echo.reuse_port, signals)
        }
        Command::Echo(echo) if echo.reuse_port => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "--reuse-port needs --engine loop or app-loop",
        )),
        Command::Room(room) if room.engine == Engine::AppLoop => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "room: --engine tasks or loop",
        )),
        Command::Room(room) if room.engine == Engine::Loop => {
            AppLoop::bind(&room.server.addr, room.server.config(), relay::LoopRelay)
                .map(|s| s.with_policy(room.room.policy()))
                .and_then(|s| run_app_loop(s, signals))
        }
        command => async_std::task::block_on(run_async(command, signals)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a command on async-std.
async fn run_async(command: Command, signals: Option<Signals>) -> std::io::Result<()> {
    match command {
        Command::Echo(echo) => {
            let tls = echo.tls.load()?;
            run(echo.server, tls, ws_server::echo_handler(), signals).await
        }
        Command::Room(args) => {
            let room = std::sync::Arc::new(ws_server::Room::with_policy(args.room.policy()));
            run(args.server, None, ws_apps::relay::handler(room), signals).await
        }
        Command::Serve(args) => {
            ws_apps::serve::serve(&args, |h, tls| {
                if let Some(signals) = signals {
                    async_std::task::spawn(on_signals(signals, h, tls));
                }
            })
            .await
        }
    }
}

/// Serves the echo on the event-loop engine.
fn run_loop(
    opts: &ServerOptions,
    reuse_port: bool,
    signals: Option<Signals>,
) -> std::io::Result<()> {
    let server = if reuse_port {
        ws_server::evloop::EchoLoop::from_listener(reuse_port_listener(&opts.addr)?, opts.config())?
    } else {
        ws_server::evloop::EchoLoop::bind(&opts.addr, opts.config())?
    };
    loop_signals(signals, server.shutdown_handle())?;
    server.run()
}

/// Serves the echo as an application on the event-loop engine.
fn run_app_echo(
    opts: &ServerOptions,
    reuse_port: bool,
    signals: Option<Signals>,
) -> std::io::Result<()> {
    let server = if reuse_port {
        let listener = reuse_port_listener(&opts.addr)?;
        AppLoop::from_listener(listener, opts.config(), relay::LoopEcho)?
    } else {
        AppLoop::bind(&opts.addr, opts.config(), relay::LoopEcho)?
    };
    run_app_loop(server, signals)
}

/// Serves an application on the event-loop engine.
fn run_app_loop<A: ws_server::evloop::App>(
    server: AppLoop<A>,
    signals: Option<Signals>,
) -> std::io::Result<()> {
    loop_signals(signals, server.shutdown_handle())?;
    server.run()
}

/// Hands the signals to a loop's graceful shutdown, on a thread of their own.
fn loop_signals(
    signals: Option<Signals>,
    stopper: ws_server::ShutdownHandle,
) -> std::io::Result<()> {
    if let Some(signals) = signals {
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                async_io::block_on(cli::signals::on_signal(
                    signals,
                    move || stopper.shutdown(),
                    || log::info!("SIGHUP: nothing to reload (no TLS on this engine)"),
                ));
            })?;
    }
    Ok(())
}

/// Binds (over TLS if `tls`), hands the signals to the graceful shutdown and the certificate
/// reload, and serves `handler` until a graceful shutdown.
async fn run<H: ws_server::Handler>(
    opts: ServerOptions,
    tls: Option<ws_apps::tls::Tls>,
    handler: H,
    signals: Option<Signals>,
) -> std::io::Result<()> {
    let mut server = ws_server::Server::bind(&opts.addr, opts.config()).await?;
    if let Some(tls) = &tls {
        server = server.with_tls(tls.acceptor.clone());
    }
    if let Some(signals) = signals {
        async_std::task::spawn(on_signals(signals, server.shutdown_handle(), tls));
    }
    server.serve(handler).await
}

/// SIGINT/SIGTERM: graceful shutdown; SIGHUP: reload the certificate files.
async fn on_signals(
    signals: Signals,
    handle: ws_server::ShutdownHandle,
    tls: Option<ws_apps::tls::Tls>,
) {
    cli::signals::on_signal(
        signals,
        move || handle.shutdown(),
        move || match &tls {
            Some(tls) => tls.reload(),
            None => log::info!("SIGHUP: nothing to reload (no TLS)"),
        },
    )
    .await;
}

/// A listening socket on `addr` with SO_REUSEPORT (and SO_REUSEADDR, as std sets it).
#[cfg(unix)]
fn reuse_port_listener(addr: &str) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let addr: std::net::SocketAddr = addr.parse().map_err(|e| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{addr}: {e}"))
    })?;
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    sock.set_reuse_address(true)?;
    sock.set_reuse_port(true)?;
    sock.bind(&addr.into())?;
    sock.listen(1024)?;
    Ok(sock.into())
}

/// SO_REUSEPORT is a Unix option.
#[cfg(not(unix))]
fn reuse_port_listener(_addr: &str) -> std::io::Result<std::net::TcpListener> {
    Err(std::io::ErrorKind::Unsupported.into())
}
