//! # `web-server`: an HTTP file server
//!
//! Reading list: the handouts (001, task 2; 003, "Web Server implementation"; 000, item
//! \[11\]; after Kurose & Ross's `WebServer.py`) and their contract,
//! `scenarios/SPEC.md#web-server`, clauses `web/1`–`web/6`.
//! For HTTP itself: RFC 9112 (the message syntax: request line, header fields, the blank
//! line) and RFC 9110 (methods and status codes).
//!
//! The handout, in short: the server (`web-server PORT [--root DIR]`)
//!
//! - a) creates a connection socket when contacted by a client (a browser);
//! - b) receives the HTTP request from this connection;
//! - c) parses the request to determine which file is being requested;
//! - d) gets the requested file from the file system (under `DIR`, by default the
//!   current directory);
//! - e) creates an HTTP response message: the file preceded by header lines;
//! - f) sends the response over the TCP connection;
//!
//! and answers a file that is not there with `404 Not Found`.
//!
//! The contract adds what makes it a server rather than a demo:
//!
//! - `web/1` `200 OK` with `Content-Length`, `Content-Type` by extension, then the exact
//!   bytes, text and binary, 20 KB and 10 MB.
//! - `web/2` a missing file: `404 Not Found` with a small HTML page.
//! - `web/3` the request may arrive in pieces, one byte at a time: read up to the end of
//!   the head (the blank line) before answering.
//! - `web/4` keep serving after each request; a real browser shows the pages.
//! - `web/5` *(security)* `..`, `%2e%2e` and absolute paths never leave the root, and
//!   heads over 16 KiB are refused (431).
//! - `web/6` malformed requests get `400 Bad Request`, never a crash; methods other than
//!   GET and HEAD get `501 Not Implemented`.
//!
//! What the handout's skeleton gets wrong, and this reference does instead:
//!
//! - `recv(1024)`, once, reads *whatever has arrived*: `G`, if the client is slow. The
//!   server loops until the blank line ([`head::read_head`], `web/3`), into a 16 KiB
//!   buffer that never grows.
//! - `open(filename[1:])` opens whatever path the client names: `/../../etc/passwd`
//!   reads the system's password file. The target is decoded, `..` refused, and the real
//!   path checked to be under the root ([`target::resolve_target`],
//!   [`files::open_in_root`], `web/5`).
//! - `f.read()` reads the whole file into memory, and in text mode, which corrupts
//!   images. The file is sent in fixed chunks of raw bytes (`web/1`).
//! - The skeleton sends no `Content-Length` or `Content-Type`, serves one request and
//!   exits, and crashes on anything it did not expect. Here each connection has its own
//!   task, every failure is a status or a line on stderr, and the server goes on
//!   (`web/4`, `web/6`).
//!
//! ```text
//! browser                                     server
//!   | -- connect -------------------------->    |  accept; a new task serves it
//!   | -- "GET /notes.txt HTTP/1.1\r\n" ---->    |  read until the blank line
//!   | -- "Host: localhost\r\n\r\n" -------->    |    (any slicing, 16 KiB, 10 s at most)
//!   |                                           |  parse; target -> path under the root
//!   |  <-- "HTTP/1.1 200 OK\r\n" -----------    |
//!   |  <-- "Content-Length: 20480\r\n" ... --   |  head, then the blank line
//!   |  <-- the file, 4 KiB at a time -------    |  exactly Content-Length bytes
//!   |  <-- FIN -----------------------------    |  Connection: close: one request each
//! ```
//!
//! ## Layout
//!
//! - `server`: the accept loop, one task per connection, and the answer to one request.
//! - [`head`]: reading the request head in a loop, and parsing it (with `httparse`).
//! - [`target`]: the request target to a relative path, or a refusal (a pure function).
//! - [`files`]: opening that path under the root, links included.
//! - [`response`]: status codes, the response head, content types, error pages.

pub mod files;
pub mod head;
pub mod response;
mod server;
pub mod target;

pub use response::Status;
pub use server::{ConnectionOutcome, HEAD_TIMEOUT, LINGER, serve, serve_one, server_main};
// The proxy (`web-proxy`) ends its connections as this server does.
pub(crate) use server::finish;

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::net::Tokio;

    /// A root with one text file, and a secret next to it.
    fn site() -> (tempfile::TempDir, PathBuf) {
        let folder = tempfile::tempdir().unwrap();
        let root = folder.path().join("root");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("hello.txt"), "hello, world\n").unwrap();
        std::fs::write(folder.path().join("secret.txt"), "TOP SECRET\n").unwrap();
        let root = root.canonicalize().unwrap();
        (folder, root)
    }

    /// Sends `request` to `serve_one` through a pipe that moves `pipe` bytes at a time,
    /// then half-closes; returns the whole response and the outcome.
    async fn exchange(root: &Path, request: &[u8], pipe: usize) -> (Vec<u8>, ConnectionOutcome) {
        let (client_end, server_end) = tokio::io::duplex(pipe);
        let (mut from_server, mut to_server) = tokio::io::split(client_end);
        // The client writes and reads at the same time: with a small pipe (unlike a
        // kernel's socket buffers), a client that only read after writing could block
        // the server's response, and the server its reading.
        let client = async {
            let send = async {
                to_server.write_all(request).await.unwrap();
                to_server.shutdown().await.unwrap();
            };
            let mut response = Vec::new();
            let receive = from_server.read_to_end(&mut response);
            let ((), received) = tokio::join!(send, receive);
            received.unwrap();
            response
        };
        tokio::join!(client, serve_one(server_end, Tokio, root))
    }

    #[tokio::test]
    async fn a_file_is_served_with_its_head_and_exact_bytes() {
        let (_folder, root) = site();
        let request = b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n";
        let (response, outcome) = exchange(&root, request, 4096).await;
        assert_eq!(
            String::from_utf8(response).unwrap(),
            "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\
             Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n\
             hello, world\n"
        );
        assert!(matches!(
            outcome,
            ConnectionOutcome::Answered {
                status: Status::Ok,
                body_bytes: 13
            }
        ));
    }

    #[tokio::test]
    async fn one_byte_reads_and_writes_are_reassembled() {
        let (_folder, root) = site();
        let request = b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n";
        let (response, _) = exchange(&root, request, 1).await;
        assert!(response.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(response.ends_with(b"\r\n\r\nhello, world\n"));
    }

    #[tokio::test]
    async fn head_sends_the_head_without_the_body() {
        let (_folder, root) = site();
        let (response, _) = exchange(&root, b"HEAD /hello.txt HTTP/1.1\r\n\r\n", 4096).await;
        let response = String::from_utf8(response).unwrap();
        assert!(response.contains("Content-Length: 13\r\n"));
        assert!(response.ends_with("\r\n\r\n"));
    }

    #[tokio::test]
    async fn refusals_have_a_status_and_never_the_secret() {
        let (_folder, root) = site();
        let table: [(&[u8], &str); 6] = [
            (
                b"GET /missing.html HTTP/1.1\r\n\r\n",
                "HTTP/1.1 404 Not Found\r\n",
            ),
            (
                b"GET /../secret.txt HTTP/1.1\r\n\r\n",
                "HTTP/1.1 403 Forbidden\r\n",
            ),
            (
                b"GET ../secret.txt HTTP/1.1\r\n\r\n",
                "HTTP/1.1 400 Bad Request\r\n",
            ),
            (b"HELLO THERE\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"),
            (
                b"DELETE /hello.txt HTTP/1.1\r\n\r\n",
                "HTTP/1.1 501 Not Implemented\r\n",
            ),
            (b"GET /hello.txt HTT", "HTTP/1.1 400 Bad Request\r\n"),
        ];
        for (request, status_line) in table {
            let (response, _) = exchange(&root, request, 4096).await;
            let response = String::from_utf8(response).unwrap();
            assert!(response.starts_with(status_line), "{response}");
            assert!(response.contains("<!DOCTYPE html>"), "{response}");
            assert!(!response.contains("TOP SECRET"), "{response}");
        }
        assert!(root.join("hello.txt").exists());
    }

    #[tokio::test]
    async fn a_head_over_16_kib_is_refused_with_431() {
        let (_folder, root) = site();
        let mut request = b"GET /hello.txt HTTP/1.1\r\n".to_vec();
        request.extend(std::iter::repeat_n(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaa\r\n", 600).flatten());
        request.extend_from_slice(b"\r\n");
        let (response, outcome) = exchange(&root, &request, 4096).await;
        assert!(response.starts_with(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(matches!(
            outcome,
            ConnectionOutcome::Answered {
                status: Status::RequestHeaderFieldsTooLarge,
                ..
            }
        ));
    }

    #[tokio::test]
    async fn a_client_that_closes_at_once_is_not_answered() {
        let (_folder, root) = site();
        let (response, outcome) = exchange(&root, b"", 64).await;
        assert!(response.is_empty());
        assert!(matches!(outcome, ConnectionOutcome::NoRequest));
    }
}
