//! The SSH pack: the harness as the SSH server a submitted `ssh-info` logs in to (SPEC
//! ssh/1–2), the remote machine behind it, and the judges of what happened.
//!
//! - [`keys`]: the server's host key, an ed25519 key derived from the scenario's
//!   `host_key` text (the same key on every run), and the `~/.ssh/known_hosts` the
//!   program finds: the right key, no entry for the server, or another key;
//! - [`server`]: the SSH server (russh: RFC 4253 transport, RFC 4252 `password` and
//!   `publickey` authentication, RFC 4254 `session` channels with `exec` and `shell`);
//! - [`remote`]: "a remote machine the grader is not": each command runs with `/bin/sh
//!   -c` as a user of its own, without network, in the harness's sandbox, whose `/proc/cpuinfo`,
//!   `/proc/meminfo`, `/sys/devices/system/cpu/{online,possible,present}`, `nproc` and
//!   `lscpu` are the pack's;
//! - [`record`]: what it saw, connection by connection: whether the client went on to
//!   authenticate after the key exchange, each authentication attempt (the password
//!   masked), each command with its exit status;
//! - [`expectations`]: `ssh_session = { ... }` on `expect_received` and `ssh_figures`
//!   on the program's `expect_stdout`.
//!
//! ```toml
//! [[step]]
//! listen = "ssh"
//! ssh = { user = "alice", password = "s3cret", host_key = "ssh-info/01", known_hosts = "right", remote = { cpu_model = "Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz", cores = 12, memory_total_kib = 65830400, memory_available_kib = 43210000 } }
//!
//! [[step]]
//! expect_stdout = "client"
//! ssh_figures = { server = "ssh" }
//! ```

mod expectations;
mod figures;
mod keys;
mod record;
mod remote;
mod server;

/// For the account model's property test (`protocols::accounts`).
#[cfg(test)]
pub(super) use server::password_login;

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use super::{ListenShape, Loaded, Login, OptionsInput, Pack, ServerOptions};
use crate::peers::{Conversation, ProtocolRecord, ProtocolScript, ProtocolServer, Served};

/// The pack, for the registry (`super::REGISTRY`).
pub(super) const PACK: Pack = Pack {
    key: "ssh",
    server: Some(ServerOptions {
        key: "ssh",
        load,
        schema: |generator| generator.subschema_for::<SshScript>(),
        keeps_clear_text: false,
    }),
    checks: &[],
    client: None,
    expectations: &[expectations::SSH_SESSION, expectations::SSH_FIGURES],
    setting: None,
    login: Some(Login {
        protocol: "SSH",
        tasks: &["ssh-info"],
        refusal: super::accounts::carries_any,
    }),
};

/// What the program's `~/.ssh/known_hosts` holds for the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum KnownHosts {
    /// The server's host key, under the name and port the program is given.
    #[default]
    Right,
    /// No entry for the server (the file holds another host's key only).
    None,
    /// Another key for the server: the key changed, or someone is in the middle.
    Changed,
}

/// The remote machine's figures: what its `/proc/cpuinfo`, `/proc/meminfo`, `nproc`,
/// `lscpu` and `free` say.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Remote {
    /// Its processors' `model name`.
    pub cpu_model: String,
    /// Its logical processors.
    pub cores: u32,
    /// `MemTotal`, in KiB.
    pub memory_total_kib: u64,
    /// `MemAvailable`, in KiB.
    pub memory_available_kib: u64,
}

#[cfg(test)]
impl Remote {
    /// A 12-core machine with 64 GiB, for the pack's tests.
    pub(crate) fn example() -> Remote {
        Remote {
            cpu_model: "Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz".into(),
            cores: 12,
            memory_total_kib: 65830400,
            memory_available_kib: 43210000,
        }
    }
}

/// The SSH server peer's account, host key and remote machine.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SshScript {
    /// The user name it accepts.
    pub user: String,
    /// The password it accepts (none: password authentication always fails).
    #[serde(default)]
    pub password: Option<String>,
    /// The public keys it accepts for the user, as in `authorized_keys`
    /// (`ssh-ed25519 AAAA... comment`).
    #[serde(default)]
    pub authorized_keys: Vec<String>,
    /// The text the host key is derived from: the same text, the same key.
    pub host_key: String,
    /// What the program's `~/.ssh/known_hosts` says of the server.
    #[serde(default)]
    pub known_hosts: KnownHosts,
    /// The machine behind the server.
    pub remote: Remote,
}

/// Checks that an SSH server goes with the rest of its `listen` step.
fn load(input: OptionsInput<'_, '_, ListenShape>) -> Loaded<Arc<dyn ProtocolScript>> {
    let script = SshScript::deserialize(input.value)?;
    input.step.tcp_dialogue_only("ssh", "an SSH server")?;
    if script.user.is_empty() || script.host_key.is_empty() {
        return Err("`ssh.user` and `ssh.host_key` cannot be empty".into());
    }
    if script.password.is_none() && script.authorized_keys.is_empty() {
        return Err("`ssh` needs a `password` or `authorized_keys`: nobody could log in".into());
    }
    for key in &script.authorized_keys {
        keys::parse_authorized(key)
            .map_err(|error| format!("`ssh.authorized_keys`: `{key}`: {error}"))?;
    }
    let remote = &script.remote;
    if remote.cores == 0 || remote.cores > 1024 || remote.cpu_model.trim().is_empty() {
        return Err("`ssh.remote`: a model name and 1 to 1024 cores".into());
    }
    if remote.memory_available_kib > remote.memory_total_kib || remote.memory_total_kib < 1024 {
        return Err(
            "`ssh.remote`: memory_available_kib is at most memory_total_kib (at least 1024)".into(),
        );
    }
    Ok(Arc::new(script))
}

impl ProtocolScript for SshScript {
    fn describe(&self) -> String {
        let remote = &self.remote;
        let mut how = Vec::new();
        if self.password.is_some() {
            how.push("a password");
        }
        if !self.authorized_keys.is_empty() {
            how.push("a key");
        }
        format!(
            "playing an SSH server (user {} with {}; a remote machine with {} cores of {}, {} KiB of memory, {} KiB available), whose host key the program's known_hosts {}",
            self.user,
            how.join(" or "),
            remote.cores,
            remote.cpu_model,
            remote.memory_total_kib,
            remote.memory_available_kib,
            match self.known_hosts {
                KnownHosts::Right => "holds",
                KnownHosts::None => "does not hold (no entry)",
                KnownHosts::Changed => "holds another of (a changed key)",
            }
        )
    }

    /// A server whose host key the program trusts lets it log in and run its commands on
    /// the remote machine, which needs `sandbox-init` (commands never run with the
    /// harness's privilege): without it the scenario is not run (one where the key is
    /// refused runs: no command is reached).
    fn unplayable(&self, settings: &crate::settings::RunSettings) -> Option<String> {
        if self.known_hosts != KnownHosts::Right {
            return None;
        }
        remote::commands_refused(&settings.sandbox.layers).map(|why| {
            format!(
                "its SSH server's remote machine runs the program's commands without privilege, which needs sandbox-init ({why})"
            )
        })
    }

    fn client_home_files(&self, host: &str, port: u16) -> Vec<(PathBuf, Vec<u8>)> {
        vec![(
            PathBuf::from(".ssh/known_hosts"),
            keys::known_hosts(&self.host_key, self.known_hosts, host, port).into_bytes(),
        )]
    }

    fn start(&self, settings: &crate::settings::RunSettings) -> Arc<dyn ProtocolServer> {
        Arc::new(SshPeer {
            script: self.clone(),
            host_key: keys::host_key(&self.host_key),
            record: Arc::new(record::SshRecord::new(self.remote.clone())),
            machine: remote::RemoteMachine::new(&self.remote, &self.user, settings),
        })
    }
}

/// One running SSH server peer and its record.
#[derive(Debug)]
struct SshPeer {
    script: SshScript,
    host_key: russh::keys::PrivateKey,
    record: Arc<record::SshRecord>,
    /// The remote machine's files, made once for the peer (`None`: they could not be
    /// written, and every command fails saying why).
    machine: Result<Arc<remote::RemoteMachine>, String>,
}

impl ProtocolServer for SshPeer {
    fn record(&self) -> &dyn ProtocolRecord {
        &*self.record
    }

    fn converse(self: Arc<Self>, conversation: Conversation) -> Served {
        Box::pin(server::serve(conversation, self))
    }
}

#[cfg(test)]
mod tests;
