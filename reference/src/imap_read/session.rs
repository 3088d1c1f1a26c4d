//! The IMAP dialogue, command by command: tags, untagged data collected on the way, the
//! tagged status checked (RFC 9051 §2.2, §6).

use std::collections::BTreeMap;

use tokio::io::{AsyncRead, AsyncWrite};

use super::response::{Kind, Response, Status, read_response};
use crate::mail_read::{Failure, Fetched, Request, Wanted, Wire};
use crate::net::Network;

/// What `FETCH` asks for, per message (RFC 9051 §6.4.5). `PEEK`: reading does not set
/// `\Seen` (SPEC `read/3`), even if the mailbox were selected read-write.
pub const LIST_ITEM: &str = "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]";
/// The whole message, without setting `\Seen`.
pub const SHOW_ITEM: &str = "BODY.PEEK[]";

/// The longest string sent quoted; a longer one goes as a literal (RFC 9051 §4.3: a
/// quoted string is for short text; servers limit their command lines).
const MAX_QUOTED: usize = 256;

/// The dialogue, from the greeting to LOGOUT. Ends it with LOGOUT after a refusal too.
///
/// ```text
/// S: * OK [CAPABILITY IMAP4rev1 STARTTLS ...] ready   (no CAPABILITY: a1 CAPABILITY)
/// C: a1 STARTTLS          S: a1 OK                    (offered, and not --tls)
///    ==== TLS handshake; from here all is encrypted ====
/// C: a2 LOGIN alice "s3cret"                          S: a2 OK
/// C: a3 EXAMINE INBOX     S: * 5 EXISTS ...           S: a3 OK [READ-ONLY]
/// C: a4 FETCH 1:5 (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])    (--list)
/// C: a4 FETCH 2,3 (BODY.PEEK[])                                (--show 3,2)
///                         S: * 2 FETCH (BODY[] {312} ...)  ...  S: a4 OK
/// C: a5 LOGOUT            S: * BYE                    S: a5 OK
/// ```
pub(super) async fn read<S, N>(wire: Wire<S, N>, request: &Request<'_>) -> Result<Fetched, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    let mut session = Session::new(wire);
    let greeting = session.greeting().await?;
    let mut session = match secure_if_offered(session, greeting.capabilities, request).await? {
        Secured::Ready(session) => session,
        Secured::Stopped(mut session, failure) => {
            session.logout().await;
            return Err(failure);
        }
    };
    let outcome = async {
        if !greeting.preauth {
            session.login(request).await?;
        }
        let count = session.examine().await?;
        // SPEC read/2: every number checked before anything is fetched.
        let numbers = request.wanted.to_fetch(count)?;
        let item = match request.wanted {
            Wanted::List => LIST_ITEM,
            Wanted::Show(_) => SHOW_ITEM,
        };
        session.fetch(&numbers, item).await
    }
    .await;
    match &outcome {
        Err(failure) if !failure.can_end_politely() => {}
        // The mail is read (or refused): LOGOUT ends the dialogue either way. Its own
        // failure changes nothing the user asked for, so it is not one.
        _ => session.logout().await,
    }
    outcome
}

/// What the greeting said.
struct Greeting {
    /// `* PREAUTH`: already logged in (RFC 9051 §7.1.4).
    preauth: bool,
    /// The `[CAPABILITY ...]` code, if the greeting has one.
    capabilities: Option<Vec<String>>,
}

/// A session in clear that may now log in (upgraded to TLS if that was offered), or one
/// that must stop before logging in, and why.
enum Secured<S, N> {
    Ready(Session<S, N>),
    Stopped(Session<S, N>, Failure),
}

/// SPEC `read/4`: on a connection in clear, if the server offers STARTTLS, TLS starts
/// before the password is sent, with the certificate verified (RFC 9051 §6.2.1). A server
/// that does not offer it gets the login in clear (the lab server on loopback), unless it
/// says `LOGINDISABLED` (RFC 9051 §6.2.3).
async fn secure_if_offered<S, N>(
    mut session: Session<S, N>,
    capabilities: Option<Vec<String>>,
    request: &Request<'_>,
) -> Result<Secured<S, N>, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    if session.wire.is_tls() {
        return Ok(Secured::Ready(session));
    }
    let capabilities = match capabilities {
        Some(capabilities) => capabilities,
        // RFC 9051 §6.1.1: ask, when the greeting did not say.
        None => match session.capability().await {
            Ok(capabilities) => capabilities,
            Err(failure) if failure.can_end_politely() => {
                return Ok(Secured::Stopped(session, failure));
            }
            Err(failure) => return Err(failure),
        },
    };
    let has = |name: &str| capabilities.iter().any(|offered| offered == name);
    if !has("STARTTLS") {
        if has("LOGINDISABLED") {
            return Ok(Secured::Stopped(session, Failure::LoginDisabled));
        }
        return Ok(Secured::Ready(session));
    }
    let config = match request.tls_config() {
        Ok(config) => config,
        Err(failure) => return Ok(Secured::Stopped(session, failure)),
    };
    if let Err(failure) = session.command("STARTTLS", "STARTTLS", |_| Ok(())).await {
        if failure.can_end_politely() {
            return Ok(Secured::Stopped(session, failure));
        }
        return Err(failure);
    }
    // RFC 9051 §6.2.1: what the server said before TLS is forgotten (it could have been
    // changed on the way); this client needs no capability after it.
    let Session { wire, next_tag } = session;
    let wire = wire.start_tls(config, request.host).await?;
    Ok(Secured::Ready(Session { wire, next_tag }))
}

/// An IMAP connection: the wire and the next tag.
pub(super) struct Session<S, N> {
    wire: Wire<S, N>,
    next_tag: u32,
}

impl<S, N> Session<S, N>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    fn new(wire: Wire<S, N>) -> Session<S, N> {
        Session { wire, next_tag: 1 }
    }

    /// The greeting: `* OK` (log in), `* PREAUTH` (logged in already), or `* BYE` (go
    /// away) (RFC 9051 §7.1).
    async fn greeting(&mut self) -> Result<Greeting, Failure> {
        let response = read_response(&mut self.wire, "greeting").await?;
        let refused = |response: &Response| Failure::Refused {
            command: "greeting".into(),
            answer: response.shown(),
        };
        match (response.kind(), response.status()) {
            (Kind::Untagged, Some((Status::Ok | Status::Preauth, _))) => Ok(Greeting {
                preauth: matches!(response.status(), Some((Status::Preauth, _))),
                capabilities: response.capabilities(),
            }),
            (Kind::Untagged, Some((Status::Bye, _))) => Err(refused(&response)),
            _ => Err(Failure::Malformed {
                command: "greeting".into(),
                why: format!("\"{}\" is not an IMAP greeting", response.shown()),
            }),
        }
    }

    /// `CAPABILITY` (RFC 9051 §6.1.1).
    async fn capability(&mut self) -> Result<Vec<String>, Failure> {
        let mut capabilities = Vec::new();
        self.command("CAPABILITY", "CAPABILITY", |response| {
            if let Some(listed) = response.capabilities() {
                capabilities = listed;
            }
            Ok(())
        })
        .await?;
        Ok(capabilities)
    }

    /// `LOGIN user password` (RFC 9051 §6.2.3), each as a quoted string, or as a literal
    /// when it cannot be quoted. The password is never shown: the command is named `LOGIN`.
    async fn login(&mut self, request: &Request<'_>) -> Result<(), Failure> {
        let login = request.login;
        let parts = [
            Part::Verbatim("LOGIN "),
            Part::String(&login.user),
            Part::Verbatim(" "),
            Part::String(&login.password),
        ];
        self.command_parts(&parts, "LOGIN", |_| Ok(())).await
    }

    /// `EXAMINE INBOX`: selects the mailbox read-only (RFC 9051 §6.3.3), so nothing this
    /// session does can change it (SPEC `read/3`). Returns the count of `* N EXISTS`.
    async fn examine(&mut self) -> Result<u32, Failure> {
        let mut count = None;
        self.command("EXAMINE INBOX", "EXAMINE INBOX", |response| {
            if let Some(exists) = response.exists() {
                count = Some(exists);
            }
            Ok(())
        })
        .await?;
        count.ok_or_else(|| Failure::Malformed {
            command: "EXAMINE INBOX".into(),
            why: "no \"* N EXISTS\": the number of messages is unknown".into(),
        })
    }

    /// `FETCH set (item)` for `numbers` (message sequence numbers, not UIDs: RFC 9051
    /// §2.3.1.2); the answers come as `* N FETCH`, in the server's order, and are matched
    /// by their number. Nothing is fetched from an empty mailbox: `1:0` is not a set.
    async fn fetch(&mut self, numbers: &[u32], item: &str) -> Result<Fetched, Failure> {
        let mut bodies: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
        if !numbers.is_empty() {
            let set = sequence_set(numbers);
            let command = format!("FETCH {set} ({item})");
            self.command(&command, "FETCH", |response| {
                // Only the numbers asked for: a server may send others (RFC 9051 §7.5.2).
                if let Some((number, Some(body))) = response.fetched_body()
                    && numbers.binary_search(&number).is_ok()
                {
                    bodies.insert(number, body);
                }
                Ok(())
            })
            .await?;
        }
        if let Some(missing) = numbers.iter().find(|n| !bodies.contains_key(n)) {
            return Err(Failure::Malformed {
                command: "FETCH".into(),
                why: format!("no body for message {missing}"),
            });
        }
        Ok(Fetched {
            messages: bodies.into_iter().collect(),
        })
    }

    /// `LOGOUT` (RFC 9051 §6.1.3): `* BYE`, then the tagged OK; then the close. Its own
    /// failure is not reported: it ends a dialogue whose outcome is already known.
    async fn logout(&mut self) {
        let _ = self.command("LOGOUT", "LOGOUT", |_| Ok(())).await;
        self.wire.close().await;
    }

    /// Sends `text` as one command with the next tag; hands every untagged response to
    /// `untagged` until the tagged one, whose status must be OK.
    async fn command(
        &mut self,
        text: &str,
        shown: &str,
        untagged: impl FnMut(Response) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        self.command_parts(&[Part::Verbatim(text)], shown, untagged)
            .await
    }

    /// Sends a command made of `parts`, a string that cannot be quoted as a literal:
    ///
    /// ```text
    /// C: a2 LOGIN alice {6}          the count, then wait
    /// S: + go ahead                  (or a2 NO/BAD: the command is over)
    /// C: s3 "cr                      exactly 6 bytes, then the rest of the command
    /// C: (CRLF)
    /// ```
    async fn command_parts(
        &mut self,
        parts: &[Part<'_>],
        shown: &str,
        mut untagged: impl FnMut(Response) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        let tag = format!("a{}", self.next_tag);
        self.next_tag += 1;
        let mut line = format!("{tag} ").into_bytes();
        for part in parts {
            match part {
                Part::Verbatim(text) => line.extend_from_slice(text.as_bytes()),
                Part::String(text) => match quote(text) {
                    Some(quoted) => line.extend_from_slice(quoted.as_bytes()),
                    None => {
                        // RFC 9051 §4.3: a synchronizing literal; the server says `+`
                        // before the bytes are sent.
                        line.extend_from_slice(format!("{{{}}}\r\n", text.len()).as_bytes());
                        self.wire.send(&line, shown).await?;
                        line.clear();
                        if self.until_tagged(&tag, shown, true, &mut untagged).await? {
                            // A tagged OK to half a command: the server is not in step.
                            return Err(Failure::Malformed {
                                command: shown.to_owned(),
                                why: "the command ended before its literal".into(),
                            });
                        }
                        line.extend_from_slice(text.as_bytes());
                    }
                },
            }
        }
        line.extend_from_slice(b"\r\n");
        self.wire.send(&line, shown).await?;
        self.until_tagged(&tag, shown, false, &mut untagged)
            .await
            .map(drop)
    }

    /// Reads responses until the one tagged `tag` (returns `true`, when its status is
    /// OK), or, if `continuation`, until a `+` (returns `false`). Untagged responses go
    /// to `untagged`; a `* BYE` before a close is what the failure shows.
    async fn until_tagged(
        &mut self,
        tag: &str,
        shown: &str,
        continuation: bool,
        untagged: &mut impl FnMut(Response) -> Result<(), Failure>,
    ) -> Result<bool, Failure> {
        let mut bye: Option<String> = None;
        loop {
            let response = match read_response(&mut self.wire, shown).await {
                Ok(response) => response,
                // The server said why before it closed: that is the failure to show.
                Err(Failure::Closed { command }) => {
                    return Err(match bye {
                        Some(answer) => Failure::Refused { command, answer },
                        None => Failure::Closed { command },
                    });
                }
                Err(failure) => return Err(failure),
            };
            match response.kind() {
                Kind::Continuation if continuation => return Ok(false),
                Kind::Continuation => {
                    return Err(Failure::Malformed {
                        command: shown.to_owned(),
                        why: "a \"+\" when no literal was announced".into(),
                    });
                }
                Kind::Untagged => {
                    if let Some((Status::Bye, _)) = response.status() {
                        bye = Some(response.shown());
                    }
                    untagged(response)?;
                }
                Kind::Tagged(other) if other != tag.as_bytes() => {
                    return Err(Failure::Malformed {
                        command: shown.to_owned(),
                        why: format!("\"{}\" answers another command", response.shown()),
                    });
                }
                Kind::Tagged(_) => {
                    return match response.status() {
                        Some((Status::Ok, _)) => Ok(true),
                        Some((Status::No | Status::Bad, _)) => Err(Failure::Refused {
                            command: shown.to_owned(),
                            // The answer without the tag: `NO [AUTHENTICATIONFAILED] ...`.
                            answer: response.shown()[tag.len()..].trim_start().to_owned(),
                        }),
                        _ => Err(Failure::Malformed {
                            command: shown.to_owned(),
                            why: format!("\"{}\" is not a status", response.shown()),
                        }),
                    };
                }
            }
        }
    }
}

/// A piece of a command line.
enum Part<'a> {
    /// Sent as it is (the command's name, its fixed arguments).
    Verbatim(&'a str),
    /// A string argument (RFC 9051 §4.3 `astring`): quoted, or a literal.
    String(&'a str),
}

/// `text` as a quoted string (RFC 9051 §4.3): in double quotes, `"` and `\` escaped with
/// `\`; `None` if it cannot be one (it holds a byte outside 7-bit ASCII, a CR, LF or NUL,
/// or is long): then it goes as a literal. Always quoted, never an atom: `alice` could
/// be sent bare, `NIL` or `a b` could not, and quoting every string is one rule instead of
/// three.
pub fn quote(text: &str) -> Option<String> {
    let quotable = text.len() <= MAX_QUOTED
        && text
            .bytes()
            .all(|byte| matches!(byte, 0x01..=0x7f) && byte != b'\r' && byte != b'\n');
    if !quotable {
        return None;
    }
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    Some(quoted)
}

/// The numbers (sorted, distinct) as a sequence set: `1:5` for a run, `2,4` otherwise
/// (RFC 9051 §9 `sequence-set`).
pub fn sequence_set(numbers: &[u32]) -> String {
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for &number in numbers {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == number => *end = number,
            _ => ranges.push((number, number)),
        }
    }
    ranges
        .iter()
        .map(|&(start, end)| match start == end {
            true => start.to_string(),
            false => format!("{start}:{end}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_with_escapes_or_left_to_a_literal() {
        let table: [(&str, Option<&str>); 6] = [
            ("alice", Some("\"alice\"")),
            ("", Some("\"\"")),
            ("a b", Some("\"a b\"")),
            ("s3\"cr\\t", Some("\"s3\\\"cr\\\\t\"")),
            ("pässword", None),
            ("two\r\nlines", None),
        ];
        for (text, expected) in table {
            assert_eq!(quote(text).as_deref(), expected, "{text}");
        }
        assert_eq!(quote(&"x".repeat(MAX_QUOTED + 1)), None);
    }

    #[test]
    fn sequence_sets_join_runs() {
        assert_eq!(sequence_set(&[1, 2, 3, 4, 5]), "1:5");
        assert_eq!(sequence_set(&[2, 4]), "2,4");
        assert_eq!(sequence_set(&[1, 3, 4, 5, 9]), "1,3:5,9");
        assert_eq!(sequence_set(&[7]), "7");
    }
}
