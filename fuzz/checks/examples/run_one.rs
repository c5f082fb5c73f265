//! Runs one target's check on files: `cargo run -p ws-fuzz-checks --example run_one -- TARGET FILE...`
//! (set `WS_FUZZ_TRACE=1` for the connection targets' event trace).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (target, files) = args.split_first().expect("usage: run_one TARGET FILE...");
    let check = ws_fuzz_checks::TARGETS
        .iter()
        .find(|(name, _)| name == target)
        .unwrap_or_else(|| panic!("no target {target}"))
        .1;
    for file in files {
        check(&std::fs::read(file).expect("readable file"));
        println!("{file}: ok");
    }
}
