//! A bare-metal WebSocket echo server: ws-core over smoltcp over the MPS2 board's LAN9118, on a
//! Cortex-M4 (QEMU `mps2-an386`), with no heap. See `server` for the echo, `budget` for every
//! buffer, `ram` for how RAM is measured.
//!
//! Network: 10.0.2.15/24, gateway 10.0.2.2 (QEMU's user-mode network); port 80. Boot prints the
//! RAM figures over semihosting; `GET /ram` answers them with the stack's peak so far.
#![no_std]
#![no_main]

mod budget;
mod clock;
mod lan9118;
mod ram;
mod report;
mod server;

use cortex_m::peripheral::NVIC;
use cortex_m_rt::{entry, exception};
use cortex_m_semihosting::{debug, hprint, hprintln};
use smoltcp::iface::{Config, Interface, PollResult, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr, Ipv4Address};

use budget::PORT;
use server::{Kind, Phase, Slot};

/// The interrupt number as cortex-m's NVIC wants it.
#[derive(Clone, Copy)]
struct Irq(u16);

// SAFETY: 13 is the LAN9118's line on AN385/AN386, a valid external interrupt number.
unsafe impl cortex_m::interrupt::InterruptNumber for Irq {
    fn number(self) -> u16 {
        self.0
    }
}

#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    if irqn == lan9118::IRQ as i16 {
        lan9118::acknowledge_interrupt();
    }
}

/// Stops QEMU with a failure after printing why.
fn fail(what: &str) -> ! {
    hprintln!("net-echo: {}", what);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

#[entry]
fn main() -> ! {
    ram::paint();
    let Some(cp) = cortex_m::Peripherals::take() else {
        fail("peripherals taken")
    };
    let Some(mem) = budget::take() else {
        fail("memory taken")
    };
    let mut clock = clock::Clock::start(cp.SYST);
    let mut nic = match lan9118::Lan9118::init(mem.rx_frame, mem.tx_frame) {
        Ok(nic) => nic,
        Err(e) => {
            hprintln!("net-echo: LAN9118: {:?}", e);
            fail("no Ethernet controller")
        }
    };
    let config = Config::new(EthernetAddress(nic.mac()).into());
    let mut iface = Interface::new(config, &mut nic, Instant::from_millis(0));
    iface.update_ip_addrs(|addrs| {
        let _ = addrs.push(IpCidr::new(IpAddress::v4(10, 0, 2, 15), 24));
    });
    let _ = iface
        .routes_mut()
        .add_default_ipv4_route(Ipv4Address::new(10, 0, 2, 2));

    let mut sockets = SocketSet::new(&mut mem.sockets[..]);
    // WebSocket sockets first: smoltcp gives a SYN to the first listening socket in the set, so
    // the refusing ones only get connections when every WebSocket slot is taken.
    let ws = mem
        .ws_rx
        .iter_mut()
        .zip(mem.ws_tx.iter_mut())
        .map(|(rx, tx)| {
            (
                Kind::WebSocket,
                tcp::Socket::new(
                    tcp::SocketBuffer::new(&mut rx[..]),
                    tcp::SocketBuffer::new(&mut tx[..]),
                ),
            )
        });
    let refuse = mem
        .refuse_rx
        .iter_mut()
        .zip(mem.refuse_tx.iter_mut())
        .map(|(rx, tx)| {
            (
                Kind::Refuse,
                tcp::Socket::new(
                    tcp::SocketBuffer::new(&mut rx[..]),
                    tcp::SocketBuffer::new(&mut tx[..]),
                ),
            )
        });
    let mut slots: [Option<Slot>; budget::SOCKETS] = [const { None }; budget::SOCKETS];
    for (slot, (kind, mut socket)) in slots.iter_mut().zip(ws.chain(refuse)) {
        // Acknowledge at once and send small frames at once: the peer's window is our buffer,
        // and an echo waits for nothing.
        socket.set_ack_delay(None);
        socket.set_nagle_enabled(false);
        let _ = socket.listen(PORT);
        *slot = Some(Slot {
            handle: sockets.add(socket),
            kind,
            phase: Phase::Listening,
        });
    }

    // SAFETY: the handler only acknowledges the controller's interrupt.
    unsafe { NVIC::unmask(Irq(lan9118::IRQ)) };
    let m = nic.mac();
    hprintln!(
        "net-echo: LAN9118 {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, 10.0.2.15:{}, {} WebSocket slots + {} refusing",
        m[0], m[1], m[2], m[3], m[4], m[5], PORT, budget::WS_SLOTS, budget::REFUSE_SLOTS
    );
    let _ = report::write_report(&mut Semihosting, clock.now());
    hprintln!("net-echo: ready");

    loop {
        let now = clock.now();
        let polled = iface.poll(Instant::from_millis(now as i64), &mut nic, &mut sockets);
        let mut progress = polled == PollResult::SocketStateChanged;
        for slot in slots.iter_mut().flatten() {
            let socket = sockets.get_mut::<tcp::Socket>(slot.handle);
            progress |= slot.service(socket, &mut mem.scratch[..], now);
        }
        if progress || nic.rx_pending() {
            continue;
        }
        let delay = iface.poll_delay(Instant::from_millis(now as i64), &sockets);
        if delay != Some(Duration::ZERO) {
            // Woken by the next frame (the controller's interrupt) or the next millisecond tick.
            cortex_m::asm::wfi();
        }
    }
}

/// Lines to the host over semihosting.
struct Semihosting;

impl core::fmt::Write for Semihosting {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        hprint!("{}", s);
        Ok(())
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("net-echo: panic: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
