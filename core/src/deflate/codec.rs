//! The codec traits: streaming, into caller buffers, so any deflate implementation can be used.

/// What one codec call did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// Bytes of the input taken.
    pub consumed: usize,
    /// Bytes written at the start of the output.
    pub produced: usize,
    /// The call's work is complete: all input is taken and, if the call ended the message, every
    /// output byte of the message has been produced. When `false`, call again (with more output
    /// room and the input not yet consumed).
    pub done: bool,
}

/// Compresses the messages of one direction (RFC 7692 §7.2.1), keeping or resetting the context
/// between messages as negotiated.
pub trait Compressor {
    /// Why compression failed (never caused by peer data).
    type Error;

    /// Compresses a piece of the current message from `input` into `output`. With `end`, this is
    /// the message's last piece: once [`Step::done`], the produced bytes, concatenated over the
    /// message, are its payload ending with a sync flush whose `00 00 ff ff` tail is removed.
    fn compress(&mut self, input: &[u8], output: &mut [u8], end: bool)
        -> Result<Step, Self::Error>;
}

/// Decompresses the messages of one direction (RFC 7692 §7.2.2).
pub trait Decompressor {
    /// Why decompression failed: the peer sent data that is not a valid deflate stream.
    type Error;

    /// Inflates a piece of the current message's payload from `input` into `output`. With `end`,
    /// `input` ends the message: the implementation appends the `00 00 ff ff` tail itself, and
    /// once [`Step::done`] the message's output is complete. A caller bounds the inflated size by
    /// counting [`Step::produced`] and giving bounded `output` buffers.
    fn decompress(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        end: bool,
    ) -> Result<Step, Self::Error>;
}
