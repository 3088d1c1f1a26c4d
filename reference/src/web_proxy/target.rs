//! From the request target a client sends a proxy (`http://example.com:8080/docs/?q=1`) to
//! the origin server to connect to and the path to ask it for, or the status that refuses
//! it.
//!
//! A browser talking to a server sends the path only (`GET /docs/ HTTP/1.1`, the *origin
//! form*); talking to a proxy it sends the whole URL (the *absolute form*, RFC 9112
//! §3.2.2): the URL is how the proxy learns where to go (SPEC `proxy/1`).
//!
//! ```text
//! http://example.com:8080/docs/?q=1#top
//! \__/   \_________/ \__/\_______/\__/
//! scheme    host     port    path  fragment
//!
//! scheme  "http", in any case (RFC 3986 §3.1)    "https" -> 501, anything else -> 400
//! host    a name or an IPv4 address: letters, digits, "-", ".", "_"
//!         or an IPv6 address in brackets: "[::1]" (the brackets keep its colons apart
//!         from the port's; the address connected to is "::1")
//!         empty -> 400, "user:password@host" -> 400 (RFC 9110 §4.2.4)
//! port    decimal digits, 1 to 65535; absent or empty -> 80 (RFC 9110 §4.2.1)
//! path    from the first "/" or "?" on, query included; absent -> "/" (RFC 9112 §3.2.1)
//! fragment  dropped: it names a place in the page, for the browser only
//! ```
//!
//! The path is passed on as it came, escapes and all: what it means is the origin's
//! business, and decoding it here could change it (`%2F` is not `/`). Unlike the file
//! server's target (`web_server::target`), nothing is opened from it on this machine.
//!
//! The parser is written by hand, carefully, rather than with a URL crate: the URL
//! grammar a proxy meets is small, and each rule above is a line below. It is a pure
//! function, tested on its own with a table of targets.

use std::net::Ipv6Addr;

use crate::web_server::Status;

/// The port of `http://` URLs that name none (RFC 9110 §4.2.1).
pub const DEFAULT_PORT: u16 = 80;

/// Where a request goes: the origin server, and what to ask it for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The origin's host as `connect` takes it: a name (`example.com`), an IPv4 address
    /// (`127.0.0.1`), or an IPv6 address without its brackets (`::1`).
    pub host: String,
    /// The origin's port (80 when the URL names none).
    pub port: u16,
    /// The target in origin form, to send the origin: `/docs/?q=1`; never empty.
    pub path: String,
}

impl Target {
    /// The host and port as a URL writes them, and as the `Host` header field carries
    /// them (RFC 9110 §7.2): `example.com`, `example.com:8080`, `[::1]:8080`. The port is
    /// left out when it is the default, 80.
    pub fn authority(&self) -> String {
        // An IPv6 address is the only host with colons, and needs its brackets back.
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == DEFAULT_PORT {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// Parses an absolute-form request target: `http://host[:port][/path]`.
///
/// Errors are the status to answer: 501 for an `https://` URL (this proxy does not speak
/// TLS), 400 for anything else that is not an `http://` URL naming a host.
pub fn parse_target(target: &str) -> Result<Target, Status> {
    // SPEC proxy/1: the absolute form. An origin-form path ("/index.html") names no
    // server to go to, and "host:443" is CONNECT's form, refused before this.
    let Some((scheme, rest)) = target.split_once("://") else {
        return Err(Status::BadRequest);
    };
    // RFC 3986 §3.1: schemes are case-insensitive; "HTTP://" is "http://".
    if scheme.eq_ignore_ascii_case("https") {
        // A request this proxy understands but cannot carry out: that is 501, not 400.
        return Err(Status::NotImplemented);
    }
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(Status::BadRequest);
    }
    // The fragment ("#top") is never part of what is asked for (RFC 9110 §4.2.5):
    // browsers do not send it; a hand-made request may, and it is dropped here.
    let without_fragment = match rest.split_once('#') {
        Some((before, _)) => before,
        None => rest,
    };
    // RFC 3986 §3.2: the authority ends at the first "/" or "?" (or at the end).
    let end = without_fragment
        .find(['/', '?'])
        .unwrap_or(without_fragment.len());
    let (authority, path) = without_fragment.split_at(end);
    let (host, port) = parse_authority(authority)?;
    // RFC 9112 §3.2.1: an empty path is sent as "/" ("http://a?x" asks for "/?x").
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    Ok(Target { host, port, path })
}

/// Splits `host[:port]` (or `[v6 address][:port]`) into the host to connect to and the
/// port.
fn parse_authority(authority: &str) -> Result<(String, u16), Status> {
    // RFC 9110 §4.2.4: "user:password@" in an http URL is deprecated, and a recipient
    // should treat it as an error. It also hides the real host from a quick reader:
    // "http://trusted.example@evil.example/" goes to evil.example.
    if authority.contains('@') {
        return Err(Status::BadRequest);
    }
    let (host, port) = match authority.strip_prefix('[') {
        // RFC 3986 §3.2.2: an IP literal in brackets. Only IPv6 addresses are accepted
        // (not the "IPvFuture" form, nor zone identifiers such as "%25eth0").
        Some(bracketed) => {
            let (literal, after) = bracketed.split_once(']').ok_or(Status::BadRequest)?;
            if literal.parse::<Ipv6Addr>().is_err() {
                return Err(Status::BadRequest);
            }
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or(Status::BadRequest)?),
            };
            (literal, port)
        }
        // A name or an IPv4 address: no colon in it, so the first colon starts the port.
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() || !host.bytes().all(is_host_byte) {
        return Err(Status::BadRequest);
    }
    let port = match port {
        // RFC 3986 §3.2.3: "http://host:/" has an empty port, which means the default.
        None | Some("") => DEFAULT_PORT,
        Some(digits) => parse_port(digits)?,
    };
    Ok((host.to_owned(), port))
}

/// Whether `byte` may appear in a host as this proxy accepts it: the letters, digits,
/// `-`, `.` and `_` of names and IPv4 addresses, and the hexadecimal digits and `:` of an
/// IPv6 address (already checked whole when it is one).
///
/// Narrower than RFC 3986's "reg-name", which also allows escapes and `!$&'()*+,;=`: no
/// host name in DNS has those, and a host that goes on to the resolver should be plain.
fn is_host_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b':')
}

/// A port number: decimal digits only, 1 to 65535.
fn parse_port(digits: &str) -> Result<u16, Status> {
    // Digits only: Rust's `parse` would also take "+80".
    if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(Status::BadRequest);
    }
    match digits.parse::<u16>() {
        // Port 0 means "any port" when binding; nothing can be connected to on it.
        Ok(0) | Err(_) => Err(Status::BadRequest),
        Ok(port) => Ok(port),
    }
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    /// What a target parses to, as (host, port, path), or the status refusing it.
    type Expected<'a> = Result<(&'a str, u16, &'a str), Status>;

    /// Each row: a request target and what it parses to.
    fn check(table: &[(&str, Expected)]) {
        for (target, expected) in table {
            let expected = expected.map(|(host, port, path)| Target {
                host: host.to_owned(),
                port,
                path: path.to_owned(),
            });
            assert_eq!(parse_target(target), expected, "target {target:?}");
        }
    }

    #[test]
    fn host_port_and_path_are_taken_apart() {
        check(&[
            (
                "http://example.com/index.html",
                Ok(("example.com", 80, "/index.html")),
            ),
            (
                "http://127.0.0.1:8080/docs/a%20b.txt?q=1&r=2",
                Ok(("127.0.0.1", 8080, "/docs/a%20b.txt?q=1&r=2")),
            ),
            ("http://localhost:1/", Ok(("localhost", 1, "/"))),
            (
                "http://my_host.lan:65535/x",
                Ok(("my_host.lan", 65535, "/x")),
            ),
            ("http://a.example:0080/", Ok(("a.example", 80, "/"))),
        ]);
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        check(&[
            ("HTTP://example.com/", Ok(("example.com", 80, "/"))),
            ("hTtP://example.com/", Ok(("example.com", 80, "/"))),
        ]);
    }

    #[test]
    fn a_missing_path_is_the_root_and_the_fragment_is_dropped() {
        check(&[
            ("http://example.com", Ok(("example.com", 80, "/"))),
            ("http://example.com:8080", Ok(("example.com", 8080, "/"))),
            ("http://example.com?q=1", Ok(("example.com", 80, "/?q=1"))),
            ("http://example.com/a#top", Ok(("example.com", 80, "/a"))),
            ("http://example.com#top", Ok(("example.com", 80, "/"))),
            (
                "http://example.com/a?u=http://b/",
                Ok(("example.com", 80, "/a?u=http://b/")),
            ),
        ]);
    }

    #[test]
    fn an_absent_or_empty_port_is_80() {
        check(&[
            ("http://example.com/", Ok(("example.com", 80, "/"))),
            ("http://example.com:/", Ok(("example.com", 80, "/"))),
            ("http://[::1]:/", Ok(("::1", 80, "/"))),
        ]);
    }

    #[test]
    fn ipv6_literals_lose_their_brackets() {
        check(&[
            ("http://[::1]/", Ok(("::1", 80, "/"))),
            ("http://[::1]:8080/a", Ok(("::1", 8080, "/a"))),
            ("http://[2001:db8::7]", Ok(("2001:db8::7", 80, "/"))),
            (
                "http://[::ffff:192.0.2.1]:81/",
                Ok(("::ffff:192.0.2.1", 81, "/")),
            ),
        ]);
    }

    #[test]
    fn bad_ports_are_bad_requests() {
        check(&[
            ("http://example.com:0/", Err(Status::BadRequest)),
            ("http://example.com:65536/", Err(Status::BadRequest)),
            ("http://example.com:99999999999/", Err(Status::BadRequest)),
            ("http://example.com:+80/", Err(Status::BadRequest)),
            ("http://example.com:-1/", Err(Status::BadRequest)),
            ("http://example.com:http/", Err(Status::BadRequest)),
            ("http://example.com:80:81/", Err(Status::BadRequest)),
            ("http://[::1]8080/", Err(Status::BadRequest)),
        ]);
    }

    #[test]
    fn empty_or_strange_hosts_are_bad_requests() {
        check(&[
            ("http:///index.html", Err(Status::BadRequest)),
            ("http://", Err(Status::BadRequest)),
            ("http://:8080/", Err(Status::BadRequest)),
            ("http://?q", Err(Status::BadRequest)),
            ("http://user:secret@example.com/", Err(Status::BadRequest)),
            (
                "http://trusted.example@evil.example/",
                Err(Status::BadRequest),
            ),
            ("http://exa%6Dple.com/", Err(Status::BadRequest)),
            ("http://a,b/", Err(Status::BadRequest)),
            ("http://::1/", Err(Status::BadRequest)),
            ("http://[::1/", Err(Status::BadRequest)),
            ("http://[]/", Err(Status::BadRequest)),
            ("http://[example.com]/", Err(Status::BadRequest)),
            ("http://[fe80::1%25eth0]/", Err(Status::BadRequest)),
            ("http://[v1.fe]/", Err(Status::BadRequest)),
        ]);
    }

    #[test]
    fn https_is_not_implemented_and_other_forms_are_bad_requests() {
        check(&[
            ("https://example.com/", Err(Status::NotImplemented)),
            ("HTTPS://example.com:443/", Err(Status::NotImplemented)),
            ("ftp://example.com/file", Err(Status::BadRequest)),
            ("httpx://example.com/", Err(Status::BadRequest)),
            ("http:/example.com/", Err(Status::BadRequest)),
            ("http:example.com", Err(Status::BadRequest)),
            ("//example.com/", Err(Status::BadRequest)),
            ("/index.html", Err(Status::BadRequest)),
            ("example.com:443", Err(Status::BadRequest)),
            ("example.com/index.html", Err(Status::BadRequest)),
            ("*", Err(Status::BadRequest)),
            ("", Err(Status::BadRequest)),
        ]);
    }

    #[test]
    fn the_authority_is_written_back_as_in_a_url() {
        let table = [
            ("http://example.com/a", "example.com"),
            ("http://example.com:80/a", "example.com"),
            ("http://Example.COM:8080/a", "Example.COM:8080"),
            ("http://[::1]/", "[::1]"),
            ("http://[::1]:8080/", "[::1]:8080"),
        ];
        for (target, authority) in table {
            assert_eq!(
                parse_target(target).unwrap().authority(),
                authority,
                "{target}"
            );
        }
    }
}
