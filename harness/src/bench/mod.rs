//! `harness bench`: how fast a submission's message client and server move a message,
//! side by side with the reference, `nc` and `socat`, in one run.
//!
//! Each program is a whole process, started as a student would start it (`message-server
//! PORT`, `message-client HOST PORT < FILE`). Two sizes: 20 KB, where start-up dominates,
//! and 100 MB, where the copy loop does. Every subject runs once per round, rounds
//! alternate subjects (so a machine that slows down mid-run slows every row alike), and
//! the table gives the median of the rounds with the fastest and slowest, the throughput,
//! and the speed relative to `nc` (above 1.00× is faster than `nc`).
//!
//! Everything runs in a fresh network namespace where the system allows it, so a
//! submission's hard-coded port meets nothing else on the machine.

mod start;
mod tools;
mod transfer;

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

pub(crate) use start::{measure as measure_starts, table as start_table};
pub(crate) use tools::Subject;
pub(crate) use transfer::Timing;

use crate::settings::RunSettings;
use crate::world::real::isolation;
use crate::world::real::ports;
use crate::{Error, Result};

/// The message sizes of a full bench and of `--quick` (which only proves the bench works).
pub(crate) const FULL_SIZES: [u64; 2] = [20_000, 100_000_000];
pub(crate) const QUICK_SIZES: [u64; 2] = [20_000, 1_000_000];

/// What to run.
#[derive(Debug, Clone)]
pub(crate) struct Bench {
    pub(crate) subjects: Vec<Subject>,
    pub(crate) sizes: Vec<u64>,
    pub(crate) rounds: usize,
    /// The run's settings: whether each transfer gets a network namespace of its own, and
    /// how the overhead's scenario is graded.
    pub(crate) settings: RunSettings,
}

/// One row of the table: a subject on one size.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) subject: String,
    pub(crate) size: u64,
    /// One per round, or why the subject could not move the message.
    pub(crate) timings: std::result::Result<Vec<Timing>, String>,
}

/// Runs the bench, telling `progress` what it does, and returns one row per subject and
/// size, sizes in order, subjects in the order given.
pub(crate) fn run(bench: &Bench, progress: &mut dyn FnMut(&str)) -> Result<Vec<Row>> {
    let folder = crate::temporary::folder("harness-bench-")
        .map_err(Error::io("cannot make a temporary folder"))?;
    let mut rows = Vec::new();
    for &size in &bench.sizes {
        let message = message_of(size);
        let file = folder.path().join(format!("message-{size}.bin"));
        std::fs::write(&file, &message)
            .map_err(Error::io(format!("cannot write {}", file.display())))?;
        let mut size_rows: Vec<Row> = bench
            .subjects
            .iter()
            .map(|subject| Row {
                subject: subject.name.clone(),
                size,
                timings: Ok(Vec::new()),
            })
            .collect();
        for round in 1..=bench.rounds {
            progress(&format!(
                "{}: round {round} of {}",
                bytes(size),
                bench.rounds
            ));
            for (subject, row) in bench.subjects.iter().zip(&mut size_rows) {
                let Ok(timings) = &mut row.timings else {
                    continue;
                };
                match in_private_network(subject, &file, &message, &bench.settings)? {
                    Ok(timing) => timings.push(timing),
                    Err(reason) => row.timings = Err(reason),
                }
            }
        }
        rows.extend(size_rows);
    }
    Ok(rows)
}

/// One transfer, on a thread in a fresh network namespace when `settings` give each
/// scenario one.
fn in_private_network(
    subject: &Subject,
    file: &Path,
    message: &[u8],
    settings: &RunSettings,
) -> Result<std::result::Result<Timing, String>> {
    let private = settings.namespace_per_scenario();
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                if private {
                    isolation::enter_private_network()
                        .map_err(Error::io("cannot give the bench a network namespace"))?;
                }
                let port = match subject.fixed_port {
                    Some(port) => port,
                    None => ports::fresh_port().map_err(Error::io("no free port"))?,
                };
                let (server, client) = subject.launches(port);
                Ok(transfer::measure(&server, &client, port, file, message))
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The scenario whose program does least: a client started with nothing listening, which
/// exits at once. Grading it is almost all the harness's own work.
pub(crate) const OVERHEAD_SCENARIO: &str = "message/13-client-without-server";

/// The harness's own cost per scenario, once per round: the wall time of grading
/// [`OVERHEAD_SCENARIO`] (network namespace, sandbox, cgroup, reaping, the outcome) less
/// the client's own life, from its start to its exit; graded with `settings`.
pub(crate) fn harness_overhead(
    suite: &crate::scenario::Suite,
    reference: &crate::target::Target,
    rounds: usize,
    settings: &RunSettings,
) -> Result<Vec<Duration>> {
    let selection = crate::scenario::Selection::new(Vec::new(), &[OVERHEAD_SCENARIO.into()])?;
    let mut overheads = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let started = std::time::Instant::now();
        let grading = crate::grading::grade_with_replay(
            suite,
            &selection,
            reference,
            round as u64,
            &crate::grading::Mode::Real,
            settings,
            crate::repeat::Repeat::ONCE,
            1,
            "harness",
            &mut crate::events::Discard,
        )?;
        let wall = started.elapsed();
        let outcome = grading
            .outcomes
            .first()
            .ok_or_else(|| Error::Usage(format!("the kit has no scenario {OVERHEAD_SCENARIO}")))?;
        if outcome.status != crate::outcome::Status::Pass {
            return Err(Error::Build(format!(
                "{OVERHEAD_SCENARIO} did not pass against the reference ({:?}): no overhead to measure",
                outcome.status
            )));
        }
        let client_life = outcome
            .programs
            .iter()
            .filter_map(|program| program.exit.as_ref())
            .map(|exit| exit.after)
            .sum::<Duration>();
        overheads.push(wall.saturating_sub(client_life));
    }
    Ok(overheads)
}

/// The overhead's line under the table, with its ratio to the plain start of a program
/// and to bubblewrap's, where `starts` has them.
pub(crate) fn overhead_line(overheads: &[Duration], starts: &[start::StartRow]) -> String {
    let ratios: Vec<String> = [
        ("a plain start", "fork and exec"),
        ("bubblewrap's", "bubblewrap"),
    ]
    .into_iter()
    .filter_map(|(said, row)| {
        let start = starts
            .iter()
            .find(|start| start.name.starts_with(row))?
            .median()?;
        (!start.is_zero()).then(|| {
            format!(
                "{:.1}× {said}",
                median(overheads).as_secs_f64() / start.as_secs_f64()
            )
        })
    })
    .collect();
    let ratios = if ratios.is_empty() {
        String::new()
    } else {
        format!(" = {}", ratios.join(", "))
    };
    format!(
        "harness overhead per scenario ({OVERHEAD_SCENARIO} against the reference, {} rounds: \
         wall time less the client's own life): {}{ratios}\n",
        overheads.len(),
        spread(overheads)
    )
}

/// `size` bytes of every value 0-255, in an order no compressor or coincidence helps: the
/// scenarios' own generated binary payload.
fn message_of(size: u64) -> Vec<u8> {
    crate::payload::Payload::Generated {
        kind: crate::payload::GeneratedKind::Binary,
        len: size,
        seed: 1,
    }
    .bytes()
}

/// The table, with the speed of each row relative to `nc` where `nc` ran.
pub(crate) fn table(rows: &[Row], rounds: usize) -> String {
    let mut text = format!(
        "message transfer, whole processes over loopback: median of {rounds} rounds (fastest–slowest)\n\n"
    );
    let header = [
        "size",
        "program",
        "with start-up",
        "transfer only",
        "throughput",
        "speed vs nc",
    ];
    let mut lines = vec![header.map(String::from).to_vec()];
    for row in rows {
        // A submission's folder name and what its program printed, escaped.
        let subject = crate::escape::escaped(&row.subject).into_owned();
        let mut line = vec![bytes(row.size), subject];
        match &row.timings {
            Ok(timings) if !timings.is_empty() => {
                let with_startup: Vec<Duration> = timings.iter().map(|t| t.with_startup).collect();
                let transfer: Vec<Duration> = timings.iter().map(|t| t.transfer_only).collect();
                line.push(spread(&with_startup));
                line.push(spread(&transfer));
                let seconds = median(&with_startup).as_secs_f64();
                line.push(format!("{:.1} MB/s", row.size as f64 / seconds / 1e6));
                line.push(versus_nc(rows, row, median(&with_startup)));
            }
            Ok(_) => line.push("no round ran".into()),
            Err(reason) => line.push(format!("failed: {}", crate::escape::escaped(reason))),
        }
        lines.push(line);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            lines
                .iter()
                .filter(|line| line.len() == header.len())
                .map(|line| line[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for line in lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(text, "{}", cells.join("  ").trim_end());
    }
    text
}

fn versus_nc(rows: &[Row], row: &Row, own: Duration) -> String {
    let nc = rows.iter().find(|other| {
        other.size == row.size && other.subject.starts_with("nc") && other.timings.is_ok()
    });
    match nc.and_then(|nc| nc.timings.as_ref().ok()) {
        Some(timings) if !timings.is_empty() => {
            let nc_median = median(&timings.iter().map(|t| t.with_startup).collect::<Vec<_>>());
            format!("{:.2}×", nc_median.as_secs_f64() / own.as_secs_f64())
        }
        _ => "-".into(),
    }
}

fn median(durations: &[Duration]) -> Duration {
    let mut sorted = durations.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn spread(durations: &[Duration]) -> String {
    let fastest = durations.iter().min().copied().unwrap_or_default();
    let slowest = durations.iter().max().copied().unwrap_or_default();
    format!(
        "{} ({}–{})",
        millis(median(durations)),
        millis(fastest),
        millis(slowest)
    )
}

fn millis(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        format!("{} µs", duration.as_micros())
    } else if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

fn bytes(size: u64) -> String {
    match size {
        size if size >= 1_000_000 => format!("{} MB", size / 1_000_000),
        size if size >= 1_000 => format!("{} KB", size / 1_000),
        size => format!("{size} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_has_every_byte_value() {
        let message = message_of(4096);
        let values: std::collections::BTreeSet<u8> = message.iter().copied().collect();
        assert_eq!(values.len(), 256);
    }

    #[test]
    fn the_table_compares_with_nc_on_the_same_size() {
        let timing = |ms| Timing {
            with_startup: Duration::from_millis(ms),
            transfer_only: Duration::from_millis(ms / 2),
        };
        let rows = vec![
            Row {
                subject: "reference".into(),
                size: 20_000,
                timings: Ok(vec![timing(4), timing(2), timing(3)]),
            },
            Row {
                subject: "nc (OpenBSD)".into(),
                size: 20_000,
                timings: Ok(vec![timing(6), timing(6), timing(6)]),
            },
            Row {
                subject: "student".into(),
                size: 20_000,
                timings: Err("the server did not listen".into()),
            },
        ];
        let text = table(&rows, 3);
        let reference = text
            .lines()
            .find(|line| line.contains("reference"))
            .unwrap();
        assert!(reference.contains("3.00 ms (2.00 ms–4.00 ms)"), "{text}");
        assert!(text.contains("2.00×"), "{text}");
        assert!(text.contains("1.00×"), "{text}");
        assert!(text.contains("failed: the server did not listen"), "{text}");
    }
}
