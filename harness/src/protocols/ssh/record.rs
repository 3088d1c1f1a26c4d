//! What the SSH server peer saw: one entry per TCP connection: whether the client went on
//! to authenticate after the key exchange (a client that refused the host key closes
//! before), every authentication attempt (the password masked: only whether it was the
//! right one is kept), every command with its exit status (each line typed into a shell
//! a command of its own).

use std::any::Any;
use std::sync::Mutex;

use super::Remote;
use crate::peers::{Progress, ProtocolRecord};

/// One authentication request (RFC 4252 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AuthAttempt {
    /// The user name it named.
    pub user: String,
    /// `none`, `password`, `publickey` (a key offered, no signature), `publickey
    /// signed` (a signature with it: the key's proof), `keyboard-interactive`.
    pub method: String,
    /// What it carried, for the report: `password ****` (right or wrong), the key's
    /// fingerprint.
    pub detail: String,
    /// Whether it carried a secret's proof: a password, or a signature.
    pub sent_secret: bool,
    pub accepted: bool,
}

/// One command run on the remote machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CommandRun {
    /// As the client sent it (`exec`), or as it typed it into a `shell`, one line each
    /// (`nproc`, then `exit`; `(shell, nothing typed)` for a shell that got no line).
    pub command: String,
    /// Its exit status (none: still running, or killed at its deadline). A shell reports
    /// one status, its own: it goes to the last line typed into it, and the lines before
    /// have none.
    pub exit_status: Option<u32>,
    /// Why it did not run or was stopped, if so.
    pub trouble: Option<String>,
    /// That trouble is the harness's own: it could not sandbox or start the command.
    pub harness_failed: bool,
}

/// What one TCP connection did.
#[derive(Debug, Clone, Default)]
pub(super) struct SshConnection {
    /// The client's version line (`SSH-2.0-paramiko_2.12.0`), when it came.
    pub client_version: Option<String>,
    /// Its authentication requests, in order: none means the client stopped after the
    /// key exchange (it refused the host key) or earlier.
    pub attempts: Vec<AuthAttempt>,
    /// Its commands, in order.
    pub commands: Vec<CommandRun>,
    /// The connection is over.
    pub ended: bool,
    /// How it ended, if with an error (the client closed during the key exchange...).
    pub ending: Option<String>,
}

impl SshConnection {
    /// Whether a request was accepted: the client is logged in.
    pub(super) fn logged_in(&self) -> bool {
        self.attempts.iter().any(|attempt| attempt.accepted)
    }
}

/// The SSH peer's record: the remote machine it plays, and its connections.
#[derive(Debug)]
pub(super) struct SshRecord {
    pub remote: Remote,
    pub connections: Mutex<Vec<SshConnection>>,
}

impl SshRecord {
    pub(super) fn new(remote: Remote) -> SshRecord {
        SshRecord {
            remote,
            connections: Mutex::new(Vec::new()),
        }
    }

    /// A new connection's entry; its index.
    pub(super) fn open(&self) -> usize {
        let mut all = self.lock();
        all.push(SshConnection::default());
        all.len() - 1
    }

    /// Changes connection `index`.
    pub(super) fn change(&self, index: usize, change: impl FnOnce(&mut SshConnection)) {
        change(&mut self.lock()[index]);
    }

    /// A copy of the connections so far.
    pub(super) fn connections(&self) -> Vec<SshConnection> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SshConnection>> {
        self.connections
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ProtocolRecord for SshRecord {
    fn as_any(&self) -> &dyn Any {
        self
    }

    /// A login is an authentication request that carried a secret (a password, a
    /// signature); the commands are the command lines run.
    fn progress(&self) -> Option<Progress> {
        let connections = self.connections();
        Some(Progress {
            connections: connections.len(),
            logins: connections
                .iter()
                .flat_map(|connection| &connection.attempts)
                .filter(|attempt| attempt.sent_secret)
                .map(|attempt| attempt.accepted)
                .collect(),
            commands: connections
                .iter()
                .flat_map(|connection| &connection.commands)
                .map(|run| run.command.clone())
                .collect(),
            tls_handshakes: 0,
        })
    }

    /// A command the remote machine could not run for the harness's want (its sandbox,
    /// its folder): the client then read `harness: ...` and a 126, not the machine's
    /// answer, through no fault of its own.
    fn trouble(&self) -> Option<String> {
        self.connections()
            .iter()
            .flat_map(|connection| &connection.commands)
            .find(|run| run.harness_failed)
            .map(|run| {
                format!(
                    "the SSH peer's remote machine could not run `{}`: {}",
                    run.command,
                    run.trouble.as_deref().unwrap_or("no reason given")
                )
            })
    }
}
