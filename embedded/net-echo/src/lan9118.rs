//! A register-level driver for the SMSC LAN9118 Ethernet controller of the MPS2 boards (a LAN9220
//! on the real board, software compatible), in 32-bit PIO mode, and its smoltcp `Device`.
//!
//! Frames move through the controller's FIFOs word by word: a received frame is announced by an
//! entry in the RX status FIFO (length including the 4-byte CRC), then read from the RX data
//! FIFO; a frame is sent by writing TX command words A and B and the data into the TX data FIFO.
//! Register offsets and bits are those of the LAN9118 datasheet (and QEMU's hw/net/lan9118.c).

use core::ptr::{read_volatile, write_volatile};

use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::time::Instant;

use crate::budget::FRAME;

/// Base address on MPS2 AN385/AN386 (QEMU's mps2.c).
const BASE: usize = 0x4020_0000;
/// The controller's interrupt line on AN385/AN386.
pub const IRQ: u16 = 13;

const RX_DATA_FIFO: usize = 0x00;
const TX_DATA_FIFO: usize = 0x20;
const RX_STATUS_FIFO: usize = 0x40;
const TX_STATUS_FIFO: usize = 0x48;
const IRQ_CFG: usize = 0x54;
const INT_STS: usize = 0x58;
const INT_EN: usize = 0x5c;
const BYTE_TEST: usize = 0x64;
const FIFO_INT: usize = 0x68;
const RX_CFG: usize = 0x6c;
const TX_CFG: usize = 0x70;
const HW_CFG: usize = 0x74;
const RX_FIFO_INF: usize = 0x7c;
const TX_FIFO_INF: usize = 0x80;
const MAC_CSR_CMD: usize = 0xa4;
const MAC_CSR_DATA: usize = 0xa8;

/// BYTE_TEST's fixed value: the controller is there and the bus is 32-bit little-endian.
const BYTE_TEST_VALUE: u32 = 0x8765_4321;
const HW_CFG_SRST: u32 = 1;
/// IRQ_CFG: enable, active high, push-pull.
const IRQ_CFG_ON: u32 = 0x100 | 0x10 | 0x1;
/// INT_STS / INT_EN: the RX status FIFO holds more entries than FIFO_INT's level (0).
pub const RSFL_INT: u32 = 0x8;
/// TX_CFG: transmitter on, and let the TX status FIFO overrun (statuses are not read).
const TX_CFG_ON: u32 = 0x2 | 0x4;
/// FIFO_INT: the reset value with the RX status level 0 (interrupt on the first frame).
const FIFO_INT_LEVELS: u32 = 0x4800_0000;
const MAC_CSR_BUSY: u32 = 1 << 31;
const MAC_CSR_READ: u32 = 1 << 30;
const MAC_CR: u32 = 1;
const MAC_ADDRH: u32 = 2;
const MAC_ADDRL: u32 = 3;
/// MAC_CR: full duplex, transmitter and receiver on; exact address filter plus broadcast.
const MAC_CR_ON: u32 = (1 << 20) | (1 << 3) | (1 << 2);
/// RX status: error summary.
const RX_STATUS_ERROR: u32 = 1 << 15;
/// TX command A: first and last segment (the whole frame in one buffer).
const TX_CMD_A_WHOLE: u32 = (1 << 13) | (1 << 12);

fn read(offset: usize) -> u32 {
    // SAFETY: BASE + offset is one of the controller's 32-bit registers (the offsets above).
    unsafe { read_volatile((BASE + offset) as *const u32) }
}

fn write(offset: usize, value: u32) {
    // SAFETY: as in `read`; writing these registers only affects the controller.
    unsafe { write_volatile((BASE + offset) as *mut u32, value) }
}

fn mac_csr_wait() {
    while read(MAC_CSR_CMD) & MAC_CSR_BUSY != 0 {}
}

fn mac_read(reg: u32) -> u32 {
    write(MAC_CSR_CMD, MAC_CSR_BUSY | MAC_CSR_READ | reg);
    mac_csr_wait();
    read(MAC_CSR_DATA)
}

fn mac_write(reg: u32, value: u32) {
    write(MAC_CSR_DATA, value);
    write(MAC_CSR_CMD, MAC_CSR_BUSY | reg);
    mac_csr_wait();
}

/// Acknowledges the controller's interrupt (called from the interrupt handler; the main loop
/// reads the FIFOs).
pub fn acknowledge_interrupt() {
    write(INT_STS, RSFL_INT);
}

/// Why the controller could not be brought up.
#[derive(Debug, Clone, Copy)]
pub enum InitError {
    /// BYTE_TEST did not read back its fixed value: no controller at [`BASE`].
    NotFound(#[allow(dead_code)] u32),
}

/// The controller, with one frame buffer each way.
pub struct Lan9118 {
    mac: [u8; 6],
    rx: &'static mut [u8; FRAME],
    tx: &'static mut [u8; FRAME],
    /// Frames dropped because they were damaged or too large.
    pub dropped: u32,
}

impl Lan9118 {
    /// Resets the controller, reads the MAC address it was given (QEMU: `-nic ...,mac=`), turns
    /// the receiver and transmitter on and enables its interrupt on received frames.
    pub fn init(
        rx: &'static mut [u8; FRAME],
        tx: &'static mut [u8; FRAME],
    ) -> Result<Self, InitError> {
        let test = read(BYTE_TEST);
        if test != BYTE_TEST_VALUE {
            return Err(InitError::NotFound(test));
        }
        write(HW_CFG, HW_CFG_SRST);
        while read(HW_CFG) & HW_CFG_SRST != 0 {}
        let low = mac_read(MAC_ADDRL).to_le_bytes();
        let high = mac_read(MAC_ADDRH).to_le_bytes();
        let mac = [low[0], low[1], low[2], low[3], high[0], high[1]];
        write(RX_CFG, 0);
        write(TX_CFG, TX_CFG_ON);
        mac_write(MAC_CR, MAC_CR_ON);
        write(FIFO_INT, FIFO_INT_LEVELS);
        write(INT_STS, u32::MAX);
        write(INT_EN, RSFL_INT);
        write(IRQ_CFG, IRQ_CFG_ON);
        Ok(Self {
            mac,
            rx,
            tx,
            dropped: 0,
        })
    }

    /// The station address.
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// Whether a received frame waits in the FIFO.
    pub fn rx_pending(&self) -> bool {
        (read(RX_FIFO_INF) >> 16) & 0xff != 0
    }

    /// Reads the next good frame into the receive buffer; its length (without CRC).
    fn read_frame(&mut self) -> Option<usize> {
        while self.rx_pending() {
            let status = read(RX_STATUS_FIFO);
            let len = ((status >> 16) & 0x3fff) as usize;
            let words = len.div_ceil(4);
            let fits = len >= 4 && len - 4 <= FRAME && status & RX_STATUS_ERROR == 0;
            for i in 0..words {
                let word = read(RX_DATA_FIFO).to_le_bytes();
                if fits {
                    for (k, b) in word.iter().enumerate() {
                        if let Some(slot) = self.rx.get_mut(i * 4 + k) {
                            *slot = *b;
                        }
                    }
                }
            }
            if fits {
                return Some(len - 4);
            }
            self.dropped = self.dropped.wrapping_add(1);
        }
        None
    }
}

/// Sends `frame` (whole, one buffer). The caller checked the TX data FIFO has room.
fn send_frame(frame: &[u8]) {
    let len = frame.len() as u32;
    write(TX_DATA_FIFO, TX_CMD_A_WHOLE | len);
    write(TX_DATA_FIFO, (len << 16) | len);
    for chunk in frame.chunks(4) {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        write(TX_DATA_FIFO, u32::from_le_bytes(word));
    }
    // Statuses are not used (TX_CFG lets them overrun); keep the FIFO from filling anyway.
    if read(TX_FIFO_INF) >> 16 != 0 {
        let _ = read(TX_STATUS_FIFO);
    }
}

/// Room for a whole frame (with its two command words) in the TX data FIFO.
fn tx_room() -> bool {
    (read(TX_FIFO_INF) & 0xffff) as usize >= FRAME + 8
}

/// A received frame, handed to smoltcp.
pub struct Rx<'a>(&'a [u8]);

/// Permission to send one frame.
pub struct Tx<'a>(&'a mut [u8; FRAME]);

impl RxToken for Rx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let frame = &mut self.0[..len.min(FRAME)];
        let r = f(frame);
        send_frame(frame);
        r
    }
}

impl Device for Lan9118 {
    type RxToken<'a> = Rx<'a>;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(Rx<'_>, Tx<'_>)> {
        let len = self.read_frame()?;
        Some((Rx(&self.rx[..len]), Tx(self.tx)))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Tx<'_>> {
        tx_room().then_some(Tx(self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = 1514;
        caps.max_burst_size = None;
        caps
    }
}
