//! The dialogue on the control connection, in order: the greeting, `USER` and `PASS`,
//! `TYPE I`, `CWD`, `EPSV` (or `PASV`), the data connection, `STOR` and the file, the
//! transfer's reply. `QUIT` is the caller's, sent whatever happened here.

use std::fmt;
use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::passive::{parse_epsv, parse_pasv};
use super::reply::{Received, Reply, read_reply};
use crate::BUFFER_SIZE;
use crate::lines::LineReader;
use crate::net::Network;

/// How long the client waits for each reply, and for each write to be taken: a server
/// that stops answering gets a message on stderr, not a client that waits forever.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the client waits for the answer to its `QUIT`: the work is over by then.
pub const QUIT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the file was not stored. A password is never part of one: `PASS` is named by its
/// verb, never by the line sent.
#[derive(Debug)]
pub enum Failure {
    /// The server answered `command` with a refusal (a 4xx or 5xx, or a code not allowed
    /// there): `530 Login incorrect.`, `553 Could not create file.`
    Refused {
        /// The command, as the message names it.
        command: String,
        /// The server's reply.
        reply: Reply,
    },
    /// The server's answer to `command` is not an FTP reply, or its `227`/`229` names no
    /// port.
    Malformed {
        /// The command, as the message names it.
        command: String,
        /// What is wrong with the answer.
        why: String,
    },
    /// The server closed the control connection while the client waited for a reply.
    Closed {
        /// The command, as the message names it.
        command: String,
    },
    /// No reply (or no room to send) within [`REPLY_TIMEOUT`].
    TimedOut {
        /// The command, as the message names it.
        command: String,
    },
    /// The control connection failed (a reset) during `command`.
    Broken {
        /// The command, as the message names it.
        command: String,
        /// What the connection said.
        error: io::Error,
    },
    /// The data connection could not be opened, or failed while the file went.
    Data {
        /// The data connection's port, as the server's `227`/`229` named it.
        port: u16,
        /// What the data connection said.
        error: io::Error,
    },
    /// The local file could not be read while it was being sent.
    LocalFile {
        /// What reading the file said.
        error: io::Error,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Refused { command, reply } => {
                write!(f, "the server refused {command}: {reply}")
            }
            Failure::Malformed { command, why } => {
                write!(
                    f,
                    "the server's answer to {command} is not understood: {why}"
                )
            }
            Failure::Closed { command } => {
                write!(
                    f,
                    "the server closed the connection (waiting for the reply to {command})"
                )
            }
            Failure::TimedOut { command } => write!(
                f,
                "no reply to {command} within {} s",
                REPLY_TIMEOUT.as_secs()
            ),
            Failure::Broken { command, error } => {
                write!(f, "the connection failed during {command}: {error}")
            }
            Failure::Data { port, error } => {
                write!(f, "the data connection (port {port}) failed: {error}")
            }
            Failure::LocalFile { error } => write!(f, "cannot read the file: {error}"),
        }
    }
}

/// The control connection: commands out, whole replies in, every wait bounded.
pub struct Control<S, N> {
    reader: LineReader<S>,
    net: N,
}

impl<S, N> Control<S, N>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    /// A control connection over `stream`, whose waits are timed by `net`'s clock.
    pub fn new(stream: S, net: N) -> Control<S, N> {
        Control {
            reader: LineReader::new(stream),
            net,
        }
    }

    /// The next whole reply; `command` names what it answers, for a failure.
    pub async fn reply(&mut self, command: &str) -> Result<Reply, Failure> {
        let read = tokio::select! {
            biased;
            read = read_reply(&mut self.reader) => read,
            () = self.net.sleep(REPLY_TIMEOUT) => {
                return Err(Failure::TimedOut { command: command.into() });
            }
        };
        match read {
            Ok(Received::Reply(reply)) => Ok(reply),
            Ok(Received::Closed) => Err(Failure::Closed {
                command: command.into(),
            }),
            Ok(Received::Malformed(why)) => Err(Failure::Malformed {
                command: command.into(),
                why,
            }),
            Err(error) => Err(Failure::Broken {
                command: command.into(),
                error,
            }),
        }
    }

    /// Sends one command line (CRLF added: RFC 959 §4.1, the Telnet end of line), then
    /// reads its reply. `shown` is what a failure calls it (`PASS`, never the password).
    pub async fn command(&mut self, line: &str, shown: &str) -> Result<Reply, Failure> {
        let stream = self.reader.get_mut();
        let bytes = format!("{line}\r\n");
        let sent = tokio::select! {
            biased;
            sent = async {
                // write_all loops until every byte is taken (SPEC: sends may be short).
                stream.write_all(bytes.as_bytes()).await?;
                stream.flush().await
            } => sent,
            () = self.net.sleep(REPLY_TIMEOUT) => {
                return Err(Failure::TimedOut { command: shown.into() });
            }
        };
        sent.map_err(|error| Failure::Broken {
            command: shown.into(),
            error,
        })?;
        self.reply(shown).await
    }

    /// [`Control::command`], and a refusal unless the code is one of `wanted`.
    pub async fn expect(
        &mut self,
        line: &str,
        shown: &str,
        wanted: &[u16],
    ) -> Result<Reply, Failure> {
        let reply = self.command(line, shown).await?;
        if wanted.contains(&reply.code) {
            Ok(reply)
        } else {
            Err(Failure::Refused {
                command: shown.into(),
                reply,
            })
        }
    }

    /// `QUIT` (RFC 959 §4.1.1), its reply waited for at most [`QUIT_TIMEOUT`]. Sent after
    /// success and after a failure alike: the server then knows the session is over,
    /// instead of seeing the connection drop. Its outcome changes nothing.
    pub async fn quit(&mut self) {
        let quit = self.command("QUIT", "QUIT");
        let _ = tokio::time::timeout(QUIT_TIMEOUT, quit).await;
    }
}

/// What to upload, and where.
pub struct Upload<'a> {
    /// The host the control connection went to (an address): the data connection goes
    /// there too.
    pub host: &'a str,
    /// The user name sent with `USER`.
    pub user: &'a str,
    /// The password sent with `PASS`.
    pub password: &'a str,
    /// The name to store the file under: the local file's base name.
    pub name: &'a str,
    /// The remote folder to change to first, if any.
    pub dir: Option<&'a str>,
}

/// The dialogue up to the transfer's reply; the number of bytes stored.
///
/// ```text
/// S: 220 (vsFTPd 3.0.3)           greeting
/// C: USER alice   S: 331          password needed (230: none)
/// C: PASS ****    S: 230          logged in
/// C: TYPE I       S: 200          binary: bytes as they are
/// C: CWD uploads  S: 250          --dir
/// C: EPSV         S: 229 (|||40123|)       (500/502: PASV, 227)
///    (data connection to the control connection's host, port 40123)
/// C: STOR a.bin   S: 150          "send it"
///    (the file, 4096 bytes at a time, then the data connection's close)
///                 S: 226          stored
/// ```
pub async fn upload<S, N, F>(
    control: &mut Control<S, N>,
    net: &N,
    upload: &Upload<'_>,
    file: &mut F,
) -> Result<u64, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
    F: AsyncRead + Unpin,
{
    // RFC 959 §5.4: a 120 ("ready in n minutes") may come before the 220.
    let mut greeting = control.reply("the greeting").await?;
    while greeting.code == 120 {
        greeting = control.reply("the greeting").await?;
    }
    if greeting.code != 220 {
        return Err(Failure::Refused {
            command: "the connection".into(),
            reply: greeting,
        });
    }
    // §4.1.1: USER may log in at once (230) or ask for a password (331).
    let user = control
        .expect(&format!("USER {}", upload.user), "USER", &[230, 331])
        .await?;
    if user.code == 331 {
        control
            .expect(&format!("PASS {}", upload.password), "PASS", &[230, 202])
            .await?;
    }
    // §3.1.1: every session starts in TYPE A (text), where a server may rewrite line
    // ends. TYPE I stores the bytes as they are.
    control.expect("TYPE I", "TYPE I", &[200]).await?;
    if let Some(dir) = upload.dir {
        control
            .expect(&format!("CWD {dir}"), &format!("CWD {dir}"), &[250, 200])
            .await?;
    }
    let port = passive_port(control).await?;
    let data = tokio::select! {
        biased;
        connected = net.connect_tcp(upload.host, port) => connected,
        () = net.sleep(crate::cli::CONNECT_TIMEOUT) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no connection within {} s", crate::cli::CONNECT_TIMEOUT.as_secs()),
        )),
    };
    let mut data = data.map_err(|error| Failure::Data { port, error })?;
    let stor = format!("STOR {}", upload.name);
    // 150 (or 125: the data connection is already open): send the file.
    let go = control.command(&stor, &stor).await?;
    if !matches!(go.code, 125 | 150) {
        return Err(Failure::Refused {
            command: stor,
            reply: go,
        });
    }
    let sent = send_file(file, &mut data, port).await;
    // The close ends the file (§3.4, stream mode: the end of the data connection is the
    // end of the file). Dropping it after shutdown closes it for good.
    let _ = data.shutdown().await;
    drop(data);
    // The transfer's reply comes even when the data connection failed (426): read it, so
    // the dialogue stays in step for the QUIT.
    let done = control.reply(&stor).await;
    let sent = sent?;
    let done = done?;
    if !matches!(done.code, 226 | 250) {
        return Err(Failure::Refused {
            command: stor,
            reply: done,
        });
    }
    Ok(sent)
}

/// The passive data port: `EPSV`, or `PASV` where the server does not know `EPSV`.
async fn passive_port<S, N>(control: &mut Control<S, N>) -> Result<u16, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    let epsv = control.command("EPSV", "EPSV").await?;
    if epsv.code == 229 {
        let text = epsv.lines.join(" ");
        return parse_epsv(&text).ok_or(Failure::Malformed {
            command: "EPSV".into(),
            why: format!("no port in \"{text}\""),
        });
    }
    // 500/501/502: not understood. Anything else is a refusal worth reporting.
    if !matches!(epsv.code, 500..=502) {
        return Err(Failure::Refused {
            command: "EPSV".into(),
            reply: epsv,
        });
    }
    let pasv = control.expect("PASV", "PASV", &[227]).await?;
    let text = pasv.lines.join(" ");
    parse_pasv(&text).ok_or(Failure::Malformed {
        command: "PASV".into(),
        why: format!("no port in \"{text}\""),
    })
}

/// Streams the file to the data connection in pieces of [`BUFFER_SIZE`] bytes: a 10 MB
/// file costs one buffer of memory, not 10 MB (SPEC ftp/1). The bytes go as they are:
/// no line-end conversion (that is what `storlines` does, and what breaks a binary file).
async fn send_file<F, D>(file: &mut F, data: &mut D, port: u16) -> Result<u64, Failure>
where
    F: AsyncRead + Unpin,
    D: AsyncWrite + Unpin,
{
    let mut buffer = vec![0u8; BUFFER_SIZE];
    let mut sent = 0u64;
    loop {
        let count = file
            .read(&mut buffer)
            .await
            .map_err(|error| Failure::LocalFile { error })?;
        if count == 0 {
            return Ok(sent);
        }
        // write_all loops over short writes.
        data.write_all(&buffer[..count])
            .await
            .map_err(|error| Failure::Data { port, error })?;
        sent += count as u64;
    }
}
