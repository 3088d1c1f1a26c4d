//! Who is benched: a submission's (or the reference's) message programs, and the
//! everyday tools that do the same job, `nc` and `socat`, where they are installed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::transfer::Launch;
use crate::target::{RoleProgram, Workdir, fill};

/// A message server and client to bench, as command-line templates (`{host}`, `{port}`).
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    pub(crate) name: String,
    server: Vec<String>,
    client: Vec<String>,
    /// The port its programs always use (a submission that hard-codes one).
    pub(crate) fixed_port: Option<u16>,
    /// The address the server binds and the client is given (`127.0.0.1` unless the
    /// submission says otherwise).
    host: String,
    server_workdir: Option<PathBuf>,
    client_workdir: Option<PathBuf>,
    server_stdin_prefix: Option<String>,
    client_stdin_prefix: Option<String>,
}

impl Subject {
    /// The `message` programs of a target, or why there are none to bench.
    pub(crate) fn from_target(
        name: &str,
        programs: Option<&BTreeMap<String, RoleProgram>>,
    ) -> Result<Subject, String> {
        let role = |role: &str| {
            programs
                .and_then(|programs| programs.get(role))
                .ok_or_else(|| format!("{name} has no message-{role} to bench"))
        };
        let (server, client) = (role("server")?, role("client")?);
        let workdir = |program: &RoleProgram| match &program.workdir {
            Some(Workdir::Folder(folder)) => Some(folder.clone()),
            _ => None,
        };
        Ok(Subject {
            name: name.to_owned(),
            server: server.template.clone(),
            client: client.template.clone(),
            fixed_port: server.fixed_port.or(client.fixed_port),
            host: server
                .host
                .clone()
                .unwrap_or_else(|| "127.0.0.1".to_owned()),
            server_workdir: workdir(server),
            client_workdir: workdir(client),
            server_stdin_prefix: server.stdin_prefix.clone(),
            client_stdin_prefix: client.stdin_prefix.clone(),
        })
    }

    /// `nc`, if installed and one of the two common kinds: OpenBSD's (Debian's
    /// `netcat-openbsd`: `-N` closes the sending side at the end of stdin, `-d` does not
    /// read stdin) or the traditional one (`-q 0` quits at the end of stdin).
    pub(crate) fn netcat() -> Option<Subject> {
        let help = help_text("nc", "-h")?;
        let words = |line: &str| line.split(' ').map(String::from).collect::<Vec<_>>();
        let (name, server, client) = if help.contains("OpenBSD netcat") {
            (
                "nc (OpenBSD)",
                words("nc -d -l {host} {port}"),
                words("nc -N {host} {port}"),
            )
        } else if help.contains("-q secs") || help.contains("-q seconds") {
            (
                "nc (traditional)",
                words("nc -l -p {port}"),
                words("nc -q 0 {host} {port}"),
            )
        } else {
            return None;
        };
        Some(Subject::tool(name, server, client))
    }

    /// `socat`, if installed: `-u` copies one way only.
    pub(crate) fn socat() -> Option<Subject> {
        help_text("socat", "-V")?;
        Some(Subject::tool(
            "socat",
            vec![
                "socat".into(),
                "-u".into(),
                "TCP-LISTEN:{port},bind={host},reuseaddr".into(),
                "STDOUT".into(),
            ],
            vec![
                "socat".into(),
                "-u".into(),
                "STDIN".into(),
                "TCP:{host}:{port}".into(),
            ],
        ))
    }

    fn tool(name: &str, server: Vec<String>, client: Vec<String>) -> Subject {
        Subject {
            name: name.to_owned(),
            server,
            client,
            fixed_port: None,
            host: "127.0.0.1".to_owned(),
            server_workdir: None,
            client_workdir: None,
            server_stdin_prefix: None,
            client_stdin_prefix: None,
        }
    }

    /// The server's and the client's command lines for `port`.
    pub(crate) fn launches(&self, port: u16) -> (Launch, Launch) {
        let values = BTreeMap::from([("host", self.host.clone()), ("port", port.to_string())]);
        let launch =
            |template: &[String], workdir: &Option<PathBuf>, prefix: &Option<String>| Launch {
                argv: template.iter().map(|word| fill(word, &values)).collect(),
                workdir: workdir.clone(),
                stdin_prefix: prefix.as_ref().map(|text| fill(text, &values).into_bytes()),
            };
        (
            launch(
                &self.server,
                &self.server_workdir,
                &self.server_stdin_prefix,
            ),
            launch(
                &self.client,
                &self.client_workdir,
                &self.client_stdin_prefix,
            ),
        )
    }
}

/// What `program flag` prints (stdout and stderr), or `None` if it is not installed.
fn help_text(program: &str, flag: &str) -> Option<String> {
    let output = Command::new(program)
        .arg(flag)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Some(text)
}
