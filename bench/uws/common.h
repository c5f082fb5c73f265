// Shared by uws-echo and uws-room: the `--addr HOST:PORT` argument and the WebSocket behaviour
// both servers use, so the two differ only in their message handler.
#pragma once

#include "App.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace bench {

/// Host and port parsed from `--addr HOST:PORT` (default 127.0.0.1:9001).
struct Addr {
    std::string host = "127.0.0.1";
    int port = 9001;
};

/// Parses `--addr HOST:PORT`; exits with a usage line on anything else.
inline Addr parse_args(int argc, char **argv, const char *name) {
    Addr a;
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--addr") && i + 1 < argc) {
            std::string s = argv[++i];
            auto colon = s.rfind(':');
            if (colon == std::string::npos) {
                std::fprintf(stderr, "%s: --addr wants HOST:PORT\n", name);
                std::exit(2);
            }
            a.host = s.substr(0, colon);
            a.port = std::atoi(s.c_str() + colon + 1);
        } else {
            std::fprintf(stderr, "usage: %s [--addr 127.0.0.1:9001]\n", name);
            std::exit(2);
        }
    }
    return a;
}

/// No per-connection state.
struct PerSocketData {};

/// Largest message: scenario d sends 1 MiB; 16 MiB like ws-server's limit in the bomb runs.
constexpr unsigned int MAX_PAYLOAD = 16 * 1024 * 1024;
/// Bytes queued for one member before uWS acts: 64 MiB, ws-server's cap on a member's queue.
/// uWS' default (64 KiB) makes publish skip a member whose unsent bytes pass it, which a member
/// that reads would hit at 16 KiB x 256 messages in flight (room-100-16k).
constexpr unsigned int MAX_BACKPRESSURE = 64 * 1024 * 1024;

/// Listens on `a` and runs the loop; exits 1 when the address cannot be bound.
template <class APP> void listen_and_run(APP &app, const Addr &a, const char *name) {
    // uSockets writes large messages with writev, which has no MSG_NOSIGNAL: a peer that closes
    // while a 64 KiB echo is being written killed uws-echo with SIGPIPE (scenario c's end).
    // Servers built on uSockets (uWebSockets.js too) ignore it.
    std::signal(SIGPIPE, SIG_IGN);
    app.listen(a.host, a.port, [&](auto *listen_socket) {
           if (listen_socket) {
               std::fprintf(stderr, "%s listening on %s:%d\n", name, a.host.c_str(), a.port);
           } else {
               std::fprintf(stderr, "%s: cannot listen on %s:%d\n", name, a.host.c_str(), a.port);
               std::exit(1);
           }
       })
        .run();
}

} // namespace bench
