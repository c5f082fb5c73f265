//! Every buffer the server owns, sized here and nowhere else. There is no heap: each buffer is a
//! static, taken once at boot by [`take`]. The RAM region is 64 KiB (memory.x), so the statics
//! plus the stack must fit; `ram::report` prints the split and the painted stack peak.

use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicBool, Ordering};

use smoltcp::iface::SocketStorage;

/// TCP port the server listens on (QEMU forwards a loopback port of the host to it).
pub const PORT: u16 = 80;
/// Connections served at once as WebSocket (each with its own full-size socket buffers).
pub const WS_SLOTS: usize = 4;
/// Connections past [`WS_SLOTS`] that are answered with a 503 and closed (small buffers).
pub const REFUSE_SLOTS: usize = 2;
/// Every TCP socket.
pub const SOCKETS: usize = WS_SLOTS + REFUSE_SLOTS;
/// TCP receive buffer of a WebSocket connection: the TCP window, and the most a request head may
/// take. Holds at least one whole control frame (ws-core's MIN_INPUT, 139 bytes).
pub const WS_RX: usize = 4096;
/// TCP send buffer of a WebSocket connection: echoed frames wait here for the peer's ACK.
pub const WS_TX: usize = 4096;
/// Receive buffer of a refusing socket (the request is not read: only the SYN's window).
pub const REFUSE_RX: usize = 256;
/// Send buffer of a refusing socket: holds the 503 response.
pub const REFUSE_TX: usize = 256;
/// Working buffer shared by all connections (they are served one after the other): a request
/// head while it is parsed, or one chunk of frames being unmasked and echoed.
pub const SCRATCH: usize = 2048;
/// Largest request head accepted (then 431): what fits in the scratch buffer.
pub const MAX_HEAD: usize = SCRATCH;
/// Header lines of a request head (slots on the stack while it is parsed, 8 bytes each).
pub const MAX_HEADERS: usize = 24;
/// One Ethernet frame without the CRC (1500-byte MTU + 14-byte header), rounded to words.
pub const FRAME: usize = 1516;

/// Keep-alive ping after this long without receiving anything (ms, SysTick time).
pub const IDLE_PING_MS: u64 = 10_000;
/// The pong to our ping is due this long after it (ms); then 1011.
pub const PONG_TIMEOUT_MS: u64 = 10_000;
/// After our close frame, the peer's close is due this long after (ms); then the socket is reset.
pub const CLOSE_TIMEOUT_MS: u64 = 3_000;
/// A request head must be complete this long after the connection opened (ms).
pub const HANDSHAKE_TIMEOUT_MS: u64 = 10_000;
/// After our FIN, the socket is reset if the peer has not closed its side this long after (ms).
pub const LINGER_MS: u64 = 3_000;

static mut WS_RX_BUF: [[u8; WS_RX]; WS_SLOTS] = [[0; WS_RX]; WS_SLOTS];
static mut WS_TX_BUF: [[u8; WS_TX]; WS_SLOTS] = [[0; WS_TX]; WS_SLOTS];
static mut REFUSE_RX_BUF: [[u8; REFUSE_RX]; REFUSE_SLOTS] = [[0; REFUSE_RX]; REFUSE_SLOTS];
static mut REFUSE_TX_BUF: [[u8; REFUSE_TX]; REFUSE_SLOTS] = [[0; REFUSE_TX]; REFUSE_SLOTS];
static mut SCRATCH_BUF: [u8; SCRATCH] = [0; SCRATCH];
static mut RX_FRAME: [u8; FRAME] = [0; FRAME];
static mut TX_FRAME: [u8; FRAME] = [0; FRAME];
static mut SOCKET_STORAGE: [SocketStorage<'static>; SOCKETS] = [SocketStorage::EMPTY; SOCKETS];

/// The server's memory, handed out once.
pub struct Memory {
    /// Receive buffers of the WebSocket sockets.
    pub ws_rx: &'static mut [[u8; WS_RX]; WS_SLOTS],
    /// Send buffers of the WebSocket sockets.
    pub ws_tx: &'static mut [[u8; WS_TX]; WS_SLOTS],
    /// Receive buffers of the refusing sockets.
    pub refuse_rx: &'static mut [[u8; REFUSE_RX]; REFUSE_SLOTS],
    /// Send buffers of the refusing sockets.
    pub refuse_tx: &'static mut [[u8; REFUSE_TX]; REFUSE_SLOTS],
    /// The shared working buffer.
    pub scratch: &'static mut [u8; SCRATCH],
    /// The frame read from the Ethernet controller.
    pub rx_frame: &'static mut [u8; FRAME],
    /// The frame written to the Ethernet controller.
    pub tx_frame: &'static mut [u8; FRAME],
    /// smoltcp's socket slots.
    pub sockets: &'static mut [SocketStorage<'static>; SOCKETS],
}

/// The bytes of every static buffer above (for the RAM report).
pub const STATIC_BUFFERS: usize =
    WS_SLOTS * (WS_RX + WS_TX) + REFUSE_SLOTS * (REFUSE_RX + REFUSE_TX) + SCRATCH + 2 * FRAME;

/// The memory, the first time; `None` afterwards (so no buffer is ever aliased).
pub fn take() -> Option<Memory> {
    static TAKEN: AtomicBool = AtomicBool::new(false);
    if TAKEN.swap(true, Ordering::AcqRel) {
        return None;
    }
    // SAFETY: TAKEN makes this run once, so each static gets exactly one `&'static mut` and no
    // other code names these statics.
    unsafe {
        Some(Memory {
            ws_rx: &mut *addr_of_mut!(WS_RX_BUF),
            ws_tx: &mut *addr_of_mut!(WS_TX_BUF),
            refuse_rx: &mut *addr_of_mut!(REFUSE_RX_BUF),
            refuse_tx: &mut *addr_of_mut!(REFUSE_TX_BUF),
            scratch: &mut *addr_of_mut!(SCRATCH_BUF),
            rx_frame: &mut *addr_of_mut!(RX_FRAME),
            tx_frame: &mut *addr_of_mut!(TX_FRAME),
            sockets: &mut *addr_of_mut!(SOCKET_STORAGE),
        })
    }
}
