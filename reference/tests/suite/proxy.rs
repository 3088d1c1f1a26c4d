//! The proxy (`web-proxy`) as a user runs it, on loopback: SPEC clauses
//! `proxy/1`–`proxy/3`.
//!
//! Each test starts the proxy and, where it needs one, an origin server written here: it
//! reads each request head, records it, waits if told to, answers a fixed response and
//! closes.
//!
//! ```text
//! test (client) --GET http://127.0.0.1:O/path--> web-proxy :P --GET /path--> origin :O
//!               <------- the origin's bytes ---------------- <---------------
//! ```

use crate::common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use predicates::prelude::*;

use common::{Running, free_tcp_port, wait_until_listening};

/// How long any one exchange may take.
const CLIENT_LIMIT: Duration = Duration::from_secs(10);

/// A small response with header fields a proxy must not touch.
const SMALL: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\
    Content-Length: 26\r\nX-Origin: the-test\r\nSet-Cookie: a=1; Path=/\r\n\r\n\
    hello through the proxy \xc3\xa9";

/// The proxy under test; killed when the test ends.
struct Proxy {
    server: Running,
    port: u16,
}

fn proxy() -> Proxy {
    let port = free_tcp_port();
    let server = Running::start("web-proxy", &[&port.to_string()]);
    wait_until_listening(port);
    Proxy { server, port }
}

/// An origin server on loopback, serving every connection in its own thread until the
/// test ends.
struct Origin {
    port: u16,
    /// Each request head the origin received, in the order they were complete.
    requests: Receiver<Vec<u8>>,
}

impl Origin {
    /// The next request head the origin received.
    fn next_request(&self) -> String {
        let head = self
            .requests
            .recv_timeout(CLIENT_LIMIT)
            .expect("the origin received no request");
        String::from_utf8(head).unwrap()
    }
}

/// An origin that answers every request with `response`, `delay` after the request head.
fn origin(response: Vec<u8>, delay: Duration) -> Origin {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, requests) = mpsc::channel();
    let response = Arc::new(response);
    std::thread::spawn(move || {
        // Every connection, for as long as the test runs; one thread each, so that a
        // delayed answer holds up no other request.
        for stream in listener.incoming().flatten() {
            let (sender, response) = (sender.clone(), Arc::clone(&response));
            std::thread::spawn(move || answer(stream, &response, delay, &sender));
        }
    });
    Origin { port, requests }
}

/// Reads one request head, records it, waits `delay`, sends `response` and closes.
fn answer(mut stream: TcpStream, response: &[u8], delay: Duration, sender: &Sender<Vec<u8>>) {
    stream.set_read_timeout(Some(CLIENT_LIMIT)).unwrap();
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    // Until the blank line: the proxy may send the head in several pieces.
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let _ = sender.send(head);
    std::thread::sleep(delay);
    let _ = stream.write_all(response);
    // Dropping the stream closes it: with `Connection: close`, the end of the response.
}

/// A port nothing listens on (it was free a moment ago).
fn closed_port() -> u16 {
    free_tcp_port()
}

/// A raw TCP connection to the proxy, with a bound on every read.
fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(CLIENT_LIMIT)).unwrap();
    stream
}

/// Sends `request` to the proxy on a new connection; returns every byte it sends back,
/// until it closes.
fn exchange(port: u16, request: &[u8]) -> Vec<u8> {
    let mut stream = connect(port);
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    response
}

/// `GET url` through the proxy, as a browser configured to use it sends it.
fn get(proxy: u16, url: &str) -> Vec<u8> {
    let request = format!(
        "GET {url} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: proxy-test\r\n\
         Proxy-Connection: keep-alive\r\n\r\n"
    );
    exchange(proxy, request.as_bytes())
}

/// A response, taken apart.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

fn parse(raw: &[u8]) -> Response {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let Ok(httparse::Status::Complete(head_length)) = response.parse(raw) else {
        panic!(
            "not a complete response: {:?}",
            String::from_utf8_lossy(raw)
        );
    };
    Response {
        status: response.code.unwrap(),
        headers: response
            .headers
            .iter()
            .map(|header| {
                let value = String::from_utf8_lossy(header.value).into_owned();
                (header.name.to_owned(), value)
            })
            .collect(),
        body: raw[head_length..].to_vec(),
    }
}

/// Checks `raw` is an HTML error page with `status` whose length is announced right.
fn assert_error_page(raw: &[u8], status: u16) {
    let response = parse(raw);
    assert_eq!(response.status, status);
    assert!(
        response
            .header("Content-Type")
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(
        response.header("Content-Length").unwrap(),
        response.body.len().to_string()
    );
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(response.body.starts_with(b"<!DOCTYPE html>"));
}

/// `length` bytes of every value, in an order that is not a pattern a bug could keep.
fn binary(length: usize) -> Vec<u8> {
    let mut state: u32 = 0x2545_f491;
    (0..length)
        .map(|_| {
            // xorshift32: cheap, deterministic, covers every byte value.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect()
}

/// SPEC proxy/1: status line, header fields and body, exactly as the origin sent them.
#[test]
fn relays_a_response_with_its_headers_and_body_byte_exact() {
    let proxy = proxy();
    let origin = origin(SMALL.to_vec(), Duration::ZERO);
    let url = format!("http://127.0.0.1:{}/hello.txt", origin.port);
    assert!(get(proxy.port, &url) == SMALL, "the response differs");
}

/// SPEC proxy/1: binary-safe, and a response larger than any buffer.
#[test]
fn relays_a_one_megabyte_binary_body_byte_exact() {
    let proxy = proxy();
    let body = binary(1 << 20);
    let mut response = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
        Content-Length: 1048576\r\n\r\n"
        .to_vec();
    response.extend_from_slice(&body);
    let origin = origin(response.clone(), Duration::ZERO);
    let url = format!("http://127.0.0.1:{}/data.bin", origin.port);
    let relayed = get(proxy.port, &url);
    assert_eq!(relayed.len(), response.len());
    assert!(relayed == response, "the bytes differ");
}

/// SPEC proxy/1: the origin is asked in origin form, with the URL's `Host`, for one
/// response only, and without the client's hop-by-hop fields.
#[test]
fn the_origin_gets_origin_form_with_host_and_connection_close() {
    let proxy = proxy();
    let origin = origin(SMALL.to_vec(), Duration::ZERO);
    let url = format!("http://127.0.0.1:{}/docs/page.html?lang=en", origin.port);
    get(proxy.port, &url);
    let request = origin.next_request();
    assert!(
        request.starts_with("GET /docs/page.html?lang=en HTTP/1.1\r\n"),
        "{request}"
    );
    let fields: Vec<&str> = request.split("\r\n").skip(1).collect();
    assert!(
        fields.contains(&format!("Host: 127.0.0.1:{}", origin.port).as_str()),
        "{request}"
    );
    assert!(fields.contains(&"Connection: close"), "{request}");
    assert!(fields.contains(&"User-Agent: proxy-test"), "{request}");
    let count = |name: &str| {
        fields
            .iter()
            .filter(|field| field.to_ascii_lowercase().starts_with(name))
            .count()
    };
    assert_eq!(count("host:"), 1, "{request}");
    assert_eq!(count("connection:"), 1, "{request}");
    assert_eq!(count("proxy-connection:"), 0, "{request}");
    assert!(request.ends_with("\r\n\r\n"), "{request}");
}

/// SPEC proxy/3.
#[test]
fn an_origin_that_is_down_gets_502_with_a_body() {
    let proxy = proxy();
    let url = format!("http://127.0.0.1:{}/", closed_port());
    assert_error_page(&get(proxy.port, &url), 502);
}

/// SPEC proxy/2: the spec's own bound, for two requests to an origin that answers each
/// 1 s after it arrives. One at a time would take 2 s.
#[test]
fn two_requests_to_a_slow_origin_are_served_at_the_same_time() {
    let proxy = proxy();
    let origin = origin(SMALL.to_vec(), Duration::from_secs(1));
    let url = format!("http://127.0.0.1:{}/slow", origin.port);
    let started = Instant::now();
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let (port, url) = (proxy.port, url.clone());
            std::thread::spawn(move || get(port, &url))
        })
        .collect();
    for client in clients {
        assert!(client.join().unwrap() == SMALL, "a response differs");
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}: not slow?");
    assert!(
        elapsed < Duration::from_millis(1900),
        "two slow requests took {elapsed:?}: served one after the other?"
    );
}

/// SPEC web/6 applied to the proxy: garbage is a 400, never a crash, and the proxy
/// goes on serving.
#[test]
fn a_garbage_request_gets_400_and_the_proxy_still_serves() {
    let mut proxy = proxy();
    assert_error_page(&exchange(proxy.port, b"HELLO THERE\r\n\r\n"), 400);
    assert_error_page(&exchange(proxy.port, b"\x00\xff\xfe garbage\n\n"), 400);
    assert_error_page(
        &exchange(proxy.port, b"GET /index.html HTTP/1.1\r\n\r\n"),
        400,
    );
    assert_error_page(
        &exchange(proxy.port, b"GET http://:80/ HTTP/1.1\r\n\r\n"),
        400,
    );
    let origin = origin(SMALL.to_vec(), Duration::ZERO);
    let url = format!("http://127.0.0.1:{}/", origin.port);
    assert!(get(proxy.port, &url) == SMALL);
    assert!(proxy.server.is_running());
}

#[test]
fn other_methods_and_https_get_501() {
    let proxy = proxy();
    let table: [&[u8]; 3] = [
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        b"GET https://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
        b"POST http://example.com/form HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    ];
    for request in table {
        assert_error_page(&exchange(proxy.port, request), 501);
    }
}

/// After clients that vanish, half-close or stay silent, the proxy still serves.
#[test]
fn the_proxy_keeps_serving_after_bad_clients() {
    let mut proxy = proxy();
    let origin = origin(SMALL.to_vec(), Duration::ZERO);
    let url = format!("http://127.0.0.1:{}/", origin.port);
    // A client that vanishes mid-request.
    let mut vanishing = connect(proxy.port);
    vanishing.write_all(b"GET http://127.0.0.1:").unwrap();
    drop(vanishing);
    // A client that half-closes mid-request: it is told 400.
    let mut half = connect(proxy.port);
    half.write_all(b"GET http://127.0.0.1/ HT").unwrap();
    half.shutdown(Shutdown::Write).unwrap();
    let mut response = Vec::new();
    half.read_to_end(&mut response).unwrap();
    assert_error_page(&response, 400);
    // A silent client holds its own task only.
    let _silent = connect(proxy.port);
    assert!(get(proxy.port, &url) == SMALL);
    assert!(proxy.server.is_running());
}

#[test]
fn on_a_port_in_use_it_fails_on_stderr() {
    let held = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = held.local_addr().unwrap().port();
    assert_cmd::Command::cargo_bin("web-proxy")
        .unwrap()
        .arg(port.to_string())
        .timeout(CLIENT_LIMIT)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(format!("cannot bind port {port}")));
}
