//! The bare minimum a Linux x86-64 binary needs without libc: an entry point, the exit and write
//! system calls, the memory functions the compiler calls, a panic handler.

use core::arch::{asm, global_asm};

// The kernel enters `_start` with the stack pointer at argc; align it to 16 bytes for the call.
global_asm!(
    ".globl _start",
    "_start:",
    "xor ebp, ebp",
    "and rsp, -16",
    "call {entry}",
    "ud2",
    entry = sym entry,
);

extern "C" fn entry() -> ! {
    exit(super::run())
}

/// The `exit_group` system call.
fn exit(code: i32) -> ! {
    // SAFETY: exit_group takes one integer argument and never returns.
    unsafe {
        asm!("syscall", in("rax") 231, in("rdi") code, options(noreturn, nostack));
    }
}

/// Writes `bytes` to standard output (best effort), so the run shows what went over the wire.
pub fn write(bytes: &[u8]) {
    let _ret: isize;
    // SAFETY: write(1, ptr, len) only reads `len` bytes from `ptr`, which `bytes` guarantees.
    unsafe {
        asm!("syscall", inlateout("rax") 1isize => _ret, in("rdi") 1, in("rsi") bytes.as_ptr(),
             in("rdx") bytes.len(), lateout("rcx") _, lateout("r11") _, options(nostack));
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    exit(101)
}

/// Referenced by the prebuilt, unwinding-enabled libcore even with `panic = "abort"`.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

// The memory functions, byte by byte with volatile accesses so that the compiler cannot turn the
// loops back into calls to themselves.

/// memcpy.
///
/// # Safety
/// `dst` and `src` valid for `n` bytes, not overlapping.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    let mut i = 0;
    while i < n {
        dst.add(i).write_volatile(src.add(i).read_volatile());
        i += 1;
    }
    dst
}

/// memmove.
///
/// # Safety
/// `dst` and `src` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize) <= (src as usize) {
        memcpy(dst, src, n)
    } else {
        let mut i = n;
        while i > 0 {
            i -= 1;
            dst.add(i).write_volatile(src.add(i).read_volatile());
        }
        dst
    }
}

/// memset.
///
/// # Safety
/// `dst` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    let mut i = 0;
    while i < n {
        dst.add(i).write_volatile(c as u8);
        i += 1;
    }
    dst
}

/// memcmp.
///
/// # Safety
/// `a` and `b` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        let (x, y) = (a.add(i).read_volatile(), b.add(i).read_volatile());
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// bcmp.
///
/// # Safety
/// `a` and `b` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    memcmp(a, b, n)
}
