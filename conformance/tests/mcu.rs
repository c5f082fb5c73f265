//! The server-mcu role's pieces that do not need QEMU: its command line and the RAM report.

use ws_conformance::mcu::{parse_ram_response, qemu_args, ram_total};

#[test]
fn qemu_boots_the_an386_with_the_lan9118_forwarded_from_loopback() {
    let args = qemu_args(40123);
    let joined = args.join(" ");
    assert!(joined.contains("-machine mps2-an386"));
    assert!(joined.contains("-cpu cortex-m4"));
    assert!(joined.contains("-semihosting-config enable=on,target=native"));
    assert_eq!(
        args.last().map(String::as_str),
        Some("user,model=lan9118,hostfwd=tcp:127.0.0.1:40123-:80")
    );
}

/// What the firmware answered to `GET /ram` after a full run.
const ANSWER: &str = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Length: 120\r\nConnection: close\r\n\r\nram region: 65536 B\nram .data: 2016 B\n\
ram .bss: 38892 B\nram stack peak: 4000 B\nram total: 44908 B of 65536 B\n";

#[test]
fn the_ram_report_is_the_body_of_a_200_and_states_the_total() {
    let body = parse_ram_response(ANSWER).unwrap();
    assert!(body.starts_with("ram region: 65536 B\n"));
    assert_eq!(ram_total(&body), Some((44908, 65536)));
    assert_eq!(
        parse_ram_response("HTTP/1.1 400 Bad Request\r\n\r\nno"),
        None
    );
    assert_eq!(ram_total("ram total: lots"), None);
}
