//! A crash's cause is in the report whatever the load. Alone, a crashed program's cause was
//! always there; at eight scenarios at once it used to be lost to a race between the
//! program's exit and the end of the scenario (`still running at the end: killed by the
//! harness`, no cause line, the traceback in its stderr). Here the hostile and crash
//! fixtures are graded 20 times each, eight at once (`--repeat 20 --jobs 8`), and every
//! repetition must fail with the cause it has alone.
//!
//! Only crashes that do not depend on timing are here: a skeleton's single `recv` raises
//! an IndexError when it gets `G` alone, but on a loaded machine it may get `GET htt`, go
//! on, and close the connection without crashing (web-proxy/04, web-server/06): a
//! different program run, rightly reported without a crash.

use std::path::Path;

use crate::common::{harness, kit_root};

/// A fixture, the scenarios where a program of it crashes (or is stopped), and words
/// every repetition's cause must hold.
struct Crash {
    fixture: &'static str,
    scenarios: &'static [&'static str],
    cause: &'static str,
}

const CRASHES: &[Crash] = &[
    Crash {
        fixture: "message-hostile-segfault",
        scenarios: &["message/01-text-20k"],
        cause: "server was killed by signal 11 (SIGSEGV)",
    },
    Crash {
        fixture: "message-hostile-closes-stdout",
        scenarios: &["message/01-text-20k"],
        cause: "server exited with status 1",
    },
    Crash {
        fixture: "message-hostile-flood",
        scenarios: &["message/01-text-20k"],
        cause: "server was stopped by the harness: printed more than 64 MiB on stdout",
    },
    // Alone, the kernel stops its child at the cap; at eight at once the child may still
    // be thrashing near the cap when the step gives up: both causes name the memory.
    Crash {
        fixture: "message-hostile-memory-hoard",
        scenarios: &["message/01-text-20k"],
        cause: "1 GiB memory",
    },
    Crash {
        fixture: "message-crash-on-reset",
        scenarios: &["message/11-client-reset-mid-message"],
        cause: "ConnectionResetError",
    },
    Crash {
        fixture: "message-decode-print",
        scenarios: &["message/06-binary"],
        cause: "UnicodeDecodeError",
    },
    Crash {
        fixture: "upper-tcp-str-upper",
        scenarios: &["upper-tcp/07-serves-after-a-reset"],
        cause: "ConnectionResetError",
    },
    Crash {
        fixture: "web-server-skeleton",
        scenarios: &["web-server/03-binary-image", "web-server/04-ten-megabytes"],
        cause: "UnicodeDecodeError",
    },
    // Every ping is dropped, whatever the timing: the client's `sum(rtts) / len(rtts)`.
    Crash {
        fixture: "udp-pinger-divide-by-zero",
        scenarios: &["udp-pinger/03-every-ping-lost"],
        cause: "ZeroDivisionError",
    },
    // Its stdin is the same binary bytes each time, read as text however it arrives. The
    // sandbox's Python (LANG=C.UTF-8) reads stdin with `surrogateescape`: the first byte
    // that is not UTF-8 becomes a lone surrogate, which `text.encode()` refuses.
    Crash {
        fixture: "message-client-text-stdin",
        scenarios: &["message/17-client-sends-binary-stdin"],
        cause: "UnicodeEncodeError: 'utf-8' codec can't encode character",
    },
    Crash {
        fixture: "echo-plus-text-download",
        scenarios: &["echo-plus/04-download-binary"],
        cause: "client exited with status 1",
    },
];

const REPETITIONS: usize = 20;

/// Grades `crash` 20 times, eight at once, and returns what each repetition lacked.
fn missing_causes(crash: &Crash, report: &Path) -> (usize, Vec<String>) {
    let output = harness()
        .arg("--target")
        .arg(kit_root().join("fixtures/submissions").join(crash.fixture))
        .args([
            "--seed",
            "1",
            "--repeat",
            &REPETITIONS.to_string(),
            "--jobs",
            "8",
        ])
        .arg("--json")
        .arg(report)
        .args(crash.scenarios)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}: {}\n{}",
        crash.fixture,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    let scenarios = document["submissions"][0]["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), crash.scenarios.len(), "{}", crash.fixture);
    let mut runs = 0;
    let mut missing = Vec::new();
    for scenario in scenarios {
        let repetitions = scenario["repetitions"]["runs"].as_array().unwrap();
        assert_eq!(repetitions.len(), REPETITIONS, "{}", scenario["id"]);
        for run in repetitions {
            runs += 1;
            let cause = run["failure"]["cause"].as_str().unwrap_or_default();
            if run["status"] != "fail" || !cause.contains(crash.cause) {
                missing.push(format!(
                    "{} {} seed {}: {} with the cause {cause:?}",
                    crash.fixture, scenario["id"], run["seed"], run["status"]
                ));
            }
        }
    }
    (runs, missing)
}

#[test]
fn every_repetition_of_a_crash_at_eight_at_once_names_its_cause() {
    let folder = tempfile::tempdir().unwrap();
    let mut runs = 0;
    let mut missing = Vec::new();
    for (index, crash) in CRASHES.iter().enumerate() {
        let (count, lacking) = missing_causes(crash, &folder.path().join(format!("{index}.json")));
        runs += count;
        missing.extend(lacking);
    }
    let scenarios: usize = CRASHES.iter().map(|crash| crash.scenarios.len()).sum();
    assert_eq!(runs, scenarios * REPETITIONS);
    assert!(
        missing.is_empty(),
        "{} of {runs} repetitions lack their cause:\n{}",
        missing.len(),
        missing.join("\n")
    );
}
