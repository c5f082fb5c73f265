// Echo server on uWebSockets (the peer of `ws-server echo` in scripts/bench): every text or
// binary message is sent back with its opcode; any path; no compression.
// Usage: uws-echo [--addr 127.0.0.1:9001]
#include "common.h"

int main(int argc, char **argv) {
    bench::Addr addr = bench::parse_args(argc, argv, "uws-echo");
    uWS::App app;
    app.ws<bench::PerSocketData>(
        "/*", {
                  .compression = uWS::DISABLED,
                  .maxPayloadLength = bench::MAX_PAYLOAD,
                  // The longest uWS allows (16 min): idle connections stay for the idle scenario.
                  .idleTimeout = 960,
                  .maxBackpressure = bench::MAX_BACKPRESSURE,
                  .closeOnBackpressureLimit = false,
                  .resetIdleTimeoutOnSend = false,
                  .sendPingsAutomatically = false,
                  .message =
                      [](auto *ws, std::string_view message, uWS::OpCode opCode) {
                          ws->send(message, opCode, false);
                      },
              });
    bench::listen_and_run(app, addr, "uws-echo");
}
