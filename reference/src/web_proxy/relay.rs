//! Relaying the origin's response to the client: read a buffer's worth, write it all,
//! until the origin closes.
//!
//! ```text
//! origin --"HTTP/1.1 200 OK\r\n..."--> [ 4 KiB buffer ] --write_all--> client
//!        --...10 MB of body...------->   (the same     --write_all-->
//!        --FIN (read returns 0)------>    buffer, again)    done: the proxy closes too
//! ```
//!
//! The response is passed on as bytes, unchanged and unparsed (SPEC `proxy/1`: status,
//! header fields and body, binary-safe, 10 MB): the proxy asked the origin for
//! `Connection: close` ([`super::request`]), so the origin's close marks the end of the
//! response, and the proxy needs neither its `Content-Length` nor its chunks. Memory stays
//! one buffer, whatever the size of the response (SPEC: "buffers are small and fixed").
//!
//! Shortcut: an origin that ignores `Connection: close` and keeps its connection open
//! after the response would hold this loop, and the client, until it does close. A real
//! proxy reads the response's framing (RFC 9112 §6.3) to know where it ends, and gives up
//! on an origin that stays silent too long.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How relaying a response ended. Each is an expected condition, not an error.
#[derive(Debug)]
pub enum Relayed {
    /// The origin closed after `bytes` bytes, all of which the client was sent.
    Complete {
        /// The bytes relayed.
        bytes: u64,
    },
    /// Reading from the origin failed (a reset) after `bytes` bytes were relayed.
    OriginFailed {
        /// The bytes relayed before.
        bytes: u64,
        /// What the origin's connection said.
        error: io::Error,
    },
    /// Writing to the client failed (it closed or reset) after `bytes` bytes were relayed.
    ClientFailed {
        /// The bytes relayed before.
        bytes: u64,
        /// What the client's connection said.
        error: io::Error,
    },
}

/// Copies everything `origin` sends to `client`, through `buffer`, until `origin` ends.
pub async fn relay<O, C>(origin: &mut O, client: &mut C, buffer: &mut [u8]) -> Relayed
where
    O: AsyncRead + Unpin + ?Sized,
    C: AsyncWrite + Unpin + ?Sized,
{
    let mut bytes: u64 = 0;
    // Until the origin closes (a read of 0 bytes): a read returns whatever has arrived,
    // a few bytes or a full buffer, never "the response", so it takes as many turns as
    // the response has pieces.
    loop {
        let read = match origin.read(buffer).await {
            Ok(0) => return Relayed::Complete { bytes },
            Ok(read) => read,
            Err(error) => return Relayed::OriginFailed { bytes, error },
        };
        // SPEC conventions: a write may take fewer bytes than given; `write_all` loops
        // until the client's socket has taken them all. Only then is the buffer reused.
        if let Err(error) = client.write_all(&buffer[..read]).await {
            return Relayed::ClientFailed { bytes, error };
        }
        bytes += read as u64;
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::ReadBuf;

    use super::*;

    /// An origin that sends `bytes`, at most `piece` per read, then closes, or fails as a
    /// reset when `reset` is set.
    struct Origin {
        bytes: Vec<u8>,
        piece: usize,
        reset: bool,
    }

    impl AsyncRead for Origin {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buffer: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            if self.bytes.is_empty() && self.reset {
                return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
            }
            let size = self.piece.min(buffer.remaining()).min(self.bytes.len());
            let piece: Vec<u8> = self.bytes.drain(..size).collect();
            buffer.put_slice(&piece);
            Poll::Ready(Ok(()))
        }
    }

    /// Every byte value, in an order that is not a pattern a bug could keep.
    fn binary(length: usize) -> Vec<u8> {
        (0..length)
            .map(|at| (at.wrapping_mul(2_654_435_761) >> 7) as u8)
            .collect()
    }

    #[tokio::test]
    async fn everything_until_the_close_arrives_byte_exact_whatever_the_pieces() {
        let response = [b"HTTP/1.1 200 OK\r\n\r\n".to_vec(), binary(100_000)].concat();
        for piece in [1, 7, 4096, 1 << 20] {
            let mut origin = Origin {
                bytes: response.clone(),
                piece,
                reset: false,
            };
            let mut client = Vec::new();
            let mut buffer = [0u8; 4096];
            let relayed = relay(&mut origin, &mut client, &mut buffer).await;
            assert!(
                matches!(relayed, Relayed::Complete { bytes } if bytes == response.len() as u64),
                "{relayed:?}"
            );
            assert!(client == response, "pieces of {piece}: the bytes differ");
        }
    }

    #[tokio::test]
    async fn a_client_writing_one_byte_at_a_time_gets_everything() {
        let response = binary(10_000);
        let mut origin = Origin {
            bytes: response.clone(),
            piece: 4096,
            reset: false,
        };
        // A pipe that takes one byte per write; the other end is read as it fills.
        let (mut to_client, mut client_end) = tokio::io::duplex(1);
        let mut received = Vec::new();
        let mut buffer = [0u8; 4096];
        let relaying = async {
            let relayed = relay(&mut origin, &mut to_client, &mut buffer).await;
            drop(to_client);
            relayed
        };
        let (relayed, read) = tokio::join!(relaying, client_end.read_to_end(&mut received));
        read.unwrap();
        assert!(matches!(relayed, Relayed::Complete { bytes: 10_000 }));
        assert!(received == response);
    }

    #[tokio::test]
    async fn an_origin_reset_mid_response_is_its_own_outcome() {
        let sent = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf";
        let mut origin = Origin {
            bytes: sent.to_vec(),
            piece: 10,
            reset: true,
        };
        let mut client = Vec::new();
        let relayed = relay(&mut origin, &mut client, &mut [0u8; 64]).await;
        assert!(
            matches!(relayed, Relayed::OriginFailed { bytes, .. } if bytes == sent.len() as u64),
            "{relayed:?}"
        );
        assert_eq!(client, sent);
    }

    #[tokio::test]
    async fn a_client_that_went_away_is_its_own_outcome() {
        let mut origin = Origin {
            bytes: binary(100_000),
            piece: 4096,
            reset: false,
        };
        let (mut to_client, client_end) = tokio::io::duplex(1024);
        drop(client_end);
        let relayed = relay(&mut origin, &mut to_client, &mut [0u8; 4096]).await;
        assert!(matches!(relayed, Relayed::ClientFailed { bytes: 0, .. }));
    }
}
