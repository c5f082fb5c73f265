//! A fixed-capacity reassembler for embedded users: turns [`crate::Event::Data`] chunks into
//! whole messages of up to `N` bytes and answers 1009 past `N`.
