//! The mail server: accept clients forever, each served by its own task, and print every
//! accepted message on stdout.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use super::command::{Command, MailParameter, parse_command};
use super::transaction::{Data, MAX_MESSAGE_SIZE, MAX_RECIPIENTS, Refusal, Transaction, ends_data};
use crate::cli::{self, Stdio};
use crate::lines::{Line, LineReader};
use crate::net::{Listener, Network};

/// Mail server (SMTP): accepts messages and prints each on stdout.
#[derive(Parser)]
#[command(name = "smtp-server")]
struct Args {
    /// TCP port to listen on (0 picks a free one).
    port: u16,
}

/// The name the server gives itself in its greeting and replies.
///
/// RFC 5321 §4.1.3 wants the server's fully-qualified domain name here. A lab server on
/// loopback has none worth giving; a real one would make this configurable.
pub const SERVER_NAME: &str = "localhost";

/// The longest line read, CRLF included: RFC 5321 §4.5.3.1.6 (a text line is at most 1000
/// octets). Command lines are held to the same limit *(decided, SPEC `smtpd/1`)*, though
/// §4.5.3.1.4 only requires 512 for them.
pub const MAX_LINE: usize = 1000;

/// How long the server waits for a client's next line before it gives up: RFC 5321
/// §4.5.3.2.7 (the server timeout, "at least 5 minutes"). A client that connects and says
/// nothing must not hold a task and a buffer forever.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// `smtp-server PORT`: binds, then serves clients concurrently, forever.
pub async fn server_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match cli::parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    let listener = match net.bind_tcp(args.port).await {
        Ok(listener) => listener,
        // SPEC conventions: cannot bind -> stderr, non-zero exit, nothing on stdout.
        Err(error) => {
            let context = format!("cannot bind port {}", args.port);
            return cli::fail(&mut stdio.stderr, "smtp-server", context, error).await;
        }
    };
    let never = std::future::pending::<()>();
    serve(net, listener, stdio.stdout, &mut stdio.stderr, never).await;
    0
}

/// Where accepted messages go: stdout, shared by every client's task.
///
/// Each record is written whole while holding the lock (SPEC `smtpd/2`): two clients
/// whose messages end at the same moment print one after the other, never interleaved.
pub struct Printer<W>(Arc<Mutex<W>>);

impl<W> Clone for Printer<W> {
    fn clone(&self) -> Self {
        Printer(Arc::clone(&self.0))
    }
}

impl<W: AsyncWrite + Unpin> Printer<W> {
    /// Prints on `output`.
    pub fn new(output: W) -> Printer<W> {
        Printer(Arc::new(Mutex::new(output)))
    }

    /// Writes `record` in one go and flushes it, so that it is out before the client is
    /// told 250.
    pub async fn print(&self, record: &[u8]) -> io::Result<()> {
        let mut output = self.0.lock().await;
        output.write_all(record).await?;
        output.flush().await
    }
}

/// How serving one client ended.
///
/// A client that misbehaves is an expected condition, not an error of the server: the
/// server reports it on stderr and goes on serving the others. `messages` counts the
/// messages accepted (and printed) before the end.
#[derive(Debug)]
pub enum SessionOutcome {
    /// The client said QUIT and was answered 221.
    Quit {
        /// The messages accepted.
        messages: usize,
    },
    /// The client closed the connection without QUIT (a message in progress is dropped).
    Vanished {
        /// The messages accepted.
        messages: usize,
    },
    /// The client said nothing for [`COMMAND_TIMEOUT`]; it was told 421 and dropped.
    TimedOut {
        /// The messages accepted.
        messages: usize,
    },
    /// The connection failed (a reset).
    Broken {
        /// The messages accepted.
        messages: usize,
        /// What the connection said.
        error: io::Error,
    },
    /// A message could not be printed (stdout is closed): the client was told 451 and
    /// the connection closed.
    OutputFailed {
        /// What writing to stdout said.
        error: io::Error,
    },
}

/// Accepts clients until `shutdown` completes, serving each in its own task; prints each
/// accepted message on `output`.
///
/// `diagnostics` (stderr in the binary) receives a line per client that ended badly. A
/// failed `accept` (for example too many open files) is reported and retried: it concerns
/// one client only.
pub async fn serve<N, W, E>(
    net: N,
    listener: N::Listener,
    output: W,
    diagnostics: &mut E,
    shutdown: impl Future,
) where
    N: Network,
    W: AsyncWrite + Unpin + Send + 'static,
    E: AsyncWrite + Unpin,
{
    let printer = Printer::new(output);
    // The tasks serving clients. Each returns how its client ended; this loop collects
    // the outcomes and reports them, so only this loop writes on stderr.
    let mut sessions: JoinSet<(SocketAddr, SessionOutcome)> = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            // In this order, not at random: finished clients are reaped before new ones
            // are taken, and the simulated world replays exactly (no random draw).
            biased;
            // `join_next` gives `None` while no client is being served; the pattern then
            // does not match and `select!` waits for the other branches only.
            Some(finished) = sessions.join_next() => match finished {
                Ok((peer, outcome)) => {
                    if let Some(line) = describe(peer, &outcome) {
                        report(diagnostics, line).await;
                    }
                }
                // A task that panicked: a bug of this server, but it concerned one client
                // only, and the others are still served.
                Err(error) => report(diagnostics, format!("a client's task failed: {error}")).await,
            },
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // A task per client: a client that is slow to type its commands does
                    // not hold up the others.
                    let net = net.clone();
                    let printer = printer.clone();
                    sessions.spawn(async move { (peer, serve_one(stream, net, printer).await) });
                }
                Err(error) => report(diagnostics, format!("accept failed: {error}")).await,
            },
            _ = &mut shutdown => return,
        }
    }
}

/// The diagnostic line for a client that ended badly; `None` for one that said QUIT.
fn describe(peer: SocketAddr, outcome: &SessionOutcome) -> Option<String> {
    match outcome {
        SessionOutcome::Quit { .. } => None,
        SessionOutcome::Vanished { messages } => Some(format!(
            "client {peer} closed the connection without QUIT ({messages} messages accepted)"
        )),
        SessionOutcome::TimedOut { messages } => Some(format!(
            "client {peer} said nothing for {} s; closed ({messages} messages accepted)",
            COMMAND_TIMEOUT.as_secs()
        )),
        SessionOutcome::Broken { messages, error } => Some(format!(
            "client {peer} failed: {error} ({messages} messages accepted)"
        )),
        SessionOutcome::OutputFailed { error } => Some(format!(
            "cannot print the message of client {peer}: {error}; answered 451"
        )),
    }
}

/// Writes one line on the diagnostics stream, named after the program.
async fn report<E: AsyncWrite + Unpin>(diagnostics: &mut E, line: String) {
    cli::diagnose(diagnostics, format!("smtp-server: {line}")).await;
}

/// Why a session stopped reading: the client closed, failed, or went silent.
enum Interrupted {
    Vanished,
    Broken(io::Error),
    TimedOut,
}

/// Where a client is in the dialogue (RFC 5321 §3.3, §4.1.4).
#[derive(Default)]
struct Session {
    /// EHLO or HELO was accepted: mail transactions may start.
    greeted: bool,
    /// The transaction started by MAIL, until DATA ends it or RSET (or EHLO) aborts it.
    transaction: Option<Transaction>,
}

/// What to do after a command.
enum Next {
    /// Send this reply (one or more lines, each with its CRLF) and read the next command.
    Reply(String),
    /// Send 354 and read the message.
    Data(Transaction),
    /// Send 221 and close.
    Quit,
}

/// Serves one client: the greeting, then one reply per command until QUIT.
///
/// ```text
/// 220 greeting
///   -> read a line (1000 bytes at most, 5 minutes at most)
///   -> parse it -> check it against the session's state -> reply
///   -> DATA? 354, read lines until ".", print the record, 250
///   -> QUIT? 221, close
/// ```
///
/// Everything that can go wrong is the client's doing, so it is a [`SessionOutcome`].
pub async fn serve_one<S, N, W>(stream: S, net: N, printer: Printer<W>) -> SessionOutcome
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
    W: AsyncWrite + Unpin,
{
    let mut connection = LineReader::new(stream);
    let mut session = Session::default();
    let mut messages = 0;
    // RFC 5321 §4.2: the server speaks first, with 220 and its name (§4.3.1).
    let greeting = format!("220 {SERVER_NAME} ESMTP ready\r\n");
    if let Err(error) = send(&mut connection, &greeting).await {
        return SessionOutcome::Broken { messages, error };
    }
    loop {
        let next = match next_line(&mut connection, &net).await {
            // RFC 5321 §4.5.3.1.10: "500 Line too long"; the line was dropped whole.
            Ok(Line::TooLong) => Next::Reply("500 Line too long\r\n".into()),
            Ok(Line::Complete(line)) => session.handle(parse_command(line)),
            Ok(Line::Closed | Line::Truncated) => return SessionOutcome::Vanished { messages },
            Err(interrupted) => return end(&mut connection, interrupted, messages).await,
        };
        let reply = match next {
            Next::Reply(reply) => reply,
            Next::Quit => {
                // RFC 5321 §4.1.1.10: 221, then close.
                let goodbye = format!("221 {SERVER_NAME} closing connection\r\n");
                if let Err(error) = send(&mut connection, &goodbye).await {
                    return SessionOutcome::Broken { messages, error };
                }
                let _ = connection.get_mut().shutdown().await;
                return SessionOutcome::Quit { messages };
            }
            Next::Data(transaction) => {
                let go_ahead = "354 End data with <CR><LF>.<CR><LF>\r\n";
                if let Err(error) = send(&mut connection, go_ahead).await {
                    return SessionOutcome::Broken { messages, error };
                }
                let data = match receive_data(&mut connection, &net, &transaction).await {
                    Ok(data) => data,
                    Err(interrupted) => return end(&mut connection, interrupted, messages).await,
                };
                match data.finish() {
                    Ok(record) => match printer.print(&record).await {
                        // SPEC smtpd/2: printed first, then acknowledged. A 250 promises
                        // the message is taken care of.
                        Ok(()) => {
                            messages += 1;
                            "250 OK: message accepted\r\n".into()
                        }
                        Err(error) => {
                            // RFC 5321 §4.2.3: 451, a local error; the client may retry.
                            let reply = "451 Requested action aborted: local error\r\n";
                            let _ = send(&mut connection, reply).await;
                            return SessionOutcome::OutputFailed { error };
                        }
                    },
                    // RFC 5321 §4.5.3.1.10: 552 for a message over the size limit.
                    Err(Refusal::TooLarge) => {
                        "552 Message exceeds fixed maximum message size\r\n".into()
                    }
                    Err(Refusal::LineTooLong) => "500 Line too long\r\n".into(),
                }
            }
        };
        if let Err(error) = send(&mut connection, &reply).await {
            return SessionOutcome::Broken { messages, error };
        }
    }
}

/// Reads the lines of a message after 354 until the line `.` (RFC 5321 §4.1.1.4).
async fn receive_data<S, N>(
    connection: &mut LineReader<S>,
    net: &N,
    transaction: &Transaction,
) -> Result<Data, Interrupted>
where
    S: AsyncRead + Unpin,
    N: Network,
{
    let mut data = Data::new(transaction);
    // Until the final `.`: each line, however long the message, goes through the one
    // buffer of the reader, and into the record only while it is within the size limit.
    loop {
        match next_line(connection, net).await? {
            Line::Complete(line) if ends_data(line) => return Ok(data),
            // RFC 5321 §4.5.2: the leading dot is removed as the line is stored.
            Line::Complete(line) => data.push_line(line),
            Line::TooLong => data.push_too_long(),
            // The client left before its final `.`: the message is not complete, so it
            // is not printed (RFC 5321 §4.1.1.4: only the `.` makes it the server's).
            Line::Closed | Line::Truncated => return Err(Interrupted::Vanished),
        }
    }
}

/// The next line of the client, within [`COMMAND_TIMEOUT`].
async fn next_line<'a, S, N>(
    connection: &'a mut LineReader<S>,
    net: &N,
) -> Result<Line<'a>, Interrupted>
where
    S: AsyncRead + Unpin,
    N: Network,
{
    tokio::select! {
        // The deadline first: a client trickling bytes cannot keep the read branch always
        // ready and postpone it. It is renewed for every line, not for every byte.
        biased;
        () = net.sleep(COMMAND_TIMEOUT) => Err(Interrupted::TimedOut),
        line = connection.read_line(MAX_LINE) => line.map_err(Interrupted::Broken),
    }
}

/// Ends a session that stopped reading, telling a silent client why (RFC 5321 §3.8: 421).
async fn end<S>(
    connection: &mut LineReader<S>,
    interrupted: Interrupted,
    messages: usize,
) -> SessionOutcome
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match interrupted {
        Interrupted::Vanished => SessionOutcome::Vanished { messages },
        Interrupted::Broken(error) => SessionOutcome::Broken { messages, error },
        Interrupted::TimedOut => {
            let reply = format!("421 {SERVER_NAME} Timeout, closing connection\r\n");
            let _ = send(connection, &reply).await;
            SessionOutcome::TimedOut { messages }
        }
    }
}

/// Sends a reply: `write_all` loops over `write`, which may take only part of it.
async fn send<S>(connection: &mut LineReader<S>, reply: &str) -> io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    let stream = connection.get_mut();
    stream.write_all(reply.as_bytes()).await?;
    stream.flush().await
}

impl Session {
    /// The reply to `command` in the current state, and the state after it.
    ///
    /// RFC 5321 §4.1.4 sets the order: EHLO (or HELO) first, then MAIL, then one or more
    /// RCPT, then DATA; a command out of order is a 503 and changes nothing.
    fn handle(&mut self, command: Command) -> Next {
        let reply = match command {
            Command::Ehlo { .. } => {
                // RFC 5321 §4.1.4: EHLO in the middle of a session is an implicit RSET.
                self.greeted = true;
                self.transaction = None;
                // RFC 5321 §4.1.1.1: a multi-line 250, the name first, then one extension
                // per line. Every line but the last has a `-` after the code (§4.2.1).
                return Next::Reply(format!(
                    "250-{SERVER_NAME}\r\n250-8BITMIME\r\n250-PIPELINING\r\n\
                     250 SIZE {MAX_MESSAGE_SIZE}\r\n"
                ));
            }
            Command::Helo { .. } => {
                self.greeted = true;
                self.transaction = None;
                return Next::Reply(format!("250 {SERVER_NAME}\r\n"));
            }
            Command::Mail { .. } if !self.greeted => "503 Bad sequence of commands: EHLO first",
            Command::Mail { .. } if self.transaction.is_some() => {
                "503 Bad sequence of commands: a transaction is in progress (RSET first)"
            }
            Command::Mail {
                reverse_path,
                parameters,
            } => {
                for parameter in parameters {
                    match parameter {
                        // RFC 1870 §6.2: a declared size over the limit is refused at once.
                        MailParameter::Size(size) if size > MAX_MESSAGE_SIZE as u64 => {
                            return Next::Reply(
                                "552 Message size exceeds fixed maximum message size\r\n".into(),
                            );
                        }
                        MailParameter::Size(_) | MailParameter::Body => {}
                        // RFC 5321 §4.1.1.11: a parameter not announced is a 555.
                        MailParameter::Unrecognized(_) => {
                            return Next::Reply(
                                "555 MAIL FROM parameters not recognized\r\n".into(),
                            );
                        }
                    }
                }
                self.transaction = Some(Transaction {
                    reverse_path,
                    recipients: Vec::new(),
                });
                "250 OK"
            }
            Command::Rcpt { forward_path } => match &mut self.transaction {
                None => "503 Bad sequence of commands: MAIL first",
                Some(transaction) if transaction.recipients.len() >= MAX_RECIPIENTS => {
                    "452 Too many recipients"
                }
                Some(transaction) => {
                    transaction.recipients.push(forward_path);
                    "250 OK"
                }
            },
            Command::Data => match self.transaction.take() {
                Some(transaction) if !transaction.recipients.is_empty() => {
                    // RFC 5321 §4.1.1.4: whatever happens to the message, the transaction
                    // ends with it (taken out of the session here).
                    return Next::Data(transaction);
                }
                // Put back: a premature DATA changes nothing.
                Some(transaction) => {
                    self.transaction = Some(transaction);
                    "503 Bad sequence of commands: RCPT first"
                }
                None => "503 Bad sequence of commands: MAIL and RCPT first",
            },
            Command::Rset => {
                self.transaction = None;
                "250 OK"
            }
            Command::Noop => "250 OK",
            Command::Quit => return Next::Quit,
            // RFC 5321 §3.5.3: 252, "cannot verify the user, but will accept the message".
            Command::Vrfy => "252 Cannot VRFY user, but will accept message",
            // RFC 5321 §4.2.4: known, not implemented.
            Command::NotImplemented { .. } => "502 Command not implemented",
            Command::BadArguments { why, .. } => {
                return Next::Reply(format!("501 Syntax error in arguments: {why}\r\n"));
            }
            Command::Unknown => "500 Syntax error, command unrecognized",
        };
        Next::Reply(format!("{reply}\r\n"))
    }
}

#[cfg(test)]
mod properties;
