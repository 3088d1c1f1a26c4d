//! The harness as the FTP server a submitted `ftp-upload` stores its file on: the control
//! connection (RFC 959 §4.1, §4.2, §5.3, §5.4).
//!
//! Every command is one line ending in CRLF; every reply a three-digit code and text,
//! `123-` on every line but the last of a multi-line reply (`FEAT`). A session starts in
//! `TYPE A` (§3.1.1.1: text), at `/`; `USER` and `PASS` log in (§4.1.1), and every file
//! command before that gets 530. A `STOR` needs a passive data port opened first
//! (`PASV` or `EPSV`: [`super::data`]); its file goes to the current folder (or the path
//! it names), whose folder must exist (553 otherwise, as vsftpd answers).
//!
//! TLS as RFC 4217 has it, for a client that protects its login (Python's `FTP_TLS`):
//! `AUTH TLS` before the login moves the control connection into TLS, and `PBSZ 0`, `PROT
//! P` the data connections too (`PROT C`, the default, keeps them in clear); on the
//! well-known port of FTPS (990) the control connection speaks TLS from the first byte.
//!
//! ```text
//! S: 220 harness FTP peer ready
//! C: USER alice                      S: 331 Password required for alice.
//! C: PASS s3cret                     S: 230 Logged in.
//! C: TYPE I                          S: 200 Type set to I.
//! C: CWD uploads                     S: 250 Directory changed to /uploads.
//! C: EPSV                            S: 229 Entering Extended Passive Mode (|||40123|)
//! C: STOR photo.bin                  S: 150 Ok to send data.
//!    (the file on the data connection, then its close)
//!                                    S: 226 Transfer complete.
//! C: QUIT                            S: 221 Goodbye.
//! ```

use std::io;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use super::command::FtpCommand;
use super::data::{DataWire, Passive};
use super::record::{FtpSession, FtpSessions, FtpStore, StoreOutcome, TransferType};
use super::{DataPlan, FtpScript};
use crate::peers::Conversation;
use crate::protocols::mailstore::{Certificate, MailWire};
use crate::protocols::starttls::{Ending, StartTlsDialogue, converse};
use crate::world::capture::Capture;
use crate::world::sockets::PeerNet;

/// The most bytes of files the peer keeps, of everything its clients store: the largest
/// file a scenario uploads is 10 MiB (`fixtures/trees/ftp-upload.toml`), and each is kept
/// in memory to be compared. A client that stores without end (a file after another, or
/// one that never ends) would otherwise fill the harness's memory; past it, what comes is
/// read and dropped, and the judge says so.
pub(super) const MAX_STORED: u64 = crate::peers::RECEIVED_CAP;

/// Serves one control connection until the client quits or closes.
pub(super) async fn serve(conversation: Conversation, script: FtpScript, sessions: FtpSessions) {
    let Conversation {
        label,
        reader,
        writer,
        transcript,
        received,
        local,
        net,
        tls_from_first_byte,
        ..
    } = conversation;
    let index = {
        let mut all = sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        all.push(FtpSession::default());
        all.len() - 1
    };
    // The commands are recorded (the password masked); the bytes that crossed in clear
    // are not kept apart: no FTP scenario judges them.
    let keep_nothing = |_: &[u8]| {};
    let mut dialogue = Dialogue {
        folders: script.all_folders(),
        script: &script,
        wire: MailWire {
            label: &label,
            transcript: &transcript,
            received: &received,
            encrypted: false,
            pending: Vec::new(),
            clear: &keep_nothing,
        },
        net: &net,
        local,
        sessions: &sessions,
        index,
        user: None,
        logged_in: false,
        cwd: "/".to_owned(),
        transfer_type: TransferType::Ascii,
        passive: None,
        data_connections: 0,
        protected_data: false,
    };
    let ended = converse(
        &mut dialogue,
        tokio::io::join(reader, writer),
        tls_from_first_byte,
    )
    .await;
    dialogue.session(|session| session.ended = true);
    crate::peers::record_ending(&transcript, &label, &ended);
}

/// Everything a control connection's dialogue uses.
struct Dialogue<'a> {
    script: &'a FtpScript,
    /// Every folder that exists, absolute.
    folders: std::collections::BTreeSet<String>,
    wire: MailWire<'a>,
    net: &'a PeerNet,
    /// The address the client reached the peer at (named in `PASV`'s reply).
    local: std::net::SocketAddr,
    sessions: &'a FtpSessions,
    index: usize,
    /// The name `USER` gave.
    user: Option<String>,
    logged_in: bool,
    /// The current folder, absolute.
    cwd: String,
    transfer_type: TransferType,
    /// The data port `PASV` or `EPSV` opened, until a `STOR` uses it.
    passive: Option<Passive>,
    /// Data connections so far, for their labels.
    data_connections: usize,
    /// `PROT P`: data connections speak TLS (RFC 4217 §9).
    protected_data: bool,
}

impl StartTlsDialogue for Dialogue<'_> {
    fn certificate(&self) -> Certificate {
        Certificate::Right
    }

    fn tls_established(&mut self) {
        self.wire.tls_established();
    }

    fn tls_begun(&mut self) {}

    fn tls_failed(&self, error: &io::Error) {
        self.wire.tls_failed(error);
    }

    async fn greet<S: AsyncWrite + Unpin + Send>(&mut self, stream: &mut S) -> io::Result<()> {
        self.reply(stream, "220 harness FTP peer ready\r\n").await
    }

    async fn run<S: AsyncRead + AsyncWrite + Unpin + Send>(
        &mut self,
        stream: &mut S,
    ) -> io::Result<Ending> {
        self.commands(stream).await
    }
}

impl Dialogue<'_> {
    fn session(&self, change: impl FnOnce(&mut FtpSession)) {
        let mut all = self
            .sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut all[self.index]);
    }

    async fn reply<S: AsyncWrite + Unpin>(&self, stream: &mut S, text: &str) -> io::Result<()> {
        self.wire.send(stream, text.as_bytes()).await
    }

    /// The commands until `QUIT`, the close, or an accepted `AUTH TLS`.
    async fn commands<S: AsyncRead + AsyncWrite + Unpin + Send>(
        &mut self,
        stream: &mut S,
    ) -> io::Result<Ending> {
        while let Some(raw) = self.wire.line(stream).await? {
            let line = String::from_utf8_lossy(&raw)
                .trim_end_matches(['\r', '\n'])
                .to_owned();
            let command = FtpCommand::parse(&line);
            let shown = if matches!(command, FtpCommand::Pass(_)) {
                "PASS ****".to_owned()
            } else {
                line
            };
            self.session(|session| session.commands.push(shown));
            match command {
                FtpCommand::Quit => {
                    self.session(|session| session.quit = true);
                    self.reply(stream, "221 Goodbye.\r\n").await?;
                    return Ok(Ending::Over);
                }
                FtpCommand::Auth(mechanism) => {
                    // RFC 4217 §4: `AUTH TLS` (or its older name `AUTH SSL`), before the
                    // login; the handshake follows the 234 reply.
                    let mechanism = mechanism.to_ascii_uppercase();
                    let reply = if self.wire.encrypted {
                        "503 TLS is already in use.\r\n"
                    } else if mechanism == "TLS" || mechanism == "SSL" || mechanism == "TLS-C" {
                        self.reply(stream, "234 Proceed with negotiation.\r\n")
                            .await?;
                        self.user = None;
                        self.logged_in = false;
                        return Ok(Ending::StartTls);
                    } else {
                        "504 AUTH takes TLS.\r\n"
                    };
                    self.reply(stream, reply).await?;
                }
                FtpCommand::Stor(name) if self.logged_in => self.store(stream, &name).await?,
                command => {
                    let reply = self.answer(command).await;
                    self.reply(stream, &reply).await?;
                }
            }
        }
        Ok(Ending::Over)
    }

    /// The reply to every command but `QUIT`, `AUTH` and a logged-in `STOR`.
    async fn answer(&mut self, command: FtpCommand) -> String {
        match &command {
            FtpCommand::User(name) if name.is_empty() => "501 USER takes a name.\r\n".into(),
            FtpCommand::User(name) => {
                self.user = Some(name.clone());
                self.logged_in = false;
                format!("331 Password required for {name}.\r\n")
            }
            FtpCommand::Pass(password) => {
                let Some(user) = self.user.take() else {
                    return "503 Login with USER first.\r\n".into();
                };
                let accepted = !self.script.refuse_login
                    && crate::protocols::accounts::is_the_account(
                        &user,
                        password,
                        &self.script.user,
                        &self.script.password,
                    );
                self.session(|session| session.logins.push((user, accepted, false)));
                self.logged_in = accepted;
                if accepted {
                    "230 Logged in.\r\n".into()
                } else {
                    "530 Login incorrect.\r\n".into()
                }
            }
            FtpCommand::Syst => "215 UNIX Type: L8\r\n".into(),
            FtpCommand::Feat => "211-Features:\r\n AUTH TLS\r\n EPSV\r\n PASV\r\n PBSZ\r\n PROT\r\n SIZE\r\n UTF8\r\n211 End\r\n".into(),
            // RFC 4217 §8, §9: only over TLS; a buffer size of 0, and data in clear (`C`)
            // or inside TLS (`P`).
            FtpCommand::Pbsz | FtpCommand::Prot(_) if !self.wire.encrypted => {
                format!("503 {} needs AUTH TLS first.\r\n", command.verb())
            }
            FtpCommand::Pbsz => "200 PBSZ=0\r\n".into(),
            FtpCommand::Prot(level) => match level.to_ascii_uppercase().as_str() {
                "P" => {
                    self.protected_data = true;
                    "200 Protection level set to P.\r\n".into()
                }
                "C" => {
                    self.protected_data = false;
                    "200 Protection level set to C.\r\n".into()
                }
                _ => format!("536 PROT {level} is not offered here.\r\n"),
            },
            FtpCommand::Noop => "200 NOOP ok.\r\n".into(),
            FtpCommand::Opts(option) if option.eq_ignore_ascii_case("UTF8 ON") => {
                "200 Always in UTF8 mode.\r\n".into()
            }
            _ if !self.logged_in => "530 Please login with USER and PASS.\r\n".into(),
            FtpCommand::Pwd => format!("257 \"{}\" is the current directory\r\n", self.cwd),
            FtpCommand::Cwd(_) | FtpCommand::Cdup => {
                let target = match &command {
                    FtpCommand::Cwd(folder) => folder.as_str(),
                    _ => "..",
                };
                let folder = resolve(&self.cwd, target);
                if self.folders.contains(&folder) {
                    self.cwd = folder;
                    format!("250 Directory changed to {}.\r\n", self.cwd)
                } else {
                    format!("550 {folder}: No such directory.\r\n")
                }
            }
            FtpCommand::Type(kind) => match kind.to_ascii_uppercase().as_str() {
                "A" | "A N" => {
                    self.transfer_type = TransferType::Ascii;
                    "200 Type set to A.\r\n".into()
                }
                "I" | "L 8" => {
                    self.transfer_type = TransferType::Image;
                    "200 Type set to I.\r\n".into()
                }
                _ => format!("504 TYPE {kind} is not offered here.\r\n"),
            },
            FtpCommand::Mode(mode) if mode.eq_ignore_ascii_case("S") => {
                "200 Mode set to S.\r\n".into()
            }
            FtpCommand::Stru(structure) if structure.eq_ignore_ascii_case("F") => {
                "200 Structure set to F.\r\n".into()
            }
            FtpCommand::Mode(argument) | FtpCommand::Stru(argument) => {
                format!("504 {} {argument} is not offered here.\r\n", command.verb())
            }
            FtpCommand::Passive { all: true, .. } => "200 EPSV ALL ok.\r\n".into(),
            FtpCommand::Passive { extended, .. } => self.passive(*extended).await,
            FtpCommand::Active => {
                "502 Active mode is not offered here: use PASV or EPSV.\r\n".into()
            }
            FtpCommand::Stor(_) | FtpCommand::Quit | FtpCommand::Auth(_) => {
                unreachable!("served by `commands`")
            }
            FtpCommand::Size(name) => {
                let path = resolve(&self.cwd, name);
                let size = {
                    let all = self
                        .sessions
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    all.iter()
                        .flat_map(FtpSession::stored)
                        .filter(|store| store.path == path)
                        .last()
                        .map(|store| store.bytes.len())
                };
                match size {
                    Some(size) => format!("213 {size}\r\n"),
                    None => format!("550 {path}: No such file.\r\n"),
                }
            }
            FtpCommand::Opts(_) | FtpCommand::Other(_) => {
                format!("502 {} is not implemented.\r\n", command.verb())
            }
        }
    }

    /// `PASV` or `EPSV` (`extended`): a passive data port opened, and its address.
    async fn passive(&mut self, extended: bool) -> String {
        match Passive::open(self.net, self.script.data).await {
            Ok(passive) => {
                let port = passive.port;
                self.passive = Some(passive);
                if extended {
                    format!("229 Entering Extended Passive Mode (|||{port}|)\r\n")
                } else {
                    let [a, b, c, d] = match self.local.ip() {
                        std::net::IpAddr::V4(address) => address.octets(),
                        std::net::IpAddr::V6(_) => [127, 0, 0, 1],
                    };
                    format!(
                        "227 Entering Passive Mode ({a},{b},{c},{d},{},{}).\r\n",
                        port >> 8,
                        port & 0xff
                    )
                }
            }
            Err(error) => {
                self.session(|session| {
                    session.data_port_trouble.get_or_insert_with(|| {
                        format!("the FTP peer could not open a passive data port: {error}")
                    });
                });
                format!("425 Cannot open a data port: {error}.\r\n")
            }
        }
    }

    /// `STOR name`: checks the name and the data port, takes the file on the data
    /// connection, records it.
    async fn store<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        argument: &str,
    ) -> io::Result<()> {
        let path = resolve(&self.cwd, argument);
        let folder = match path.rsplit_once('/') {
            Some(("", _)) | None => "/".to_owned(),
            Some((folder, _)) => folder.to_owned(),
        };
        let mut store = FtpStore {
            asked: argument.to_owned(),
            path: path.clone(),
            transfer_type: self.transfer_type,
            outcome: StoreOutcome::Stored,
            bytes: Arc::new(Capture::memory(0)),
        };
        let passive = self.passive.take();
        let refusal = if argument.is_empty() {
            Some("501 STOR takes a file name.\r\n".to_owned())
        } else if !self.folders.contains(&folder) || path == "/" {
            Some(format!(
                "553 Could not create file {path}: no such folder.\r\n"
            ))
        } else if self.folders.contains(&path) {
            Some(format!("553 Could not create file {path}: a folder.\r\n"))
        } else if let Some(code) = self.script.refuse_store {
            Some(format!("{code} Permission denied.\r\n"))
        } else if passive.is_none() {
            Some("425 Use PASV or EPSV first.\r\n".to_owned())
        } else {
            None
        };
        if let Some(refusal) = refusal {
            store.outcome = StoreOutcome::Refused(refusal.trim_end().to_owned());
            self.session(|session| session.stores.push(store));
            return self.reply(stream, &refusal).await;
        }
        let passive = passive.expect("checked above");
        let data = DataWire {
            control: self.wire.label,
            transcript: self.wire.transcript,
        };
        let Some(connection) = passive.accept().await else {
            let failure = "425 Cannot open data connection.\r\n";
            store.outcome = StoreOutcome::Failed(failure.trim_end().to_owned());
            self.session(|session| session.stores.push(store));
            return self.reply(stream, failure).await;
        };
        self.data_connections += 1;
        let label = data.opened(self.data_connections, &connection);
        self.reply(stream, "150 Ok to send data.\r\n").await?;
        let failure = "426 Connection closed; transfer aborted.\r\n";
        if self.script.data == DataPlan::Reset {
            data.reset(&label, connection);
            store.outcome = StoreOutcome::Failed(failure.trim_end().to_owned());
            self.session(|session| session.stores.push(store));
            return self.reply(stream, failure).await;
        }
        // What the peer still keeps, of all the files its clients store.
        let kept: u64 = {
            let all = self
                .sessions
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let stores = all.iter().flat_map(|session| &session.stores);
            stores.map(|store| store.bytes.len()).sum()
        };
        let keep = MAX_STORED.saturating_sub(kept);
        let (bytes, came, ended) = if self.protected_data {
            data.receive_inside_tls(&label, connection, keep).await
        } else {
            data.receive(&label, connection, keep).await
        };
        if came > keep {
            self.session(|session| {
                session.past_bound.get_or_insert_with(|| {
                    format!(
                        "`STOR {argument}` sent {came} bytes, {} past the harness's bound of {} on what its FTP server keeps of all files stored ({kept} bytes kept before): the rest was not kept",
                        came - keep,
                        sandbox::size_text(MAX_STORED)
                    )
                });
            });
        }
        store.bytes = bytes;
        let reply = match ended {
            Ok(()) => "226 Transfer complete.\r\n",
            Err(_) => {
                store.outcome = StoreOutcome::Failed(failure.trim_end().to_owned());
                failure
            }
        };
        self.session(|session| session.stores.push(store));
        self.reply(stream, reply).await
    }
}

/// The absolute path `argument` names from folder `cwd`: `.` and `..` resolved (`..` at
/// `/` stays there), no trailing `/` but for `/` itself.
///
/// | cwd        | argument        | path                |
/// |------------|-----------------|---------------------|
/// | `/`        | `photo.bin`     | `/photo.bin`        |
/// | `/uploads` | `../a/./b.txt`  | `/a/b.txt`          |
/// | `/uploads` | `/tmp/x.bin`    | `/tmp/x.bin`        |
/// | `/`        | `..`            | `/`                 |
pub(super) fn resolve(cwd: &str, argument: &str) -> String {
    let start = if argument.starts_with('/') { "" } else { cwd };
    let mut parts: Vec<&str> = Vec::new();
    for part in start.split('/').chain(argument.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn paths_resolve_from_the_current_folder() {
        let table = [
            ("/", "photo.bin", "/photo.bin"),
            ("/uploads", "photo.bin", "/uploads/photo.bin"),
            ("/uploads", "../a/./b.txt", "/a/b.txt"),
            ("/uploads", "/tmp/x.bin", "/tmp/x.bin"),
            ("/", "..", "/"),
            ("/a/b", "", "/a/b"),
            ("/", "uploads/", "/uploads"),
        ];
        for (cwd, argument, expected) in table {
            assert_eq!(resolve(cwd, argument), expected, "{cwd} + {argument}");
        }
    }
}
