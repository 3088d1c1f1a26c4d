//! The request the proxy sends the origin server, made from the one the client sent it.
//!
//! ```text
//! from the client                             to the origin
//! GET http://example.com:8080/a?b HTTP/1.1    GET /a?b HTTP/1.1           origin form
//! Host: example.com:8080                      User-Agent: curl/8.5.0      end-to-end fields,
//! User-Agent: curl/8.5.0                      Accept: */*                   as they came
//! Accept: */*                                 Host: example.com:8080      from the URL
//! Proxy-Connection: Keep-Alive                Connection: close           one response only
//!                                             (blank line)
//! ```
//!
//! The rules (RFC 9110 §7.6, "Message Forwarding"):
//!
//! - The request line names the path only (RFC 9112 §3.2.1): the origin knows it is the
//!   host; the version is the proxy's own, HTTP/1.1 (RFC 9110 §6.2), whatever the client's.
//! - *Hop-by-hop* header fields describe one connection, the client's to the proxy, and
//!   are not forwarded (RFC 9110 §7.6.1): `Connection` and the fields it names,
//!   `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`,
//!   and `Proxy-Authorization` (credentials meant for this proxy, not for the origin).
//! - `Host` is replaced by the URL's host and port (RFC 9112 §3.2.2: a proxy ignores the
//!   `Host` it received and uses the target URL's).
//! - `Connection: close` asks the origin to close the connection after its response
//!   (RFC 9112 §9.6). The proxy then knows the response has ended when the origin closes,
//!   and relays bytes without having to understand the response's framing.
//! - No body is forwarded, so `Content-Length` is not either: a GET's body has no
//!   meaning (RFC 9110 §9.3.1), and announcing bytes that never come would leave the
//!   origin waiting for them.
//!
//! Shortcut: a real proxy also adds a `Via` header field (RFC 9110 §7.6.3), which among
//! other things lets it notice a request that loops back to itself. This one is left out
//! to keep the forwarded request as the lab describes it.

use crate::web_server::head::HeaderField;

use super::target::Target;

/// The header fields that concern one connection only (RFC 9110 §7.6.1), and
/// `Proxy-Authorization` (RFC 9110 §11.7.1: for the proxy that asks for it).
pub const HOP_BY_HOP: &[&str] = &[
    "Connection",
    "Keep-Alive",
    "Proxy-Connection",
    "Proxy-Authorization",
    "TE",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
];

/// The header fields the proxy writes itself, or not at all, whatever the client sent:
/// `Host` from the URL, `Content-Length` because no body is forwarded.
const REPLACED: &[&str] = &["Host", "Content-Length"];

/// The whole request head for the origin: request line, the client's end-to-end header
/// fields in their order, `Host`, `Connection: close`, and the blank line.
///
/// Bytes, not text: header values may hold bytes that are not UTF-8, passed on unchanged.
pub fn origin_request(target: &Target, fields: &[HeaderField]) -> Vec<u8> {
    let named_by_connection = connection_options(fields);
    let mut request = format!("GET {} HTTP/1.1\r\n", target.path).into_bytes();
    // Each of the client's fields, in order, unless it is for this hop only.
    for field in fields {
        let name = field.name.as_str();
        let dropped = HOP_BY_HOP
            .iter()
            .chain(REPLACED)
            .any(|hop| hop.eq_ignore_ascii_case(name))
            || named_by_connection
                .iter()
                .any(|option| option.eq_ignore_ascii_case(name));
        if dropped {
            continue;
        }
        request.extend_from_slice(name.as_bytes());
        request.extend_from_slice(b": ");
        request.extend_from_slice(&field.value);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(format!("Host: {}\r\n", target.authority()).as_bytes());
    request.extend_from_slice(b"Connection: close\r\n\r\n");
    request
}

/// The field names listed in the client's `Connection` fields: `Connection: keep-alive,
/// X-Session` makes `X-Session` hop-by-hop too (RFC 9110 §7.6.1).
fn connection_options(fields: &[HeaderField]) -> Vec<String> {
    fields
        .iter()
        .filter(|field| field.name.eq_ignore_ascii_case("Connection"))
        // A comma-separated list (RFC 9110 §5.6.1), maybe spread over several fields.
        .flat_map(|field| {
            String::from_utf8_lossy(&field.value)
                .split(',')
                .map(|option| option.trim().to_owned())
                .filter(|option| !option.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    fn target(host: &str, port: u16, path: &str) -> Target {
        Target {
            host: host.into(),
            port,
            path: path.into(),
        }
    }

    fn fields(list: &[(&str, &[u8])]) -> Vec<HeaderField> {
        list.iter()
            .map(|(name, value)| HeaderField {
                name: (*name).into(),
                value: value.to_vec(),
            })
            .collect()
    }

    #[test]
    fn the_request_line_is_in_origin_form_with_host_and_close() {
        let request = origin_request(&target("127.0.0.1", 8080, "/a?b=1"), &[]);
        assert_eq!(
            request,
            b"GET /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn end_to_end_fields_are_kept_in_order_and_byte_exact() {
        let client = fields(&[
            ("User-Agent", b"curl/8.5.0"),
            ("Accept", b"*/*"),
            ("X-Latin", b"caf\xe9"),
            ("Cookie", b"a=1; b=2"),
        ]);
        let request = origin_request(&target("example.com", 80, "/"), &client);
        assert_eq!(
            request,
            b"GET / HTTP/1.1\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nX-Latin: caf\xe9\r\n\
              Cookie: a=1; b=2\r\nHost: example.com\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn hop_by_hop_host_and_length_fields_are_not_forwarded_whatever_their_case() {
        let client = fields(&[
            ("host", b"elsewhere.example"),
            ("Connection", b"keep-alive"),
            ("Keep-Alive", b"timeout=5"),
            ("PROXY-CONNECTION", b"Keep-Alive"),
            ("Proxy-Authorization", b"Basic c2VjcmV0"),
            ("te", b"trailers"),
            ("Trailer", b"X-Checksum"),
            ("Transfer-Encoding", b"chunked"),
            ("Upgrade", b"websocket"),
            ("Content-Length", b"5"),
            ("Accept", b"text/html"),
        ]);
        let request = origin_request(&target("::1", 8080, "/"), &client);
        assert_eq!(
            String::from_utf8(request).unwrap(),
            "GET / HTTP/1.1\r\nAccept: text/html\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn fields_named_by_connection_are_hop_by_hop_too() {
        let client = fields(&[
            ("Connection", b"keep-alive, X-Session"),
            ("connection", b" x-trace ,"),
            ("X-Session", b"42"),
            ("X-Trace", b"on"),
            ("X-Kept", b"yes"),
        ]);
        let request = origin_request(&target("example.com", 80, "/"), &client);
        assert_eq!(
            String::from_utf8(request).unwrap(),
            "GET / HTTP/1.1\r\nX-Kept: yes\r\nHost: example.com\r\nConnection: close\r\n\r\n"
        );
    }
}
