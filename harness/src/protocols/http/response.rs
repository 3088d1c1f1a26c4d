//! Judging an HTTP response the harness received (SPEC web/1–web/6, proxy/1).
//!
//! The response is read as it arrives by the shared reader (`crate::protocols::http_reader`:
//! whole by its `Content-Length`, or at the close); then the status, the headers and the
//! body are checked against what the scenario expects.

use crate::payload::Payload;
pub(super) use crate::protocols::http_reader::ResponseVerdict;
use crate::protocols::http_reader::{ReadResponse, read_response};
use crate::world::capture::Capture;

/// What a response must be (`http = { ... }` in a scenario).
#[derive(Debug, Clone, Default)]
pub(super) struct HttpExpectation {
    /// Acceptable status codes (any of them).
    pub statuses: Vec<u16>,
    /// The `Content-Type` must start with this (case-insensitive), if given.
    pub content_type: Option<String>,
    /// The body must be exactly this, if given.
    pub body: Option<Payload>,
    /// The body must not be empty.
    pub body_not_empty: bool,
    /// The body must be HTML: it holds at least one tag (`<h1>`, `<html>`, `<p class=x>`,
    /// `<!DOCTYPE html>`). A blank line or plain text is no page (SPEC web/2: "a small
    /// HTML body").
    pub body_html: bool,
    /// A `Content-Length` header must be there and match the body.
    pub content_length: bool,
    /// Headers that must be there with these values (names in any case).
    pub headers: Vec<(String, String)>,
    /// Only the status line is judged (`HTTP/1.1 404 ...`): the rest of the response may be
    /// malformed without failing here (see `status_line_only` in a scenario).
    pub status_line_only: bool,
}

impl HttpExpectation {
    /// What the scenario expects, in words.
    pub(super) fn describe(&self) -> String {
        let statuses: Vec<String> = self.statuses.iter().map(u16::to_string).collect();
        if self.status_line_only {
            return format!(
                "an HTTP status line with status {} (the rest of the response is not judged here)",
                statuses.join(" or ")
            );
        }
        let mut text = format!("an HTTP response with status {}", statuses.join(" or "));
        if let Some(content_type) = &self.content_type {
            text += &format!(", Content-Type {content_type}");
        }
        if self.content_length {
            text += ", a Content-Length that matches the body";
        }
        for (name, value) in &self.headers {
            text += &format!(", `{name}: {value}`");
        }
        if let Some(body) = &self.body {
            text += &format!(", and a body of exactly {}", body.describe());
        } else if self.body_html {
            text += ", and an HTML body (with at least one tag, such as <h1>)";
        } else if self.body_not_empty {
            text += ", and a body (not empty)";
        }
        text
    }

    /// Judges what `capture` holds; `closed`: the server closed the connection.
    pub(super) fn judge(&self, capture: &Capture, closed: bool) -> ResponseVerdict {
        if self.status_line_only {
            return self.judge_status_line(capture, closed);
        }
        let response = match read_response(capture, closed) {
            Ok(response) => response,
            Err(verdict) => return verdict,
        };
        let ReadResponse {
            status,
            ref status_line,
            head_len,
            body_len,
            ..
        } = response;
        let header = |name: &str| response.header(name).map(str::to_owned);
        if response.declared_length.is_none() && self.content_length {
            return ResponseVerdict::Wrong(format!(
                "{status_line} without a Content-Length header"
            ));
        }
        if !self.statuses.contains(&status) {
            return ResponseVerdict::Wrong(status_line.clone());
        }
        if let Some(expected) = &self.content_type {
            match header("content-type") {
                Some(actual)
                    if actual
                        .to_ascii_lowercase()
                        .starts_with(&expected.to_ascii_lowercase()) => {}
                Some(actual) => {
                    return ResponseVerdict::Wrong(format!(
                        "{status_line} with Content-Type `{actual}`"
                    ));
                }
                None => {
                    return ResponseVerdict::Wrong(format!(
                        "{status_line} without a Content-Type header"
                    ));
                }
            }
        }
        for (name, value) in &self.headers {
            match header(name) {
                Some(actual) if actual == *value => {}
                Some(actual) => {
                    return ResponseVerdict::Wrong(format!(
                        "{status_line} with `{name}: {actual}`"
                    ));
                }
                None => {
                    return ResponseVerdict::Wrong(format!(
                        "{status_line} without a `{name}` header"
                    ));
                }
            }
        }
        if (self.body_not_empty || self.body_html) && body_len == 0 {
            return ResponseVerdict::Wrong(format!("{status_line} with an empty body"));
        }
        if self.body_html {
            let body = capture.head(head_len + MAX_HTML_LOOK);
            let body = &body[head_len.min(body.len())..];
            if !holds_a_tag(body) {
                return ResponseVerdict::Wrong(format!(
                    "{status_line} with a body that is not HTML (no tag in it): {}",
                    crate::judge::diff::excerpt(&body[..body.len().min(200)])
                ));
            }
        }
        if let Some(expected) = &self.body
            && let Some(problem) = body_difference(capture, head_len as u64, expected)
        {
            return ResponseVerdict::Wrong(format!("{status_line}: {problem}"));
        }
        ResponseVerdict::Holds
    }
}

impl HttpExpectation {
    /// The first line alone: `HTTP/1.x CODE [REASON]`, its code one of [`Self::statuses`].
    fn judge_status_line(&self, capture: &Capture, closed: bool) -> ResponseVerdict {
        let head = capture.head(MAX_STATUS_LINE);
        let Some(end) = head.iter().position(|&byte| byte == b'\n') else {
            let seen = format!(
                "{} bytes, no complete status line: {}",
                head.len(),
                crate::judge::diff::excerpt(&head)
            );
            return if closed || head.len() >= MAX_STATUS_LINE {
                ResponseVerdict::Wrong(seen)
            } else {
                ResponseVerdict::Incomplete(seen)
            };
        };
        let line = String::from_utf8_lossy(&head[..end]);
        let line = line.trim_end_matches('\r');
        let mut words = line.split_whitespace();
        let version = words.next().unwrap_or_default();
        let code = words.next().and_then(|code| code.parse::<u16>().ok());
        match code {
            Some(code) if version.starts_with("HTTP/") && self.statuses.contains(&code) => {
                ResponseVerdict::Holds
            }
            Some(_) if version.starts_with("HTTP/") => ResponseVerdict::Wrong(line.to_owned()),
            _ => ResponseVerdict::Wrong(format!(
                "not an HTTP status line: {}",
                crate::judge::diff::excerpt(line.as_bytes())
            )),
        }
    }
}

/// How much of a response may come before the end of its status line.
const MAX_STATUS_LINE: usize = 8 * 1024;

/// How far into a body the HTML check looks for a tag.
const MAX_HTML_LOOK: usize = 64 * 1024;

/// Whether `body` holds an HTML tag: `<` and a letter (an element's name, as in `<h1>` or
/// `</p>`) or `<!` (a doctype or a comment), closed by a `>` further on.
fn holds_a_tag(body: &[u8]) -> bool {
    body.windows(2).enumerate().any(|(at, pair)| {
        let opens = pair[0] == b'<'
            && (pair[1].is_ascii_alphabetic()
                || pair[1] == b'!'
                || (pair[1] == b'/' && body.get(at + 2).is_some_and(u8::is_ascii_alphabetic)));
        opens && body[at + 2..].contains(&b'>')
    })
}

/// How the body (from `offset` in `capture`) differs from `expected`, if it does.
fn body_difference(capture: &Capture, offset: u64, expected: &Payload) -> Option<String> {
    let body_len = capture.len() - offset;
    let mut seen = vec![0u8; 64 * 1024];
    let mut wanted = vec![0u8; 64 * 1024];
    let mut position = 0u64;
    while position < body_len.min(expected.len()) {
        let seen_count = capture.read_at(offset + position, &mut seen).unwrap_or(0);
        let wanted_count = expected.read_at(position, &mut wanted).unwrap_or(0);
        let count = seen_count.min(wanted_count);
        if count == 0 {
            break;
        }
        if let Some(index) = (0..count).find(|&index| seen[index] != wanted[index]) {
            let at = position + index as u64;
            let end = (index + 24).min(count);
            return Some(format!(
                "the body differs from byte {at} on: got {}, expected {}",
                crate::judge::diff::excerpt(&seen[index..end]),
                crate::judge::diff::excerpt(&wanted[index..end])
            ));
        }
        position += count as u64;
    }
    (body_len != expected.len()).then(|| {
        format!(
            "a body of {body_len} bytes, expected {} ({} bytes match)",
            expected.len(),
            position
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture_of(bytes: &[u8]) -> Capture {
        let capture = Capture::memory(1 << 20);
        capture.append(bytes).unwrap();
        capture
    }

    fn ok_with_body(body: &str) -> HttpExpectation {
        HttpExpectation {
            statuses: vec![200],
            content_type: Some("text/plain".into()),
            body: Some(Payload::Bytes(body.as_bytes().into())),
            body_not_empty: false,
            body_html: false,
            content_length: true,
            headers: Vec::new(),
            status_line_only: false,
        }
    }

    #[test]
    fn a_status_line_alone_is_judged_whatever_follows_it() {
        let refused = HttpExpectation {
            statuses: vec![400, 403, 404],
            status_line_only: true,
            ..HttpExpectation::default()
        };
        let malformed = capture_of(b"HTTP/1.1 404 Not Found\r\nServer: x\r\n<h1>no</h1>");
        assert_eq!(refused.judge(&malformed, true), ResponseVerdict::Holds);
        let leaked = capture_of(b"HTTP/1.1 200 OK\r\n\r\nroot:x:0:0");
        assert_eq!(
            refused.judge(&leaked, true),
            ResponseVerdict::Wrong("HTTP/1.1 200 OK".into())
        );
        let half = capture_of(b"HTTP/1.1 40");
        assert!(matches!(
            refused.judge(&half, false),
            ResponseVerdict::Incomplete(_)
        ));
        assert!(matches!(
            refused.judge(&half, true),
            ResponseVerdict::Wrong(_)
        ));
    }

    #[test]
    fn a_complete_response_holds_before_the_close() {
        let capture = capture_of(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
        );
        assert_eq!(
            ok_with_body("hello").judge(&capture, false),
            ResponseVerdict::Holds
        );
    }

    #[test]
    fn a_short_body_waits_then_fails_at_the_close() {
        let capture = capture_of(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhel",
        );
        assert!(matches!(
            ok_with_body("hello").judge(&capture, false),
            ResponseVerdict::Incomplete(_)
        ));
        assert!(matches!(
            ok_with_body("hello").judge(&capture, true),
            ResponseVerdict::Wrong(_)
        ));
    }

    #[test]
    fn missing_headers_and_wrong_bytes_are_named() {
        let no_length = capture_of(b"HTTP/1.1 200 OK\r\n\r\nhello");
        let ResponseVerdict::Wrong(seen) = ok_with_body("hello").judge(&no_length, true) else {
            panic!("a missing Content-Length must fail");
        };
        assert!(seen.contains("without a Content-Length"), "{seen}");
        let wrong = capture_of(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhellO",
        );
        let ResponseVerdict::Wrong(seen) = ok_with_body("hello").judge(&wrong, true) else {
            panic!("a wrong body must fail");
        };
        assert!(seen.contains("differs from byte 4"), "{seen}");
    }

    #[test]
    fn an_html_body_needs_a_tag() {
        let html = HttpExpectation {
            statuses: vec![404],
            body_html: true,
            ..HttpExpectation::default()
        };
        let with_body = |body: &str| {
            capture_of(
                format!(
                    "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
        };
        for page in [
            "<h1>404 Not Found</h1>",
            "<!DOCTYPE html>\n<title>x</title>",
            "<html><body>gone</body></html>\n",
        ] {
            assert_eq!(
                html.judge(&with_body(page), false),
                ResponseVerdict::Holds,
                "{page}"
            );
        }
        for not_a_page in ["\r\n", "404 Not Found\n", "a < b > c", "<"] {
            assert!(
                matches!(
                    html.judge(&with_body(not_a_page), false),
                    ResponseVerdict::Wrong(_)
                ),
                "{not_a_page:?}"
            );
        }
    }

    #[test]
    fn not_http_at_all_is_wrong() {
        let capture = capture_of(b"hello there\r\n\r\n");
        assert!(matches!(
            ok_with_body("x").judge(&capture, true),
            ResponseVerdict::Wrong(_)
        ));
    }
}
