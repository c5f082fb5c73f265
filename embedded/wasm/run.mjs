// Runs ws-wasm's conversation (ws-core in wasm32-unknown-unknown) under Node: instantiates the
// module, prints each phase as it passes, exits 1 unless `run` returns 0.
// Usage: node embedded/wasm/run.mjs path/to/ws_wasm.wasm
import { readFileSync } from "node:fs";

const phases = ["handshake", "fragments", "ping", "close", "invalid-utf8", "adapter", "client (RFC 6455 §1.3, §5.7)"];
const passed = [];
const { instance } = await WebAssembly.instantiate(readFileSync(process.argv[2]), {
  env: { report: (phase) => passed.push(phases[phase - 1] ?? `?${phase}`) },
});
const result = instance.exports.run();
for (const name of passed) console.log(`    wasm32 (node ${process.version}): phase ${name} ran`);
if (result !== 0) {
  const phase = phases[(result >> 4) - 1] ?? "?";
  console.error(`wasm32: FAILED in phase ${phase}, step ${result & 15}`);
  process.exit(1);
}
console.log(`    wasm32 (node ${process.version}): result ok (every byte matched)`);
