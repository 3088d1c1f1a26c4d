//! Reading an HTTP response the harness received, as far as a whole body, for the packs
//! that judge HTTP responses: the HTTP pack (a web server's or a proxy's answers) and the
//! XML-RPC pack (a submitted XML-RPC server's). Each judges what the response must say.
//!
//! The bytes are parsed with `httparse` as they arrive. The response is complete when its
//! `Content-Length` worth of body is there, or, without that header, when the server closes
//! the connection (HTTP/1.1's other way to end a body).

use crate::world::capture::Capture;

/// The most header bytes looked at.
const MAX_HEAD: usize = 64 * 1024;

/// Where the judgement stands.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ResponseVerdict {
    /// The response is complete and right.
    Holds,
    /// Not complete yet (what is there so far).
    Incomplete(String),
    /// Wrong: what was seen.
    Wrong(String),
}

/// A whole response head, and its body's place in the capture.
#[derive(Debug)]
pub(crate) struct ReadResponse {
    /// The status code.
    pub(crate) status: u16,
    /// The status line as the report shows it: `HTTP/1.1 200 OK`.
    pub(crate) status_line: String,
    /// The header fields, values trimmed.
    pub(crate) headers: Vec<(String, String)>,
    /// Where the body starts.
    pub(crate) head_len: usize,
    /// How many body bytes came.
    pub(crate) body_len: u64,
    /// The `Content-Length`, if there was one.
    pub(crate) declared_length: Option<u64>,
}

impl ReadResponse {
    /// The value of the header field `name` (any case), if there is one.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// The first line after the status line without a `:`, when the head has one: a body that
/// runs into the headers (`<!DOCTYPE html>` right after `Connection: close`).
fn no_header_line(head: &[u8]) -> Option<&[u8]> {
    head.split(|&byte| byte == b'\n')
        .skip(1)
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .take_while(|line| !line.is_empty())
        .find(|line| !line.contains(&b':'))
}

/// Reads the response `capture` holds (`closed`: the server closed the connection) as far
/// as a whole body: by its `Content-Length`, or up to the close. `Err` says why it is not
/// one yet ([`ResponseVerdict::Incomplete`]) or never will be ([`ResponseVerdict::Wrong`]);
/// what the response must say is for the caller to judge.
pub(crate) fn read_response(
    capture: &Capture,
    closed: bool,
) -> Result<ReadResponse, ResponseVerdict> {
    let head = capture.head(MAX_HEAD);
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(&head) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if closed || head.len() >= MAX_HEAD => {
            return Err(ResponseVerdict::Wrong(format!(
                "{} bytes, not a complete response head: {}",
                head.len(),
                crate::judge::diff::excerpt(&head)
            )));
        }
        Ok(httparse::Status::Partial) => {
            return Err(ResponseVerdict::Incomplete(format!(
                "{} bytes so far: {}",
                head.len(),
                crate::judge::diff::excerpt(&head)
            )));
        }
        Err(httparse::Error::HeaderName) if no_header_line(&head).is_some() => {
            let line = no_header_line(&head).unwrap_or_default();
            return Err(ResponseVerdict::Wrong(format!(
                "a line that is no header ({}) where the next header or the blank line ending them belongs: the blank line (\\r\\n\\r\\n) after the headers is missing: {}",
                crate::judge::diff::excerpt(line),
                crate::judge::diff::excerpt(&head)
            )));
        }
        Err(error) => {
            return Err(ResponseVerdict::Wrong(format!(
                "not an HTTP response ({error}): {}",
                crate::judge::diff::excerpt(&head)
            )));
        }
    };
    let status = response.code.unwrap_or_default();
    let status_line = format!(
        "HTTP/1.{} {status} {}",
        response.version.unwrap_or(1),
        response.reason.unwrap_or_default()
    );
    let headers: Vec<(String, String)> = response
        .headers
        .iter()
        .map(|header| {
            (
                header.name.to_owned(),
                String::from_utf8_lossy(header.value).trim().to_owned(),
            )
        })
        .collect();
    let content_length = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"));
    let declared_length = match content_length {
        Some((_, value)) => match value.parse::<u64>() {
            Ok(length) => Some(length),
            Err(_) => {
                return Err(ResponseVerdict::Wrong(format!(
                    "{status_line} with Content-Length `{value}`, not a number"
                )));
            }
        },
        None => None,
    };
    let body_len = capture.len() - head_len as u64;
    match declared_length {
        Some(length) if body_len < length && !closed => {
            return Err(ResponseVerdict::Incomplete(format!(
                "{status_line}, {body_len} of {length} body bytes"
            )));
        }
        Some(length) if body_len != length => {
            return Err(ResponseVerdict::Wrong(format!(
                "{status_line} with Content-Length {length}, but {body_len} body bytes{}",
                if body_len < length {
                    " before the server closed"
                } else {
                    ""
                }
            )));
        }
        Some(_) => {}
        None if !closed => {
            return Err(ResponseVerdict::Incomplete(format!(
                "{status_line} without Content-Length: the body ends when the server closes, which it has not yet ({body_len} bytes so far)"
            )));
        }
        None => {}
    }
    Ok(ReadResponse {
        status,
        status_line,
        headers,
        head_len,
        body_len,
        declared_length,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the harness captured so far: `bytes`, the server `closed` or not.
    fn read(bytes: &[u8], closed: bool) -> Result<ReadResponse, ResponseVerdict> {
        let capture = Capture::memory(1 << 20);
        capture.append(bytes).unwrap();
        read_response(&capture, closed)
    }

    #[test]
    fn a_response_is_read_by_its_length_or_up_to_the_close() {
        let whole = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b \r\n\r\nhello";
        let response = read(whole, false).unwrap();
        assert_eq!(response.status_line, "HTTP/1.1 200 OK");
        assert_eq!(response.header("x-a"), Some("b"));
        assert_eq!((response.body_len, response.declared_length), (5, Some(5)));
        assert!(matches!(
            read(&whole[..whole.len() - 1], false),
            Err(ResponseVerdict::Incomplete(_))
        ));
        assert!(matches!(
            read(&whole[..whole.len() - 1], true),
            Err(ResponseVerdict::Wrong(why)) if why.contains("before the server closed")
        ));
        let without_length = b"HTTP/1.0 404 Not Found\r\n\r\nnone";
        assert!(matches!(
            read(without_length, false),
            Err(ResponseVerdict::Incomplete(_))
        ));
        assert_eq!(read(without_length, true).unwrap().body_len, 4);
        let run_in = b"HTTP/1.1 200 OK\r\nConnection: close\r\n<!DOCTYPE html>\r\n\r\n";
        assert!(matches!(
            read(run_in, true),
            Err(ResponseVerdict::Wrong(why)) if why.contains("the blank line")
        ));
    }

    proptest::proptest! {
        #![proptest_config(crate::protocols::fixed_cases::fixed_cases(256, 52))]

        /// Any bytes a server sends are read without a panic, closed or not.
        #[test]
        fn any_bytes_are_read(
            raw in proptest::collection::vec(proptest::num::u8::ANY, 0..96),
            closed in proptest::bool::ANY,
        ) {
            let _ = read(&raw, closed);
            let mut with_head = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n".to_vec();
            with_head.extend(&raw);
            let _ = read(&with_head, closed);
        }

        /// A whole response, however much of it has come: incomplete (never wrong) until
        /// it is whole, then read, its body counted.
        #[test]
        fn a_response_cut_anywhere_is_incomplete_until_whole(
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            cut in proptest::num::usize::ANY,
        ) {
            let mut whole = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
            whole.extend(&body);
            let cut = cut % whole.len();
            let verdict = read(&whole[..cut], false);
            proptest::prop_assert!(matches!(verdict, Err(ResponseVerdict::Incomplete(_))), "{:?}", verdict.map(|read| read.status));
            let response = read(&whole, false);
            proptest::prop_assert_eq!(response.map(|read| read.body_len).ok(), Some(body.len() as u64));
        }
    }
}
