//! The network-interfaces lab (SPEC iface/1): `add_interface` sets up interfaces in the
//! scenario's own network namespace, `expect_interfaces` compares what a program printed
//! with what the kernel reports there.
//!
//! ```toml
//! [[step]]
//! add_interface = "lab0"       # a veth pair: lab0 and its peer lab0p
//! ipv4 = "10.77.0.1/24"        # optional, on lab0
//! ipv6 = "fd00:77::1/64"       # optional, on lab0
//! up = true                    # optional, default true: both ends
//!
//! [[step]]
//! start = "lister"
//!
//! [[step]]
//! expect_interfaces = "lister"
//! ```
//!
//! `add_interface` runs iproute2's `ip` in the scenario's namespace only: without a
//! namespace of its own it is an `ERROR`, never a change to this machine's interfaces. It
//! makes a veth pair (the `dummy` type is not built into every kernel; veth is), both ends
//! in the namespace, so the program lists both. They get no link-local address
//! (`addrgenmode none`) and the IPv6 address skips duplicate detection (`nodad`), so what
//! the kernel lists does not change while the program runs; both ends are up, or both down,
//! so the administrative and the operational state agree.
//!
//! `expect_interfaces` waits for the program to exit, then asks the kernel
//! (`getifaddrs`, in the same namespace). Every interface must be named on exactly one line
//! of stdout (a whole word; `lo:` counts), which says `up` (or `unknown`, as `ip` says of
//! `lo`) or `down`, case-insensitive, and holds each of its addresses (`10.77.0.1` and
//! `10.77.0.1/24` both count). A line with an address that is not its interface's, or an
//! address on a line naming no interface, fails. Other lines (a header) are not graded.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::outcome::{StepFailure, harness_trouble};

pub(crate) const ADD: StepKind = StepKind {
    key: "add_interface",
    load: load_add,
    schema: super::schema_of::<RawAddInterface>,
};

pub(crate) const EXPECT: StepKind = StepKind {
    key: "expect_interfaces",
    load: load_expect,
    schema: super::schema_of::<RawExpectInterfaces>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawAddInterface {
    add_interface: String,
    peer: Option<String>,
    ipv4: Option<String>,
    ipv6: Option<String>,
    up: Option<bool>,
}

#[derive(Debug)]
struct AddInterface {
    name: String,
    peer: String,
    ipv4: Option<String>,
    ipv6: Option<String>,
    up: bool,
}

fn load_add(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawAddInterface::deserialize(input.table)?;
    let peer = raw
        .peer
        .clone()
        .unwrap_or_else(|| format!("{}p", raw.add_interface));
    for name in [&raw.add_interface, &peer] {
        let name_ok = (1..=15).contains(&name.len())
            && name
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
        if !name_ok {
            return Err(
                format!("`{name}`: an interface name is 1 to 15 letters, digits or `_`").into(),
            );
        }
    }
    for (key, value, v6) in [("ipv4", &raw.ipv4, false), ("ipv6", &raw.ipv6, true)] {
        if let Some(value) = value {
            let address = value
                .split_once('/')
                .map_or(value.as_str(), |(address, _)| address);
            match address.parse::<IpAddr>() {
                Ok(IpAddr::V4(_)) if !v6 => {}
                Ok(IpAddr::V6(_)) if v6 => {}
                _ => return Err(format!("`{key} = \"{value}\"` is not an {key} address").into()),
            }
        }
    }
    Ok(Arc::new(AddInterface {
        name: raw.add_interface,
        peer,
        ipv4: raw.ipv4,
        ipv6: raw.ipv6,
        up: raw.up.unwrap_or(true),
    }))
}

impl StepAction for AddInterface {
    fn describe(&self) -> String {
        let mut text = format!("add the veth pair {} and {}", self.name, self.peer);
        for address in self.ipv4.iter().chain(&self.ipv6) {
            text += &format!(", {address}");
        }
        text + if self.up { ", up" } else { ", down" }
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            if !context.own_network() {
                return Err(StepFailure::not_run_here(
                    "to add the interfaces",
                    "interfaces are added in the scenario's own network namespace only, which this machine refuses (no CAP_SYS_ADMIN and no user namespaces, as in a platform's container), or HARNESS_NO_NAMESPACES is set",
                ));
            }
            let (name, peer) = (self.name.as_str(), self.peer.as_str());
            let mut commands: Vec<Vec<&str>> = vec![
                vec!["link", "add", name, "type", "veth", "peer", "name", peer],
                vec!["link", "set", name, "addrgenmode", "none"],
                vec!["link", "set", peer, "addrgenmode", "none"],
            ];
            if let Some(ipv4) = &self.ipv4 {
                commands.push(vec!["addr", "add", ipv4, "dev", name]);
            }
            if let Some(ipv6) = &self.ipv6 {
                commands.push(vec!["-6", "addr", "add", ipv6, "dev", name, "nodad"]);
            }
            if self.up {
                commands.push(vec!["link", "set", peer, "up"]);
                commands.push(vec!["link", "set", name, "up"]);
            }
            // Where Debian puts it, which is not on every PATH.
            let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
                .into_iter()
                .find(|path| std::path::Path::new(path).exists())
                .unwrap_or("ip");
            for arguments in commands {
                // A child of this thread: it runs in the scenario's namespace.
                let mut command = std::process::Command::new(ip);
                command.args(&arguments);
                crate::world::real::net_admin::pass_on(&mut command);
                let output =
                    crate::world::real::spawning::output(&mut command).map_err(|error| {
                        harness_trouble(format!(
                            "cannot run iproute2's `ip` (install iproute2): {error}"
                        ))
                    })?;
                if !output.status.success() {
                    return Err(harness_trouble(format!(
                        "`ip {}` failed: {}",
                        arguments.join(" "),
                        String::from_utf8_lossy(&output.stderr).trim()
                    )));
                }
            }
            Ok(())
        })
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawExpectInterfaces {
    expect_interfaces: String,
    within_ms: Option<u64>,
}

#[derive(Debug)]
struct ExpectInterfaces {
    program: String,
    within: Duration,
}

fn load_expect(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawExpectInterfaces::deserialize(input.table)?;
    Ok(Arc::new(ExpectInterfaces {
        program: input.names.program(&raw.expect_interfaces)?,
        within: super::within(raw.within_ms),
    }))
}

impl StepAction for ExpectInterfaces {
    fn describe(&self) -> String {
        format!(
            "compare {}'s list with the kernel's interfaces",
            self.program
        )
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            context
                .expect_exit(
                    &self.program,
                    crate::judge::exit::ExitExpectation::Success,
                    self.within,
                )
                .await?;
            let kernel = kernel_interfaces()
                .map_err(|error| harness_trouble(format!("getifaddrs failed: {error}")))?;
            // The program has exited, but what it printed last may still be on its way from
            // the pipe to the capture: wait for the end of its stdout (a process it left
            // behind may hold the pipe open: then judge what came within the step's time).
            let deadline = tokio::time::Instant::now() + self.within;
            let printed = loop {
                let view = context.read_stream(&self.program, 0, 1 << 20);
                if view.ended.is_some() || tokio::time::Instant::now() >= deadline {
                    break view.bytes;
                }
                tokio::time::sleep(super::POLL).await;
            };
            let printed = String::from_utf8_lossy(&printed);
            judge(&kernel, &printed)
        })
    }
}

/// One interface as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Interface {
    name: String,
    up: bool,
    addresses: BTreeSet<IpAddr>,
}

/// The interfaces of this thread's network namespace (`getifaddrs`, read by the
/// reference's own lister: asking the kernel is plumbing, the judging is here).
fn kernel_interfaces() -> std::io::Result<Vec<Interface>> {
    Ok(reference::interfaces::list()?
        .into_iter()
        .map(|interface| Interface {
            name: interface.name,
            up: interface.up,
            addresses: interface.addresses.into_iter().collect(),
        })
        .collect())
}

/// The words of a line, without the punctuation around names and addresses.
fn words(line: &str) -> Vec<&str> {
    line.split(|c: char| c.is_whitespace() || c == ',' || c == '|')
        .map(|word| {
            // `lo:` is `lo`, but `::1` keeps its leading colons.
            word.trim_matches(|c: char| matches!(c, '[' | ']' | '(' | ')' | ';'))
                .trim_end_matches(':')
        })
        .filter(|word| !word.is_empty())
        .collect()
}

/// The address a word holds (`10.77.0.1`, `10.77.0.1/24`, `fe80::1%lo`, `addr:10.0.0.1`).
fn address_in(word: &str) -> Option<IpAddr> {
    let word = word.rsplit_once("addr:").map_or(word, |(_, after)| after);
    let word = word.split_once('/').map_or(word, |(address, _)| address);
    let word = word.split_once('%').map_or(word, |(address, _)| address);
    word.parse().ok()
}

/// Compares the printed list with the kernel's.
fn judge(kernel: &[Interface], printed: &str) -> Result<(), StepFailure> {
    let lines: Vec<&str> = printed.lines().collect();
    let expected = kernel
        .iter()
        .map(|interface| {
            let addresses: Vec<String> =
                interface.addresses.iter().map(IpAddr::to_string).collect();
            format!(
                "{} {} {}",
                interface.name,
                if interface.up { "UP" } else { "DOWN" },
                addresses.join(" ")
            )
            .trim_end()
            .to_owned()
        })
        .collect::<Vec<_>>()
        .join(" / ");
    let fail = |seen: String| {
        Err(StepFailure::fail(
            format!("one line per interface, as the kernel reports them: {expected}"),
            seen,
        ))
    };
    for interface in kernel {
        let naming: Vec<&&str> = lines
            .iter()
            .filter(|line| words(line).contains(&interface.name.as_str()))
            .collect();
        let line = match naming.as_slice() {
            [line] => line,
            [] => return fail(format!("no line names `{}`", interface.name)),
            more => return fail(format!("{} lines name `{}`", more.len(), interface.name)),
        };
        let line_words = words(line);
        let state_said = |states: &[&str]| {
            line_words
                .iter()
                .any(|word| states.iter().any(|state| word.eq_ignore_ascii_case(state)))
        };
        let state_ok = if interface.up {
            state_said(&["up", "unknown"]) && !state_said(&["down"])
        } else {
            state_said(&["down"]) && !state_said(&["up"])
        };
        if !state_ok {
            let state = if interface.up { "up" } else { "down" };
            return fail(format!(
                "the line of `{}` does not say it is {state}: {line:?}",
                interface.name
            ));
        }
        let printed_addresses: BTreeSet<IpAddr> = line_words
            .iter()
            .filter_map(|word| address_in(word))
            .collect();
        if let Some(missing) = interface.addresses.difference(&printed_addresses).next() {
            return fail(format!(
                "the line of `{}` lacks {missing}: {line:?}",
                interface.name
            ));
        }
        if let Some(foreign) = printed_addresses.difference(&interface.addresses).next() {
            return fail(format!(
                "the line of `{}` shows {foreign}, which is not its address: {line:?}",
                interface.name
            ));
        }
    }
    // An address on a line that names no interface is an interface the kernel does not have.
    for line in &lines {
        let line_words = words(line);
        let names_one = kernel
            .iter()
            .any(|interface| line_words.contains(&interface.name.as_str()));
        if !names_one && line_words.iter().any(|word| address_in(word).is_some()) {
            return fail(format!(
                "a line names no interface the kernel has: {line:?}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel() -> Vec<Interface> {
        vec![
            Interface {
                name: "lo".into(),
                up: true,
                addresses: ["127.0.0.1", "::1"]
                    .iter()
                    .map(|a| a.parse().unwrap())
                    .collect(),
            },
            Interface {
                name: "dummy0".into(),
                up: false,
                addresses: ["10.77.0.1"].iter().map(|a| a.parse().unwrap()).collect(),
            },
        ]
    }

    #[test]
    fn lenient_formats_pass() {
        for printed in [
            "lo UP 127.0.0.1 ::1\ndummy0 DOWN 10.77.0.1\n",
            "Interface State Addresses\nlo: unknown 127.0.0.1/8, ::1/128\ndummy0: down inet 10.77.0.1/24\n",
            "lo (up) addr:127.0.0.1 ::1\ndummy0 (down) 10.77.0.1\n",
        ] {
            assert!(
                judge(&kernel(), printed).is_ok(),
                "{printed}: {:?}",
                judge(&kernel(), printed)
            );
        }
    }

    #[test]
    fn wrong_lists_fail() {
        for printed in [
            "lo UP 127.0.0.1 ::1\n",
            "lo UP 127.0.0.1\ndummy0 DOWN 10.77.0.1\n",
            "lo UP 127.0.0.1 ::1\ndummy0 UP 10.77.0.1\n",
            "lo UP 127.0.0.1 ::1 10.77.0.1\ndummy0 DOWN 10.77.0.1\n",
            "lo UP 127.0.0.1 ::1\ndummy0 DOWN 10.77.0.1\neth0 UP 192.168.1.2\n",
            "lo UP 127.0.0.1 ::1\nlo UP 127.0.0.1 ::1\ndummy0 DOWN 10.77.0.1\n",
        ] {
            assert!(judge(&kernel(), printed).is_err(), "{printed}");
        }
    }
}
