// Broadcast room on uWebSockets (the peer of `ws-server room` in scripts/bench): connections to
// /room subscribe to the topic "room"; every text or binary message any member sends is
// published with `app.publish` to every member, the sender included (`ws->publish` would skip
// the sender). Any other path is answered 404 (no upgrade).
//
// Backpressure: a member with more than MAX_BACKPRESSURE (64 MiB) unsent is closed
// (closeOnBackpressureLimit), as ws-server closes a member past its 64 MiB queue; members that
// read never come near it in the benchmark's scenarios, so none loses a message.
// Usage: uws-room [--addr 127.0.0.1:9001]
#include "common.h"

int main(int argc, char **argv) {
    bench::Addr addr = bench::parse_args(argc, argv, "uws-room");
    uWS::App app;
    uWS::App *appp = &app;
    app.ws<bench::PerSocketData>(
           "/room", {
                        .compression = uWS::DISABLED,
                        .maxPayloadLength = bench::MAX_PAYLOAD,
                        .idleTimeout = 960,
                        .maxBackpressure = bench::MAX_BACKPRESSURE,
                        .closeOnBackpressureLimit = true,
                        .resetIdleTimeoutOnSend = false,
                        .sendPingsAutomatically = false,
                        .open = [](auto *ws) { ws->subscribe("room"); },
                        .message =
                            [appp](auto * /*ws*/, std::string_view message, uWS::OpCode opCode) {
                                appp->publish("room", message, opCode, false);
                            },
                    })
        .any("/*", [](auto *res, auto * /*req*/) {
            res->writeStatus("404 Not Found")->end("not found: connect to /room");
        });
    bench::listen_and_run(app, addr, "uws-room");
}
