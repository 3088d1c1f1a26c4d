//! `expect_connect_rate = "waiter"`: how often a program tries to connect while nothing
//! accepts: retries must be paced, not a busy loop (SPEC wait/3: at most 20 attempts per
//! second), and there must be retries at all.
//!
//! ```toml
//! [[step]]
//! expect_connect_rate = "waiter"
//! for_ms = 2000               # the window counted
//! at_most_per_second = 20
//! at_least = 1                # attempts in the window
//! ```
//!
//! The attempts are counted by the kernel of the scenario's own network namespace
//! (`ActiveOpens` in `/proc/thread-self/net/snmp`: every `connect` that sent a SYN), so any
//! program in any language is measured the same way, refused attempts included. The
//! scenario's other actors make no connection during the window. Without a namespace of
//! its own (its count would be the whole machine's) `sandbox-init`'s warden counts the
//! program's `connect` calls on TCP sockets from outside it (its seccomp filter hands each
//! one over, whatever makes it: a static binary, its own machine code); where no warden can
//! run, the interposed library counts the calls the program makes through it, and a static
//! binary, which it cannot enter, is not measured: the scenario is not run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::outcome::{StepFailure, harness_trouble};

pub(crate) const KIND: StepKind = StepKind {
    key: "expect_connect_rate",
    load,
    schema: super::schema_of::<RawExpectConnectRate>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawExpectConnectRate {
    expect_connect_rate: String,
    for_ms: u64,
    at_most_per_second: u32,
    at_least: Option<u32>,
}

#[derive(Debug)]
struct ExpectConnectRate {
    program: String,
    window: Duration,
    at_most_per_second: u32,
    at_least: u32,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawExpectConnectRate::deserialize(input.table)?;
    if !(100..=60_000).contains(&raw.for_ms) {
        return Err("`for_ms` is 100 to 60000".into());
    }
    Ok(Arc::new(ExpectConnectRate {
        program: input.names.program(&raw.expect_connect_rate)?,
        window: Duration::from_millis(raw.for_ms),
        at_most_per_second: raw.at_most_per_second,
        at_least: raw.at_least.unwrap_or(1),
    }))
}

/// TCP connections this network namespace opened so far (`ActiveOpens`), read from the
/// calling thread's view of `/proc`.
pub(super) fn active_opens() -> Result<u64, String> {
    tcp_counter("ActiveOpens")
}

/// TCP connections this network namespace tried to open and could not (`AttemptFails`:
/// refused, reset or timed out before they were established), read as [`active_opens`].
pub(super) fn attempt_fails() -> Result<u64, String> {
    tcp_counter("AttemptFails")
}

/// Datagrams this network namespace received for a UDP port where nothing listens
/// (`NoPorts` of IPv4 and `Udp6NoPorts` of IPv6), read as [`active_opens`].
pub(super) fn udp_no_ports() -> Result<u64, String> {
    let ipv4 = std::fs::read_to_string("/proc/thread-self/net/snmp")
        .map_err(|error| format!("cannot read /proc/thread-self/net/snmp: {error}"))?;
    let ipv4 = counter_in(&ipv4, "Udp:", "NoPorts")
        .ok_or_else(|| "no Udp NoPorts in /proc/net/snmp".to_owned())?;
    // Without IPv6 there is no snmp6: nothing came over it.
    let ipv6 = std::fs::read_to_string("/proc/thread-self/net/snmp6")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let (name, value) = line.split_once(char::is_whitespace)?;
                (name == "Udp6NoPorts").then(|| value.trim().parse().ok())?
            })
        })
        .unwrap_or(0);
    Ok(ipv4 + ipv6)
}

/// The `Tcp:` counter `name` of this network namespace.
fn tcp_counter(name: &str) -> Result<u64, String> {
    let text = std::fs::read_to_string("/proc/thread-self/net/snmp")
        .map_err(|error| format!("cannot read /proc/thread-self/net/snmp: {error}"))?;
    tcp_counter_in(&text, name).ok_or_else(|| format!("no Tcp {name} in /proc/net/snmp"))
}

/// The counter `name` of the `Tcp:` lines of an snmp file (a header line, then the values).
fn tcp_counter_in(snmp: &str, name: &str) -> Option<u64> {
    counter_in(snmp, "Tcp:", name)
}

/// The counter `name` of the lines of an snmp file that start with `protocol` (`Tcp:`,
/// `Udp:`): a header line, then the values.
fn counter_in(snmp: &str, protocol: &str, name: &str) -> Option<u64> {
    let mut tcp = snmp.lines().filter(|line| line.starts_with(protocol));
    let (names, values) = (tcp.next()?, tcp.next()?);
    let column = names.split_whitespace().position(|found| found == name)?;
    values.split_whitespace().nth(column)?.parse().ok()
}

impl StepAction for ExpectConnectRate {
    fn describe(&self) -> String {
        format!(
            "count {}'s connection attempts for {} ms: at least {}, at most {} per second",
            self.program,
            self.window.as_millis(),
            self.at_least,
            self.at_most_per_second
        )
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            let count = |context: &(dyn StepContext + Send)| -> Result<u64, StepFailure> {
                if context.own_network() {
                    return active_opens().map_err(harness_trouble);
                }
                context.connect_attempts(&self.program).ok_or_else(|| {
                    StepFailure::not_run_here(
                        "to count the connection attempts",
                        format!("without the scenario's own network namespace (this machine refuses it: no CAP_SYS_ADMIN and no user namespaces, as in a platform's container; or HARNESS_NO_NAMESPACES is set) and without sandbox-init's warden, the attempts are counted by the interposed library, which cannot enter {} (a static binary)", self.program),
                    )
                })
            };
            let before = count(context)?;
            let started = Instant::now();
            // The window is the measurement itself: nothing to wait for but time.
            tokio::time::sleep(self.window).await;
            let attempts = count(context)? - before;
            let seconds = started.elapsed().as_secs_f64();
            let rate = attempts as f64 / seconds;
            context.note(format!(
                "{}: {attempts} connection attempts in {seconds:.2} s ({rate:.1} per second)",
                self.program
            ));
            if rate > f64::from(self.at_most_per_second) {
                return Err(StepFailure::fail(
                    format!(
                        "{} to retry at most {} times per second",
                        self.program, self.at_most_per_second
                    ),
                    format!(
                        "{attempts} attempts in {seconds:.2} s ({rate:.0} per second): a loop that retries without sleeping"
                    ),
                ));
            }
            if attempts < u64::from(self.at_least) {
                return Err(StepFailure::fail(
                    format!(
                        "{} to try again while nothing accepts (at least {} attempts in {} ms)",
                        self.program,
                        self.at_least,
                        self.window.as_millis()
                    ),
                    format!("{attempts} attempts"),
                ));
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_opens_is_read_from_the_tcp_lines() {
        let snmp = "Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens\nTcp: 1 200 120000 -1 42 7\nUdp: InDatagrams\nUdp: 3\n";
        assert_eq!(tcp_counter_in(snmp, "ActiveOpens"), Some(42));
        assert_eq!(
            tcp_counter_in("Udp: InDatagrams\nUdp: 3\n", "ActiveOpens"),
            None
        );
        // The harness's own namespace has the file, and a number in it.
        assert!(active_opens().is_ok());
    }
}
