//! The server's responses: read whole, literals included, and taken apart (RFC 9051 §2.2.2,
//! §4, §7).
//!
//! A response is a line, unless that line ends in a literal: `{n}` then CRLF then exactly
//! `n` bytes, which may hold anything (line ends, `)`, NUL), and after them the response
//! goes on, to the next line end (or the next literal):
//!
//! ```text
//! * 1 FETCH (BODY[HEADER.FIELDS (FROM SUBJECT)] {58}\r\n     <- a line ending in {58}
//! From: bob@example.com\r\nSubject: Lunch on Friday\r\n\r\n  <- exactly 58 bytes
//! )\r\n                                                    <- the rest of the response
//! ```
//!
//! A reader that reads lines only takes the message's lines for responses (and a line of
//! the message that starts with `a3 OK` for the end of the command); one that does one
//! `recv` per response has a part of it. Here [`read_response`] reads a line, and while it
//! ends in `{n}`, exactly `n` bytes ([`crate::lines::LineReader::read_exact`]) and the next
//! line.
//!
//! Three kinds of response (RFC 9051 §2.2.2): `+ ...` (go on sending, after a client's
//! literal), `* ...` (untagged: data, sent whenever the server likes, to be collected), and
//! `TAG OK|NO|BAD ...` (the end of the command that carried the tag).

use tokio::io::{AsyncRead, AsyncWrite};

use crate::mail_read::{Failure, MAX_MESSAGE, Wire};
use crate::net::Network;

/// One line of a response, and the literal its `{n}` announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The line, without its CRLF.
    pub line: Vec<u8>,
    /// The `n` bytes after the line, if it ends in `{n}`.
    pub literal: Option<Vec<u8>>,
}

/// One whole response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Its lines, each with the literal that follows it, in order.
    pub segments: Vec<Segment>,
}

/// What kind of response, by its first word.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind<'a> {
    /// `+ ...`: the server waits for the client's literal.
    Continuation,
    /// `* ...`: data, or a status not tied to a command (`* BYE`).
    Untagged,
    /// `TAG ...`: the end of the command with this tag.
    Tagged(&'a [u8]),
}

/// A status: the word after the tag or `*` (RFC 9051 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `OK`: done, or (greeting) ready for a login.
    Ok,
    /// `NO`: the command failed (a wrong password, a mailbox that does not exist).
    No,
    /// `BAD`: the server did not understand the command.
    Bad,
    /// `BYE`: the server is closing the connection.
    Bye,
    /// `PREAUTH` (greeting only): already logged in.
    Preauth,
}

impl Response {
    /// The first line (the whole response, unless it holds a literal).
    pub fn first_line(&self) -> &[u8] {
        &self.segments[0].line
    }

    /// What kind of response this is.
    pub fn kind(&self) -> Kind<'_> {
        let line = self.first_line();
        let word = line.split(|&byte| byte == b' ').next().unwrap_or_default();
        match word {
            b"+" => Kind::Continuation,
            b"*" => Kind::Untagged,
            tag => Kind::Tagged(tag),
        }
    }

    /// The status word after the tag or `*`, and the text after it (`[CODE] text`).
    pub fn status(&self) -> Option<(Status, String)> {
        let line = self.first_line();
        let mut words = line.splitn(3, |&byte| byte == b' ');
        words.next()?;
        let status = match words.next()?.to_ascii_uppercase().as_slice() {
            b"OK" => Status::Ok,
            b"NO" => Status::No,
            b"BAD" => Status::Bad,
            b"BYE" => Status::Bye,
            b"PREAUTH" => Status::Preauth,
            _ => return None,
        };
        let text = String::from_utf8_lossy(words.next().unwrap_or_default()).into_owned();
        Some((status, text))
    }

    /// The line as text, for a message (without the literals).
    pub fn shown(&self) -> String {
        String::from_utf8_lossy(self.first_line()).into_owned()
    }

    /// `* N EXISTS`: the number of messages in the mailbox (RFC 9051 §7.4.1).
    pub fn exists(&self) -> Option<u32> {
        let text = std::str::from_utf8(self.first_line()).ok()?;
        let mut words = text.split(' ');
        let (Some("*"), Some(number), Some(word), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return None;
        };
        if !word.eq_ignore_ascii_case("EXISTS") {
            return None;
        }
        number.parse().ok()
    }

    /// The capabilities this response lists: `* CAPABILITY ...`, or a `[CAPABILITY ...]`
    /// code in a status (the greeting's, a login's OK) (RFC 9051 §7.2.2, §7.1).
    pub fn capabilities(&self) -> Option<Vec<String>> {
        let text = String::from_utf8_lossy(self.first_line()).into_owned();
        let mut words = text.splitn(3, ' ');
        words.next()?;
        let second = words.next()?;
        let rest = words.next().unwrap_or_default();
        let list = if second.eq_ignore_ascii_case("CAPABILITY") {
            rest
        } else {
            let code = rest.strip_prefix('[')?;
            let code = &code[..code.find(']')?];
            let (name, list) = code.split_once(' ').unwrap_or((code, ""));
            if !name.eq_ignore_ascii_case("CAPABILITY") {
                return None;
            }
            list
        };
        Some(
            list.split_whitespace()
                .map(str::to_ascii_uppercase)
                .collect(),
        )
    }

    /// `* N FETCH (... BODY[...] value ...)`: the message number and the body section's
    /// bytes (`None` for `NIL`, or a FETCH without a body: a flag change).
    pub fn fetched_body(self) -> Option<(u32, Option<Vec<u8>>)> {
        let tokens = tokens(self).ok()?;
        let mut tokens = tokens.into_iter();
        let (Some(Token::Atom(star)), Some(Token::Atom(number)), Some(Token::Atom(fetch))) =
            (tokens.next(), tokens.next(), tokens.next())
        else {
            return None;
        };
        if star != b"*" || !fetch.eq_ignore_ascii_case(b"FETCH") {
            return None;
        }
        let number: u32 = std::str::from_utf8(&number).ok()?.parse().ok()?;
        if tokens.next() != Some(Token::Open) {
            return None;
        }
        let mut body = None;
        // Items: a name, then its value (RFC 9051 §7.5.2), until the closing parenthesis.
        loop {
            let name = match tokens.next()? {
                Token::Close => return Some((number, body)),
                Token::Atom(name) => name.to_ascii_uppercase(),
                _ => return None,
            };
            let value = tokens.next()?;
            let is_body = name.starts_with(b"BODY[")
                || name.starts_with(b"BINARY[")
                || matches!(
                    name.as_slice(),
                    b"RFC822" | b"RFC822.HEADER" | b"RFC822.TEXT"
                );
            if is_body {
                body = match value {
                    Token::Text(bytes) => Some(bytes),
                    Token::Atom(nil) if nil.eq_ignore_ascii_case(b"NIL") => None,
                    _ => return None,
                };
            } else if value == Token::Open {
                // A list (FLAGS, ENVELOPE...): skipped, nested lists and all.
                let mut depth = 1;
                while depth > 0 {
                    match tokens.next()? {
                        Token::Open => depth += 1,
                        Token::Close => depth -= 1,
                        _ => {}
                    }
                }
            }
        }
    }
}

/// Reads one whole response: a line, and while it ends in `{n}`, `n` bytes and the next
/// line. All of it together at most [`MAX_MESSAGE`] bytes and a line per 64 bytes of
/// that (so a server cannot send lines forever into one response).
pub async fn read_response<S, N>(wire: &mut Wire<S, N>, command: &str) -> Result<Response, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    let mut segments = Vec::new();
    let mut total = 0usize;
    loop {
        let line = wire.line(command).await?;
        total += line.len() + 2;
        if total > MAX_MESSAGE || segments.len() > MAX_MESSAGE / 64 {
            return Err(Failure::TooLarge {
                command: command.to_owned(),
            });
        }
        let Some(count) = literal_at_end(&line) else {
            segments.push(Segment {
                line,
                literal: None,
            });
            return Ok(Response { segments });
        };
        if total.saturating_add(count) > MAX_MESSAGE {
            return Err(Failure::TooLarge {
                command: command.to_owned(),
            });
        }
        let mut literal = Vec::with_capacity(count.min(1 << 16));
        wire.exact(count, &mut literal, command).await?;
        total += count;
        segments.push(Segment {
            line,
            literal: Some(literal),
        });
    }
}

/// `n` if `line` ends in a literal's announcement: `{n}`, or `~{n}` (a literal8, RFC
/// 9051 §4.3), or `{n+}` (RFC 7888; a client's, accepted from a server too).
pub fn literal_at_end(line: &[u8]) -> Option<usize> {
    let inside = line.strip_suffix(b"}")?;
    let open = inside.iter().rposition(|&byte| byte == b'{')?;
    let digits = &inside[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// A piece of a response's data (RFC 9051 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// An atom or a number, `NIL`, or a fetch item's name with its section:
    /// `BODY[HEADER.FIELDS (FROM SUBJECT)]` is one atom, spaces and all.
    Atom(Vec<u8>),
    /// A quoted string (unescaped) or a literal.
    Text(Vec<u8>),
    /// `(`
    Open,
    /// `)`
    Close,
}

/// The response's tokens, literals moved in where their `{n}` stood.
pub fn tokens(response: Response) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    for segment in response.segments {
        let line = &segment.line;
        // Where the `{n}` of this segment's literal starts (the end of the line if none).
        let literal_start = match &segment.literal {
            Some(_) => line
                .iter()
                .rposition(|&byte| byte == b'{')
                .unwrap_or(line.len()),
            None => line.len(),
        };
        let text = &line[..literal_start];
        let text = text.strip_suffix(b"~").unwrap_or(text);
        let mut at = 0;
        while at < text.len() {
            match text[at] {
                b' ' => at += 1,
                b'(' => {
                    tokens.push(Token::Open);
                    at += 1;
                }
                b')' => {
                    tokens.push(Token::Close);
                    at += 1;
                }
                b'"' => {
                    let (string, next) = quoted(text, at)?;
                    tokens.push(Token::Text(string));
                    at = next;
                }
                _ => {
                    let start = at;
                    let mut in_section = false;
                    while at < text.len() {
                        match text[at] {
                            b'[' => in_section = true,
                            b']' => in_section = false,
                            b' ' | b'(' | b')' if !in_section => break,
                            _ => {}
                        }
                        at += 1;
                    }
                    tokens.push(Token::Atom(text[start..at].to_vec()));
                }
            }
        }
        if let Some(literal) = segment.literal {
            tokens.push(Token::Text(literal));
        }
    }
    Ok(tokens)
}

/// The quoted string that starts at `text[at]` (a `"`), unescaped (`\"` and `\\`), and
/// where the text after it starts.
fn quoted(text: &[u8], at: usize) -> Result<(Vec<u8>, usize), String> {
    let mut string = Vec::new();
    let mut index = at + 1;
    while index < text.len() {
        match text[index] {
            b'"' => return Ok((string, index + 1)),
            b'\\' if index + 1 < text.len() => {
                string.push(text[index + 1]);
                index += 2;
            }
            byte => {
                string.push(byte);
                index += 1;
            }
        }
    }
    Err("a quoted string without its closing quote".into())
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    fn response(segments: &[(&[u8], Option<&[u8]>)]) -> Response {
        Response {
            segments: segments
                .iter()
                .map(|(line, literal)| Segment {
                    line: line.to_vec(),
                    literal: literal.map(<[u8]>::to_vec),
                })
                .collect(),
        }
    }

    #[test]
    fn a_literal_is_announced_by_braces_at_the_end_of_a_line() {
        let table: [(&[u8], Option<usize>); 8] = [
            (b"* 1 FETCH (BODY[] {312}", Some(312)),
            (b"* 1 FETCH (BINARY[] ~{5}", Some(5)),
            (b"a1 LOGIN {5+}", Some(5)),
            (b"* 1 FETCH (BODY[] {0}", Some(0)),
            (b"* OK [CAPABILITY IMAP4rev1] ready", None),
            (b"* 1 FETCH (BODY[] {x}", None),
            (b"* 1 FETCH (BODY[] {}", None),
            (b"* 1 FETCH (BODY[] {12} trailing", None),
        ];
        for (line, expected) in table {
            assert_eq!(literal_at_end(line), expected, "{:?}", line.escape_ascii());
        }
    }

    #[test]
    fn responses_are_continuations_untagged_or_tagged_with_a_status() {
        let table: [(&[u8], Kind, Option<Status>); 5] = [
            (b"+ go ahead", Kind::Continuation, None),
            (
                b"* OK [CAPABILITY IMAP4rev1] hi",
                Kind::Untagged,
                Some(Status::Ok),
            ),
            (b"* BYE logging out", Kind::Untagged, Some(Status::Bye)),
            (
                b"a3 no [AUTHENTICATIONFAILED] x",
                Kind::Tagged(b"a3"),
                Some(Status::No),
            ),
            (b"* 5 EXISTS", Kind::Untagged, None),
        ];
        for (line, kind, status) in table {
            let parsed = response(&[(line, None)]);
            assert_eq!(parsed.kind(), kind);
            assert_eq!(parsed.status().map(|(status, _)| status), status);
        }
    }

    #[test]
    fn exists_and_capabilities_are_read_from_their_responses() {
        assert_eq!(response(&[(b"* 5 EXISTS", None)]).exists(), Some(5));
        assert_eq!(response(&[(b"* 0 exists", None)]).exists(), Some(0));
        assert_eq!(response(&[(b"* 5 RECENT", None)]).exists(), None);
        let greeting = response(&[(b"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] hi", None)]);
        assert_eq!(
            greeting.capabilities().unwrap(),
            ["IMAP4REV1", "STARTTLS", "AUTH=PLAIN"]
        );
        let listed = response(&[(b"* CAPABILITY IMAP4rev1 LOGINDISABLED", None)]);
        assert_eq!(
            listed.capabilities().unwrap(),
            ["IMAP4REV1", "LOGINDISABLED"]
        );
        assert_eq!(
            response(&[(b"* OK Dovecot ready.", None)]).capabilities(),
            None
        );
    }

    #[test]
    fn a_fetch_gives_its_number_and_its_body_whatever_else_it_holds() {
        /// A message number and its body, if the response is a FETCH.
        type Fetched<'a> = Option<(u32, Option<&'a [u8]>)>;
        let table: [(Response, Fetched); 6] = [
            (
                response(&[
                    (
                        b"* 1 FETCH (BODY[HEADER.FIELDS (FROM SUBJECT)] {9}",
                        Some(b"From: x\r\n"),
                    ),
                    (b")", None),
                ]),
                Some((1, Some(b"From: x\r\n"))),
            ),
            // Other items before and after, lists nested, the body quoted.
            (
                response(&[(
                    b"* 12 FETCH (UID 7 FLAGS (\\Seen (x)) BODY[] \"a \\\"b\\\"\" RFC822.SIZE 3)",
                    None,
                )]),
                Some((12, Some(b"a \"b\""))),
            ),
            (
                response(&[(b"* 2 FETCH (BODY[] NIL)", None)]),
                Some((2, None)),
            ),
            // A flag change another client made: no body.
            (
                response(&[(b"* 3 FETCH (FLAGS (\\Deleted))", None)]),
                Some((3, None)),
            ),
            (response(&[(b"* 3 EXPUNGE", None)]), None),
            // A literal holding what looks like the end of the response, and a tag.
            (
                response(&[
                    (b"* 4 FETCH (BODY[] {14}", Some(b")\r\na1 OK done\r\n")),
                    (b")", None),
                ]),
                Some((4, Some(b")\r\na1 OK done\r\n"))),
            ),
        ];
        for (response, expected) in table {
            let shown = response.shown();
            let expected = expected.map(|(n, body)| (n, body.map(<[u8]>::to_vec)));
            assert_eq!(response.fetched_body(), expected, "{shown}");
        }
    }
}
