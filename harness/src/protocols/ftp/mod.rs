//! The FTP pack: the harness as the FTP server a submitted `ftp-upload` stores a file on
//! (SPEC ftp/1–2), and the judges of what it stored.
//!
//! - [`server`]: the control connection (RFC 959 §4, §5.3): `USER`/`PASS`, `SYST`,
//!   `FEAT` (RFC 2389), `PWD`, `CWD`, `CDUP`, `TYPE A`/`I`, `MODE S`, `STRU F`, `PASV`,
//!   `EPSV` (RFC 2428), `STOR`, `SIZE` (RFC 3659), `NOOP`, `QUIT`, and 502 for the rest
//!   (active mode, `PORT`/`EPRT`, is not offered: passive only);
//! - [`data`]: the passive data connection, a second listener the peer opens in the
//!   scenario's network (both loopbacks), or a port that refuses, or one that resets;
//! - [`record`]: what it saw, session by session: every command (the password masked),
//!   the logins, each `STOR` with the `TYPE` in force and the bytes stored, `QUIT`;
//! - [`expectations`]: `ftp_session = { stored, quit, logged_in, nothing_stored }` on
//!   `expect_received`.
//!
//! ```toml
//! [[step]]
//! listen = "ftp"
//! ftp = { user = "alice", password = "s3cret", folders = ["uploads"] }
//!
//! [[step]]
//! expect_received = "ftp"
//! ftp_session = { stored = { path = "/uploads/photo.bin", tree_file = "ftp-upload/photo.bin" }, quit = true }
//! ```
//!
//! Options: `user` and `password` (the only login accepted), `folders` (the folders that
//! exist besides `/`, where the session starts), `refuse_login` (530 to every `PASS`),
//! `refuse_store` (550 or 553 to every `STOR`), `data` = `"open"` (default) |
//! `"refused"` (`PASV`/`EPSV` name a port that refuses connections) | `"reset"` (the
//! data connection is accepted, then reset).

pub(super) mod command;
mod data;
mod expectations;
mod record;
mod server;

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Deserialize;

use super::{ListenShape, Loaded, Login, OptionsInput, Pack, ServerOptions};
use crate::peers::{Conversation, ProtocolRecord, ProtocolScript, ProtocolServer, Served};

/// The pack, for the registry (`super::REGISTRY`).
pub(super) const PACK: Pack = Pack {
    key: "ftp",
    server: Some(ServerOptions {
        key: "ftp",
        load,
        schema: |generator| generator.subschema_for::<FtpScript>(),
        keeps_clear_text: <record::FtpSession as super::sessions::Session>::KEEPS_CLEAR_TEXT,
    }),
    checks: &[],
    client: None,
    expectations: &[expectations::FTP_SESSION],
    setting: None,
    login: Some(Login {
        protocol: "FTP",
        tasks: &["ftp-upload"],
        refusal: super::accounts::line_refusal,
    }),
};

/// What the data connection does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum DataPlan {
    /// A passive listener that accepts the client's connection.
    #[default]
    Open,
    /// `PASV`/`EPSV` name a port that refuses connections: the client's connect fails.
    Refused,
    /// The client's data connection is accepted, then reset before the transfer ends.
    Reset,
}

/// The FTP server peer's account, folders and the failures it plays.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct FtpScript {
    /// The user name it accepts.
    pub user: String,
    /// The password it accepts (any other: 530).
    pub password: String,
    /// The folders that exist besides `/` (relative to it, `/`-separated: `uploads`,
    /// `uploads/2026`); their parents exist too.
    #[serde(default)]
    pub folders: Vec<String>,
    /// Every login is refused (530), whatever the password.
    #[serde(default)]
    pub refuse_login: bool,
    /// Every `STOR` is refused with this code: 550 (permission denied) or 553 (file
    /// name not allowed).
    #[serde(default)]
    pub refuse_store: Option<u16>,
    /// What the data connection does.
    #[serde(default)]
    pub data: DataPlan,
}

impl FtpScript {
    /// Every folder that exists, as an absolute path (`/`, `/uploads`, ...).
    fn all_folders(&self) -> BTreeSet<String> {
        let mut all = BTreeSet::from(["/".to_owned()]);
        for folder in &self.folders {
            let mut path = String::new();
            for part in folder.split('/').filter(|part| !part.is_empty()) {
                path = format!("{path}/{part}");
                all.insert(path.clone());
            }
        }
        all
    }
}

/// Checks that an FTP server goes with the rest of its `listen` step.
fn load(input: OptionsInput<'_, '_, ListenShape>) -> Loaded<Arc<dyn ProtocolScript>> {
    let script = FtpScript::deserialize(input.value)?;
    input.step.tcp_dialogue_only("ftp", "an FTP server")?;
    if script.user.is_empty() || script.password.is_empty() {
        return Err("`ftp.user` and `ftp.password` cannot be empty".into());
    }
    if let Some(code) = script.refuse_store
        && code != 550
        && code != 553
    {
        return Err(format!("`ftp.refuse_store` is 550 or 553, not {code}").into());
    }
    if let Some(folder) = script
        .folders
        .iter()
        .find(|folder| folder.split('/').any(|part| part == "." || part == ".."))
    {
        return Err(format!("`ftp.folders`: `{folder}` holds `.` or `..`").into());
    }
    Ok(Arc::new(script))
}

impl ProtocolScript for FtpScript {
    fn describe(&self) -> String {
        let mut text = format!("playing an FTP server (user {}", self.user);
        if !self.folders.is_empty() {
            text += &format!(", folders {}", self.folders.join(", "));
        }
        text += ")";
        if self.refuse_login {
            text += " that refuses every login";
        }
        if let Some(code) = self.refuse_store {
            text += &format!(" that refuses every STOR with {code}");
        }
        text += match self.data {
            DataPlan::Open => "",
            DataPlan::Refused => ", whose passive data port refuses connections",
            DataPlan::Reset => ", which resets the data connection",
        };
        text
    }

    // `AUTH TLS` is always offered (RFC 4217), as vsftpd with `ssl_enable` does, but the
    // peer does not say it `offers_tls`: that tells a program to trust the test CA, which a
    // real program always does (its view's certificate store), and a simulated one is
    // told with an option the FTP task's programs do not take (no FTP scenario asks for
    // TLS: SPEC ftp/1-2).

    /// A second port speaks TLS from the first byte: FTPS on 990.
    fn tls_port_too(&self) -> bool {
        true
    }

    fn start(&self, _settings: &crate::settings::RunSettings) -> Arc<dyn ProtocolServer> {
        Arc::new(FtpPeer {
            script: self.clone(),
            sessions: record::FtpSessions::default(),
        })
    }
}

/// One running FTP server peer and its record.
#[derive(Debug)]
struct FtpPeer {
    script: FtpScript,
    sessions: record::FtpSessions,
}

impl ProtocolServer for FtpPeer {
    fn record(&self) -> &dyn ProtocolRecord {
        let sessions: &std::sync::Mutex<Vec<record::FtpSession>> = &self.sessions;
        sessions
    }

    fn converse(self: Arc<Self>, conversation: Conversation) -> Served {
        Box::pin(server::serve(
            conversation,
            self.script.clone(),
            Arc::clone(&self.sessions),
        ))
    }
}

#[cfg(test)]
mod tests;
