"""Interop peer for std-server/tests/deflate_interop.rs: the Python `websockets` library with
permessage-deflate, as a client of our server (`client URL`) or as a server for our client
(`server`). Counts the frames that arrive compressed (RSV1) so the Rust side can assert that
compression really happened in both directions. Exits non-zero on any mismatch."""

import os
import random
import sys
import threading

from websockets.extensions import permessage_deflate
from websockets.sync.client import connect
from websockets.sync.server import serve

compressed_in = 0
_decode = permessage_deflate.PerMessageDeflate.decode


def counting_decode(self, frame, *, max_size=None):
    global compressed_in
    if frame.rsv1:
        compressed_in += 1
    return _decode(self, frame, max_size=max_size)


permessage_deflate.PerMessageDeflate.decode = counting_decode


def messages():
    rng = random.Random(7)
    words = ["alpha", "beta", "gamma", "websocket", "deflate", "\u00e9t\u00e9", "\u2603"]
    out = []
    for n in [0, 1, 10, 100, 1000, 20000, 300000]:
        out.append(" ".join(rng.choice(words) for _ in range(n // 5 + 1))[:n])
    out.append(bytes(rng.getrandbits(8) for _ in range(5000)))  # incompressible
    out.append(b"\x00" * 100000)
    return out


def run_client(url):
    with connect(url, max_size=1 << 24) as ws:
        exts = [type(e).__name__ for e in ws.protocol.extensions]
        header = ws.response.headers.get("Sec-WebSocket-Extensions")
        assert exts == ["PerMessageDeflate"], (exts, header)
        for msg in messages():
            ws.send(msg)
            assert ws.recv() == msg, "echo mismatch for a %d-byte message" % len(msg)
        # A fragmented message (three frames; RSV1 on the first only).
        ws.send(["frag-" * 100, "ment-" * 100, "ed" * 100])
        assert ws.recv() == "frag-" * 100 + "ment-" * 100 + "ed" * 100
    print("CLIENT OK extensions=%s compressed_in=%d" % (header, compressed_in), flush=True)


def run_server():
    done = threading.Event()
    seen = {}

    def echo(ws):
        seen["request"] = ws.request.headers.get("Sec-WebSocket-Extensions")
        seen["response"] = ws.response.headers.get("Sec-WebSocket-Extensions")
        for msg in ws:
            ws.send(msg)
        done.set()

    with serve(echo, "127.0.0.1", 0, max_size=1 << 24) as server:
        port = server.socket.getsockname()[1]
        print("PORT %d" % port, flush=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        if not done.wait(60):
            print("SERVER TIMEOUT", flush=True)
            os._exit(1)
    print(
        "SERVER OK offer=%s answer=%s compressed_in=%d"
        % (seen.get("request"), seen.get("response"), compressed_in),
        flush=True,
    )


if __name__ == "__main__":
    if sys.argv[1] == "client":
        run_client(sys.argv[2])
    else:
        run_server()
