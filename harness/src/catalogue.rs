//! The task catalogue (`scenarios/tasks.toml`): every task, its roles, and the canonical
//! command line of each role (SPEC "Canonical command lines").
//!
//! ```toml
//! [message]
//! title = "Sequential message server and client"
//! roles = { server = "{port}", client = "{host} {port}" }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::line_of;
use crate::{Error, Result};

/// One task of the catalogue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskInfo {
    /// A human title.
    pub title: String,
    /// Role name to the arguments of its canonical command line (`{port}`, `{host}`...).
    pub roles: BTreeMap<String, String>,
    /// Program names that are not `<task>-<role>` (`web-server` for the role `server`).
    #[serde(default)]
    pub programs: BTreeMap<String, String>,
    /// Ports its clients may connect to without being told (`25` and `587` for a mail
    /// client, `80` for a web client): the harness's stand-in serves them inside the
    /// scenario, passing what comes on to where the scenario says the client connects
    /// (`crate::peers::stand_in`). Only where scenarios have network namespaces of their own.
    #[serde(default)]
    pub well_known_ports: Vec<u16>,
    /// Its programs use UDP (a pinger, a name lookup, the ioctls of an interface lister,
    /// which ask a datagram socket). Where scenarios share a platform's loopback and no
    /// warden walls UDP to a scenario's ports, the programs of every other task get no UDP
    /// socket at all (`sandbox::TcpPorts::with_datagrams`).
    #[serde(default)]
    pub datagrams: bool,
}

impl TaskInfo {
    /// The program name of a role: `message-server`, or the name `programs` gives it.
    pub fn program_name(&self, task: &str, role: &str) -> String {
        self.programs
            .get(role)
            .cloned()
            .unwrap_or_else(|| format!("{task}-{role}"))
    }
}

/// Every task, by its kebab-case name.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// Tasks by name, in name order.
    pub tasks: BTreeMap<String, TaskInfo>,
}

impl Catalogue {
    /// Reads `tasks.toml`.
    pub fn load(path: &Path) -> Result<Catalogue> {
        let text = std::fs::read_to_string(path)
            .map_err(Error::io(format!("cannot read {}", path.display())))?;
        let bad = |offset: usize, reason: String| Error::BadFile {
            path: path.to_owned(),
            line: line_of(&text, offset),
            reason,
        };
        let tasks: BTreeMap<String, TaskInfo> = toml::from_str(&text).map_err(|error| {
            bad(
                error.span().map(|span| span.start).unwrap_or(0),
                error.message().trim().to_owned(),
            )
        })?;
        for (task, info) in &tasks {
            if let Some(role) = info
                .programs
                .keys()
                .find(|role| !info.roles.contains_key(*role))
            {
                return Err(bad(
                    0,
                    format!(
                        "task `{task}`: `programs` names `{role}`, which is not one of its roles"
                    ),
                ));
            }
        }
        Ok(Catalogue { tasks })
    }
}
