//! What the server sends back: status codes, the response head, content types, and the
//! small HTML pages that explain an error.
//!
//! Every response has the same shape (RFC 9112 §2.1, §4; RFC 9110 §8.6, §8.3):
//!
//! ```text
//! HTTP/1.1 200 OK\r\n                        status line: version, code, reason phrase
//! Content-Length: 20480\r\n                  how many body bytes follow (SPEC web/1)
//! Content-Type: text/plain; charset=utf-8\r\n what they are (SPEC web/1)
//! Connection: close\r\n                      one request per connection
//! \r\n                                       blank line: end of the head
//! <exactly Content-Length bytes>
//! ```

use std::path::Path;

/// The statuses this server (and the proxy, `web-proxy`) answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 200: the file follows (SPEC `web/1`).
    Ok,
    /// 400: the request is malformed, or its target is not a path we accept (SPEC `web/6`).
    BadRequest,
    /// 403: the path tries to leave the root (SPEC `web/5`).
    Forbidden,
    /// 404: no such file under the root (SPEC `web/2`).
    NotFound,
    /// 431: the request head is over 16 KiB, or has too many header fields (SPEC `web/5`,
    /// RFC 6585 §5).
    RequestHeaderFieldsTooLarge,
    /// 501: a method other than GET and HEAD (SPEC `web/6`, RFC 9110 §15.6.2).
    NotImplemented,
    /// 502: the proxy could not get a response from the origin server (SPEC `proxy/3`,
    /// RFC 9110 §15.6.3).
    BadGateway,
}

impl Status {
    /// The three-digit status code.
    pub fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::BadRequest => 400,
            Status::Forbidden => 403,
            Status::NotFound => 404,
            Status::RequestHeaderFieldsTooLarge => 431,
            Status::NotImplemented => 501,
            Status::BadGateway => 502,
        }
    }

    /// The reason phrase that follows the code on the status line.
    pub fn reason(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::BadRequest => "Bad Request",
            Status::Forbidden => "Forbidden",
            Status::NotFound => "Not Found",
            Status::RequestHeaderFieldsTooLarge => "Request Header Fields Too Large",
            Status::NotImplemented => "Not Implemented",
            Status::BadGateway => "Bad Gateway",
        }
    }

    /// One sentence for the error page: what went wrong, in the user's terms.
    fn explanation(self) -> &'static str {
        match self {
            Status::Ok => "The request succeeded.",
            Status::BadRequest => "The server could not understand this request.",
            Status::Forbidden => "This path leads outside the folder this server shares.",
            Status::NotFound => "There is no such file on this server.",
            Status::RequestHeaderFieldsTooLarge => {
                "The request's header fields are larger than this server accepts (16 KiB)."
            }
            Status::NotImplemented => "This server only answers GET and HEAD requests.",
            Status::BadGateway => "The server that has this page could not be reached.",
        }
    }
}

/// The head of a response: status line, the three header fields every response here
/// has, and the blank line.
///
/// `Connection: close` tells the client that the server closes the connection after this
/// response (RFC 9112 §9.6). This server answers one request per connection: a real
/// server would keep the connection open for the next request (keep-alive), which saves
/// a TCP handshake per file but means finding where each request ends.
pub fn head(status: Status, content_length: u64, content_type: &str) -> String {
    format!(
        "HTTP/1.1 {} {}\r\n\
         Content-Length: {content_length}\r\n\
         Content-Type: {content_type}\r\n\
         Connection: close\r\n\
         \r\n",
        status.code(),
        status.reason()
    )
}

/// The content type of error pages (and of `.html` files).
pub const HTML: &str = "text/html; charset=utf-8";

/// A small HTML page that explains `status` (SPEC `web/2`: a 404 has an HTML body).
///
/// The page never contains the requested path. Echoing it back would be the classic
/// reflected cross-site scripting hole: a link to `/<script>...</script>` would make the
/// browser run the attacker's script on this site's page. A server that wants to show the
/// path must escape `<`, `>`, `&` and quotes first.
pub fn error_page(status: Status) -> String {
    error_page_explaining(status, status.explanation())
}

/// The page of [`error_page`] with another `explanation` (one sentence of plain text, not
/// markup: it is not escaped). The proxy uses it, because its reasons for a 400 or a 501
/// are not the file server's.
pub fn error_page_explaining(status: Status, explanation: &str) -> String {
    let title = format!("{} {}", status.code(), status.reason());
    format!(
        "<!DOCTYPE html><html><head><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{explanation}</p></body></html>\n"
    )
}

/// The `Content-Type` of a file, from its extension (case-insensitive: `PHOTO.JPG` is a
/// JPEG too).
///
/// Without it a browser has to guess, and may show an image as text or a page as a
/// download (SPEC `web/1`). Text types name their character set, so that `é` in a UTF-8
/// page is not shown as `Ã©`. Anything unknown is `application/octet-stream`: "bytes",
/// which browsers offer to save instead of guessing. A server that must know every type
/// would use a table such as the `mime_guess` crate's; these are the ones a lab site uses.
pub fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match extension.as_str() {
        "html" | "htm" => HTML,
        "txt" => "text/plain; charset=utf-8",
        "css" => "text/css",
        "js" => "text/javascript",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_follow_the_extension_whatever_its_case() {
        let table = [
            ("index.html", HTML),
            ("old.HTM", HTML),
            ("notes.txt", "text/plain; charset=utf-8"),
            ("style.css", "text/css"),
            ("app.js", "text/javascript"),
            ("data.json", "application/json"),
            ("pixel.png", "image/png"),
            ("PHOTO.JPG", "image/jpeg"),
            ("photo.jpeg", "image/jpeg"),
            ("anim.gif", "image/gif"),
            ("logo.svg", "image/svg+xml"),
            ("favicon.ico", "image/x-icon"),
            ("paper.pdf", "application/pdf"),
            ("big.bin", "application/octet-stream"),
            ("Makefile", "application/octet-stream"),
            ("archive.tar.gz", "application/octet-stream"),
            ("sub.dir/no-extension", "application/octet-stream"),
        ];
        for (name, expected) in table {
            assert_eq!(content_type(Path::new(name)), expected, "{name}");
        }
    }

    #[test]
    fn the_head_ends_with_a_blank_line() {
        assert_eq!(
            head(Status::NotFound, 12, HTML),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 12\r\n\
             Content-Type: text/html; charset=utf-8\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn error_pages_are_html_and_name_their_status() {
        let page = error_page(Status::RequestHeaderFieldsTooLarge);
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<title>431 Request Header Fields Too Large</title>"));
    }
}
