//! The pair of facts that makes the harness trustworthy: the reference and the good
//! submission pass every scenario, and each buggy (or hostile) sample submission fails
//! exactly the scenarios its `expected.toml` declares.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use harness::engine::Status;
use harness::grading::{Grading, Mode, grade};
use harness::report::{Style, TerminalReport};
use harness::scenario::Selection;
use harness::target::Target;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    fails: Vec<String>,
    /// Extra scenarios (optional parts of the SPEC) it does not earn: not failures, but
    /// declared all the same, so that an extra scenario is proven to pass and to miss.
    #[serde(default)]
    misses: Vec<String>,
    #[serde(default)]
    only: Vec<String>,
}

/// The extra scenarios the reference leaves out on purpose: the proxy's cache (SPEC
/// `proxy/4`; `reference/src/web_proxy/mod.rs` explains why, and how it would be done).
/// The good submission earns them.
const REFERENCE_MISSES: &[&str] = &["web-proxy/09-cache-serves-a-second-get"];

fn missed_ids(grading: &Grading) -> BTreeSet<String> {
    grading
        .outcomes
        .iter()
        .filter(|outcome| outcome.status == Status::Missed)
        .map(|outcome| outcome.id.clone())
        .collect()
}

fn details(grading: &Grading, ids: &BTreeSet<String>) -> String {
    let report = TerminalReport {
        style: Style {
            color: false,
            timings: true,
        },
        replay_command: "harness".into(),
        simulated: false,
    };
    grading
        .outcomes
        .iter()
        .filter(|outcome| ids.contains(&outcome.id))
        .map(|outcome| report.failure_details(outcome))
        .collect()
}

fn failed_ids(grading: &Grading) -> BTreeSet<String> {
    grading
        .outcomes
        .iter()
        .filter(|outcome| outcome.status.is_failure())
        .map(|outcome| outcome.id.clone())
        .collect()
}

/// Whether scenario `id` runs only in the simulated world (real grading skips it).
fn simulated_only(suite: &harness::scenario::Suite, id: &str) -> bool {
    suite
        .scenarios
        .iter()
        .any(|scenario| scenario.id == id && scenario.simulated_only)
}

/// Held by the tests that run `hostile-hang`: the one that looks for survivors in `/proc`
/// must not see the processes of the other, still running.
static HOSTILE_HANG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn check_fixture(folder: &str) {
    let _exclusive = (folder == "hostile-hang").then(|| {
        HOSTILE_HANG
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    });
    let suite = common::suite();
    let dir = common::kit_root().join("fixtures/submissions").join(folder);
    let expected: Expected =
        toml::from_str(&std::fs::read_to_string(dir.join("expected.toml")).expect("expected.toml"))
            .expect("valid expected.toml");
    let known: BTreeSet<&str> = suite
        .scenarios
        .iter()
        .map(|scenario| scenario.id.as_str())
        .collect();
    for id in expected.fails.iter().chain(&expected.misses) {
        assert!(
            known.contains(id.as_str()),
            "{folder}/expected.toml names an unknown scenario {id}"
        );
    }
    let target =
        Target::from_folder(&dir, &suite.catalogue).expect("the fixture is a valid target");
    let selection = Selection::new(Vec::new(), &expected.only).expect("valid globs");
    let grading = grade(
        &suite,
        &selection,
        &target,
        common::SEED,
        &Mode::Real,
        &mut harness::events::Discard,
    )
    .expect("grading runs");
    assert!(
        grading
            .outcomes
            .iter()
            .all(|outcome| outcome.status != Status::Skipped || simulated_only(&suite, &outcome.id)),
        "{folder}: nothing may be skipped (but the scenarios only the simulated world runs)"
    );
    let failed = failed_ids(&grading);
    let declared: BTreeSet<String> = expected.fails.into_iter().collect();
    let unexpected: BTreeSet<String> = failed.difference(&declared).cloned().collect();
    let missed: BTreeSet<String> = declared.difference(&failed).cloned().collect();
    assert!(
        unexpected.is_empty() && missed.is_empty(),
        "{folder}: failed but not declared: {unexpected:?}; declared but passed: {missed:?}\n{}",
        details(&grading, &unexpected)
    );
    let declared_misses: BTreeSet<String> = expected.misses.into_iter().collect();
    assert_eq!(
        missed_ids(&grading),
        declared_misses,
        "{folder}: the extra scenarios it misses (`misses` in expected.toml)"
    );
    if folder.starts_with("hostile-") {
        // Daemons, forked children, programs deaf to SIGTERM: none may outlive the run.
        assert_nothing_left_from(&dir.display().to_string());
    }
}

/// No process (but zombies) whose command line mentions `marker` runs any more. SIGKILL is
/// delivered at once but a busy machine may take a moment to schedule the dying processes:
/// wait (bounded) for them to be gone.
fn assert_nothing_left_from(marker: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut survivors = running_from(marker);
    while !survivors.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        survivors = running_from(marker);
    }
    assert!(
        survivors.is_empty(),
        "processes left behind: {} of them, first {:?}",
        survivors.len(),
        survivors.first()
    );
}

macro_rules! fixture_tests {
    ($($test:ident => $folder:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                check_fixture($folder);
            }
        )*

        #[test]
        fn every_fixture_folder_is_checked() {
            let tested: BTreeSet<&str> = [$($folder),*].into_iter().collect();
            let folders: BTreeSet<String> = std::fs::read_dir(common::kit_root().join("fixtures/submissions"))
                .unwrap()
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            let folders: BTreeSet<&str> = folders.iter().map(String::as_str).collect();
            assert_eq!(folders, tested, "add a line to fixture_tests! for each fixture folder");
        }
    };
}

fixture_tests! {
    good_submission_passes_everything => "good",
    hard_coded_ports_without_reuse_pass_everything => "hard-coded-port",
    sample_fails_binary_and_stdout_noise => "sample",
    single_recv_truncates_messages => "single-recv",
    debug_line_on_stdout_is_caught => "debug-stdout",
    decoding_and_print_add_newlines_and_break_binary => "decode-print",
    server_that_exits_after_one_client_is_caught => "exits-after-one",
    threaded_server_interleaving_clients_is_caught => "threaded-interleave",
    bind_error_on_stdout_with_exit_zero_is_caught => "bind-error-stdout",
    server_crashing_on_client_reset_is_caught => "crash-on-reset",
    accumulating_the_message_grows_memory => "accumulate",
    client_hiding_connect_errors_is_caught => "client-no-error",
    never_listening_server_fails_in_bounded_time => "hostile-never-listens",
    flooding_server_is_stopped_at_the_cap => "hostile-flood",
    hanging_programs_are_killed_with_their_children => "hostile-hang",
    a_setsid_daemon_is_gone_with_its_server => "hostile-daemon",
    a_fork_bomb_is_capped_and_every_child_killed => "hostile-fork-bomb",
    a_program_writing_outside_its_folder_writes_nothing_outside => "hostile-writer",
    a_program_printing_its_environment_is_caught => "hostile-env",
    a_server_dying_of_sigsegv_is_caught => "hostile-segfault",
    a_server_closing_its_stdout_is_caught => "hostile-closes-stdout",
    a_server_listening_on_another_port_is_caught => "hostile-wrong-port",
    str_upper_changes_non_ascii_and_cuts_long_lines => "upper-str-upper",
    upper_server_serving_one_client_is_caught => "upper-tcp-one-client",
    upper_server_single_recv_is_caught => "upper-tcp-recv-1024",
    udp_client_without_timeout_is_stopped => "upper-udp-no-timeout",
    udp_server_small_buffer_cuts_datagrams => "upper-udp-recv-1024",
    udp_client_sending_the_newline_is_caught => "upper-udp-sends-newline",
    pinger_crediting_late_replies_is_caught => "ping-no-seq-check",
    pinger_dividing_by_zero_when_all_lost_is_caught => "ping-divide-by-zero",
    ping_server_ignoring_loss_is_caught => "ping-server-always-drops",
    web_skeleton_fails_almost_everything => "web-skeleton",
    path_traversal_leaks_are_caught => "web-traversal",
    a_404_without_body_is_caught => "web-no-404-body",
    text_mode_file_reading_breaks_binary_files => "web-whole-file-text",
    proxy_answering_nothing_when_the_origin_is_down_is_caught => "proxy-no-502",
    proxy_relaying_one_recv_cuts_responses => "proxy-recv-once",
    single_threaded_proxy_is_caught_by_a_slow_origin => "proxy-single-thread",
    proxy_skeleton_fails_slices_concurrency_and_502 => "proxy-skeleton",
    smtp_skeleton_fails_crlf_errors_and_tls => "smtp-skeleton",
    smtp_client_without_dot_stuffing_loses_dots => "smtp-client-no-dot-stuffing",
    smtp_client_going_on_after_550_is_caught => "smtp-client-ignores-errors",
    smtp_client_sending_the_password_in_clear_is_caught => "smtp-client-auth-in-clear",
    smtp_client_reading_one_recv_per_reply_is_caught => "smtp-client-recv-once",
    smtp_server_printing_stuffed_dots_is_caught => "smtpd-no-unstuffing",
    smtp_server_taking_a_recv_for_a_command_is_caught => "smtpd-recv-per-command",
    smtp_server_without_503_is_caught => "smtpd-no-sequence-check",
    smtp_server_debugging_on_stdout_is_caught => "smtpd-stdout-debug",
    single_threaded_smtp_server_misses_the_extra => "smtpd-single-thread",
    client_reading_stdin_as_text_breaks_binary => "message-client-text-stdin",
    smtp_client_logging_in_before_refusing_is_caught => "smtp-client-login-before-tls-check",
    ping_client_printing_no_rtt_is_caught => "ping-client-no-rtt",
    ping_server_taking_loss_as_a_switch_is_caught => "ping-server-loss-switch",
    upper_client_reading_one_recv_is_caught => "upper-tcp-client-recv-once",
    a_404_with_a_blank_line_for_body_is_caught => "web-404-blank-body",
    web_server_answering_the_first_recv_is_caught => "web-first-recv-default-page",
    upper_client_printing_an_extra_line_is_caught => "upper-tcp-client-extra-line",
    smtp_server_printing_a_late_line_is_caught => "smtpd-late-status-line",
    client_with_unchecked_send_is_caught_by_short_calls => "unchecked-send",
}

#[test]
fn reference_passes_every_scenario() {
    let suite = common::suite();
    let target = Target::reference(&common::reference_bin_dir(), &suite.catalogue);
    let grading = grade(
        &suite,
        &Selection::default(),
        &target,
        common::SEED,
        &Mode::Real,
        &mut harness::events::Discard,
    )
    .expect("grading runs");
    let failed = failed_ids(&grading);
    assert!(
        failed.is_empty(),
        "the reference fails {failed:?}\n{}",
        details(&grading, &failed)
    );
    for outcome in &grading.outcomes {
        let expected = if simulated_only(&suite, &outcome.id) {
            Status::Skipped
        } else if REFERENCE_MISSES.contains(&outcome.id.as_str()) {
            Status::Missed
        } else {
            Status::Pass
        };
        assert_eq!(outcome.status, expected, "{}", outcome.id);
    }
    assert_eq!(
        grading.outcomes.len(),
        suite.scenarios.len(),
        "every scenario has a reference program"
    );
}

#[test]
fn hostile_programs_leave_no_process_behind() {
    let _exclusive = HOSTILE_HANG
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let suite = common::suite();
    let dir = common::kit_root().join("fixtures/submissions/hostile-hang");
    let target = Target::from_folder(&dir, &suite.catalogue).unwrap();
    let selection = Selection::new(Vec::new(), &["message/02-client-sends-stdin".into()]).unwrap();
    let started = Instant::now();
    let grading = grade(
        &suite,
        &selection,
        &target,
        common::SEED,
        &Mode::Real,
        &mut harness::events::Discard,
    )
    .unwrap();
    assert_eq!(grading.outcomes[0].status, Status::Fail);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "a hanging program fails in bounded time"
    );
    // The server forked and both ignore SIGTERM: nothing running from that folder may remain.
    assert_nothing_left_from(&dir.display().to_string());
}

/// The processes (not zombies) whose command line mentions `marker`.
fn running_from(marker: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| {
            let pid = entry.ok()?.file_name().to_str()?.parse::<u32>().ok()?;
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let zombie = stat.rsplit(')').next()?.trim_start().starts_with('Z');
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            (cmdline.contains(marker) && !zombie).then(|| format!("{pid}: {cmdline}"))
        })
        .collect()
}
