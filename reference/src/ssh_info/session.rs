//! One SSH connection: the transport with its host key checked before anything else is
//! sent, then user authentication, then one channel per command.
//!
//! The layers (RFC 4251 §1), each on top of the one before, all over one TCP connection:
//!
//! | layer | RFC | what happens here |
//! |---|---|---|
//! | transport | 4253 | version lines, key exchange (curve25519), the server's **host key** and its signature; encryption and integrity from then on |
//! | user authentication | 4252 | the `ssh-userauth` service: `password`, or `publickey` (a signature made with the private key) |
//! | connection | 4254 | channels: a `session` channel per command, `exec` to run it, its output as channel data, `exit-status` at the end |
//!
//! russh does the bytes of each layer; the decisions are here: whether the host key is
//! the one `known_hosts` holds ([`Checker`], called during the key exchange, before
//! russh sends a single authentication byte), which authentication to try, and what a
//! command's exit status means.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use russh::keys::{PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::{ChannelMsg, client};

use super::known_hosts::{self, Verdict};
use crate::net::Stream;

/// How the client proves who it is.
#[derive(Debug, Clone)]
pub enum Credential {
    /// `password` authentication (RFC 4252 §8): the password itself goes to the server,
    /// encrypted by the transport, which is why the server must be the right one first.
    Password(String),
    /// `publickey` authentication (RFC 4252 §7): a signature over the session's
    /// identifier; the private key never leaves this machine.
    Key(PathBuf),
}

/// Most a command may print before the client gives up on it: `/proc/cpuinfo` of a
/// 256-processor machine is about 300 KB.
const OUTPUT_CAP: usize = 4 << 20;

/// The host key check, run by russh in the middle of the key exchange.
pub struct Checker {
    /// The file the keys are looked up in.
    pub known_hosts: PathBuf,
    /// The host as the user named it: the name looked up in `known_hosts`.
    pub host: String,
    /// Its port (a port other than 22 is looked up as `[host]:port`).
    pub port: u16,
    /// What the check found, for the error message if the key was refused.
    pub found: Arc<Mutex<Option<Result<Verdict, String>>>>,
    /// The key the server presented, for the message.
    pub presented: Arc<Mutex<Option<PublicKey>>>,
}

impl client::Handler for Checker {
    type Error = russh::Error;

    /// `true` only for the key `known_hosts` holds for this host and port: `false` makes
    /// russh end the connection here, before the `ssh-userauth` service is asked for, so
    /// no password and no signature has been sent.
    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = server_key else {
            // A host certificate needs a `@cert-authority` line: not supported here.
            *self.found.lock().unwrap() = Some(Err("the server sent a host certificate".into()));
            return Ok(false);
        };
        *self.presented.lock().unwrap() = Some(key.clone());
        let verdict = known_hosts::check_file(&self.known_hosts, &self.host, self.port, key)
            .map_err(|error| format!("cannot read {}: {error}", self.known_hosts.display()));
        let accepted = matches!(verdict, Ok(Verdict::Known));
        *self.found.lock().unwrap() = Some(verdict);
        Ok(accepted)
    }
}

/// An authenticated connection.
pub struct Connection {
    handle: client::Handle<Checker>,
}

/// What one command did on the remote machine.
#[derive(Debug, Default)]
pub struct Ran {
    /// What the command wrote on its standard output.
    pub stdout: Vec<u8>,
    /// What the command wrote on its standard error.
    pub stderr: Vec<u8>,
    /// `exit-status` (RFC 4254 §6.10), or none if the server sent none (a signal).
    pub status: Option<u32>,
}

impl Connection {
    /// Runs the transport over `stream` (the host key checked by `checker`), then
    /// authenticates as `user`. The error says which layer refused and why.
    pub async fn open<S: Stream>(
        stream: S,
        checker: Checker,
        user: &str,
        credential: &Credential,
    ) -> Result<Connection, String> {
        let found = Arc::clone(&checker.found);
        let presented = Arc::clone(&checker.presented);
        let lookup = known_hosts::lookup_name(&checker.host, checker.port);
        let file = checker.known_hosts.display().to_string();
        let config = Arc::new(client::Config::default());
        let mut handle = match client::connect_stream(config, stream, checker).await {
            Ok(handle) => handle,
            Err(error) => {
                let verdict = found.lock().unwrap().take();
                let fingerprint = presented
                    .lock()
                    .unwrap()
                    .as_ref()
                    .map(|key| key.fingerprint(Default::default()).to_string())
                    .unwrap_or_default();
                return Err(match verdict {
                    Some(Ok(Verdict::Unknown)) => format!(
                        "host key refused: {lookup} is not in {file} (the server presented {fingerprint}); check that fingerprint with the server's administrator, then add the key (ssh-keyscan); nothing was sent"
                    ),
                    Some(Ok(Verdict::Changed(lines))) => format!(
                        "host key refused: the key of {lookup} has CHANGED ({file} line {}; the server presented {fingerprint}): someone may be in the middle; nothing was sent",
                        lines
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Some(Err(why)) => format!("host key refused: {why}"),
                    Some(Ok(Verdict::Known)) | None => format!("SSH transport: {error}"),
                });
            }
        };
        let result = match credential {
            Credential::Password(password) => handle
                .authenticate_password(user, password.clone())
                .await
                .map_err(|error| format!("authentication: {error}"))?,
            Credential::Key(path) => {
                let key = russh::keys::load_secret_key(path, None)
                    .map_err(|error| format!("{}: {error}", path.display()))?;
                // An RSA key signs with SHA-2 where the server allows it (RFC 8332).
                let hash = handle
                    .best_supported_rsa_hash()
                    .await
                    .map_err(|error| format!("authentication: {error}"))?
                    .flatten();
                handle
                    .authenticate_publickey(user, PrivateKeyWithHashAlg::new(Arc::new(key), hash))
                    .await
                    .map_err(|error| format!("authentication: {error}"))?
            }
        };
        if !result.success() {
            let method = match credential {
                Credential::Password(_) => "password",
                Credential::Key(_) => "key",
            };
            return Err(format!(
                "authentication failed: the server refused {user}'s {method}"
            ));
        }
        Ok(Connection { handle })
    }

    /// Runs `command` on a new channel of this connection (RFC 4254 §6.5 `exec`) and
    /// collects its output until the channel closes. The exit status is the command's
    /// verdict: output of a command that failed is not taken for the figures.
    pub async fn run(&self, command: &str) -> Result<Ran, String> {
        let mut channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|error| format!("cannot open a channel: {error}"))?;
        channel
            .exec(true, command)
            .await
            .map_err(|error| format!("{command}: {error}"))?;
        let mut ran = Ran::default();
        // Messages until the server closes the channel: data may come after the exit
        // status, and the status after the end of the data (RFC 4254 §6.10).
        while let Some(message) = channel.wait().await {
            match message {
                ChannelMsg::Data { data } => ran.stdout.extend_from_slice(&data),
                // Extended data type 1 is the command's stderr (RFC 4254 §5.2).
                ChannelMsg::ExtendedData { data, ext: 1 } => ran.stderr.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => ran.status = Some(exit_status),
                ChannelMsg::Failure => {
                    return Err(format!("{command}: the server refused to run it"));
                }
                ChannelMsg::Close => break,
                _ => {}
            }
            if ran.stdout.len() + ran.stderr.len() > OUTPUT_CAP {
                return Err(format!("{command}: more than {OUTPUT_CAP} bytes of output"));
            }
        }
        Ok(ran)
    }

    /// Ends the connection politely (`SSH_MSG_DISCONNECT`, RFC 4253 §11.1).
    pub async fn close(self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}
