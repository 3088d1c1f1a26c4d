//! Judging a ping client's report (SPEC ping/1, ping/2, ping/4) against what the scripted
//! ping server did.
//!
//! The harness's ping server knows, for every ping, whether it answered and how late. So
//! it knows what a correct client prints: one line per ping, in order, either a reply
//! naming that ping's sequence number with a round-trip time consistent with the server's
//! delay, or `Request timed out` when there was no answer within 1 s; then a summary with
//! the loss percentage and, if any reply came, min/avg/max RTT.
//!
//! Wording is free, as in the handout: any case, any label. The RTT is a number on the
//! line other than the sequence number, in milliseconds unless a unit follows it (`ms`,
//! or `s`/`sec`/`seconds` for seconds); an IP address is not a number. It must be at least
//! the server's delay (the answer left that long after the ping arrived, so no client can
//! measure less) and below the timeout (a later answer is a timed-out ping). The delay is
//! the one the answer actually had: on a loaded machine the harness may send an answer
//! later than its script says, and one it sent near or past the timeout may be either a
//! reply or a timeout on the client's line, neither being the client's fault ([`Fate::Late`];
//! where every answer meant to come in time came that late, nothing can be judged). The scenarios
//! delay some answers by hundreds of milliseconds, so that a line without an RTT cannot
//! pass on a number that happens to be there (the sequence number, a count, a byte size:
//! all below the delay) or on the echoed ping's time field (far above the timeout).
//!
//! A line is part of the summary when it speaks of loss, statistics, packets transmitted,
//! or min/avg/max; every other non-empty line is a ping's line (one header line before them
//! is allowed, no more: stdout is data).

use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

use super::server::PingRecord;

/// How long a client waits for each reply (SPEC ping/1).
pub(super) const PING_TIMEOUT: Duration = Duration::from_secs(1);
/// How much longer than the timeout a reported RTT may be: the client reads its clock a
/// little after its `recvfrom` returned.
const RTT_SLACK: Duration = Duration::from_millis(50);
/// How near the timeout an answer the script meant to come in time must have left for a
/// correct client's line to be allowed either way: the harness reads the time just before
/// it sends, and a thread put aside after that reading sends later than it says.
const LATE_MARGIN: Duration = Duration::from_millis(150);
/// An answer that left within this of its ping is described as a plain reply (the
/// harness answered at once; what it took to send is no RTT a client must show).
const AT_ONCE: Duration = Duration::from_millis(5);
/// How much shorter than the server's delay: a client that rounds down to whole
/// milliseconds (the delay is measured by the harness, inside the client's RTT).
const RTT_EARLY: Duration = Duration::from_millis(1);

static SUMMARY_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)loss|statistic|transmitted|\bmin|\bavg|average|\bmax").expect("valid regex")
});
static TIMED_OUT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)time[ds]?\s*-?\s*out").expect("valid regex"));
/// A line that says a ping got no reply in other words (`No reply`, `lost`), or that what
/// came was not its reply (`not a ping`, `ignored`, `unexpected`): either way, no reply
/// taken.
static NO_REPLY_TAKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\bno\s+(?:reply|replies|response|answer|pong)\b|\blost\b|\bnot\s+(?:a|an|the|my|its|our)?\s*(?:ping|reply|response|pong|echo|match)|\bignor(?:e|ed|es|ing)\b|\bunexpected\b|\bmismatch|\bdiscard(?:s|ed|ing)?\b|\binvalid\b|\bstray\b",
    )
    .expect("valid regex")
});
/// A run of digits and dots (a number, or an IP address), and the unit after it, if any.
static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)([0-9][0-9.]*)(?:\s*(ms|msecs?|milliseconds?|us|µs|microseconds?|s|secs?|seconds?)\b)?",
    )
        .expect("valid regex")
});
/// What a number is, once its unit is known.
static DECIMAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[0-9]+(?:\.[0-9]+)?$").expect("valid regex"));
static PERCENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d+(?:\.\d+)?)\s*%").expect("valid regex"));

/// What ping `seq` should produce.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fate {
    /// A reply whose RTT is about this long.
    Reply(Duration),
    /// `Request timed out`.
    TimedOut,
    /// Either: the script answered it in time, but a loaded machine made the harness send
    /// the answer this long after the ping, near or past the timeout. A correct client may
    /// have timed out, or (itself late to start waiting) taken the reply; neither is its
    /// fault.
    Late(Duration),
}

/// What each ping should produce; `pings: None` is a server that answers every ping at
/// once (the submission's own, without `--loss`).
fn fates(pings: Option<&[PingRecord]>, count: u64) -> Vec<Fate> {
    let Some(pings) = pings else {
        return vec![Fate::Reply(Duration::ZERO); count as usize];
    };
    (1..=count)
        .map(|seq| {
            let record = pings.iter().find(|record| record.seq == seq);
            let scripted = record.and_then(|record| record.answered_after);
            match (scripted, record.and_then(PingRecord::answer_delay)) {
                (Some(scripted), Some(left)) if scripted < PING_TIMEOUT => {
                    if left + LATE_MARGIN < PING_TIMEOUT {
                        Fate::Reply(left)
                    } else {
                        Fate::Late(left)
                    }
                }
                // Dropped, answered too late on purpose, or never received at all.
                _ => Fate::TimedOut,
            }
        })
        .collect()
}

/// What a correct report looks like, in a sentence.
fn describe(fates: &[Fate]) -> String {
    let lines: Vec<String> = fates
        .iter()
        .enumerate()
        .map(|(index, fate)| match fate {
            Fate::Reply(delay) if *delay < AT_ONCE => format!("{} reply", index + 1),
            Fate::Reply(delay) => format!(
                "{} reply with an RTT of {} to {} ms",
                index + 1,
                delay.as_millis(),
                (PING_TIMEOUT + RTT_SLACK).as_millis()
            ),
            Fate::TimedOut => format!("{} timed out", index + 1),
            Fate::Late(left) => format!(
                "{} reply or timed out (the harness, on a busy machine, sent its answer only after {} ms)",
                index + 1,
                left.as_millis()
            ),
        })
        .collect();
    // A late answer counts as lost or not as the client's line says.
    let late = fates
        .iter()
        .filter(|fate| matches!(fate, Fate::Late(_)))
        .count();
    let loss = loss_percent(fates);
    let loss = if late == 0 {
        format_percent(loss)
    } else {
        let at_most = loss + late as f64 * 100.0 / fates.len() as f64;
        format!("{} to {}", format_percent(loss), format_percent(at_most))
    };
    format!(
        "one line per ping ({}), then a summary with {loss}% loss",
        lines.join(", ")
    )
}

fn loss_percent(fates: &[Fate]) -> f64 {
    let lost = fates.iter().filter(|fate| **fate == Fate::TimedOut).count();
    lost as f64 * 100.0 / fates.len() as f64
}

/// Why the client cannot be judged, if it cannot: every answer the script meant to come in
/// time, the harness sent so late that each might have been a timeout (the machine is far
/// too loaded). A client that never reads a reply would then pass: the harness's trouble.
pub(super) fn too_late_to_judge(pings: &[PingRecord], count: u64) -> Option<String> {
    let fates = fates(Some(pings), count);
    let late = fates
        .iter()
        .filter(|fate| matches!(fate, Fate::Late(_)))
        .count();
    let in_time = fates
        .iter()
        .filter(|fate| matches!(fate, Fate::Reply(_)))
        .count();
    (late > 0 && in_time == 0).then(|| {
        format!(
            "the harness's ping server sent every answer it meant to send within the client's 1 s timeout only near or past it ({late} of them): the machine is too loaded to judge the client; grade it again on a quieter one"
        )
    })
}

fn format_percent(value: f64) -> String {
    let text = format!("{value:.1}");
    text.trim_end_matches(".0").to_owned()
}

/// Checks `output` (the client's whole stdout) against what the scripted server did
/// (`pings`; `None`: a server that answered every ping at once). `Err((expected, seen))`
/// says what is wrong.
pub(super) fn judge(
    output: &[u8],
    pings: Option<&[PingRecord]>,
    count: u64,
) -> Result<(), (String, String)> {
    let fates = fates(pings, count);
    let expected = describe(&fates);
    // What the client missed comes before how it worded it.
    if pings.is_some_and(<[PingRecord]>::is_empty) {
        return Err((
            expected,
            format!(
                "the server received no ping: none of the client's datagrams read `Ping <seq> <time>`, so the server ignored them and no reply came back (stdout: {})",
                crate::judge::diff::excerpt(output)
            ),
        ));
    }
    let text = String::from_utf8_lossy(output);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let (summary, ping_lines): (Vec<&str>, Vec<&str>) =
        lines.iter().partition(|line| SUMMARY_LINE.is_match(line));
    // That it took no reply at all comes before how many lines it printed and how it
    // worded them: whatever else is wrong, that is what to fix first.
    let answered = fates
        .iter()
        .filter(|fate| matches!(fate, Fate::Reply(_)))
        .count();
    if answered > 0
        && let Some(lines_say) = took_no_reply(&ping_lines, fates.len())
    {
        return Err((
            expected,
            format!(
                "the server answered {answered} of the {} pings in time, and the client took none of the replies: {lines_say} (does it read the reply on the socket it sent from, and compare it with what it sent, uppercased?)",
                fates.len()
            ),
        ));
    }
    if ping_lines.len() < fates.len() {
        return Err((
            expected,
            format!(
                "{} line(s) for {} pings: {:?}",
                ping_lines.len(),
                fates.len(),
                ping_lines
            ),
        ));
    }
    // stdout is data: one header line (`PING host ...`) is welcome, more is noise.
    if ping_lines.len() > fates.len() + 1 {
        return Err((
            expected,
            format!(
                "{} line(s) for {} pings (and at most one header line): {:?}",
                ping_lines.len(),
                fates.len(),
                ping_lines
            ),
        ));
    }
    let ping_lines = &ping_lines[ping_lines.len() - fates.len()..];
    // A late answer is what the client's line says it was; what is expected follows.
    let fates: Vec<Fate> = ping_lines
        .iter()
        .zip(&fates)
        .map(|(line, fate)| match fate {
            Fate::Late(_) if TIMED_OUT.is_match(line) => Fate::TimedOut,
            Fate::Late(left) => Fate::Reply(*left),
            fate => *fate,
        })
        .collect();
    let expected = describe(&fates);
    for (index, (line, fate)) in ping_lines.iter().zip(&fates).enumerate() {
        let seq = index + 1;
        let problem = match fate {
            Fate::TimedOut if !TIMED_OUT.is_match(line) => Some(
                "the server never answered this ping in time: the line should say it timed out"
                    .to_owned(),
            ),
            // (A late answer was resolved above, by the line.)
            Fate::TimedOut | Fate::Late(_) => None,
            Fate::Reply(_) if TIMED_OUT.is_match(line) => Some(format!(
                "the server answered ping {seq} in time, but the line says it timed out"
            )),
            Fate::Reply(delay) => reply_problem(line, seq, *delay),
        };
        if let Some(problem) = problem {
            return Err((
                expected,
                format!("line for ping {seq}: `{line}`: {problem}"),
            ));
        }
    }
    let summary_text = summary.join(" / ");
    let loss = loss_percent(&fates);
    let reported = PERCENT
        .captures_iter(&summary_text)
        .filter_map(|captures| captures[1].parse::<f64>().ok())
        .collect::<Vec<f64>>();
    if !reported.iter().any(|value| (value - loss).abs() < 0.6) {
        return Err((
            expected,
            format!(
                "summary: `{summary_text}`: no loss of {}%",
                format_percent(loss)
            ),
        ));
    }
    let any_reply = fates.iter().any(|fate| matches!(fate, Fate::Reply(_)));
    let lower = summary_text.to_lowercase();
    let has_rtt_figures = lower.contains("min")
        && lower.contains("max")
        && (lower.contains("avg") || lower.contains("average") || lower.contains("mean"));
    if any_reply && !has_rtt_figures {
        return Err((
            expected,
            format!("summary: `{summary_text}`: no min/avg/max RTT"),
        ));
    }
    Ok(())
}

/// What a client that has not ended (`output`: its stdout so far; `pings`: what the
/// scripted server received so far, `None` for the submission's own server) has already got
/// wrong, whatever it prints after: pings numbered otherwise than from 1, more pings than
/// `count` (SPEC ping/1), and more lines than one a ping and a header. Nothing is said of
/// lines not yet printed: a program may hold its output in a buffer until it ends.
pub(super) fn wrong_so_far(output: &[u8], pings: Option<&[PingRecord]>, count: u64) -> Vec<String> {
    let mut wrong = Vec::new();
    let pings = pings.unwrap_or_default();
    if let Some(first) = pings.first().filter(|first| first.seq != 1) {
        wrong.push(format!(
            "its first ping was numbered {0} (`Ping {0} <time>`), where pings are numbered from 1",
            first.seq
        ));
    }
    let sent = pings.len();
    if let Some(past) = pings
        .iter()
        .map(|ping| ping.seq)
        .filter(|seq| *seq > count)
        .max()
    {
        wrong.push(format!(
            "it had sent {sent} pings, up to ping {past}, where {count} were asked for"
        ));
    }
    // Whole lines only: the last may still be being written.
    let whole = output
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(&output[..0], |end| &output[..end]);
    let text = String::from_utf8_lossy(whole);
    let ping_lines = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !SUMMARY_LINE.is_match(line))
        .count() as u64;
    if ping_lines > count + 1 {
        wrong.push(format!(
            "it had printed {ping_lines} lines for {count} pings (one a ping, and at most one header line)"
        ));
    }
    wrong
}

/// What the client's lines for its `pings` pings say, when they show it took no reply:
/// every line says its ping timed out, got no reply, or that what came was not its reply
/// (`not a ping`), and at least one says so. A first line that says none of that is a
/// header when the lines after it account for every ping as timed out; otherwise it may
/// be a reply, and the client is judged line by line.
fn took_no_reply(ping_lines: &[&str], pings: usize) -> Option<&'static str> {
    let timed_out = |line: &&str| TIMED_OUT.is_match(line);
    let not_taken = |line: &&str| timed_out(line) || NO_REPLY_TAKEN.is_match(line);
    let (first, rest) = ping_lines.split_first()?;
    if !rest.iter().all(not_taken) {
        return None;
    }
    let header = !not_taken(first);
    if header && rest.iter().filter(|line| timed_out(line)).count() < pings {
        return None;
    }
    let judged = if header { rest } else { ping_lines };
    Some(if judged.iter().all(timed_out) {
        "every line says the ping timed out"
    } else {
        "every line says its ping timed out or got no reply, or that what came was not its reply"
    })
}

/// Why a reply line for ping `seq` (answered after `delay`) is wrong, if it is.
fn reply_problem(line: &str, seq: usize, delay: Duration) -> Option<String> {
    let mut numbers = numbers_on(line);
    // The sequence number names the ping; it is not its RTT (once: `seq=1 rtt=1 ms`).
    let Some(at) = numbers
        .iter()
        .position(|(text, unit)| text == &seq.to_string() && unit.is_none())
    else {
        return Some(format!(
            "it does not name sequence number {seq} (is it another ping's reply, arriving late?)"
        ));
    };
    numbers.remove(at);
    let low = delay.saturating_sub(RTT_EARLY).as_secs_f64();
    // An answer the harness sent late (only a late one is this near the timeout) may be
    // taken by a client itself late to wait, and later still to read its clock.
    let high = if delay + LATE_MARGIN >= PING_TIMEOUT {
        delay + PING_TIMEOUT
    } else {
        PING_TIMEOUT + RTT_SLACK
    }
    .as_secs_f64();
    let rtts: Vec<f64> = numbers
        .iter()
        .filter_map(|(text, unit)| Some(text.parse::<f64>().ok()? * unit.unwrap_or(0.001)))
        .collect();
    if rtts.iter().any(|rtt| (low..=high).contains(rtt)) {
        return None;
    }
    let range = format!(
        "between {} and {} ms (milliseconds unless a unit says `s`)",
        (low * 1000.0).round(),
        (high * 1000.0).round()
    );
    Some(if rtts.is_empty() {
        format!(
            "no RTT on the line: no number but the sequence number (the server answered after {} ms, so the RTT is {range})",
            delay.as_millis()
        )
    } else {
        format!(
            "the server answered after {} ms, but no number on the line is an RTT {range} (a late reply to an earlier ping credited to this one, or an RTT in seconds without its unit?)",
            delay.as_millis()
        )
    })
}

/// The numbers on a line, each with its unit in seconds if one follows it (`ms`: 0.001,
/// `us`: 0.000001, `s`: 1). Runs of digits and dots that are not decimals (IP addresses,
/// `1.2.3`) are not numbers; a full stop after a number is not part of it.
fn numbers_on(line: &str) -> Vec<(String, Option<f64>)> {
    NUMBER
        .captures_iter(line)
        .filter_map(|captures| {
            let text = captures[1].trim_end_matches('.');
            if !DECIMAL.is_match(text) {
                return None;
            }
            let unit = captures.get(2).map(|unit| {
                let unit = unit.as_str().to_lowercase();
                if unit.starts_with("ms") || unit.starts_with("mil") {
                    0.001
                } else if unit.starts_with('u') || unit.starts_with('µ') || unit.starts_with("mic")
                {
                    0.000_001
                } else {
                    1.0
                }
            });
            Some((text.to_owned(), unit))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ping `seq`, answered as scripted (`None`: dropped), its answer sent on time.
    fn on_time(seq: u64, answered_after: Option<Duration>) -> PingRecord {
        PingRecord {
            seq,
            answered_after,
            arrived: tokio::time::Instant::now(),
            left_after: answered_after,
        }
    }

    fn script(count: u64) -> Vec<PingRecord> {
        (1..=count)
            .map(|seq| {
                on_time(
                    seq,
                    match seq {
                        3 | 7 => None,
                        8 => Some(Duration::from_millis(1300)),
                        9 => Some(Duration::from_millis(400)),
                        _ => Some(Duration::ZERO),
                    },
                )
            })
            .collect()
    }

    const GOOD: &str = "\
Reply from 127.0.0.1: seq=1 rtt=0.210 ms
Reply from 127.0.0.1: seq=2 rtt=0.190 ms
Request timed out (seq=3)
Reply from 127.0.0.1: seq=4 rtt=0.201 ms
Reply from 127.0.0.1: seq=5 rtt=0.188 ms
Reply from 127.0.0.1: seq=6 rtt=0.177 ms
Request timed out (seq=7)
Request timed out (seq=8)
Reply from 127.0.0.1: seq=9 rtt=401.3 ms
Reply from 127.0.0.1: seq=10 rtt=0.250 ms
--- 127.0.0.1 ping statistics ---
10 packets transmitted, 7 received, 30% packet loss
rtt min/avg/max = 0.177/57.5/401.3 ms
";

    fn numbered(seqs: std::ops::Range<u64>) -> Vec<PingRecord> {
        seqs.map(|seq| on_time(seq, Some(Duration::ZERO))).collect()
    }

    #[test]
    fn a_pinger_stopped_while_it_runs_is_told_what_it_already_got_wrong() {
        // Numbered from 0, never stopping: 13 pings and 13 lines when it was stopped.
        let lines: String = (0..13)
            .map(|seq| format!("Reply from 127.0.0.1: seq={seq} rtt=1 ms\n"))
            .collect();
        let wrong = wrong_so_far(lines.as_bytes(), Some(&numbered(0..13)), 10);
        assert_eq!(
            wrong,
            [
                "its first ping was numbered 0 (`Ping 0 <time>`), where pings are numbered from 1",
                "it had sent 13 pings, up to ping 12, where 10 were asked for",
                "it had printed 13 lines for 10 pings (one a ping, and at most one header line)",
            ]
        );
    }

    #[test]
    fn a_pinger_stopped_early_in_a_correct_run_has_nothing_wrong_yet() {
        // Four pings in, a header and four lines, the fifth half written; or its output
        // held in a buffer: nothing printed at all.
        let so_far = "PING 127.0.0.1\n".to_owned()
            + &GOOD.lines().take(4).collect::<Vec<_>>().join("\n")
            + "\nReply from 127.0.0.1: seq=5 rtt=";
        assert!(wrong_so_far(so_far.as_bytes(), Some(&numbered(1..6)), 10).is_empty());
        assert!(wrong_so_far(b"", Some(&numbered(1..11)), 10).is_empty());
        // Its own server records nothing: only the lines are judged.
        let eleven = "Reply seq=1 rtt=1 ms\n".repeat(11);
        assert!(wrong_so_far(eleven.as_bytes(), None, 10).is_empty());
        let twelve = "Reply seq=1 rtt=1 ms\n".repeat(12);
        assert_eq!(wrong_so_far(twelve.as_bytes(), None, 10).len(), 1);
    }

    #[test]
    fn a_correct_report_passes() {
        assert_eq!(judge(GOOD.as_bytes(), Some(&script(10)), 10), Ok(()));
    }

    #[test]
    fn a_late_reply_credited_to_the_next_ping_fails() {
        // The handout's skeleton: whatever arrives is the current ping's reply.
        let naive = GOOD.replace(
            "Reply from 127.0.0.1: seq=9 rtt=401.3 ms",
            "Reply: PING 8 1700000000.5 RTT: 0.3",
        );
        let (_, seen) = judge(naive.as_bytes(), Some(&script(10)), 10).unwrap_err();
        assert!(seen.contains("line for ping 9"), "{seen}");
    }

    #[test]
    fn rtt_in_seconds_is_accepted() {
        let seconds = GOOD.replace("rtt=401.3 ms", "RTT 0.4013 s");
        assert_eq!(judge(seconds.as_bytes(), Some(&script(10)), 10), Ok(()));
    }

    #[test]
    fn wrong_loss_or_missing_rtt_figures_fail() {
        let wrong_loss = GOOD.replace("30% packet loss", "20% packet loss");
        assert!(judge(wrong_loss.as_bytes(), Some(&script(10)), 10).is_err());
        let no_rtt = GOOD.replace("rtt min/avg/max = 0.177/57.5/401.3 ms\n", "");
        assert!(judge(no_rtt.as_bytes(), Some(&script(10)), 10).is_err());
    }

    #[test]
    fn every_ping_lost_needs_only_the_loss() {
        let lost: Vec<PingRecord> = (1..=3).map(|seq| on_time(seq, None)).collect();
        let report = "Request timed out\nRequest timed out\nRequest timed out\n3 packets transmitted, 0 received, 100% packet loss\n";
        assert_eq!(judge(report.as_bytes(), Some(&lost), 3), Ok(()));
        let crashed = "Request timed out\nRequest timed out\nRequest timed out\n";
        assert!(judge(crashed.as_bytes(), Some(&lost), 3).is_err());
    }

    #[test]
    fn a_line_without_an_rtt_fails_whatever_numbers_it_has() {
        // The sequence number, an address, a count: none of them is ping 9's RTT.
        for no_rtt in [
            "Reply from server: seq 9",
            "Reply from 127.0.0.1: seq=9",
            "Reply 9 of 10",
            "Reply: PING 9 1700000000.5",
        ] {
            let report = GOOD.replace("Reply from 127.0.0.1: seq=9 rtt=401.3 ms", no_rtt);
            let (_, seen) = judge(report.as_bytes(), Some(&script(10)), 10).unwrap_err();
            assert!(seen.contains("line for ping 9"), "{no_rtt}: {seen}");
        }
    }

    #[test]
    fn an_rtt_below_the_delay_or_past_the_timeout_fails() {
        // Seconds without their unit read as milliseconds: 0.4013 ms is less than 400 ms.
        for wrong in ["rtt=0.4013", "rtt=350 ms", "rtt=1.2 s"] {
            let report = GOOD.replace("rtt=401.3 ms", wrong);
            assert!(
                judge(report.as_bytes(), Some(&script(10)), 10).is_err(),
                "{wrong}"
            );
        }
        for right in ["rtt=401", "time=0.41sec", "RTT: 402.7ms.", "rtt 401300 us"] {
            let report = GOOD.replace("rtt=401.3 ms", right);
            assert_eq!(
                judge(report.as_bytes(), Some(&script(10)), 10),
                Ok(()),
                "{right}"
            );
        }
    }

    #[test]
    fn an_answer_the_harness_sent_past_the_timeout_may_be_a_timeout_or_a_reply() {
        // Ping 9 was to be answered after 400 ms; a busy harness sent it after 1150 ms.
        let mut late = script(10);
        late[8].left_after = Some(Duration::from_millis(1150));
        let timed_out = GOOD
            .replace(
                "Reply from 127.0.0.1: seq=9 rtt=401.3 ms",
                "Request timed out (seq=9)",
            )
            .replace("7 received, 30%", "6 received, 40%")
            .replace("0.177/57.5/401.3", "0.177/0.2/0.25");
        assert_eq!(judge(timed_out.as_bytes(), Some(&late), 10), Ok(()));
        // A client itself late to wait took it: its RTT is past the timeout, and allowed.
        let taken = GOOD.replace("rtt=401.3 ms", "rtt=1151.0 ms");
        assert_eq!(judge(taken.as_bytes(), Some(&late), 10), Ok(()));
        // But not below what the harness took to answer, nor a loss the lines do not say.
        let too_fast = GOOD.replace("rtt=401.3 ms", "rtt=900.0 ms");
        assert!(judge(too_fast.as_bytes(), Some(&late), 10).is_err());
        let miscounted = timed_out.replace("6 received, 40%", "7 received, 30%");
        assert!(judge(miscounted.as_bytes(), Some(&late), 10).is_err());
        // An answer sent in time, late as it was, still fails a line that says it timed out.
        let mut on_time_but_lost = script(10);
        on_time_but_lost[8].left_after = Some(Duration::from_millis(800));
        assert!(judge(timed_out.as_bytes(), Some(&on_time_but_lost), 10).is_err());
        // Near the timeout is late too: the harness reads the time before it sends.
        let mut near = script(10);
        near[8].left_after = Some(Duration::from_millis(900));
        assert_eq!(judge(timed_out.as_bytes(), Some(&near), 10), Ok(()));
        // Not yet sent as the client is judged, long after it was due: late too.
        let mut unsent = script(10);
        unsent[8].left_after = None;
        unsent[8].arrived = tokio::time::Instant::now() - Duration::from_millis(1500);
        assert_eq!(judge(timed_out.as_bytes(), Some(&unsent), 10), Ok(()));
    }

    #[test]
    fn where_every_answer_meant_in_time_came_late_nothing_is_judged() {
        let mut late = script(10);
        assert_eq!(too_late_to_judge(&late, 10), None);
        for record in &mut late {
            if record
                .answered_after
                .is_some_and(|delay| delay < PING_TIMEOUT)
            {
                record.left_after = Some(Duration::from_millis(1200));
            }
        }
        let why = too_late_to_judge(&late, 10).expect("too late to judge");
        assert!(why.contains("7 of them"), "{why}");
        // One answer in time is enough to judge by.
        late[0].left_after = Some(Duration::ZERO);
        assert_eq!(too_late_to_judge(&late, 10), None);
    }

    #[test]
    fn a_server_answering_everything_needs_every_reply() {
        let all = "Reply from 127.0.0.1: seq=1 rtt=0.3 ms\nReply from 127.0.0.1: seq=2 rtt=0.2 ms\n2 packets transmitted, 2 received, 0% packet loss\nrtt min/avg/max = 0.2/0.25/0.3 ms\n";
        assert_eq!(judge(all.as_bytes(), None, 2), Ok(()));
        let lost = all.replace(
            "Reply from 127.0.0.1: seq=2 rtt=0.2 ms",
            "Request timed out",
        );
        assert!(judge(lost.as_bytes(), None, 2).is_err());
    }

    #[test]
    fn a_header_line_is_allowed() {
        let with_header = format!("Pinging 127.0.0.1 port 4000\n{GOOD}");
        assert_eq!(judge(with_header.as_bytes(), Some(&script(10)), 10), Ok(()));
    }

    #[test]
    fn more_lines_than_a_header_fail() {
        let noisy = format!("Pinging 127.0.0.1 port 4000\nsocket created\n{GOOD}");
        assert!(judge(noisy.as_bytes(), Some(&script(10)), 10).is_err());
        let trailing = format!("{GOOD}bye\n");
        assert!(judge(trailing.as_bytes(), Some(&script(10)), 10).is_err());
    }

    #[test]
    fn a_client_whose_datagrams_were_no_pings_is_told_that_first() {
        let worded_otherwise = "timeout\n".repeat(10) + "100% lost\n";
        let (_, seen) = judge(worded_otherwise.as_bytes(), Some(&[]), 10).unwrap_err();
        assert!(seen.starts_with("the server received no ping"), "{seen}");
    }

    #[test]
    fn a_client_that_ignored_every_reply_as_not_a_ping_is_told_that_before_its_line_count() {
        // Eight replies came (seven in time, ping 8's late); the client took each for
        // something else, said so, and timed out: 18 lines for 10 pings.
        let mut report = String::new();
        for seq in 1..=10 {
            if ![3, 7].contains(&seq) {
                report += &format!("not a ping: b'PING {seq} 1700000000.{seq}'\n");
            }
            report += &format!("Request timed out (seq={seq})\n");
        }
        report += "10 packets transmitted, 0 received, 100% packet loss\n";
        let (_, seen) = judge(report.as_bytes(), Some(&script(10)), 10).unwrap_err();
        assert!(
            seen.starts_with(
                "the server answered 7 of the 10 pings in time, and the client took none of the replies: every line says its ping timed out or got no reply, or that what came was not its reply"
            ),
            "{seen}"
        );
        // Ignored without timing out: the same.
        let ignored = "reply ignored: not a ping\n".repeat(8);
        let (_, seen) = judge(ignored.as_bytes(), Some(&script(10)), 10).unwrap_err();
        assert!(
            seen.contains("the client took none of the replies"),
            "{seen}"
        );
    }

    #[test]
    fn a_client_that_took_no_reply_is_told_that_whatever_its_line_count_or_wording() {
        // More lines than pings (a header and its own default count), fewer (it stopped
        // early), or no reply worded otherwise than a timeout.
        for report in [
            format!(
                "PING 127.0.0.1\n{}100% packet loss\n",
                "Request timed out\n".repeat(12)
            ),
            "Request timed out\n".repeat(4),
            "No reply\n".repeat(10) + "100% packet loss\n",
            "Ping lost\n".repeat(10),
        ] {
            let (_, seen) = judge(report.as_bytes(), Some(&script(10)), 10).unwrap_err();
            assert!(
                seen.starts_with(
                    "the server answered 7 of the 10 pings in time, and the client took none of the replies"
                ),
                "{report}: {seen}"
            );
        }
        // A first reply taken, then timeouts: judged line by line.
        let one_reply = format!(
            "Reply from 127.0.0.1: seq=1 rtt=0.2 ms\n{}",
            "Request timed out\n".repeat(9)
        );
        let (_, seen) = judge(one_reply.as_bytes(), Some(&script(10)), 10).unwrap_err();
        assert!(seen.starts_with("line for ping 2"), "{seen}");
        // Replies printed without an RTT are replies taken.
        let no_rtt = "Reply: PING 1 1700000000.5\n".repeat(10);
        let (_, seen) = judge(no_rtt.as_bytes(), Some(&script(10)), 10).unwrap_err();
        assert!(!seen.contains("took none"), "{seen}");
    }

    #[test]
    fn a_client_that_took_no_reply_is_told_that_before_its_wording() {
        let every_line_timed_out = "Request timed out\n".repeat(10) + "100% packet loss\n";
        let (_, seen) = judge(every_line_timed_out.as_bytes(), Some(&script(10)), 10).unwrap_err();
        assert!(
            seen.starts_with(
                "the server answered 7 of the 10 pings in time, and the client took none"
            ),
            "{seen}"
        );
    }
}
