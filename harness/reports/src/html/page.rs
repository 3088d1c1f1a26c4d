//! One submission's page: its header, its summary by task and by category, then every
//! scenario (failures open and marked, the others folded) with its sequence diagram.

use std::fmt::Write;
use std::path::PathBuf;

use super::{Esc, at, bytes_html, href_of, page_start, run_facts, seconds};
use crate::{RunRecord, Score, SubmissionRecord, file_name_of};
use run_record::outcome::Category;
use run_record::outcome::{Outcome, Status};

/// Transcript entries drawn for a scenario that failed.
const ROWS_FAILED: usize = 200;
/// Transcript entries drawn for the others (folded, and read less).
const ROWS_OTHER: usize = 60;

/// Where the packet captures are.
pub(super) struct PcapFolder {
    /// The capture folder as seen from the pages' folder.
    pub relative: PathBuf,
    /// The capture folder, to see which captures were written.
    pub absolute: PathBuf,
}

/// What a page needs besides its submission.
pub(super) struct Context<'a> {
    pub run: &'a RunRecord,
    pub pcap: Option<PcapFolder>,
    /// Whether an `index.html` lists this page among others.
    pub back_to_index: bool,
}

/// What [`Score::of`] reads of an outcome, without its log, transcript and output.
pub(super) fn light(outcome: &Outcome) -> Outcome {
    let mut light = Outcome::blank(&outcome.id);
    light.task = outcome.task.clone();
    light.category = outcome.category;
    light.points = outcome.points;
    light.extra = outcome.extra;
    light.status = outcome.status;
    light
}

fn anchor(id: &str) -> String {
    format!("s-{}", file_name_of(id))
}

fn badge(status: Status) -> String {
    let class = match status {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Timeout => "timeout",
        Status::Error => "error",
        Status::Skipped => "skip",
        Status::Missed => "missed",
    };
    format!("<span class=\"badge {class}\">{}</span>", status.label())
}

fn plural(count: impl Into<u64>, word: &str) -> String {
    let count = count.into();
    if count == 1 {
        format!("1 {word}")
    } else {
        format!("{count} {word}s")
    }
}

/// The whole page of `submission`.
pub(super) fn submission_page(context: &Context<'_>, submission: &SubmissionRecord) -> String {
    let label = &submission.info.submission;
    let mut html = page_start(&format!("{label}: socket-lab report"));
    let score = Score::of(&submission.outcomes);
    let seed = context
        .run
        .info
        .as_ref()
        .map(|info| info.seed)
        .or_else(|| submission.outcomes.first().map(|outcome| outcome.seed));

    // Header.
    html.push_str("<header>");
    if context.back_to_index {
        html.push_str("<p class=\"note\"><a href=\"index.html\">← every submission</a></p>");
    }
    let _ = write!(
        html,
        "<h1>{}</h1><p class=\"score\"><span class=\"pts\">{}</span> · {}</p>",
        Esc(label),
        Esc(&score.points()),
        Esc(&score.counts())
    );
    if let Some(problem) = &submission.info.problem {
        let _ = write!(
            html,
            "<p class=\"problem\">Nothing could be graded: {}</p>",
            Esc(problem)
        );
    }
    html.push_str("<dl class=\"facts\">");
    html.push_str(&run_facts(context.run.info.as_ref()));
    if let Some(elapsed) = submission.elapsed {
        let _ = write!(html, "<dt>graded in</dt><dd>{}</dd>", seconds(elapsed));
    }
    let replay = match seed {
        Some(seed) => format!("{} --seed {seed}", submission.info.replay_command),
        None => submission.info.replay_command.clone(),
    };
    let _ = write!(
        html,
        "<dt>replay</dt><dd><code>{}</code></dd>",
        Esc(&replay)
    );
    html.push_str("<dt>captures</dt><dd>");
    match &context.pcap {
        Some(captures) => {
            let _ = write!(
                html,
                "one <code>.pcap</code> per scenario under <code>{}</code>, linked from each scenario (Wireshark opens them)",
                Esc(&captures.absolute.display().to_string())
            );
        }
        None => html.push_str(
            "not recorded: grade again with <code>--pcap DIR</code> beside <code>--html</code> for one <code>.pcap</code> per scenario, linked from here (Wireshark opens them)",
        ),
    }
    html.push_str("</dd></dl></header>\n");

    summary(&mut html, submission, &score);

    // Scenarios, in the order they ran.
    html.push_str("<h2>Scenarios</h2>\n");
    html.push_str(LEGEND);
    for outcome in &submission.outcomes {
        scenario(&mut html, context, submission, outcome, &replay);
    }
    html.push_str(super::PAGE_END);
    html
}

/// Points and verdicts by task and by category, and the failures at a glance.
fn summary(html: &mut String, submission: &SubmissionRecord, score: &Score) {
    let extra = score.tasks.iter().any(|task| task.has_extra);
    let extra_cell = |has_extra: bool, earned: u32, cell: &str| match (extra, has_extra) {
        (false, _) => String::new(),
        (true, false) => format!("<{cell}></{cell}>"),
        (true, true) => format!("<{cell} class=\"n\">+{earned}</{cell}>"),
    };
    html.push_str("<h2>Summary</h2>\n<h3>By task</h3>\n");
    let _ = writeln!(
        html,
        "<table class=\"grid\"><thead><tr><th>task</th><th>scenarios passed</th><th>points</th>{}</tr></thead><tbody>",
        if extra { "<th>extra</th>" } else { "" }
    );
    for task in &score.tasks {
        let failed = submission
            .outcomes
            .iter()
            .any(|outcome| outcome.task == task.task && outcome.status.is_failure());
        let class = match (failed, task.earned == task.total) {
            (true, _) => "bad",
            (false, true) => "good",
            // Points left by skipped scenarios, not by failures.
            (false, false) => "partial",
        };
        let _ = writeln!(
            html,
            "<tr class=\"{class}\"><td>{}</td><td class=\"n\">{}/{}</td><td class=\"n\">{}/{}</td>{}</tr>",
            Esc(&task.task),
            task.passed,
            task.ran,
            task.earned,
            task.total,
            extra_cell(task.has_extra, task.extra_earned, "td")
        );
    }
    let _ = writeln!(
        html,
        "<tr><th>total</th><th class=\"n\">{}/{}</th><th class=\"n\">{}/{}</th>{}</tr></tbody></table>",
        score.passed,
        score.tasks.iter().map(|task| task.ran).sum::<usize>(),
        score.earned,
        score.total,
        extra_cell(true, score.extra_earned, "th")
    );
    if !submission.info.not_submitted.is_empty() {
        let _ = writeln!(
            html,
            "<p class=\"note\">Not submitted (no program found for them): {}</p>",
            Esc(&submission.info.not_submitted.join(", "))
        );
    }

    html.push_str("<h3>By category</h3>\n");
    html.push_str("<table class=\"grid\"><thead><tr><th>category</th><th>passed</th><th>failed</th><th>skipped</th><th>extra missed</th><th>points</th></tr></thead><tbody>\n");
    for category in [
        Category::Basic,
        Category::Robustness,
        Category::Concurrency,
        Category::Performance,
        Category::Security,
    ] {
        let of_category: Vec<Outcome> = submission
            .outcomes
            .iter()
            .filter(|outcome| outcome.category == category)
            .map(light)
            .collect();
        if of_category.is_empty() {
            continue;
        }
        let part = Score::of(&of_category);
        let class = if part.failed > 0 { "bad" } else { "good" };
        let _ = writeln!(
            html,
            "<tr class=\"{class}\"><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            category.name(),
            part.passed,
            part.failed,
            part.skipped,
            part.missed,
            Esc(&part.points())
        );
    }
    html.push_str("</tbody></table>\n");

    let failures: Vec<&Outcome> = submission
        .outcomes
        .iter()
        .filter(|outcome| outcome.status.is_failure())
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(
            html,
            "<h3>Failures ({})</h3>\n<ul class=\"failures\">",
            failures.len()
        );
        for outcome in failures {
            // What is wrong and what to do, then what was expected and what came.
            let sentence = crate::diagnosis::sentence(outcome).unwrap_or_default();
            let evidence = outcome.failure.as_ref().map_or(String::new(), |failure| {
                let short = |text: &str| crate::diagnosis::shortened(text, 300);
                let cause = failure.cause.as_deref().map_or(String::new(), |cause| {
                    format!(
                        "<span class=\"cause\">cause: {}</span><br>",
                        Esc(&short(cause))
                    )
                });
                format!(
                    "<br>{cause}<span class=\"expected\">expected: {}</span><br><span class=\"seen\">seen: {}</span>",
                    Esc(&short(&failure.expected)),
                    Esc(&short(&failure.seen))
                )
            });
            let _ = writeln!(
                html,
                "<li>{} <a href=\"#{}\"><code>{}</code></a> ({}): <strong>{}</strong>{evidence}</li>",
                badge(outcome.status),
                anchor(&outcome.id),
                Esc(&outcome.id),
                Esc(&outcome.clauses.join(", ")),
                Esc(&sentence),
            );
        }
        html.push_str("</ul>\n");
    }
}

const LEGEND: &str = "<p class=\"legend\">Sequence diagrams: <span class=\"to\">━▶ to a program</span> <span class=\"from\">━▶ from a program</span> <span class=\"sl\">┅▶ ✂ sliced: the harness cut it into many writes, so the program's recv returns short reads</span> <span class=\"ev\">┄▶ connect, FIN, close</span> <span class=\"bad\">RST, errors, timeouts</span>. Rows are in time order, evenly spaced; hover an arrow for its timing.</p>\n";

/// One scenario: a `<details>`, open when it failed.
fn scenario(
    html: &mut String,
    context: &Context<'_>,
    submission: &SubmissionRecord,
    outcome: &Outcome,
    replay: &str,
) {
    let failed = outcome.status.is_failure();
    let class = match outcome.status {
        _ if failed => "bad",
        Status::Pass => "good",
        _ => "quiet",
    };
    let _ = write!(
        html,
        "<details class=\"scenario {class}\" id=\"{}\"{}><summary>{} <span class=\"id mono\">{}</span><span class=\"meta\">{} · {} · {}{}</span>",
        anchor(&outcome.id),
        if failed { " open" } else { "" },
        badge(outcome.status),
        Esc(&outcome.id),
        Esc(&outcome.clauses.join(", ")),
        outcome.category.name(),
        plural(outcome.points, "point"),
        if outcome.extra { " (extra)" } else { "" }
    );
    if outcome.status != Status::Skipped {
        let _ = write!(
            html,
            "<span class=\"time\">{}</span>",
            seconds(outcome.duration)
        );
    }
    html.push_str("</summary><div class=\"body\">\n");
    let _ = writeln!(
        html,
        "<p class=\"requirement\">{}</p>",
        Esc(&outcome.requirement)
    );

    html.push_str("<table class=\"kv\">");
    let verdict = match (outcome.status, &outcome.failure) {
        (Status::Pass, _) => "every step held".to_owned(),
        (Status::Skipped, _) => format!(
            "skipped: {}",
            outcome.skip_reason.as_deref().unwrap_or("not run")
        ),
        (Status::Missed, _) => {
            "optional (graded as extra) and not earned: not a failure".to_owned()
        }
        (status, Some(failure)) if failure.step > 0 => format!(
            "{} at step {} (line {}): {}",
            status.label(),
            failure.step,
            failure.line,
            failure.action
        ),
        (status, _) => status.label().to_owned(),
    };
    if let Some(sentence) = crate::diagnosis::sentence(outcome) {
        let _ = write!(
            html,
            "<tr><th>what is wrong</th><td><strong>{}</strong></td></tr>",
            Esc(&sentence)
        );
    }
    let _ = write!(html, "<tr><th>verdict</th><td>{}</td></tr>", Esc(&verdict));
    if let Some(failure) = &outcome.failure {
        if let Some(cause) = &failure.cause {
            let _ = write!(
                html,
                "<tr><th>cause</th><td class=\"seen\">{}</td></tr>",
                Esc(cause)
            );
        }
        let _ = write!(
            html,
            "<tr><th>expected</th><td class=\"expected\">{}</td></tr><tr><th>seen</th><td class=\"seen\">{}</td></tr>",
            Esc(&failure.expected),
            Esc(&failure.seen)
        );
        if let Some(diff) = &failure.diff {
            let _ = write!(
                html,
                "<tr><th>diff</th><td><pre>{}</pre></td></tr>",
                Esc(diff)
            );
        }
    }
    html.push_str("</table>\n");
    if failed || outcome.status == Status::Missed {
        // The hints under the terminal's first line: in the idiom of the program's language.
        for hint in crate::explain::hints(outcome) {
            let _ = writeln!(
                html,
                "<p class=\"hint\"><strong>Hint:</strong> {}</p>",
                Esc(&hint)
            );
        }
    }

    if outcome.status != Status::Skipped {
        html.push_str("<h3>Sequence</h3>\n");
        let rows = if failed { ROWS_FAILED } else { ROWS_OTHER };
        match super::sequence::diagram(outcome, rows) {
            Some(svg) => {
                let _ = writeln!(html, "<div class=\"seqbox\">{svg}</div>");
            }
            None => {
                html.push_str("<p class=\"note\">Nothing moved on the harness's connections.</p>\n")
            }
        }
        capture_line(html, context, submission, outcome);
    }

    if !outcome.log.is_empty() {
        html.push_str("<h3>Step log</h3>\n<pre class=\"log\">");
        let failed_step = outcome
            .failure
            .as_ref()
            .filter(|failure| failure.step > 0)
            .map(|failure| format!("step {}:", failure.step));
        for line in &outcome.log {
            let text = format!("{} {}", at(line.at), Esc(&line.text));
            if failed_step
                .as_deref()
                .is_some_and(|step| line.text.starts_with(step))
            {
                let _ = writeln!(html, "<span class=\"failed\">{text}</span>");
            } else {
                let _ = writeln!(html, "{text}");
            }
        }
        html.push_str("</pre>\n");
    }

    if !outcome.programs.is_empty() {
        html.push_str("<h3>Programs</h3>\n");
    }
    for program in &outcome.programs {
        let _ = write!(
            html,
            "<div class=\"program\"><h4>{}: <code>{}</code></h4><p class=\"note\">{}</p>",
            Esc(&program.name),
            Esc(&program.command_line),
            Esc(&program.ending())
        );
        for (stream, (head, total), tail) in [
            ("stdout", &program.stdout, &program.stdout_tail),
            ("stderr", &program.stderr, &program.stderr_tail),
        ] {
            let kept = (head.len() + tail.len()) as u64;
            let shown = match (*total > kept, tail.is_empty()) {
                (false, _) => String::new(),
                (true, true) => format!(", the first {} shown", head.len()),
                (true, false) => format!(
                    ", the first {} and the last {} shown",
                    head.len(),
                    tail.len()
                ),
            };
            let _ = write!(
                html,
                "<div class=\"note\">{stream}: {}{shown}</div>",
                plural(*total, "byte")
            );
            if !head.is_empty() {
                let _ = write!(html, "<pre>{}</pre>", bytes_html(head));
            }
            // An error is printed last: the end of a long output is shown too.
            if !tail.is_empty() {
                let skipped = total.saturating_sub(kept);
                if skipped > 0 {
                    let _ = write!(
                        html,
                        "<div class=\"note\">… {} not shown …</div>",
                        plural(skipped, "byte")
                    );
                }
                let _ = write!(html, "<pre>{}</pre>", bytes_html(tail));
            }
        }
        html.push_str("</div>\n");
    }
    let _ = writeln!(
        html,
        "<p class=\"note\">seed {} · replay this scenario: <code>{} '{}'</code></p>",
        outcome.seed,
        Esc(replay),
        Esc(&outcome.id)
    );
    html.push_str("</div></details>\n");
}

/// The link to the scenario's packet capture, or how to get one.
fn capture_line(
    html: &mut String,
    context: &Context<'_>,
    submission: &SubmissionRecord,
    outcome: &Outcome,
) {
    let Some(captures) = &context.pcap else {
        html.push_str("<p class=\"note\">Packet capture: not recorded (grade with <code>--pcap DIR</code>).</p>\n");
        return;
    };
    let path = context
        .run
        .pcap_path(&submission.info.submission, &outcome.id);
    if captures.absolute.join(&path).is_file() {
        let _ = writeln!(
            html,
            "<p>Packet capture: <a href=\"{}\" download>{}</a> <span class=\"note\">(opens in Wireshark)</span></p>",
            Esc(&href_of(&captures.relative.join(&path))),
            Esc(&path.display().to_string())
        );
    } else {
        html.push_str("<p class=\"note\">Packet capture: none was written (nothing moved on the harness's sockets).</p>\n");
    }
}
