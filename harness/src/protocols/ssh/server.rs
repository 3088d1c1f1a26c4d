//! The harness as the SSH server a submitted `ssh-info` logs in to.
//!
//! russh speaks the protocol (RFC 4253 transport with the pack's host key, RFC 4252
//! authentication, RFC 4254 channels); this module decides and records: which password
//! and keys are accepted, what each command runs ([`super::remote`]), and what the client
//! did, connection by connection ([`super::record`]). A client that refuses the host key
//! closes the connection after the key exchange: its connection then holds no
//! authentication attempt at all.
//!
//! ```text
//! C: SSH-2.0-paramiko_2.12.0             S: SSH-2.0-russh_0.65 (the pack's host key)
//!    (key exchange: the client checks the host key here, and goes on or closes)
//! C: USERAUTH_REQUEST alice password ****            S: USERAUTH_SUCCESS / FAILURE
//! C: CHANNEL_OPEN session; exec "cat /proc/cpuinfo"  S: data, exit-status 0, EOF, CLOSE
//! ```
//!
//! Rejections are answered at once (`auth_rejection_time` zero): the constant delay a
//! real server adds against timing attacks would only slow every scenario down.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use russh::server::{Auth, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;

use super::SshPeer;
use super::keys::{parse_authorized, public_line};
use super::record::{AuthAttempt, CommandRun};
use super::remote::CommandPrint;
use crate::peers::Conversation;
use crate::transcript::{Direction, Transcript};
use crate::world::capture::Capture;

/// A connection with nothing happening for this long is closed.
const IDLE: Duration = Duration::from_secs(30);

/// The authentication methods the pack accepts, offered to every client.
fn accepted_methods() -> MethodSet {
    MethodSet::from(&[MethodKind::Password, MethodKind::PublicKey][..])
}

/// A refused attempt, listing every method the pack accepts as the ones that can go on
/// (USERAUTH_FAILURE, RFC 4252 §5.1), as sshd does. russh's `Auth::reject()` would take
/// a refused method off the list: after a wrong password the client would read that
/// passwords are not accepted at all (paramiko's `BadAuthenticationType ... allowed
/// types: ['publickey']`) instead of "Authentication failed.", and a student's program
/// would report the wrong cause. The list is the server's, not the user's: like sshd, it
/// tells no one which methods would work for that account.
fn rejection() -> Auth {
    Auth::Reject {
        proceed_with_methods: Some(accepted_methods()),
        partial_success: false,
    }
}

/// Serves one TCP connection until the client disconnects.
pub(super) async fn serve(conversation: Conversation, peer: Arc<SshPeer>) {
    let Conversation {
        label,
        reader,
        writer,
        transcript,
        received,
        ..
    } = conversation;
    let index = peer.record.open();
    let stream = Recorded {
        inner: tokio::io::join(reader, writer),
        label: label.clone(),
        transcript: transcript.clone(),
        received,
    };
    let config = Arc::new(russh::server::Config {
        keys: vec![peer.host_key.clone()],
        methods: accepted_methods(),
        auth_rejection_time: Duration::ZERO,
        auth_rejection_time_initial: Some(Duration::ZERO),
        inactivity_timeout: Some(IDLE),
        ..Default::default()
    });
    let handler = Handler {
        peer: Arc::clone(&peer),
        index,
        stdin: HashMap::new(),
        shells: HashMap::new(),
        version_seen: false,
        transcript: transcript.clone(),
        label: label.clone(),
    };
    let ended = match russh::server::run_stream(config, stream, handler).await {
        Ok(running) => running.await,
        Err(error) => Err(error),
    };
    peer.record.change(index, |connection| {
        connection.ended = true;
        if let Err(error) = &ended {
            connection.ending = Some(error.to_string());
        }
    });
    let ended: io::Result<()> = ended.map_err(|error| match error {
        russh::Error::IO(error) => error,
        other => io::Error::other(other.to_string()),
    });
    crate::peers::record_ending(&transcript, &label, &ended);
}

/// The bytes of the connection, through the transcript and the peer's capture on their
/// way (encrypted after the key exchange: the record says what they meant).
struct Recorded<S> {
    inner: S,
    label: String,
    transcript: Transcript,
    received: Arc<Capture>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Recorded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &polled {
            let piece = &buf.filled()[before..];
            if piece.is_empty() {
                this.transcript
                    .fin(&this.label, Direction::FromProgram, "closed");
            } else {
                this.transcript
                    .data(&this.label, Direction::FromProgram, piece);
                let _ = this.received.append(piece);
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Recorded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(count)) = &polled {
            this.transcript
                .data(&this.label, Direction::ToProgram, &data[..*count]);
        }
        polled
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// What the client has typed into a `shell` channel so far.
#[derive(Default)]
struct ShellInput {
    /// The start of a line whose newline has not come yet.
    partial: Vec<u8>,
    /// The number + 1 in the record of the last line typed (0: none yet), which gets the
    /// shell's exit status.
    lines: Arc<AtomicUsize>,
    /// The shell has ended: what is typed after it runs nowhere and is not recorded.
    ended: Arc<AtomicBool>,
}

/// The command of a line typed into a shell: without its line ending (`\n`, or a
/// terminal's `\r\n`) and the blanks around it; `None` for a blank line.
fn typed_command(line: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(line);
    let command = text.trim();
    (!command.is_empty()).then(|| command.to_owned())
}

/// One connection's decisions.
struct Handler {
    peer: Arc<SshPeer>,
    index: usize,
    /// The stdin of each channel's running command, until the client's EOF.
    stdin: HashMap<ChannelId, mpsc::Sender<Vec<u8>>>,
    /// The `shell` channels' input, each line recorded as a command of its own.
    shells: HashMap<ChannelId, ShellInput>,
    version_seen: bool,
    transcript: Transcript,
    /// The connection's name in the transcript.
    label: String,
}

impl Handler {
    fn note_version(&mut self, session: &Session) {
        if !self.version_seen {
            self.version_seen = true;
            let version = String::from_utf8_lossy(session.remote_sshid())
                .trim()
                .to_owned();
            self.peer.record.change(self.index, |connection| {
                connection.client_version = Some(version);
            });
        }
    }

    fn attempt(
        &self,
        user: &str,
        method: &str,
        detail: String,
        sent_secret: bool,
        accepted: bool,
    ) -> Auth {
        self.transcript.event(
            &self.label,
            Direction::FromProgram,
            format!(
                "USERAUTH_REQUEST {user} {method}: {detail} ({})",
                if accepted { "accepted" } else { "refused" }
            ),
        );
        self.peer.record.change(self.index, |connection| {
            connection.attempts.push(AuthAttempt {
                user: user.to_owned(),
                method: method.to_owned(),
                detail,
                sent_secret,
                accepted,
            });
        });
        if accepted { Auth::Accept } else { rejection() }
    }

    fn authorized(&self, key: &russh::keys::PublicKey) -> bool {
        self.peer.script.authorized_keys.iter().any(|line| {
            parse_authorized(line).is_ok_and(|authorized| authorized.key_data() == key.key_data())
        })
    }

    /// Records a command run on this connection; its number in the record.
    fn record_command(&self, command: String) -> usize {
        let mut number = 0;
        self.peer.record.change(self.index, |connection| {
            connection.commands.push(CommandRun {
                command,
                exit_status: None,
                trouble: None,
                harness_failed: false,
            });
            number = connection.commands.len() - 1;
        });
        number
    }

    /// Records each whole line of `data`, typed into the shell on `channel`, as a command
    /// of its own (`nproc`, then `exit`); with `ended` (the client's EOF), what is left
    /// without a newline too, as the shell runs it.
    fn typed(&mut self, channel: ChannelId, data: &[u8], ended: bool) {
        let Some(shell) = self.shells.get_mut(&channel) else {
            return;
        };
        if shell.ended.load(Ordering::SeqCst) {
            return;
        }
        shell.partial.extend_from_slice(data);
        let mut lines: Vec<Vec<u8>> = Vec::new();
        while let Some(end) = shell.partial.iter().position(|&byte| byte == b'\n') {
            lines.push(shell.partial.drain(..=end).collect());
        }
        if ended && !shell.partial.is_empty() {
            lines.push(std::mem::take(&mut shell.partial));
        }
        let counted = Arc::clone(&shell.lines);
        for command in lines.iter().filter_map(|line| typed_command(line)) {
            self.transcript.event(
                &self.label,
                Direction::FromProgram,
                format!("typed `{command}` into the shell on channel {channel}"),
            );
            let number = self.record_command(command);
            counted.store(number + 1, Ordering::SeqCst);
        }
    }

    /// Starts `command` (`None`: a shell) on `channel`: its output goes back as channel
    /// data, then its exit status, EOF and close (RFC 4254 §6.10). A command is recorded
    /// at once; a shell's lines as they are typed, the shell's exit status on its last.
    fn start(&mut self, channel: ChannelId, command: Option<String>, session: &mut Session) {
        self.transcript.event(
            &self.label,
            Direction::FromProgram,
            match &command {
                Some(command) => format!("exec `{command}` on channel {channel}"),
                None => format!("shell on channel {channel}"),
            },
        );
        // The record's entry that gets the exit status: the command's; for a shell, the
        // last line typed before it ended (its number + 1, 0 while none).
        let shell_ended = Arc::new(AtomicBool::new(false));
        let status_goes_to = match &command {
            Some(command) => Arc::new(AtomicUsize::new(self.record_command(command.clone()) + 1)),
            None => {
                let shell = ShellInput {
                    ended: Arc::clone(&shell_ended),
                    ..ShellInput::default()
                };
                let lines = Arc::clone(&shell.lines);
                self.shells.insert(channel, shell);
                lines
            }
        };
        let (stdin_sender, stdin) = mpsc::channel(16);
        self.stdin.insert(channel, stdin_sender);
        let handle = session.handle();
        let peer = Arc::clone(&self.peer);
        let index = self.index;
        let (transcript, label) = (self.transcript.clone(), self.label.clone());
        // The peer's work under way: the program may be waiting for this answer.
        let held = self.transcript.pending().hold();
        tokio::spawn(async move {
            let _held = held;
            let (output, mut printed) = mpsc::channel(16);
            let ended = match &peer.machine {
                Ok(machine) => {
                    let machine = Arc::clone(machine);
                    let running = tokio::spawn(async move {
                        machine.run(command.as_deref(), stdin, output).await
                    });
                    while let Some(piece) = printed.recv().await {
                        let _ = match piece {
                            CommandPrint::Stdout(bytes) => handle.data(channel, bytes).await,
                            CommandPrint::Stderr(bytes) => {
                                handle.extended_data(channel, 1, bytes).await
                            }
                        };
                    }
                    running
                        .await
                        .unwrap_or_else(|error| super::remote::CommandEnd {
                            status: None,
                            trouble: Some(format!("the command's task failed: {error}")),
                            harness_failed: true,
                        })
                }
                Err(why) => super::remote::CommandEnd {
                    status: Some(126),
                    trouble: Some(why.clone()),
                    harness_failed: true,
                },
            };
            if let Some(trouble) = &ended.trouble {
                let line = format!("harness: {trouble}\n");
                let _ = handle.extended_data(channel, 1, line.into_bytes()).await;
            }
            if let Some(status) = ended.status {
                let _ = handle.exit_status_request(channel, status).await;
            }
            transcript.event(
                &label,
                Direction::ToProgram,
                match (&ended.status, &ended.trouble) {
                    (Some(status), None) => format!("channel {channel}: exit-status {status}"),
                    (Some(status), Some(trouble)) => {
                        format!("channel {channel}: exit-status {status} ({trouble})")
                    }
                    (None, trouble) => format!(
                        "channel {channel}: no exit status ({})",
                        trouble.as_deref().unwrap_or("stopped")
                    ),
                },
            );
            peer.record.change(index, |connection| {
                shell_ended.store(true, Ordering::SeqCst);
                let number = match status_goes_to.load(Ordering::SeqCst) {
                    // A shell into which nothing was typed: an entry of its own.
                    0 => {
                        connection.commands.push(CommandRun {
                            command: "(shell, nothing typed)".into(),
                            exit_status: None,
                            trouble: None,
                            harness_failed: false,
                        });
                        connection.commands.len() - 1
                    }
                    after => after - 1,
                };
                connection.commands[number].exit_status = ended.status;
                connection.commands[number].trouble = ended.trouble;
                connection.commands[number].harness_failed = ended.harness_failed;
            });
            let _ = handle.eof(channel).await;
            let _ = handle.close(channel).await;
        });
    }
}

impl russh::server::Handler for Handler {
    type Error = russh::Error;

    async fn auth_none(&mut self, user: &str) -> Result<Auth, Self::Error> {
        Ok(self.attempt(user, "none", "no credentials".into(), false, false))
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        let script = &self.peer.script;
        let right = password_login(user, password, &script.user, script.password.as_deref());
        let detail = format!(
            "password **** ({})",
            if right {
                "the right one"
            } else {
                "a wrong one"
            }
        );
        Ok(self.attempt(user, "password", detail, true, right))
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        let known = user == self.peer.script.user && self.authorized(offer.public_key);
        let detail = format!("offered {}", fingerprint(offer.public_key));
        // An offer carries no proof: accepting it here only lets the client sign.
        self.attempt(user, "publickey", detail, false, false);
        Ok(if known { Auth::Accept } else { rejection() })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let accepted = user == self.peer.script.user && self.authorized(key.public_key);
        let detail = format!("a signature with the key {}", fingerprint(key.public_key));
        Ok(self.attempt(user, "publickey signed", detail, true, accepted))
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        _response: Option<russh::server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        Ok(self.attempt(
            user,
            "keyboard-interactive",
            "not offered".into(),
            false,
            false,
        ))
    }

    async fn channel_open_session(
        &mut self,
        _channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.note_version(session);
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Accepted, though the commands run without a terminal (their output is the same
        // bytes, without the terminal's CR before each LF).
        session.channel_success(channel)?;
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // As OpenSSH's default `AcceptEnv` (none): refused.
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.note_version(session);
        let command = String::from_utf8_lossy(data).into_owned();
        session.channel_success(channel)?;
        self.start(channel, Some(command), session);
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.note_version(session);
        session.channel_success(channel)?;
        self.start(channel, None, session);
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Recorded before the shell can read it: its exit status then finds the line.
        self.typed(channel, data, false);
        if let Some(stdin) = self.stdin.get(&channel) {
            let _ = stdin.send(data.to_vec()).await;
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // The command's stdin ends with the client's EOF (a shell then exits, having run
        // a last line without its newline).
        self.typed(channel, &[], true);
        self.shells.remove(&channel);
        self.stdin.remove(&channel);
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.typed(channel, &[], true);
        self.shells.remove(&channel);
        self.stdin.remove(&channel);
        Ok(())
    }
}

/// `SHA256:...` of a key, and its type.
fn fingerprint(key: &russh::keys::PublicKey) -> String {
    let line = public_line(key);
    let kind = line.split_whitespace().next().unwrap_or("key").to_owned();
    format!("{kind} {}", key.fingerprint(Default::default()))
}

/// Whether SSH's `password` method (RFC 4252 §8) logs `user` in as the account: the user
/// and the password as the client's length-prefixed strings carry them, compared exactly
/// ([`crate::protocols::accounts`]); an account with no password takes none.
pub(in crate::protocols) fn password_login(
    user: &str,
    password: &str,
    account_user: &str,
    account_password: Option<&str>,
) -> bool {
    account_password.is_some_and(|account_password| {
        super::super::accounts::is_the_account(user, password, account_user, account_password)
    })
}
