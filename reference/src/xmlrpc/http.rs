//! One connection of the XML-RPC server, on a blocking socket: read the request head, say
//! no as early as possible (wrong method or path, no credentials, a body too large), read
//! the body, answer, close (SPEC rpc/1, rpc/3, rpc/4).
//!
//! ```text
//! client                                          server thread
//!   POST /RPC2 HTTP/1.1\r\n               ---->   read_head: lines up to the blank line,
//!   Content-Type: text/xml\r\n                      16 KiB at most, parsed by httparse
//!   Content-Length: 181\r\n                       check the method, the path,
//!   Authorization: Basic c3R1ZGVudDpzM2NyZXQ=\r\n   the credentials (401 now, before the body)
//!   \r\n                                          and the length (413 now, over 1 MiB)
//!   <?xml ...><methodCall>...</methodCall> ---->  read exactly 181 bytes, parse, dispatch
//!                                         <----   HTTP/1.1 200 OK, Content-Length, the
//!                                                   <methodResponse>, Connection: close
//! ```
//!
//! One request per connection, as Python's `SimpleXMLRPCServer` does (HTTP/1.0): the
//! response says `Connection: close`, and `xmlrpc.client` opens a new connection for the
//! next call. After answering, the server stops sending (`shutdown(Write)`) and reads what
//! the client still sends, without keeping it, until it closes: closing a socket with
//! unread bytes in it sends a reset, which can destroy the answer before the client reads
//! it (a refused 2 MiB body, a 401 sent before the body).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use base64::Engine as _;

use super::message::{Call, Response};
use super::methods;
use crate::web_server::head::{Head, MAX_HEAD, Parsed, Request, parse_head};

/// The largest request body read (SPEC rpc/4): a larger one is refused with 413 and
/// thrown away as it comes, never stored.
pub const MAX_BODY: u64 = 1024 * 1024;

/// The most bytes thrown away after an answer before the connection is closed anyway.
const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;

/// How long the server waits for a client to close after the answer.
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// How often a client must send something while its request arrives: a client that
/// stops for a minute in the middle of its request is given up.
const IDLE_LIMIT: Duration = Duration::from_secs(60);

/// Serves one connection: one request, its answer. `auth`: the `USER:PASS` the client
/// must present, if the server was started with `--auth`.
pub fn serve_connection(stream: TcpStream, auth: Option<&str>) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE_LIMIT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let request = match read_head(&mut reader)? {
        Head::Request(request) => request,
        // Closed before a whole head: nobody to answer.
        Head::Nothing | Head::Truncated { .. } => return Ok(()),
        Head::Refused(status) => {
            let answer = Answer::empty(status.code(), status.reason());
            return answer.send_and_close(&mut writer, &mut reader);
        }
    };
    let answer = match refusal(&request, auth) {
        Some(refused) => refused,
        None => {
            let length = content_length(&request);
            match length {
                Ok(length) if length <= MAX_BODY => {
                    // Now, and only now, the body is read: it is at most 1 MiB.
                    let mut body = vec![0; length as usize];
                    match reader.read_exact(&mut body) {
                        Ok(()) => Answer::xml(&answer_call(&body)),
                        // The client left before its body was whole.
                        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                        Err(error) => return Err(error),
                    }
                }
                // SPEC rpc/4: refused before a byte of the body is read.
                Ok(length) => Answer::empty(413, "Content Too Large").note(&format!(
                    "a body of {length} bytes; this server reads at most {MAX_BODY}"
                )),
                Err(refused) => refused,
            }
        }
    };
    answer.send_and_close(&mut writer, &mut reader)
}

/// The response to a request body (SPEC rpc/1, rpc/4): the method's value or a fault,
/// always with HTTP status 200.
pub fn answer_call(body: &[u8]) -> String {
    let response = match Call::parse(body) {
        Ok(call) => match methods::dispatch(&call.method, &call.params) {
            Ok(value) => Response::Value(value),
            Err(fault) => Response::Fault(fault),
        },
        Err(fault) => Response::Fault(fault),
    };
    response.to_xml()
}

/// Why a request is refused before its body is read, if it is: the method, the path,
/// the credentials (SPEC rpc/3: checked before anything runs, so a refused `sleep(3)`
/// is answered at once).
fn refusal(request: &Request, auth: Option<&str>) -> Option<Answer> {
    if request.method != "POST" {
        return Some(
            Answer::empty(405, "Method Not Allowed")
                .header("Allow: POST")
                .note("XML-RPC calls are POST requests"),
        );
    }
    if request.target != "/RPC2" && request.target != "/" {
        return Some(Answer::empty(404, "Not Found").note("XML-RPC is served at /RPC2 and /"));
    }
    match auth {
        Some(expected) if !authorized(request, expected) => Some(
            Answer::empty(401, "Unauthorized")
                .header("WWW-Authenticate: Basic realm=\"xmlrpc\"")
                .note("this server needs HTTP Basic credentials"),
        ),
        _ => None,
    }
}

/// Whether the request carries `Authorization: Basic base64(USER:PASS)` with the right
/// `USER:PASS` (RFC 7617 §2), compared in constant time (`password::matches`).
fn authorized(request: &Request, expected: &str) -> bool {
    let Some(field) = header(request, "authorization") else {
        return false;
    };
    let value = String::from_utf8_lossy(field);
    let mut words = value.split_ascii_whitespace();
    let (Some(scheme), Some(encoded), None) = (words.next(), words.next(), words.next()) else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    match base64::engine::general_purpose::STANDARD.decode(encoded) {
        Ok(credentials) => crate::password::matches(&credentials, expected.as_bytes()),
        Err(_) => false,
    }
}

/// The declared body length, or the answer that refuses the request without one.
fn content_length(request: &Request) -> Result<u64, Answer> {
    if header(request, "transfer-encoding").is_some() {
        return Err(Answer::empty(411, "Length Required")
            .note("send the body with a Content-Length, not in chunks"));
    }
    match header(request, "content-length") {
        None => Err(Answer::empty(411, "Length Required").note("a POST needs a Content-Length")),
        Some(value) => std::str::from_utf8(value)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .ok_or_else(|| {
                Answer::empty(400, "Bad Request").note("Content-Length is not a number")
            }),
    }
}

fn header<'r>(request: &'r Request, name: &str) -> Option<&'r [u8]> {
    request
        .headers
        .iter()
        .find(|field| field.name.eq_ignore_ascii_case(name))
        .map(|field| field.value.as_slice())
}

/// Reads a request head line by line, 16 KiB at most (`read_until` returns once a line
/// is whole, however the bytes were cut), and parses it with the web server's parser.
fn read_head(reader: &mut impl BufRead) -> io::Result<Head> {
    let mut head = Vec::new();
    let mut bounded = reader.take(MAX_HEAD as u64);
    loop {
        let start = head.len();
        if bounded.read_until(b'\n', &mut head)? == 0 {
            return Ok(match head.len() {
                0 => Head::Nothing,
                full if full >= MAX_HEAD => {
                    Head::Refused(crate::web_server::response::Status::RequestHeaderFieldsTooLarge)
                }
                received => Head::Truncated { received },
            });
        }
        if matches!(&head[start..], b"\r\n" | b"\n") {
            match parse_head(&head) {
                Parsed::Complete(request) => return Ok(Head::Request(request)),
                // Blank lines before the request line are skipped (RFC 9112 §2.2).
                Parsed::Partial => continue,
                Parsed::Invalid(status) => return Ok(Head::Refused(status)),
            }
        }
    }
}

/// An HTTP response about to be sent.
struct Answer {
    status: u16,
    reason: &'static str,
    headers: Vec<String>,
    content_type: &'static str,
    body: Vec<u8>,
}

impl Answer {
    /// `200 OK` with an XML-RPC response.
    fn xml(body: &str) -> Answer {
        Answer {
            status: 200,
            reason: "OK",
            headers: Vec::new(),
            content_type: "text/xml",
            body: body.as_bytes().to_vec(),
        }
    }

    /// A refusal, with no XML-RPC in it.
    fn empty(status: u16, reason: &'static str) -> Answer {
        Answer {
            status,
            reason,
            headers: Vec::new(),
            content_type: "text/plain; charset=utf-8",
            body: Vec::new(),
        }
    }

    fn header(mut self, line: &str) -> Answer {
        self.headers.push(line.to_owned());
        self
    }

    /// A line of text in the body, for a person reading it with `curl`.
    fn note(mut self, text: &str) -> Answer {
        self.body = format!("{} {}: {text}\n", self.status, self.reason).into_bytes();
        self
    }

    /// Sends the answer, then reads and drops what the client still sends until it closes
    /// (or [`DRAIN_LIMIT`] bytes, or [`DRAIN_TIME`] of silence).
    fn send_and_close(self, writer: &mut TcpStream, reader: &mut impl Read) -> io::Result<()> {
        let mut bytes = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason);
        for line in &self.headers {
            bytes += line;
            bytes += "\r\n";
        }
        bytes += &format!(
            "Server: xmlrpc-server (socket-lab reference)\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.content_type,
            self.body.len()
        );
        let mut bytes = bytes.into_bytes();
        bytes.extend_from_slice(&self.body);
        // `write_all` loops: one `write` may take only part of the answer.
        writer.write_all(&bytes)?;
        writer.shutdown(Shutdown::Write)?;
        writer.set_read_timeout(Some(DRAIN_TIME))?;
        // Thrown away as it comes: a 2 MiB body costs 8 KiB of buffer, not 2 MiB.
        let _ = io::copy(&mut reader.take(DRAIN_LIMIT), &mut io::sink());
        Ok(())
    }
}
