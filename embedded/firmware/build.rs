//! Puts the memory map of the board this target runs on where cortex-m-rt's link.x finds it, and
//! links the firmware's binaries with link.x (here rather than in embedded/.cargo/config.toml,
//! which would apply to net-echo/ too).
use std::{env, fs, path::PathBuf};

fn main() {
    let target = env::var("TARGET").unwrap_or_default();
    // QEMU mps2-an386 (Cortex-M4F): 4 MiB code SSRAM at 0, data SSRAM at 0x2000_0000 (64 KiB used).
    // QEMU microbit (nRF51822, Cortex-M0): 256 KiB flash at 0, 16 KiB RAM at 0x2000_0000.
    let memory = if target.starts_with("thumbv6m") {
        "MEMORY\n{\n  FLASH : ORIGIN = 0x00000000, LENGTH = 256K\n  RAM : ORIGIN = 0x20000000, LENGTH = 16K\n}\n"
    } else {
        "MEMORY\n{\n  FLASH : ORIGIN = 0x00000000, LENGTH = 4M\n  RAM : ORIGIN = 0x20000000, LENGTH = 64K\n}\n"
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::write(out.join("memory.x"), memory).expect("write memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rustc-link-arg-bins=--nmagic");
    println!("cargo:rerun-if-changed=build.rs");
}
