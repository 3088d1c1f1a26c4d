//! From the request target (`/docs/a%20b.txt?x=1`) to a path relative to the root
//! (`docs/a b.txt`), or the status that refuses it.
//!
//! This is where a web server is most often broken into (SPEC `web/5`). The handout's
//! skeleton does `open(filename[1:])`: `GET /../../etc/passwd` then opens `../../etc/passwd`
//! relative to the server's folder, and sends the system's password file. Checking the
//! text for `..` is not enough either: the client can encode the dots (`%2e%2e`) or the
//! slash (`..%2f`), and the check must come *after* decoding. So, in this order:
//!
//! ```text
//! "/a/./b%2f..%2f../secret.txt?x=1"
//!   1. origin form only: starts with "/"      (else 400: "http://...", "../x", "*")
//!   2. cut the query and the fragment         "/a/./b%2f..%2f../secret.txt"
//!   3. percent-decode, strictly               "/a/./b/../../secret.txt"  (bad "%" -> 400)
//!   4. split on "/" and look at each segment  "" "a" "." "b" ".." ".." "secret.txt"
//!        empty or "."  -> skipped             ("//etc/passwd" is "etc/passwd", in the root)
//!        ".."          -> 403                 (never resolved: refused)
//!        "\" inside    -> 403                 (a path separator on Windows)
//! ```
//!
//! The result is a relative path made of plain names only, to be joined onto the root.
//! Symbolic links inside the root can still point outside it: the file server checks the
//! real path after joining ([`super::files`]).
//!
//! This is a pure function (text in, path or status out), so it is tested on its own,
//! with a table of hostile targets, far from any socket.

use std::path::{Component, Path, PathBuf};

use super::response::Status;

/// Resolves a request target to a path relative to the root (empty for the root itself).
///
/// Errors are the status to answer: 400 for a target that is not an origin-form path or
/// not validly encoded, 403 for one that tries to climb out of the root.
pub fn resolve_target(target: &str) -> Result<PathBuf, Status> {
    // RFC 9112 §3.2.1: the origin form, "/path?query", is what a browser sends to a
    // server. The absolute form ("http://host/path") is for proxies, and a target that
    // does not start with "/" ("../secret.txt") is no path on this server at all.
    if !target.starts_with('/') {
        return Err(Status::BadRequest);
    }
    // The query ("?...") is for programs, not files; a fragment ("#...") is never sent by
    // browsers, but a hand-made request may have one. Neither is part of the path.
    let path = match target.find(['?', '#']) {
        Some(end) => &target[..end],
        None => target,
    };
    let decoded = percent_decode(path)?;
    let mut relative = PathBuf::new();
    // Each segment of the decoded path, left to right: decoding comes first, so "%2e%2e"
    // and "..%2f" are seen here as the ".." and "/" they stand for.
    for segment in decoded.split('/') {
        match segment {
            // "//etc/passwd" and "/a//b": an empty segment adds nothing, so an absolute
            // path in the target stays under the root. "." is the same folder.
            "" | "." => continue,
            // SPEC web/5: ".." would climb out of the folder. Refused, not resolved: a
            // client that asks for ".." is probing, and a bug in resolving it would be a
            // hole.
            ".." => return Err(Status::Forbidden),
            // A backslash is a path separator on Windows, where "..\secret" climbs too.
            _ if segment.contains('\\') => return Err(Status::Forbidden),
            _ => relative.push(segment),
        }
    }
    // Belt and braces: every component must be a plain name. On Windows a segment such
    // as "C:" is a drive prefix, and pushing it would replace the whole path.
    if !relative
        .components()
        .all(|component| matches!(component, Component::Normal(_)))
    {
        return Err(Status::Forbidden);
    }
    Ok(relative)
}

/// Decodes `%XX` escapes (RFC 3986 §2.1): `%20` is a space, `%2e` a dot, `%c3%a9` the two
/// bytes of a UTF-8 `é`.
///
/// Strict where a lenient decoder would guess: a `%` not followed by two hexadecimal
/// digits, a decoded NUL byte (which ends a path early in C, so `secret.txt%00.png`
/// could pass an extension check and open `secret.txt`), and bytes that are not UTF-8 text
/// are all refused with 400.
pub fn percent_decode(text: &str) -> Result<String, Status> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    // One escape or one plain byte per turn, until the end of the text.
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let high = bytes.get(at + 1).and_then(|&digit| hex_value(digit));
            let low = bytes.get(at + 2).and_then(|&digit| hex_value(digit));
            let (Some(high), Some(low)) = (high, low) else {
                return Err(Status::BadRequest);
            };
            decoded.push((high << 4) | low);
            at += 3;
        } else {
            decoded.push(bytes[at]);
            at += 1;
        }
    }
    if decoded.contains(&0) {
        return Err(Status::BadRequest);
    }
    String::from_utf8(decoded).map_err(|_| Status::BadRequest)
}

/// The value of one hexadecimal digit, either case.
fn hex_value(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|value| value as u8)
}

/// Whether `path` is what [`resolve_target`] returns for the root itself.
pub fn is_root(path: &Path) -> bool {
    path.as_os_str().is_empty()
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    /// Each row: a request target and the path (or status) it resolves to.
    fn check(table: &[(&str, Result<&str, Status>)]) {
        for (target, expected) in table {
            let expected = expected.map(PathBuf::from);
            assert_eq!(resolve_target(target), expected, "target {target:?}");
        }
    }

    #[test]
    fn plain_paths_are_relative_to_the_root() {
        check(&[
            ("/", Ok("")),
            ("/index.html", Ok("index.html")),
            ("/docs/notes.txt", Ok("docs/notes.txt")),
            ("/docs/", Ok("docs")),
            ("/...", Ok("...")),
            ("/..hidden", Ok("..hidden")),
        ]);
        assert!(is_root(&resolve_target("/").unwrap()));
    }

    #[test]
    fn query_and_fragment_are_not_part_of_the_path() {
        check(&[
            ("/page.html?lang=en", Ok("page.html")),
            ("/page.html#section", Ok("page.html")),
            ("/page.html?next=/../secret.txt", Ok("page.html")),
            ("/?%zz", Ok("")),
        ]);
    }

    #[test]
    fn escapes_are_decoded() {
        check(&[
            ("/hello%20world.txt", Ok("hello world.txt")),
            ("/%C3%A9t%c3%a9.txt", Ok("été.txt")),
            ("/a%2fb", Ok("a/b")),
            ("/100%25.txt", Ok("100%.txt")),
        ]);
    }

    #[test]
    fn dot_dot_is_refused_however_it_is_written() {
        check(&[
            ("/../secret.txt", Err(Status::Forbidden)),
            ("/../../etc/passwd", Err(Status::Forbidden)),
            ("/docs/../../secret.txt", Err(Status::Forbidden)),
            ("/docs/..", Err(Status::Forbidden)),
            ("/%2e%2e/secret.txt", Err(Status::Forbidden)),
            ("/%2E%2E/secret.txt", Err(Status::Forbidden)),
            ("/.%2e/secret.txt", Err(Status::Forbidden)),
            ("/..%2fsecret.txt", Err(Status::Forbidden)),
            ("/%2e%2e%2f%2e%2e%2fetc%2fpasswd", Err(Status::Forbidden)),
            ("/..\\secret.txt", Err(Status::Forbidden)),
            ("/..%5csecret.txt", Err(Status::Forbidden)),
        ]);
    }

    #[test]
    fn absolute_paths_stay_under_the_root() {
        check(&[
            ("//etc/passwd", Ok("etc/passwd")),
            ("/%2fetc/passwd", Ok("etc/passwd")),
            ("///", Ok("")),
            ("/./././index.html", Ok("index.html")),
        ]);
    }

    #[test]
    fn targets_that_are_not_origin_form_paths_are_bad_requests() {
        check(&[
            ("../secret.txt", Err(Status::BadRequest)),
            ("index.html", Err(Status::BadRequest)),
            ("http://example.com/index.html", Err(Status::BadRequest)),
            ("*", Err(Status::BadRequest)),
            ("", Err(Status::BadRequest)),
        ]);
    }

    #[test]
    fn broken_escapes_nul_bytes_and_non_utf8_are_bad_requests() {
        check(&[
            ("/%", Err(Status::BadRequest)),
            ("/%2", Err(Status::BadRequest)),
            ("/%zz.txt", Err(Status::BadRequest)),
            ("/%%32%65", Err(Status::BadRequest)),
            ("/secret.txt%00.png", Err(Status::BadRequest)),
            ("/%ff.txt", Err(Status::BadRequest)),
        ]);
    }
}
