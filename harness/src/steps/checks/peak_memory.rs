//! `peak-memory`: memory must not grow with the size of a stream (SPEC message/3).
//!
//! The check streams a small message and then a large one from the submission's client
//! to its server, each pair freshly started, and compares the peak memory of each program
//! between the two runs. A program with fixed-size buffers costs the same for 100 MB as
//! for 20 KB; one that holds the message grows by about its size.
//!
//! The memory counted is every process the program had, not the one the harness started
//! alone: a server that hands each connection to a forked child it never waits for (out of
//! its process group, too) holds the message there, and `wait4`'s `ru_maxrss` of the
//! server counts only the children it waited for. Where the program has a memory cgroup,
//! its peak (`memory.peak`) is the figure: all its processes at once. Elsewhere (a
//! platform's container, an ordinary user without a delegated cgroup) it is the largest
//! peak resident set size of any of its processes, as `wait4` on its sandbox says once
//! `sandbox-init` has reaped what the program left.
//!
//! ```toml
//! [[step]]
//! check = "peak-memory"
//! params = { small_bytes = 20480, large_bytes = 104857600, max_growth_mib = 16 }
//! ```

use std::time::Duration;

use super::{CheckContext, WholeMemory};
use crate::requests::{StartRequest, Watched};

use crate::catalogue::TaskInfo;
use crate::judge::exit::ExitExpectation;
use crate::judge::output::OutputExpectation;
use crate::outcome::StepFailure;
use crate::payload::{GeneratedKind, Payload};
use crate::requests::{Endpoint, PortChoice};
use crate::world::capture::OutputStream;

/// The check's name in scenario files.
pub(super) const NAME: &str = "peak-memory";

/// This check, for the registry (`super::kinds`).
pub(crate) const KIND: super::CheckKind = super::CheckKind {
    name: NAME,
    validate: |params, task| {
        Params::check_roles(task)?;
        Params::parse(params)?;
        Ok(ROLES.map(String::from).to_vec())
    },
    real_only: Some(
        "peak memory is measured on a real process (wait4's ru_maxrss); a simulated host has none",
    ),
    schema: |generator| generator.subschema_for::<PeakMemoryParams>(),
    run: |context, params| Box::pin(run(context, params)),
};
/// The roles it runs.
pub(super) const ROLES: [&str; 2] = ["server", "client"];

/// `params = { small_bytes = 20480, large_bytes = 104857600, max_growth_mib = 16,
/// within_ms = 60000 }`: each a positive integer, the defaults those of SPEC message/3.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PeakMemoryParams {
    /// The small message, in bytes (default 20480).
    small_bytes: Option<u64>,
    /// The large message, in bytes (default 100 MiB).
    large_bytes: Option<u64>,
    /// The most the peak may grow from the small message to the large one, in MiB
    /// (default 16).
    max_growth_mib: Option<u64>,
    /// How long the large transfer may take, in milliseconds (default 60000).
    within_ms: Option<u64>,
}

/// Parameters, with defaults from SPEC message/3.
#[derive(Debug, Clone, Copy)]
pub(super) struct Params {
    small_bytes: u64,
    large_bytes: u64,
    max_growth_kib: u64,
    within: Duration,
}

/// The least time the small message is given: a program's start-up (an interpreter's
/// included) on a loaded machine, with room to spare.
const SMALL_WITHIN_AT_LEAST: Duration = Duration::from_secs(10);

impl Params {
    /// Checks the task has the roles this check runs.
    pub(super) fn check_roles(task: &TaskInfo) -> Result<(), String> {
        match ROLES.iter().find(|role| !task.roles.contains_key(**role)) {
            Some(role) => Err(format!("`{NAME}` needs a task with a `{role}` role")),
            None => Ok(()),
        }
    }

    /// Reads and checks `params`.
    pub(super) fn parse(params: &toml::Table) -> Result<Params, String> {
        let raw: PeakMemoryParams = super::params_of(NAME, params)?;
        let number = |key: &str, value: Option<u64>, default: u64| -> Result<u64, String> {
            match value {
                None => Ok(default),
                Some(0) => Err(format!("`{key}` must be a positive integer")),
                Some(value) => Ok(value),
            }
        };
        let parsed = Params {
            small_bytes: number("small_bytes", raw.small_bytes, 20 * 1024)?,
            large_bytes: number("large_bytes", raw.large_bytes, 100 << 20)?,
            max_growth_kib: number("max_growth_mib", raw.max_growth_mib, 16)? * 1024,
            within: Duration::from_millis(number("within_ms", raw.within_ms, 60_000)?),
        };
        if parsed.small_bytes >= parsed.large_bytes {
            return Err("`small_bytes` must be smaller than `large_bytes`".into());
        }
        Ok(parsed)
    }

    /// The deadline of the small message: `within` is the large one's, and a program that
    /// hangs on 20 KB must not be given the 100 s that 100 MB are (a hanging submission was
    /// graded in 100 s here, all of it waiting for the small run).
    fn small_within(&self) -> Duration {
        let share = self.small_bytes as f64 / self.large_bytes as f64;
        self.within
            .mul_f64(share)
            .max(SMALL_WITHIN_AT_LEAST)
            .min(self.within)
    }
}

/// Peak memory of the server and the client in one run.
struct Peaks {
    server: Measured,
    client: Measured,
}

/// One program's memory in one run.
#[derive(Debug, Clone, Copy)]
struct Measured {
    /// The process the harness started: its own peak resident set size and that of the
    /// children it waited for (`ru_maxrss`), in KiB.
    own_kib: u64,
    /// What its sandbox measured of every process it had.
    whole: WholeMemory,
}

/// How every process of a program is counted: the same way in both runs, or the two
/// figures would not compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    /// Its memory cgroup's peak: all its processes at once.
    Cgroup,
    /// The largest peak resident set size of any one of its processes.
    LargestProcess,
}

impl Measure {
    /// The cgroup where every run had one, else the largest process.
    fn of(runs: &[&Measured]) -> Measure {
        if runs.iter().all(|run| run.whole.cgroup_peak.is_some()) {
            Measure::Cgroup
        } else {
            Measure::LargestProcess
        }
    }

    /// `run`'s figure, in KiB.
    fn kib(self, run: &Measured) -> u64 {
        match self {
            Measure::Cgroup => run.whole.cgroup_peak.unwrap_or_default() >> 10,
            Measure::LargestProcess => run.own_kib.max(run.whole.largest_process_kib.unwrap_or(0)),
        }
    }

    /// For the step log.
    fn describe(self) -> &'static str {
        match self {
            Measure::Cgroup => "every process it had, at once (its memory cgroup's peak)",
            Measure::LargestProcess => {
                "the largest of every process it had (no memory cgroup: the largest peak resident set size wait4 reported)"
            }
        }
    }
}

pub(crate) async fn run(
    run: &mut dyn CheckContext,
    params: &toml::Table,
) -> Result<(), StepFailure> {
    let params =
        Params::parse(params).map_err(|error| StepFailure::fail("valid parameters", error))?;
    let small = stream_once(run, "small", params.small_bytes, params.small_within()).await?;
    let large = stream_once(run, "large", params.large_bytes, params.within).await?;
    let growths = [
        ("server", small.server, large.server),
        ("client", small.client, large.client),
    ]
    .map(|(role, small, large)| {
        let measure = Measure::of(&[&small, &large]);
        Growth {
            role,
            small_kib: measure.kib(&small),
            large_kib: measure.kib(&large),
            own_small_kib: small.own_kib,
            own_large_kib: large.own_kib,
            measure,
        }
    });
    for growth in &growths {
        run.note(format!(
            "{} peak memory: {} for {} bytes, {} for {} bytes (growth {}, limit {}), counting {}",
            growth.role,
            mib(growth.small_kib),
            params.small_bytes,
            mib(growth.large_kib),
            params.large_bytes,
            mib(growth.kib()),
            mib(params.max_growth_kib),
            growth.measure.describe()
        ));
    }
    judge(&growths, &params)
}

/// One role's peak memory for the small message and for the large one.
struct Growth {
    role: &'static str,
    /// Every process it had, as `measure` counts them, in KiB.
    small_kib: u64,
    large_kib: u64,
    /// The process the harness started alone (`ru_maxrss`), in KiB.
    own_small_kib: u64,
    own_large_kib: u64,
    measure: Measure,
}

impl Growth {
    fn kib(&self) -> u64 {
        self.large_kib.saturating_sub(self.small_kib)
    }

    /// How much the process the harness started grew by itself.
    fn own_kib(&self) -> u64 {
        self.own_large_kib.saturating_sub(self.own_small_kib)
    }

    /// `the server grew by 97.3 MiB (9.1 MiB for the small message, 106.4 MiB for the
    /// large one)`
    fn figures(&self) -> String {
        format!(
            "the {} grew by {} ({} for the small message, {} for the large one)",
            self.role,
            mib(self.kib()),
            mib(self.small_kib),
            mib(self.large_kib)
        )
    }
}

/// Fails when a role's memory grew past the limit, giving both roles' figures either way:
/// the one that held is the comparison that shows what "fixed-size buffers" cost.
fn judge(growths: &[Growth], params: &Params) -> Result<(), StepFailure> {
    let too_much: Vec<&Growth> = growths
        .iter()
        .filter(|growth| growth.kib() > params.max_growth_kib)
        .collect();
    if too_much.is_empty() {
        return Ok(());
    }
    let holders = too_much
        .iter()
        .map(|growth| format!("the {}'s", growth.role))
        .collect::<Vec<_>>()
        .join(" and ");
    let seen = growths
        .iter()
        .map(|growth| {
            let verdict = if growth.kib() <= params.max_growth_kib {
                "within the limit".to_owned()
            } else if growth.own_kib() <= params.max_growth_kib {
                // The process it was started as stayed small: a child held the message.
                format!(
                    "it holds the message in memory, in a process it forked (the process the harness started grew by only {}; a child counts, waited for or not)",
                    mib(growth.own_kib())
                )
            } else {
                "it holds the message in memory".to_owned()
            };
            format!("{}: {verdict}", growth.figures())
        })
        .collect::<Vec<_>>()
        .join("; ");
    Err(StepFailure::fail(
        format!(
            "{holders} peak memory to grow by at most {} from a {}-byte message to a {}-byte one (fixed-size buffers)",
            mib(params.max_growth_kib),
            params.small_bytes,
            params.large_bytes
        ),
        seen,
    ))
}

/// Streams `bytes` generated bytes from a fresh client to a fresh server; returns both
/// programs' peak memory.
async fn stream_once(
    run: &mut dyn CheckContext,
    label: &str,
    bytes: u64,
    within: Duration,
) -> Result<Peaks, StepFailure> {
    let server = format!("server-{label}");
    let client = format!("client-{label}");
    let message = Payload::Generated {
        kind: GeneratedKind::Text,
        len: bytes,
        seed: 3,
    };
    // Room for the whole message on stdout, and a little more to see what is wrong.
    let output_cap = bytes + (16 << 20);
    run.start_program(StartRequest {
        role: "server",
        name: &server,
        stdin: None,
        port: PortChoice::Fresh,
        to: None,
        extra_args: &[],
        output_cap,
        short_calls: None,
        with: &std::collections::BTreeMap::new(),
        hold_stdin: false,
    })
    .await?;
    run.wait_listening(&server, Duration::from_secs(10)).await?;
    let target = Endpoint::Named(server.clone());
    run.start_program(StartRequest {
        role: "client",
        name: &client,
        stdin: Some(message.clone()),
        port: PortChoice::Fresh,
        to: Some(&target),
        extra_args: &[],
        // The default cap, which the guide states: a report that the client printed "more
        // than 1 MiB" would contradict it.
        output_cap: crate::steps::start::DEFAULT_OUTPUT_CAP_MIB << 20,
        short_calls: None,
        with: &std::collections::BTreeMap::new(),
        hold_stdin: false,
    })
    .await?;
    let client_exit = run
        .expect_exit(&client, ExitExpectation::Success, within)
        .await?;
    let stdout = Watched::Output {
        name: &server,
        stream: OutputStream::Stdout,
    };
    run.expect_bytes(stdout, &OutputExpectation::Equals(message), within)
        .await?;
    let server_exit = run.stop(&server).await?;
    Ok(Peaks {
        server: Measured {
            own_kib: server_exit.max_rss_kib,
            whole: run.whole_memory(&server),
        },
        client: Measured {
            own_kib: client_exit.max_rss_kib,
            whole: run.whole_memory(&client),
        },
    })
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Params {
        Params::parse(&toml::Table::new()).unwrap()
    }

    fn growths(server: (u64, u64), client: (u64, u64)) -> [Growth; 2] {
        [("server", server), ("client", client)].map(|(role, (small, large))| Growth {
            role,
            small_kib: small,
            large_kib: large,
            own_small_kib: small,
            own_large_kib: large,
            measure: Measure::LargestProcess,
        })
    }

    #[test]
    fn a_server_that_grows_is_reported_with_the_clients_figures_too() {
        let failure = judge(
            &growths((9 * 1024, 110 * 1024), (8 * 1024, 9 * 1024)),
            &params(),
        )
        .unwrap_err();
        assert!(
            failure.expected.starts_with("the server's peak memory"),
            "{failure:?}"
        );
        assert_eq!(
            failure.seen,
            "the server grew by 101.0 MiB (9.0 MiB for the small message, 110.0 MiB for the large one): it holds the message in memory; \
             the client grew by 1.0 MiB (8.0 MiB for the small message, 9.0 MiB for the large one): within the limit"
        );
    }

    #[test]
    fn when_both_grow_both_are_named() {
        let failure = judge(
            &growths((9 * 1024, 110 * 1024), (8 * 1024, 108 * 1024)),
            &params(),
        )
        .unwrap_err();
        assert!(
            failure
                .expected
                .starts_with("the server's and the client's peak memory"),
            "{failure:?}"
        );
        assert_eq!(
            failure.seen.matches("holds the message in memory").count(),
            2
        );
    }

    #[test]
    fn the_small_message_gets_a_deadline_of_its_own() {
        let params = Params::parse(&toml::from_str("within_ms = 100000").unwrap()).unwrap();
        assert_eq!(params.small_within(), SMALL_WITHIN_AT_LEAST);
        let close = Params::parse(
            &toml::from_str("within_ms = 100000\nsmall_bytes = 60\nlarge_bytes = 100").unwrap(),
        )
        .unwrap();
        assert_eq!(close.small_within(), Duration::from_secs(60));
        let short = Params::parse(&toml::from_str("within_ms = 3000").unwrap()).unwrap();
        assert_eq!(short.small_within(), Duration::from_secs(3));
    }

    #[test]
    fn fixed_buffers_pass() {
        assert!(judge(&growths((9000, 9100), (8000, 8000)), &params()).is_ok());
    }

    fn measured(own_kib: u64, cgroup_mib: Option<u64>, largest_kib: Option<u64>) -> Measured {
        Measured {
            own_kib,
            whole: WholeMemory {
                cgroup_peak: cgroup_mib.map(|mib| mib << 20),
                largest_process_kib: largest_kib,
            },
        }
    }

    #[test]
    fn a_child_never_waited_for_counts_by_the_cgroup_or_by_the_largest_process() {
        // The server stays at 9 MiB; a child it forked held the 100 MB.
        let small = measured(9 * 1024, Some(12), Some(9 * 1024));
        let large = measured(9 * 1024, Some(113), Some(110 * 1024));
        assert_eq!(Measure::of(&[&small, &large]), Measure::Cgroup);
        assert_eq!(Measure::Cgroup.kib(&large), 113 * 1024);
        assert_eq!(Measure::LargestProcess.kib(&large), 110 * 1024);
        // One run without a cgroup figure: both are counted the other way.
        let uncounted = measured(9 * 1024, None, Some(9 * 1024));
        assert_eq!(Measure::of(&[&uncounted, &large]), Measure::LargestProcess);
        let growth = Growth {
            role: "server",
            small_kib: Measure::Cgroup.kib(&small),
            large_kib: Measure::Cgroup.kib(&large),
            own_small_kib: small.own_kib,
            own_large_kib: large.own_kib,
            measure: Measure::Cgroup,
        };
        let failure = judge(&[growth], &params()).unwrap_err();
        assert!(
            failure.seen.starts_with(
                "the server grew by 101.0 MiB (12.0 MiB for the small message, 113.0 MiB for the large one): it holds the message in memory, in a process it forked (the process the harness started grew by only 0.0 MiB"
            ),
            "{}",
            failure.seen
        );
    }
}
