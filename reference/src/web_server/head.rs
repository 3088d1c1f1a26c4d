//! Reading the request head: the request line and the header fields, up to the blank line.
//!
//! ```text
//! GET /notes.txt HTTP/1.1\r\n       request line: method, target, version
//! Host: localhost:8080\r\n          header fields, one per line
//! User-Agent: curl/8.5.0\r\n
//! \r\n                              blank line: the head is complete
//! ```
//!
//! TCP carries bytes, not requests: one `read` may return `G`, or the whole head, or a
//! head and the start of what follows. The handout's skeleton reads once with
//! `recv(1024)` and parses whatever came; given the request one byte at a time it sees
//! `G` (SPEC `web/3`). [`read_head`] loops until the blank line has arrived, into a
//! buffer of fixed size, so a client cannot make the server's memory grow by sending
//! header fields forever (SPEC `web/5`: over 16 KiB is refused with 431).
//!
//! Parsing the head is delegated to the `httparse` crate: the lab is about the loop that
//! collects the bytes, and a hand-written HTTP parser is where servers get their bugs.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

use super::response::Status;

/// The largest request head accepted: 16 KiB (SPEC `web/5`).
///
/// Browsers send well under 2 KiB (cookies included, usually); a larger head is a broken
/// or hostile client. Larger limits are common in real servers (8–64 KiB), but the limit
/// itself is what matters: without one, memory grows with whatever the client sends.
pub const MAX_HEAD: usize = 16 * 1024;

/// The most header fields accepted. `httparse` fills a fixed array of this many; a request
/// with more is refused with 431, like one over [`MAX_HEAD`].
pub const MAX_HEADERS: usize = 64;

/// What the servers need of a request: its method, its target and its header fields.
///
/// The file server uses the method and the target only: it answers every request the
/// same way whatever its `Accept` or `Host` say. (RFC 9112 §3.2 asks a server to refuse
/// an HTTP/1.1 request without `Host` with 400; a server hosting several sites needs it,
/// this one does not, and skips the check.) The proxy (`web-proxy`) forwards most of the
/// header fields to the origin server, so they are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `HEAD`, `POST`... (case-sensitive, RFC 9110 §9.1).
    pub method: String,
    /// The request target as sent: `/docs/a%20b.txt?x=1`, or `http://host/docs/` when
    /// the request is for a proxy.
    pub target: String,
    /// The header fields, in the order they came.
    pub headers: Vec<HeaderField>,
}

/// One header field: `User-Agent: curl/8.5.0` is the name `User-Agent` and the value
/// `curl/8.5.0` (without the whitespace around it, RFC 9112 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    /// The field name, as sent (names are case-insensitive: compare them with
    /// `eq_ignore_ascii_case`).
    pub name: String,
    /// The value, as bytes: RFC 9110 §5.5 allows bytes above 0x7F ("obs-text") in values,
    /// which need not be UTF-8, and a proxy must pass them on unchanged.
    pub value: Vec<u8>,
}

/// How reading the head ended. Each is an expected condition, not an error.
#[derive(Debug, PartialEq, Eq)]
pub enum Head {
    /// A complete, well-formed head.
    Request(Request),
    /// The client closed the connection without sending a byte (a port check, or a
    /// browser's spare connection): there is nothing to answer.
    Nothing,
    /// The client closed its side after `received` bytes, before the blank line.
    Truncated {
        /// The bytes of the head received.
        received: usize,
    },
    /// A head to refuse with this status: malformed (400), too large (431).
    Refused(Status),
}

/// Reads one request head from `input` into `buffer`, whose size is the largest head
/// accepted ([`MAX_HEAD`] in the server).
///
/// Returns `Err` only for a failed read (a reset); what the client sent is a [`Head`].
/// Bytes after the blank line (a body, a second request) stay unread or are ignored: this
/// server answers one GET per connection, and a GET has no body.
pub async fn read_head<R>(input: &mut R, buffer: &mut [u8]) -> io::Result<Head>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let mut filled = 0;
    // SPEC web/3: a read returns whatever has arrived, maybe one byte of the head. Loop
    // until the blank line that ends it has arrived, the client closes, or the buffer is
    // full.
    loop {
        if filled == buffer.len() {
            // SPEC web/5: no blank line within 16 KiB. Refuse rather than grow.
            return Ok(Head::Refused(Status::RequestHeaderFieldsTooLarge));
        }
        let received = input.read(&mut buffer[filled..]).await?;
        if received == 0 {
            return Ok(match filled {
                0 => Head::Nothing,
                _ => Head::Truncated { received: filled },
            });
        }
        let searched = filled;
        filled += received;
        // Only the new bytes can complete a blank line (looking back at most two bytes
        // from each), so the whole search costs one pass over the head.
        let complete = (searched..filled).any(|at| ends_blank_line(&buffer[..filled], at));
        if !complete {
            continue;
        }
        match parse_head(&buffer[..filled]) {
            Parsed::Complete(request) => return Ok(Head::Request(request)),
            // Only empty lines so far, which RFC 9112 §2.2 says to skip before a request
            // line (some clients send a stray CRLF after a previous request): keep reading.
            Parsed::Partial => continue,
            Parsed::Invalid(status) => return Ok(Head::Refused(status)),
        }
    }
}

/// Whether the byte at `at` is the line feed of an empty line: `\n\n` or `\n\r\n`.
///
/// HTTP ends lines with CRLF, but RFC 9112 §2.2 lets a server accept a bare LF, as
/// `httparse` does: hand-typed requests (`nc`, `printf`) often have them.
fn ends_blank_line(bytes: &[u8], at: usize) -> bool {
    bytes[at] == b'\n'
        && ((at >= 1 && bytes[at - 1] == b'\n') || (at >= 2 && &bytes[at - 2..at] == b"\n\r"))
}

/// What `httparse` made of the bytes of a head.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A complete head.
    Complete(Request),
    /// More bytes are needed.
    Partial,
    /// Not a request this server accepts: the status to refuse it with.
    Invalid(Status),
}

/// Parses a request head (and ignores what follows its blank line).
pub fn parse_head(bytes: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(bytes) {
        Ok(httparse::Status::Complete(_)) => match (request.method, request.path) {
            (Some(method), Some(target)) => Parsed::Complete(Request {
                method: method.to_owned(),
                target: target.to_owned(),
                headers: request
                    .headers
                    .iter()
                    .map(|field| HeaderField {
                        name: field.name.to_owned(),
                        value: field.value.to_owned(),
                    })
                    .collect(),
            }),
            // A complete parse always has both; refusing is the safe answer anyway.
            _ => Parsed::Invalid(Status::BadRequest),
        },
        Ok(httparse::Status::Partial) => Parsed::Partial,
        // SPEC web/5: more fields than the server keeps is "too large" too (RFC 6585 §5).
        Err(httparse::Error::TooManyHeaders) => {
            Parsed::Invalid(Status::RequestHeaderFieldsTooLarge)
        }
        // SPEC web/6: anything else malformed (no version, a bad header line, a space in
        // the target...) is a 400, never a crash.
        Err(_) => Parsed::Invalid(Status::BadRequest),
    }
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::ReadBuf;

    use super::*;

    /// A reader that hands out one chunk per read (or what fits of it), then the end of
    /// input, as a socket delivers whatever has arrived.
    struct Chunks(VecDeque<Vec<u8>>);

    impl AsyncRead for Chunks {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buffer: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            if let Some(mut chunk) = self.0.pop_front() {
                let fits = chunk.len().min(buffer.remaining());
                buffer.put_slice(&chunk[..fits]);
                if fits < chunk.len() {
                    self.0.push_front(chunk.split_off(fits));
                }
            }
            Poll::Ready(Ok(()))
        }
    }

    /// Reads a head from `chunks` (each arriving as one read) into a buffer of `capacity`.
    async fn head_of(chunks: &[&[u8]], capacity: usize) -> Head {
        let mut input = Chunks(chunks.iter().map(|chunk| chunk.to_vec()).collect());
        let mut buffer = vec![0u8; capacity];
        read_head(&mut input, &mut buffer).await.unwrap()
    }

    /// A GET of `target` with the header fields `fields`.
    fn get(target: &str, fields: &[(&str, &[u8])]) -> Head {
        Head::Request(Request {
            method: "GET".into(),
            target: target.into(),
            headers: fields
                .iter()
                .map(|(name, value)| HeaderField {
                    name: (*name).into(),
                    value: value.to_vec(),
                })
                .collect(),
        })
    }

    /// The one header field most tests send.
    const HOST: (&str, &[u8]) = ("Host", b"x");

    #[tokio::test]
    async fn a_head_in_one_read_is_parsed() {
        let head = head_of(&[b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"], MAX_HEAD).await;
        assert_eq!(head, get("/a.txt", &[HOST]));
    }

    #[tokio::test]
    async fn a_head_one_byte_per_read_is_reassembled() {
        let request = b"GET /one/byte HTTP/1.1\r\nHost: x\r\n\r\n";
        let chunks: Vec<&[u8]> = request.chunks(1).collect();
        assert_eq!(head_of(&chunks, MAX_HEAD).await, get("/one/byte", &[HOST]));
    }

    #[tokio::test]
    async fn the_blank_line_may_be_split_between_reads() {
        let chunks: [&[u8]; 3] = [b"GET / HTTP/1.0\r\n", b"\r", b"\n"];
        assert_eq!(head_of(&chunks, MAX_HEAD).await, get("/", &[]));
    }

    #[tokio::test]
    async fn bare_line_feeds_end_lines_too() {
        assert_eq!(
            head_of(&[b"GET /lf HTTP/1.1\nHost: x\n\n"], MAX_HEAD).await,
            get("/lf", &[HOST])
        );
    }

    #[tokio::test]
    async fn empty_lines_before_the_request_line_are_skipped() {
        let chunks: [&[u8]; 2] = [b"\r\n\r\n", b"GET /late HTTP/1.1\r\n\r\n"];
        assert_eq!(head_of(&chunks, MAX_HEAD).await, get("/late", &[]));
    }

    #[tokio::test]
    async fn header_fields_are_kept_in_order_with_their_raw_values() {
        let head = b"GET http://a/ HTTP/1.1\r\nHost: a\r\nX-Latin: caf\xe9  \r\nhost: b\r\n\r\n";
        let expected = get(
            "http://a/",
            &[("Host", b"a"), ("X-Latin", b"caf\xe9"), ("host", b"b")],
        );
        assert_eq!(head_of(&[head], MAX_HEAD).await, expected);
    }

    #[tokio::test]
    async fn bytes_after_the_blank_line_are_ignored() {
        let chunks: [&[u8]; 1] = [b"GET /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n"];
        assert_eq!(head_of(&chunks, MAX_HEAD).await, get("/x", &[]));
    }

    #[tokio::test]
    async fn a_head_larger_than_the_buffer_is_refused_with_431() {
        let chunks: [&[u8]; 2] = [b"GET / HTTP/1.1\r\n", &[b'a'; 100]];
        assert_eq!(
            head_of(&chunks, 64).await,
            Head::Refused(Status::RequestHeaderFieldsTooLarge)
        );
    }

    #[tokio::test]
    async fn a_head_that_fills_the_buffer_exactly_is_accepted() {
        let request = b"GET /exact HTTP/1.1\r\n\r\n";
        assert_eq!(head_of(&[request], request.len()).await, get("/exact", &[]));
    }

    #[tokio::test]
    async fn too_many_header_fields_are_refused_with_431() {
        let mut request = b"GET / HTTP/1.1\r\n".to_vec();
        for field in 0..=MAX_HEADERS {
            request.extend_from_slice(format!("X-{field}: y\r\n").as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        assert_eq!(
            head_of(&[&request], MAX_HEAD).await,
            Head::Refused(Status::RequestHeaderFieldsTooLarge)
        );
    }

    #[tokio::test]
    async fn a_close_before_or_inside_the_head_is_its_own_outcome() {
        assert_eq!(head_of(&[], MAX_HEAD).await, Head::Nothing);
        assert_eq!(
            head_of(&[b"GET / HT"], MAX_HEAD).await,
            Head::Truncated { received: 8 }
        );
    }

    #[test]
    fn malformed_heads_are_bad_requests() {
        let table: [&[u8]; 6] = [
            b"HELLO THERE\r\n\r\n",
            b"GET /\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET /a b HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        ];
        for head in table {
            assert_eq!(
                parse_head(head),
                Parsed::Invalid(Status::BadRequest),
                "{:?}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn other_methods_parse_and_are_refused_later() {
        assert_eq!(
            parse_head(b"POST /form HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
            Parsed::Complete(Request {
                method: "POST".into(),
                target: "/form".into(),
                headers: vec![HeaderField {
                    name: "Content-Length".into(),
                    value: b"0".to_vec()
                }],
            })
        );
    }
}
