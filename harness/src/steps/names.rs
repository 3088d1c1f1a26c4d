//! The names a scenario's steps define (programs, connections, peers, relays), so that a
//! step can only refer to what an earlier step made.

use std::collections::{BTreeMap, BTreeSet};

/// Names defined by earlier steps, so later steps can only refer to what exists.
#[derive(Debug, Default)]
pub(crate) struct Names {
    pub(crate) programs: BTreeSet<String>,
    pub(crate) peers: BTreeSet<String>,
    /// The connections kept open after their first payload (`then = "keep"`), which a
    /// conversation can go on sending on.
    pub(crate) kept: BTreeSet<String>,
    pub(crate) datagrams: BTreeSet<String>,
    pub(crate) servers: BTreeSet<String>,
    /// The `listen` peers that speak a protocol of a pack, and the pack's key
    /// (`crate::protocols`).
    pub(crate) speaking: BTreeMap<String, &'static str>,
    pub(crate) relays: BTreeSet<String>,
    /// Every program the scenario starts, at any step.
    pub(crate) hosts: BTreeSet<String>,
    /// The requests a `request` step paused, until their `resume` step.
    pub(crate) paused: BTreeMap<String, super::pack_request::Paused>,
}

impl Names {
    pub(crate) fn program(&self, name: &str) -> Result<String, String> {
        if self.programs.contains(name) {
            Ok(name.to_owned())
        } else {
            Err(format!(
                "no program named `{name}` was started by an earlier step"
            ))
        }
    }

    pub(crate) fn peer(&self, name: &str) -> Result<String, String> {
        if self.peers.contains(name) {
            Ok(name.to_owned())
        } else {
            Err(format!(
                "no connection named `{name}` was opened by an earlier `connect` step"
            ))
        }
    }

    pub(crate) fn listener(&self, name: &str) -> Result<String, String> {
        if self.programs.contains(name) || self.relays.contains(name) {
            Ok(name.to_owned())
        } else {
            Err(format!(
                "no program or relay named `{name}` exists at this step"
            ))
        }
    }

    /// What a client program can be pointed at: a program, a relay or a server peer.
    pub(crate) fn client_target(&self, name: &str) -> Result<String, String> {
        if self.servers.contains(name) {
            Ok(name.to_owned())
        } else {
            self.listener(name).map_err(|_| {
                format!("no program, relay or `listen` peer named `{name}` exists at this step")
            })
        }
    }

    /// A harness peer whose received bytes can be checked.
    pub(crate) fn receiver(&self, name: &str) -> Result<String, String> {
        if self.peers.contains(name) || self.datagrams.contains(name) || self.servers.contains(name)
        {
            Ok(name.to_owned())
        } else {
            Err(format!(
                "no harness peer named `{name}` (from `connect`, `send_datagram` or `listen`) exists at this step"
            ))
        }
    }

    /// A host of the simulated network: a program, or the harness itself.
    pub(crate) fn host(&self, name: &str) -> Result<String, String> {
        if name == crate::world::sockets::HARNESS_HOST || self.hosts.contains(name) {
            Ok(name.to_owned())
        } else {
            Err(format!(
                "no step starts a program named `{name}` (or write `harness` for the harness's host)"
            ))
        }
    }

    pub(crate) fn fresh(&self, name: &str) -> Result<(), String> {
        if self.programs.contains(name)
            || self.peers.contains(name)
            || self.datagrams.contains(name)
            || self.servers.contains(name)
            || self.relays.contains(name)
            || name == crate::world::sockets::HARNESS_HOST
        {
            Err(format!(
                "the name `{name}` is already used by an earlier step (set `as`)"
            ))
        } else {
            Ok(())
        }
    }
}
