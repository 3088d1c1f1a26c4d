//! The POP3 dialogue, command by command (RFC 1939 §4–§7, RFC 2449, RFC 2595).

use tokio::io::{AsyncRead, AsyncWrite};

use super::answer::{Status, read_lines, read_status};
use crate::mail_read::{Failure, Fetched, Request, Wanted, Wire};
use crate::net::Network;

/// The dialogue, from the greeting to QUIT. Ends it with QUIT after a refusal too; never
/// sends `DELE` (SPEC `read/3`).
///
/// ```text
/// S: +OK ready
/// C: CAPA                 S: +OK / USER / TOP / STLS / .     (-ERR: an old server)
/// C: STLS                 S: +OK                             (offered, and not --tls)
///    ==== TLS handshake; from here all is encrypted ====
/// C: USER alice           S: +OK
/// C: PASS s3cret          S: +OK                             (-ERR [AUTH]: wrong)
/// C: STAT                 S: +OK 5 2391                      5 messages
/// C: TOP 1 0              S: +OK / the header / .            (--list; RETR if refused)
/// C: RETR 3               S: +OK / the message / .           (--show 3)
/// C: QUIT                 S: +OK
/// ```
pub(super) async fn read<S, N>(wire: Wire<S, N>, request: &Request<'_>) -> Result<Fetched, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    let mut session = Session { wire };
    session.greeting().await?;
    let mut session = match secure_if_offered(session, request).await? {
        Secured::Ready(session) => session,
        Secured::Stopped(mut session, failure) => {
            session.quit().await;
            return Err(failure);
        }
    };
    let outcome = async {
        session.login(request).await?;
        let count = session.stat().await?;
        // SPEC read/2: every number checked before anything is fetched.
        let numbers = request.wanted.to_fetch(count)?;
        match request.wanted {
            Wanted::List => session.headers(&numbers).await,
            Wanted::Show(_) => session.messages(&numbers).await,
        }
    }
    .await;
    match &outcome {
        Err(failure) if !failure.can_end_politely() => {}
        // QUIT in the TRANSACTION state enters UPDATE (RFC 1939 §6): with no DELE,
        // nothing is removed. Its own failure changes nothing the user asked for.
        _ => session.quit().await,
    }
    outcome
}

/// A session in clear that may now log in (upgraded to TLS if that was offered), or one
/// that must stop before logging in, and why.
enum Secured<S, N> {
    Ready(Session<S, N>),
    Stopped(Session<S, N>, Failure),
}

/// SPEC `read/4`: on a connection in clear, if `CAPA` lists `STLS` (RFC 2449 §5, RFC 2595
/// §4), TLS starts before USER and PASS, the certificate verified. A server that does not
/// know CAPA (`-ERR`), or does not list STLS, gets the login in clear (the lab server on
/// loopback).
async fn secure_if_offered<S, N>(
    mut session: Session<S, N>,
    request: &Request<'_>,
) -> Result<Secured<S, N>, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    if session.wire.is_tls() {
        return Ok(Secured::Ready(session));
    }
    let capabilities = match session.capabilities().await {
        Ok(capabilities) => capabilities,
        Err(failure) if failure.can_end_politely() => {
            return Ok(Secured::Stopped(session, failure));
        }
        Err(failure) => return Err(failure),
    };
    if !capabilities.iter().any(|capability| capability == "STLS") {
        return Ok(Secured::Ready(session));
    }
    let config = match request.tls_config() {
        Ok(config) => config,
        Err(failure) => return Ok(Secured::Stopped(session, failure)),
    };
    if let Err(failure) = session.expect_ok("STLS", "STLS").await {
        if failure.can_end_politely() {
            return Ok(Secured::Stopped(session, failure));
        }
        return Err(failure);
    }
    let wire = session.wire.start_tls(config, request.host).await?;
    Ok(Secured::Ready(Session { wire }))
}

/// A POP3 connection.
struct Session<S, N> {
    wire: Wire<S, N>,
}

impl<S, N> Session<S, N>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    /// The greeting: `+OK` (RFC 1939 §4); `-ERR` is a refusal.
    async fn greeting(&mut self) -> Result<(), Failure> {
        match read_status(&mut self.wire, "greeting").await? {
            Status::Ok(_) => Ok(()),
            Status::Err(text) => Err(refused("greeting", text)),
        }
    }

    /// `CAPA` (RFC 2449 §5): the capabilities, one per line, the first word of each
    /// upper-cased; none if the server does not know the command.
    async fn capabilities(&mut self) -> Result<Vec<String>, Failure> {
        self.wire.send(b"CAPA\r\n", "CAPA").await?;
        match read_status(&mut self.wire, "CAPA").await? {
            Status::Err(_) => Ok(Vec::new()),
            Status::Ok(_) => {
                let lines = read_lines(&mut self.wire, "CAPA").await?;
                Ok(String::from_utf8_lossy(&lines)
                    .lines()
                    .filter_map(|line| line.split_whitespace().next())
                    .map(str::to_ascii_uppercase)
                    .collect())
            }
        }
    }

    /// `USER`, then `PASS` (RFC 1939 §7). The password is never shown: the command is
    /// named `PASS`.
    async fn login(&mut self, request: &Request<'_>) -> Result<(), Failure> {
        let login = request.login;
        self.expect_ok(&format!("USER {}", login.user), "USER")
            .await?;
        self.expect_ok(&format!("PASS {}", login.password), "PASS")
            .await?;
        Ok(())
    }

    /// `STAT` (RFC 1939 §5): `+OK count size`; returns the count.
    async fn stat(&mut self) -> Result<u32, Failure> {
        let text = self.expect_ok("STAT", "STAT").await?;
        text.split_whitespace()
            .next()
            .and_then(|count| count.parse().ok())
            .ok_or_else(|| Failure::Malformed {
                command: "STAT".into(),
                why: format!("\"+OK {text}\" does not start with a count"),
            })
    }

    /// For `--list`: `TOP n 0`, each message's header without body lines (RFC 1939 §7).
    /// TOP is optional: if the server refuses the first, `RETR` fetches whole messages
    /// instead (the header is their beginning).
    async fn headers(&mut self, numbers: &[u32]) -> Result<Fetched, Failure> {
        let mut fetched = Fetched::default();
        let mut top = true;
        for &number in numbers {
            if top {
                let command = format!("TOP {number} 0");
                self.wire
                    .send(format!("{command}\r\n").as_bytes(), &command)
                    .await?;
                match read_status(&mut self.wire, &command).await? {
                    Status::Ok(_) => {
                        let header = read_lines(&mut self.wire, &command).await?;
                        fetched.messages.push((number, header));
                        continue;
                    }
                    // RFC 1939 §7: TOP is optional; a server without it says -ERR.
                    Status::Err(_) => top = false,
                }
            }
            let message = self.retrieve(number).await?;
            fetched.messages.push((number, message));
        }
        Ok(fetched)
    }

    /// For `--show`: `RETR n` for each number (RFC 1939 §5).
    async fn messages(&mut self, numbers: &[u32]) -> Result<Fetched, Failure> {
        let mut fetched = Fetched::default();
        for &number in numbers {
            let message = self.retrieve(number).await?;
            fetched.messages.push((number, message));
        }
        Ok(fetched)
    }

    /// `RETR n`: the whole message, unstuffed.
    async fn retrieve(&mut self, number: u32) -> Result<Vec<u8>, Failure> {
        let command = format!("RETR {number}");
        self.expect_ok(&command, &command).await?;
        read_lines(&mut self.wire, &command).await
    }

    /// `QUIT` (RFC 1939 §6), then the close. Its own failure is not reported.
    async fn quit(&mut self) {
        let _ = self.expect_ok("QUIT", "QUIT").await;
        self.wire.close().await;
    }

    /// Sends the command `line` and expects `+OK`; returns its text. `shown` names the
    /// command in a failure.
    async fn expect_ok(&mut self, line: &str, shown: &str) -> Result<String, Failure> {
        self.wire
            .send(format!("{line}\r\n").as_bytes(), shown)
            .await?;
        match read_status(&mut self.wire, shown).await? {
            Status::Ok(text) => Ok(text),
            Status::Err(text) => Err(refused(shown, text)),
        }
    }
}

fn refused(command: &str, text: String) -> Failure {
    Failure::Refused {
        command: command.to_owned(),
        answer: format!("-ERR {text}").trim_end().to_owned(),
    }
}
