//! The web server (`web-server`) as a user runs it, on loopback: SPEC clauses
//! `web/1`–`web/6`.
//!
//! Each test builds a site in a temporary folder, with a secret file *next to* the root
//! that no request may ever reveal:
//!
//! ```text
//! <tmp>/root/index.html  hello.txt  data.bin  docs/index.html  hello world.txt
//! <tmp>/secret.txt
//! ```

use crate::common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use predicates::prelude::*;

use common::{Running, free_tcp_port, wait_until_listening};

/// How long any one exchange may take.
const CLIENT_LIMIT: Duration = Duration::from_secs(10);

const SECRET: &str = "TOP SECRET: outside the web root\n";
const HELLO: &str = "hello, world\nsecond line, é\n";
const INDEX: &str = "<!DOCTYPE html><html><body><p>home</p></body></html>\n";

/// A site and the server serving it; both go away when the test ends.
struct Site {
    _folder: tempfile::TempDir,
    server: Running,
    port: u16,
}

fn site() -> Site {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path().join("root");
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::write(root.join("index.html"), INDEX).unwrap();
    std::fs::write(root.join("hello.txt"), HELLO).unwrap();
    std::fs::write(root.join("hello world.txt"), "spaced\n").unwrap();
    std::fs::write(root.join("docs").join("index.html"), "<p>docs</p>\n").unwrap();
    std::fs::write(root.join("data.bin"), binary(1 << 20)).unwrap();
    std::fs::write(folder.path().join("secret.txt"), SECRET).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(folder.path().join("secret.txt"), root.join("link.txt")).unwrap();
    let port = free_tcp_port();
    let server = Running::start(
        "web-server",
        &[&port.to_string(), "--root", root.to_str().unwrap()],
    );
    wait_until_listening(port);
    Site {
        _folder: folder,
        server,
        port,
    }
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

    fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `request` on a new connection and reads the response until the server closes.
fn exchange(port: u16, request: &[u8]) -> Response {
    let mut stream = connect(port);
    stream.write_all(request).unwrap();
    read_response(stream)
}

/// A raw TCP connection to the server, with a bound on every read.
fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(CLIENT_LIMIT)).unwrap();
    stream
}

/// Reads until the server closes, then parses the head (with `httparse`, as a client).
fn read_response(mut stream: TcpStream) -> Response {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(head_length) = response.parse(&raw).unwrap() else {
        panic!("incomplete response: {:?}", String::from_utf8_lossy(&raw));
    };
    Response {
        status: response.code.unwrap(),
        headers: response
            .headers
            .iter()
            .map(|header| {
                let value = String::from_utf8(header.value.to_vec()).unwrap();
                (header.name.to_owned(), value)
            })
            .collect(),
        body: raw[head_length..].to_vec(),
    }
}

fn get(port: u16, target: &str) -> Response {
    let request = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    exchange(port, request.as_bytes())
}

/// Checks a response is an HTML page with `status` whose length is announced right.
fn assert_error_page(response: &Response, status: u16) {
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
    assert!(response.body_text().starts_with("<!DOCTYPE html>"));
}

#[test]
fn serves_a_text_file_with_its_headers_and_exact_bytes() {
    let site = site();
    let response = get(site.port, "/hello.txt");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("Content-Length"),
        Some(HELLO.len().to_string().as_str())
    );
    assert_eq!(
        response.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(response.header("Connection"), Some("close"));
    assert_eq!(response.body, HELLO.as_bytes());
}

#[test]
fn serves_a_one_megabyte_binary_file_byte_exact() {
    let site = site();
    let response = get(site.port, "/data.bin");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("Content-Length"), Some("1048576"));
    assert_eq!(
        response.header("Content-Type"),
        Some("application/octet-stream")
    );
    assert!(response.body == binary(1 << 20), "the body differs");
}

#[test]
fn serves_index_html_for_a_folder() {
    let site = site();
    let home = get(site.port, "/");
    assert_eq!(home.status, 200);
    assert_eq!(
        home.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(home.body, INDEX.as_bytes());
    assert_eq!(get(site.port, "/docs/").body, b"<p>docs</p>\n");
}

#[test]
fn decodes_escapes_and_ignores_the_query() {
    let site = site();
    assert_eq!(get(site.port, "/hello%20world.txt").body, b"spaced\n");
    assert_eq!(get(site.port, "/hello.txt?lang=en").body, HELLO.as_bytes());
}

#[test]
fn a_missing_file_gets_404_with_an_html_body() {
    let site = site();
    let response = get(site.port, "/no-such-page.html");
    assert_error_page(&response, 404);
    assert!(response.body_text().contains("404 Not Found"));
}

#[test]
fn a_missing_file_named_like_markup_is_not_echoed() {
    let site = site();
    let response = get(site.port, "/%3Cscript%3Ealert(1)%3C/script%3E");
    assert_error_page(&response, 404);
    assert!(!response.body_text().contains("<script>"));
}

#[test]
fn head_gets_the_headers_without_the_body() {
    let site = site();
    let response = exchange(site.port, b"HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("Content-Length"),
        Some(HELLO.len().to_string().as_str())
    );
    assert!(response.body.is_empty());
}

/// SPEC web/3: one byte per segment (no Nagle delay, a pause between writes), which the
/// handout's single `recv(1024)` would take for the whole request.
#[test]
fn a_request_sent_one_byte_at_a_time_is_answered() {
    let site = site();
    let mut stream = connect(site.port);
    stream.set_nodelay(true).unwrap();
    for byte in b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n" {
        stream.write_all(&[*byte]).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    let response = read_response(stream);
    assert_eq!(response.status, 200);
    assert_eq!(response.body, HELLO.as_bytes());
}

/// SPEC web/5: traversal, encoded or not, and absolute paths never reveal the secret.
#[test]
fn traversal_attempts_never_return_the_secret() {
    let site = site();
    let attempts = [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/..%5csecret.txt",
        "/docs/../../secret.txt",
        "//etc/passwd",
        "/../../../../../../etc/passwd",
        "../secret.txt",
        "http://localhost/../secret.txt",
        "/secret.txt%00.html",
        #[cfg(unix)]
        "/link.txt",
    ];
    for target in attempts {
        let response = get(site.port, target);
        assert!(
            [400, 403, 404].contains(&response.status),
            "{target}: status {}",
            response.status
        );
        let body = response.body_text();
        assert!(!body.contains("TOP SECRET"), "{target} revealed the secret");
        assert!(
            !body.contains("root:x:0:0"),
            "{target} revealed /etc/passwd"
        );
    }
}

#[test]
fn dot_dot_is_forbidden_and_the_absolute_path_is_under_the_root() {
    let site = site();
    assert_error_page(&get(site.port, "/../secret.txt"), 403);
    assert_error_page(&get(site.port, "/%2e%2e/secret.txt"), 403);
    // "//etc/passwd" is "etc/passwd" under the root, which has none.
    assert_error_page(&get(site.port, "//etc/passwd"), 404);
}

/// SPEC web/5: a head over 16 KiB (20 KiB of header fields here) is refused, and the
/// client gets the answer, not a reset (the server reads the rest before closing).
#[test]
fn oversized_headers_get_431() {
    let site = site();
    let mut request = b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n".to_vec();
    for field in 0..100 {
        request
            .extend_from_slice(format!("X-Filler-{field:03}: {}\r\n", "a".repeat(190)).as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    assert!(request.len() > 20 * 1024);
    let response = exchange(site.port, &request);
    assert_error_page(&response, 431);
}

#[test]
fn too_many_header_fields_get_431() {
    let site = site();
    let mut request = b"GET /hello.txt HTTP/1.1\r\n".to_vec();
    for field in 0..100 {
        request.extend_from_slice(format!("X-{field}: y\r\n").as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    assert_error_page(&exchange(site.port, &request), 431);
}

/// SPEC web/6.
#[test]
fn a_garbage_request_gets_400() {
    let site = site();
    assert_error_page(&exchange(site.port, b"HELLO THERE\r\n\r\n"), 400);
    assert_error_page(&exchange(site.port, b"\x00\xff\xfe garbage\n\n"), 400);
}

/// SPEC web/6: and nothing is written.
#[test]
fn post_gets_501() {
    let site = site();
    let request = b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
    assert_error_page(&exchange(site.port, request), 501);
    assert_eq!(get(site.port, "/hello.txt").body, HELLO.as_bytes());
}

/// SPEC web/4: after every kind of bad client, the server is still there and serving.
#[test]
fn the_server_keeps_serving_after_bad_clients() {
    let mut site = site();
    // Bad requests.
    assert_eq!(exchange(site.port, b"HELLO THERE\r\n\r\n").status, 400);
    assert_eq!(
        exchange(site.port, b"DELETE / HTTP/1.1\r\n\r\n").status,
        501
    );
    assert_eq!(get(site.port, "/../secret.txt").status, 403);
    // A client that vanishes mid-request.
    let mut vanishing = connect(site.port);
    vanishing.write_all(b"GET /hello.t").unwrap();
    drop(vanishing);
    // A client that half-closes mid-request: it is told 400.
    let mut half = connect(site.port);
    half.write_all(b"GET /hello.txt HT").unwrap();
    half.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_response(half).status, 400);
    // A client that disconnects mid-response, after a few bytes of the 1 MiB file.
    let mut impatient = connect(site.port);
    impatient
        .write_all(b"GET /data.bin HTTP/1.1\r\n\r\n")
        .unwrap();
    let mut start = [0u8; 100];
    impatient.read_exact(&mut start).unwrap();
    drop(impatient);
    // A silent client holds its own task only.
    let _silent = connect(site.port);
    // Several at once, then the server is still running.
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let port = site.port;
            std::thread::spawn(move || get(port, "/hello.txt"))
        })
        .collect();
    for client in clients {
        let response = client.join().unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, HELLO.as_bytes());
    }
    assert!(site.server.is_running());
}

#[test]
fn on_a_port_in_use_it_fails_on_stderr() {
    let held = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let root = tempfile::tempdir().unwrap();
    assert_cmd::Command::cargo_bin("web-server")
        .unwrap()
        .args([&port.to_string(), "--root", path_text(root.path())])
        .timeout(CLIENT_LIMIT)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(format!("cannot bind port {port}")));
}

#[test]
fn a_root_that_does_not_exist_fails_on_stderr() {
    let folder = tempfile::tempdir().unwrap();
    let missing = folder.path().join("missing");
    assert_cmd::Command::cargo_bin("web-server")
        .unwrap()
        .args([&free_tcp_port().to_string(), "--root", path_text(&missing)])
        .timeout(CLIENT_LIMIT)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("cannot serve"));
}

fn path_text(path: &Path) -> &str {
    path.to_str().unwrap()
}
