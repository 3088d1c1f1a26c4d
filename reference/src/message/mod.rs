//! # `message`: a sequential message server and its client
//!
//! Reading list: the handout (000, its main assignment) and its contract,
//! `scenarios/SPEC.md#message`, clauses `message/1`–`message/9`.
//!
//! The handout, in short:
//!
//! - The **server** (`message-server PORT`) prints on stdout the text each client sends
//!   during its connection, and nothing else: no debug lines, no banners. It serves one
//!   client at a time, but clients that connect meanwhile are queued, not refused.
//! - The **client** (`message-client HOST PORT < FILE`) reads its input, sends it, and exits.
//! - Both use small fixed buffers (4096 bytes) whatever the size of the message: the input
//!   may be arbitrarily large.
//! - Socket calls may move fewer bytes than asked. A `recv` returns whatever has arrived so
//!   far, and a `send` may accept only part of the buffer: every read and every write loops.
//!
//! On the wire there is no framing at all: a message is every byte the client sends
//! between connecting and closing its side of the connection.
//!
//! ```text
//! client                         server
//!   | ---- connect -------------->  |  accept (the next queued client)
//!   | ---- bytes ... ------------>  |  recv, write to stdout, recv, ... (any slicing)
//!   | ---- FIN (shutdown write) ->  |  recv returns 0: the message is complete
//!   |                               |  close, accept the next client
//! ```

mod client;
mod server;

pub use client::{client_main, send_message};
pub use server::{ClientOutcome, serve, serve_one, server_main};

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;
    use crate::net::Cork;

    /// A duplex pipe whose buffer holds one byte: every read and write moves one byte, as
    /// the harness's worst slice plan does on a real socket.
    #[tokio::test]
    async fn one_byte_reads_and_writes_are_reassembled() {
        let message: Vec<u8> = b"short reads are normal\xff\x00\xfe".to_vec();
        let (client_end, server_end) = tokio::io::duplex(1);
        let sender = send_message(&message[..], client_end);
        let mut printed = Vec::new();
        let receiver = serve_one(server_end, &mut printed);
        let (sent, outcome) = tokio::join!(sender, receiver);
        assert_eq!(sent.unwrap(), message.len() as u64);
        assert!(
            matches!(outcome.unwrap(), ClientOutcome::Completed { bytes } if bytes == message.len() as u64)
        );
        assert_eq!(printed, message);
    }

    /// Whether `stream`'s `TCP_CORK` is on, as the kernel says.
    fn is_corked(stream: &tokio::net::TcpStream) -> bool {
        use std::os::fd::AsRawFd;
        let mut value: libc::c_int = -1;
        let mut size = libc::socklen_t::try_from(size_of::<libc::c_int>()).unwrap();
        // SAFETY: getsockopt writes at most `size` bytes into `value`, a live int.
        let status = unsafe {
            libc::getsockopt(
                stream.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_CORK,
                (&raw mut value).cast(),
                &raw mut size,
            )
        };
        assert_eq!(status, 0, "{}", std::io::Error::last_os_error());
        value != 0
    }

    /// Over a real connection the client corks around each gulp of stdin and uncorks after
    /// it: nothing it sent is left waiting in the kernel for more.
    #[tokio::test]
    async fn a_real_connection_is_left_uncorked_and_carries_every_byte() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut client = tokio::net::TcpStream::connect(address).await.unwrap();
        let (server_end, _) = listener.accept().await.unwrap();
        client.set_cork(true).unwrap();
        assert!(is_corked(&client), "set_cork(true) corks");
        client.set_cork(false).unwrap();
        // 20 KB: five pieces of 4096 bytes from one gulp, corked together.
        let message: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let mut printed = Vec::new();
        let (sent, outcome) = tokio::join!(
            send_message(&message[..], &mut client),
            serve_one(server_end, &mut printed)
        );
        assert_eq!(sent.unwrap(), message.len() as u64);
        assert!(matches!(outcome.unwrap(), ClientOutcome::Completed { .. }));
        assert_eq!(printed, message);
        assert!(!is_corked(&client), "uncorked after the last gulp");
    }

    #[tokio::test]
    async fn an_empty_message_prints_nothing() {
        let (client_end, server_end) = tokio::io::duplex(64);
        let mut printed = Vec::new();
        let (sent, outcome) = tokio::join!(
            send_message(&b""[..], client_end),
            serve_one(server_end, &mut printed)
        );
        assert_eq!(sent.unwrap(), 0);
        assert!(matches!(
            outcome.unwrap(),
            ClientOutcome::Completed { bytes: 0 }
        ));
        assert!(printed.is_empty());
    }

    #[tokio::test]
    async fn a_broken_client_is_an_outcome_not_an_error() {
        /// A stream that yields some bytes, then fails like a reset connection.
        struct Resetting(Vec<u8>);
        impl tokio::io::AsyncRead for Resetting {
            fn poll_read(
                mut self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                buffer: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                if self.0.is_empty() {
                    return std::task::Poll::Ready(Err(std::io::ErrorKind::ConnectionReset.into()));
                }
                let bytes = std::mem::take(&mut self.0);
                buffer.put_slice(&bytes);
                std::task::Poll::Ready(Ok(()))
            }
        }
        let mut printed = Vec::new();
        let outcome = serve_one(Resetting(b"partial".to_vec()), &mut printed)
            .await
            .unwrap();
        assert!(matches!(outcome, ClientOutcome::Broken { bytes: 7, .. }));
        assert_eq!(printed, b"partial");
        printed.flush().await.unwrap();
    }
}
