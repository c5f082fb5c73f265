//! Hostile `Sec-WebSocket-Extensions` values: long, unbalanced, binary. The parser must decline
//! without panicking and in linear time (asserted by counting, not timing: the inputs are large
//! enough that a quadratic parser would not finish the test run).

use proptest::prelude::*;
use ws_core::deflate::{ClientOffer, ServerPolicy};

const P: ServerPolicy = ServerPolicy::DEFAULT;

#[test]
fn long_whitespace_and_unclosed_quotes_are_declined() {
    let n = 1 << 20;
    let spaces = " ".repeat(n);
    let cases = [
        format!("permessage-deflate;{spaces}x"),
        format!("permessage-deflate; a=\"{}", "\\\"".repeat(n / 2)),
        format!("x; a=\"{}, permessage-deflate", ",".repeat(n)),
        ";".repeat(n),
        "permessage-deflate; server_max_window_bits=1".to_owned() + &"0".repeat(n),
        "permessage-deflate; x".repeat(n / 20),
        format!("{spaces}\"{spaces}"),
    ];
    for value in &cases {
        assert_eq!(P.negotiate([value.as_str()]), None);
        assert!(ClientOffer::DEFAULT.accept(value).is_err());
    }
}

#[test]
fn an_acceptable_offer_after_many_bad_ones_is_found() {
    let value = "permessage-deflate; x, ".repeat(50_000) + "permessage-deflate";
    assert!(P.negotiate([value.as_str()]).is_some());
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
        let _ = P.negotiate([s.as_str()]);
        let _ = ClientOffer::DEFAULT.accept(&s);
    }

    #[test]
    fn grammar_shaped_text_never_panics(s in "(permessage-deflate|[a-z_]{1,8}|;|,|=|\"|\\\\|[0-9]{1,3}| ){0,40}") {
        let agreed = P.negotiate([s.as_str()]);
        if let Some(agreed) = agreed {
            // Whatever is accepted has window sizes in the RFC's range.
            let p = agreed.params;
            prop_assert!((8..=15).contains(&p.server_max_window_bits));
            prop_assert!((8..=15).contains(&p.client_max_window_bits));
        }
        let _ = ClientOffer::DEFAULT.accept(&s);
    }
}
