//! # `upper-tcp`: an uppercase converter over TCP
//!
//! Reading list: the handouts (001, task 1; 003, Kurose & Ross's `TCPServer.py` /
//! `TCPClient.py`) and their contract, `scenarios/SPEC.md#upper-tcp-upper-udp`, clauses
//! `upper/1`–`upper/3` and `upper/6`.
//!
//! The handout, in short:
//!
//! - The **client** (`upper-tcp-client HOST PORT`) reads a line from the keyboard (stdin),
//!   sends it to the server, and prints what comes back.
//! - The **server** (`upper-tcp-server PORT`) converts lowercase letters to uppercase and
//!   sends the line back. Only `a`–`z` change: uppercase letters, digits and special
//!   characters such as `&*!` stay as they are (`upper/1`).
//!
//! What the handout's skeleton gets wrong, and this reference does instead:
//!
//! - `recv(1024)` reads *whatever has arrived*, at most 1024 bytes: part of a long line, or
//!   part of a short one cut by the network. Both sides loop instead, until the end of the
//!   line is known (`upper/3`): a newline, or the peer's half-close. Lines up to 64 KiB
//!   ([`MAX_LINE`](crate::line::MAX_LINE)) come back whole.
//! - Python's `str.upper()` changes `é` to `É` and `ß` to `SS`. The bytes are converted
//!   here, never decoded as text: only the 26 ASCII letters change, every other byte,
//!   including each byte of a UTF-8 `é`, is sent back unchanged (`upper/1`).
//! - The skeleton serves one client at a time; this server gives each client its own task,
//!   so a slow client does not hold up the others (`upper/2`).
//!
//! ```text
//! client                               server
//!   | ---- connect ------------------>   |  accept; a new task serves this client
//!   | ---- "Hello é\n" (any slicing) ->  |  read until the newline (or FIN)
//!   | ---- FIN (shutdown write) ------>  |
//!   |  <-- "HELLO é\n" ----------------  |  uppercase the ASCII letters, send it all
//!   |  <-- FIN ------------------------  |  close: the reply is complete
//!   |  print the reply, exit 0           |
//! ```

mod client;
mod server;

pub use client::{client_main, exchange_line};
pub use server::{ClientOutcome, LINGER, serve, serve_one, server_main};

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

    use super::*;
    use crate::line::MAX_LINE;
    use crate::net::Tokio;

    /// Sends `line` from a client end to `serve_one`, through a pipe that moves `pipe`
    /// bytes at a time, and returns what the client read back.
    async fn round_trip(line: &[u8], pipe: usize) -> (Vec<u8>, ClientOutcome) {
        let (client_end, server_end) = tokio::io::duplex(pipe);
        let mut reply = Vec::new();
        let (sent, outcome) = tokio::join!(
            exchange_line(line, client_end, &mut reply),
            serve_one(server_end, Tokio)
        );
        sent.unwrap();
        (reply, outcome)
    }

    #[tokio::test]
    async fn only_ascii_letters_change() {
        let (reply, outcome) = round_trip("Hello ß é 123 &*!\n".as_bytes(), 64).await;
        assert_eq!(reply, "HELLO ß é 123 &*!\n".as_bytes());
        assert!(matches!(outcome, ClientOutcome::Completed { bytes: 20 }));
    }

    #[tokio::test]
    async fn one_byte_reads_and_writes_are_reassembled() {
        let (reply, _) = round_trip(b"split into single bytes\n", 1).await;
        assert_eq!(reply, b"SPLIT INTO SINGLE BYTES\n");
    }

    #[tokio::test]
    async fn a_half_close_ends_a_line_without_newline() {
        let (reply, _) = round_trip(b"no newline", 7).await;
        assert_eq!(reply, b"NO NEWLINE");
    }

    #[tokio::test]
    async fn a_long_line_comes_back_whole() {
        let line: Vec<u8> = b"abcdefghij"
            .iter()
            .copied()
            .cycle()
            .take(MAX_LINE)
            .collect();
        let (reply, _) = round_trip(&line, 4096).await;
        assert_eq!(reply, line.to_ascii_uppercase());
    }

    #[tokio::test]
    async fn a_line_without_newline_longer_than_the_limit_is_cut_at_the_limit() {
        // The client side of this test writes raw bytes, more than `exchange_line` would.
        let line = vec![b'x'; MAX_LINE + 4464];
        let (client_end, server_end) = tokio::io::duplex(4096);
        // The client writes and reads at the same time: the server replies while the end
        // of the line is still on its way, and with a 4 KiB pipe (unlike a kernel's
        // socket buffers) a client that only read after writing would never finish.
        let (mut from_server, mut to_server) = tokio::io::split(client_end);
        let client = async {
            let send = async {
                to_server.write_all(&line).await.unwrap();
                to_server.shutdown().await.unwrap();
            };
            let mut reply = Vec::new();
            let receive = from_server.read_to_end(&mut reply);
            let ((), received) = tokio::join!(send, receive);
            received.unwrap();
            reply
        };
        let (reply, outcome) = tokio::join!(client, serve_one(server_end, Tokio));
        assert_eq!(reply, vec![b'X'; MAX_LINE]);
        assert!(matches!(
            outcome,
            ClientOutcome::Completed { bytes: MAX_LINE }
        ));
    }

    #[tokio::test]
    async fn a_client_that_resets_mid_line_is_an_outcome_not_an_error() {
        /// A connection that delivers some bytes of a line, then fails like a reset.
        struct Resetting(Vec<u8>);
        impl AsyncRead for Resetting {
            fn poll_read(
                mut self: Pin<&mut Self>,
                _: &mut Context<'_>,
                buffer: &mut ReadBuf<'_>,
            ) -> Poll<std::io::Result<()>> {
                if self.0.is_empty() {
                    return Poll::Ready(Err(std::io::ErrorKind::ConnectionReset.into()));
                }
                let bytes = std::mem::take(&mut self.0);
                buffer.put_slice(&bytes);
                Poll::Ready(Ok(()))
            }
        }
        impl AsyncWrite for Resetting {
            fn poll_write(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
                _: &[u8],
            ) -> Poll<std::io::Result<usize>> {
                Poll::Ready(Err(std::io::ErrorKind::ConnectionReset.into()))
            }
            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
                Poll::Ready(Ok(()))
            }
            fn poll_shutdown(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
            ) -> Poll<std::io::Result<()>> {
                Poll::Ready(Ok(()))
            }
        }
        let outcome = serve_one(Resetting(b"partial li".to_vec()), Tokio).await;
        assert!(matches!(outcome, ClientOutcome::Broken { .. }));
    }
}
