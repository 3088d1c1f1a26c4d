//! `--html DIR`: one self-contained page per submission.
//!
//! One submission: `DIR/index.html`. Several: `DIR/<submission>.html` each (the label made a
//! file name by [`file_name_of`]), and `DIR/index.html` listing them with their scores.
//! A page needs nothing else: its style is inline, it has no script, no font, no image;
//! transcripts are drawn as sequence diagrams in inline SVG ([`sequence`]). With `--pcap
//! DIR` each scenario links to its capture by a path relative to the page.
//!
//! Everything a program wrote (its output, the bytes it sent, even its command line) is
//! hostile: every string goes into the page through [`Esc`], which escapes it as text.
//!
//! The page is written at the end of the run, from the collected [`RunRecord`].

mod page;
mod sequence;

use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use super::{Reporter, RunRecord, Score, file_name_of};
use run_record::encoding::decimal_seconds;
use run_record::events::{RunInfo, WorldKind};

/// The `--html` reporter.
pub struct HtmlReport {
    dir: PathBuf,
    /// Where `--pcap` writes the captures (None: the pages say how to get them).
    pcap_dir: Option<PathBuf>,
}

impl HtmlReport {
    /// Writes the pages into `dir`; links captures under `pcap_dir` when given.
    pub fn new(dir: PathBuf, pcap_dir: Option<PathBuf>) -> HtmlReport {
        HtmlReport { dir, pcap_dir }
    }

    /// Where each submission's page goes, in the order of `run.submissions`.
    pub fn page_names(run: &RunRecord) -> Vec<String> {
        if run.submissions.len() == 1 && !run.is_batch() {
            return vec!["index.html".into()];
        }
        let mut names: Vec<String> = Vec::new();
        for submission in &run.submissions {
            let stem = file_name_of(&submission.info.submission);
            let mut name = format!("{stem}.html");
            let mut number = 2;
            while name == "index.html" || names.contains(&name) {
                name = format!("{stem}-{number}.html");
                number += 1;
            }
            names.push(name);
        }
        names
    }
}

impl Reporter for HtmlReport {
    fn finish(&mut self, run: &RunRecord) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let names = HtmlReport::page_names(run);
        let pcap_dir = match &self.pcap_dir {
            Some(dir) => Some(relative_dir(&self.dir, dir)?),
            None => None,
        };
        let batch = names.len() > 1 || names.first().is_some_and(|name| name != "index.html");
        for (submission, name) in run.submissions.iter().zip(&names) {
            let context = page::Context {
                run,
                pcap: pcap_dir
                    .as_ref()
                    .map(|(relative, absolute)| page::PcapFolder {
                        relative: relative.clone(),
                        absolute: absolute.clone(),
                    }),
                back_to_index: batch,
            };
            std::fs::write(
                self.dir.join(name),
                page::submission_page(&context, submission),
            )?;
        }
        if batch || run.submissions.is_empty() {
            std::fs::write(self.dir.join("index.html"), index_page(run, &names))?;
        }
        Ok(())
    }
}

/// `to` as seen from `from` (both folders), and `to` itself made absolute.
fn relative_dir(from: &Path, to: &Path) -> io::Result<(PathBuf, PathBuf)> {
    let from = std::path::absolute(from)?;
    let to = std::path::absolute(to)?;
    fn normal(path: &Path) -> Vec<Component<'_>> {
        path.components()
            .filter(|part| !matches!(part, Component::CurDir))
            .collect()
    }
    let (from_parts, to_parts) = (normal(&from), normal(&to));
    let common = from_parts
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut relative = PathBuf::new();
    for _ in common..from_parts.len() {
        relative.push("..");
    }
    for part in &to_parts[common..] {
        relative.push(part.as_os_str());
    }
    Ok((relative, to))
}

/// A path as a relative URL: every part percent-encoded but letters, digits and `-._~`.
fn href_of(path: &Path) -> String {
    let mut href = String::new();
    for (index, part) in path.components().enumerate() {
        if index > 0 {
            href.push('/');
        }
        for byte in part.as_os_str().as_encoded_bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(byte) {
                href.push(*byte as char);
            } else {
                href.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    href
}

/// Text escaped for HTML (element content and quoted attribute values alike).
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(index) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..index])?;
            f.write_str(match rest.as_bytes()[index] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[index + 1..];
        }
        f.write_str(rest)
    }
}

/// Bytes as text for a `<pre>`: UTF-8 shown as it is (control characters but newline and
/// tab escaped), bytes that are not UTF-8 as `\xNN`, marked, so that they cannot be
/// confused with a U+FFFD the program really printed.
fn bytes_html(bytes: &[u8]) -> String {
    const CLOSE: &str = "</span>";
    let mut html = String::with_capacity(bytes.len() + 16);
    let mut in_span = false;
    for chunk in bytes.utf8_chunks() {
        if !chunk.valid().is_empty() {
            if in_span {
                html.push_str(CLOSE);
                in_span = false;
            }
            let mut text = String::with_capacity(chunk.valid().len());
            for c in chunk.valid().chars() {
                if (c.is_control() && c != '\n' && c != '\t') || invisible(c) {
                    text.extend(c.escape_unicode());
                } else {
                    text.push(c);
                }
            }
            html.push_str(&Esc(&text).to_string());
        }
        if !chunk.invalid().is_empty() {
            if !in_span {
                html.push_str(r#"<span class="nb" title="not UTF-8">"#);
                in_span = true;
            }
            for byte in chunk.invalid() {
                html.push_str(&format!("\\x{byte:02x}"));
            }
        }
    }
    if in_span {
        html.push_str(CLOSE);
    }
    html
}

/// Characters that change how the text around them shows without showing themselves:
/// bidirectional overrides (they can make `ok` of `ko`), zero-width characters.
fn invisible(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// A one-line glimpse of bytes, quoted, for a diagram's arrow: printable ASCII and Latin
/// letters as they are, `\n`, `\r`, `\t`, `\\` and `\"` escaped as in Rust, other
/// characters as `\u{...}` and bytes that are not UTF-8 as `\xNN`, so that binary data
/// cannot draw over itself (combining marks, right-to-left scripts). At most `limit`
/// characters, then `…`.
fn glimpse(bytes: &[u8], limit: usize) -> String {
    let mut text = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => text.push_str("\\n"),
                '\r' => text.push_str("\\r"),
                '\t' => text.push_str("\\t"),
                '\\' | '"' => {
                    text.push('\\');
                    text.push(c);
                }
                ' '..='~' | '\u{a0}'..='\u{2ff}' => text.push(c),
                _ => text.extend(c.escape_unicode()),
            }
        }
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02x}"));
        }
    }
    text.push('"');
    if text.chars().count() > limit {
        let mut cut: String = text.chars().take(limit.saturating_sub(1)).collect();
        cut.push('…');
        return cut;
    }
    text
}

/// `+0.012s`.
fn at(duration: Duration) -> String {
    format!("+{}s", decimal_seconds(duration, 3))
}

/// `0.31s`.
fn seconds(duration: Duration) -> String {
    format!("{}s", decimal_seconds(duration, 2))
}

/// The run's facts as `<dt>`/`<dd>` pairs: world, seed, date, harness version, sandbox.
fn run_facts(info: Option<&RunInfo>) -> String {
    let Some(info) = info else {
        return "<dt>run</dt><dd>no run information was recorded</dd>".into();
    };
    let world = match info.world {
        WorldKind::Real => "real: the programs ran on this machine's loopback",
        WorldKind::Simulated => "simulated: the reference in a deterministic simulated network",
    };
    let date = if info.started_unix_ms == 0 {
        "(no wall clock: simulated runs replay byte for byte)".to_owned()
    } else {
        httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(info.started_unix_ms))
    };
    let mut facts = format!(
        "<dt>seed</dt><dd>{}</dd><dt>world</dt><dd>{}</dd><dt>started</dt><dd>{}</dd><dt>harness</dt><dd>{}</dd>",
        info.seed,
        Esc(world),
        Esc(&date),
        Esc(&info.harness_version)
    );
    // What ran around the programs (a platform's container refuses layers) and who played
    // the peers a pack lets the run choose, as the terminal's header says them.
    if let Some(sandbox) = &info.sandbox {
        let layers = sandbox.strip_prefix("sandbox: ").unwrap_or(sandbox);
        facts.push_str(&format!("<dt>sandbox</dt><dd>{}</dd>", Esc(layers)));
    }
    for server in &info.servers {
        facts.push_str(&format!("<dt>server</dt><dd>{}</dd>", Esc(server)));
    }
    facts
}

/// The page's head, with the style sheet, and the opening of its body.
fn page_start(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        Esc(title)
    )
}

const PAGE_END: &str = "</main>\n</body>\n</html>\n";

/// The list of a batch's submissions with their scores.
fn index_page(run: &RunRecord, names: &[String]) -> String {
    let mut html = page_start("Socket-lab report");
    html.push_str("<header><h1>Socket-lab report</h1>");
    let all: Vec<run_record::outcome::Outcome> = run
        .submissions
        .iter()
        .flat_map(|submission| submission.outcomes.iter().map(page::light))
        .collect();
    html.push_str(&format!(
        "<p class=\"score\">{} submissions graded: {}</p>",
        run.submissions.len(),
        Esc(&Score::of(&all).counts())
    ));
    html.push_str("<dl class=\"facts\">");
    html.push_str(&run_facts(run.info.as_ref()));
    if let Some(info) = &run.info {
        html.push_str(&format!(
            "<dt>replay</dt><dd><code>{} --seed {}</code></dd>",
            Esc(&info.replay_command),
            info.seed
        ));
    }
    if let Some(elapsed) = run.elapsed {
        html.push_str(&format!("<dt>graded in</dt><dd>{}</dd>", seconds(elapsed)));
    }
    html.push_str("</dl></header>\n");
    if run.submissions.is_empty() {
        html.push_str("<p>No submission was graded.</p>");
    } else {
        html.push_str("<table class=\"grid\"><thead><tr><th>submission</th><th>points</th><th>passed</th><th>failed</th><th>skipped</th><th>extra missed</th><th>not submitted</th><th>time</th></tr></thead><tbody>\n");
        for (submission, name) in run.submissions.iter().zip(names) {
            let score = Score::of(&submission.outcomes);
            // Nothing graded (no program, or a folder that could not be read) is not a
            // pass; a task not submitted beside passing ones is not quite one either.
            let class = if score.failed > 0
                || submission.info.problem.is_some()
                || submission.outcomes.is_empty()
            {
                "bad"
            } else if !submission.info.not_submitted.is_empty() {
                "partial"
            } else {
                "good"
            };
            html.push_str(&format!(
                "<tr class=\"{class}\"><td><a href=\"{}\">{}</a>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td></tr>\n",
                Esc(&href_of(Path::new(name))),
                Esc(&submission.info.submission),
                submission
                    .info
                    .problem
                    .as_ref()
                    .map(|problem| format!("<div class=\"problem\">{}</div>", Esc(problem)))
                    .unwrap_or_default(),
                Esc(&score.points_of(&submission.info)),
                score.passed,
                score.failed,
                score.skipped,
                score.missed,
                Esc(&submission.info.not_submitted.join(", ")),
                submission.elapsed.map(seconds).unwrap_or_default()
            ));
        }
        html.push_str("</tbody></table>\n");
        html.push_str(&scenario_matrix(run, names));
    }
    html.push_str(PAGE_END);
    html
}

/// The scenarios by student, as Autobahn's test-suite report draws its cases by
/// implementation: a row per scenario, most failed first (what the class found hardest),
/// a column per submission, a cell per verdict, linked to the student's page.
fn scenario_matrix(run: &RunRecord, names: &[String]) -> String {
    use run_record::outcome::Status;
    let mut rows: Vec<(String, usize)> = Vec::new();
    for submission in &run.submissions {
        for outcome in &submission.outcomes {
            let failed = usize::from(outcome.status.is_failure());
            match rows.iter_mut().find(|(id, _)| *id == outcome.id) {
                Some((_, count)) => *count += failed,
                None => rows.push((outcome.id.clone(), failed)),
            }
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    // Stable: among equals, the order the scenarios ran in (the kit's).
    rows.sort_by_key(|(_, failed)| std::cmp::Reverse(*failed));
    let mut html = String::from(
        "<h2>Scenarios by student</h2>\n<p class=\"note\">Most failed first. ✓ passed, ✗ failed, ⧗ timed out, ! harness error, – skipped, ○ optional and not earned, blank: not graded (task not submitted, or the folder could not be read).</p>\n<div class=\"matrixbox\"><table class=\"grid matrix\"><thead><tr><th>scenario</th><th>failed</th>",
    );
    for submission in &run.submissions {
        html.push_str(&format!(
            "<th class=\"who\">{}</th>",
            Esc(&submission.info.submission)
        ));
    }
    html.push_str("</tr></thead><tbody>\n");
    for (id, failed) in &rows {
        html.push_str(&format!(
            "<tr><td class=\"mono\">{}</td><td class=\"n\">{failed}</td>",
            Esc(id)
        ));
        for (submission, name) in run.submissions.iter().zip(names) {
            let Some(outcome) = submission.outcomes.iter().find(|outcome| outcome.id == *id) else {
                html.push_str("<td></td>");
                continue;
            };
            let (mark, class) = match outcome.status {
                Status::Pass => ("✓", "pass"),
                Status::Fail => ("✗", "fail"),
                Status::Timeout => ("⧗", "fail"),
                Status::Error => ("!", "fail"),
                Status::Skipped => ("–", "skip"),
                Status::Missed => ("○", "skip"),
            };
            html.push_str(&format!(
                "<td class=\"v {class}\"><a href=\"{}\" title=\"{}: {}\">{mark}</a></td>",
                Esc(&href_of(Path::new(name))),
                Esc(&submission.info.submission),
                Esc(outcome.status.label())
            ));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody></table></div>\n");
    html
}

/// The style sheet of every page: system fonts, no external resource.
const STYLE: &str = r#"
:root { --fail: #b3261e; --fail-bg: #fdecea; --pass: #1e7b34; --pass-bg: #e9f6ec; --warn: #a15c00;
  --muted: #666; --line: #d8dde3; --code-bg: #f5f7f9; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: #1b1f24;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 1.6em; margin: 0 0 4px; word-break: break-all; }
h2 { font-size: 1.25em; margin: 32px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 1em; margin: 18px 0 6px; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
pre { background: var(--code-bg); border: 1px solid var(--line); border-radius: 4px; padding: 8px 10px;
  overflow-x: auto; white-space: pre-wrap; word-break: break-all; margin: 4px 0 10px; max-height: 260px; }
a { color: #0b57d0; }
.score { font-size: 1.3em; margin: 6px 0 12px; }
.score .pts { font-weight: 700; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; word-break: break-all; }
.note { color: var(--muted); font-size: .92em; }
.problem { color: var(--fail); font-weight: 600; }
table.grid { border-collapse: collapse; margin: 6px 0 14px; min-width: 50%; }
.grid th, .grid td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
.grid th { background: var(--code-bg); font-weight: 600; }
.grid td.n { text-align: right; font-variant-numeric: tabular-nums; }
.grid tr.bad td:first-child { border-left: 4px solid var(--fail); }
.grid tr.good td:first-child { border-left: 4px solid var(--pass); }
.grid tr.partial td:first-child { border-left: 4px solid #b5bac2; }
ul.failures { margin: 4px 0; padding-left: 20px; }
.matrixbox { overflow-x: auto; }
.matrix th.who { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; font-weight: 600; }
.matrix td.v { text-align: center; padding: 2px 6px; }
.matrix td.v a { text-decoration: none; color: inherit; display: block; }
.matrix td.pass { background: var(--pass-bg); color: var(--pass); }
.matrix td.fail { background: var(--fail-bg); color: var(--fail); font-weight: 700; }
.matrix td.skip { color: var(--muted); }
.badge { display: inline-block; min-width: 64px; text-align: center; font-weight: 700; font-size: 12px;
  border-radius: 3px; padding: 1px 6px; color: #fff; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.badge.pass { background: var(--pass); } .badge.fail, .badge.timeout, .badge.error { background: var(--fail); }
.badge.skip, .badge.missed { background: #8a8f98; }
details.scenario { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; background: #fff; }
details.scenario.bad { border-color: #e3a29c; border-left: 5px solid var(--fail); }
details.scenario.good { border-left: 5px solid var(--pass); }
details.scenario.quiet { border-left: 5px solid #b5bac2; }
details.scenario > summary { cursor: pointer; padding: 8px 12px; display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; }
details.scenario.bad > summary { background: var(--fail-bg); }
details.scenario > summary .id { font-weight: 600; }
details.scenario > summary .meta { color: var(--muted); font-size: .9em; }
details.scenario > summary .time { margin-left: auto; color: var(--muted); font-size: .9em; }
.body { padding: 4px 16px 12px; }
.requirement { margin: 8px 0; font-style: italic; }
table.kv { border-collapse: collapse; width: 100%; margin: 6px 0; }
.kv th { text-align: left; vertical-align: top; color: var(--muted); font-weight: 600; width: 120px; padding: 3px 10px 3px 0; }
.kv td { padding: 3px 0; }
.kv .expected { color: var(--pass); } .kv .seen { color: var(--fail); }
.kv pre { margin: 0; }
.hint { background: #fff8e1; border: 1px solid #f0d98c; border-radius: 4px; padding: 6px 10px; margin: 8px 0; }
pre.log { max-height: none; }
.log .failed { color: var(--fail); font-weight: 700; }
.nb { color: #fff; background: #8a3ffc; border-radius: 2px; }
.seqbox { overflow-x: auto; border: 1px solid var(--line); border-radius: 4px; margin: 6px 0 10px; background: #fcfcfd; }
svg.seq { display: block; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 11px; }
svg.seq text { text-anchor: middle; fill: #1b1f24; }
svg.seq .lane rect { fill: #eef2f7; stroke: #9aa5b1; }
svg.seq .lane.p rect { fill: #e7f0fe; stroke: #6b8fd6; }
svg.seq .lane text { font-weight: 700; font-size: 12px; }
svg.seq .lane line { stroke: #9aa5b1; stroke-dasharray: 4 4; }
svg.seq text.t { text-anchor: end; fill: #777; font-size: 10px; }
svg.seq text.x { fill: #555; }
svg.seq .to line { stroke: #1f5fbf; stroke-width: 1.6; } svg.seq .to path { fill: #1f5fbf; }
svg.seq .from line { stroke: #1e7b34; stroke-width: 1.6; } svg.seq .from path { fill: #1e7b34; }
svg.seq .sliced line { stroke: #c66a00; stroke-width: 2.4; stroke-dasharray: 3 2; } svg.seq .sliced path { fill: #c66a00; }
svg.seq .sliced text:not(.t):not(.x) { fill: #a15c00; font-weight: 700; }
svg.seq .ev line { stroke: #8a8f98; stroke-dasharray: 5 3; } svg.seq .ev path, svg.seq .ev circle { fill: #8a8f98; }
svg.seq .ev text:not(.t) { fill: #555; }
svg.seq .bad line { stroke: var(--fail); stroke-width: 2; } svg.seq .bad path, svg.seq .bad circle { fill: var(--fail); }
svg.seq .bad text:not(.t) { fill: var(--fail); font-weight: 700; }
svg.seq text.pause { text-anchor: end; fill: #999; font-style: italic; font-size: 10px; }
svg.seq text.more { text-anchor: start; fill: var(--muted); font-style: italic; }
svg.seq .verdict line { stroke: var(--fail); stroke-width: 2; }
svg.seq .verdict text { fill: var(--fail); font-weight: 700; }
svg.seq .verdict text:not(.t) { text-anchor: start; }
.legend { font-size: .88em; color: var(--muted); margin: 4px 0 12px; }
.legend span { margin-right: 14px; white-space: nowrap; }
.legend .to { color: #1f5fbf; } .legend .from { color: #1e7b34; } .legend .sl { color: #c66a00; font-weight: 700; }
.legend .bad { color: var(--fail); font-weight: 700; } .legend .ev { color: #8a8f98; }
.program h4 { margin: 10px 0 2px; font-size: .95em; }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            Esc(r#"<script>alert("x") & 'y'</script>"#).to_string(),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_marked_apart_from_a_printed_replacement_character() {
        let html = bytes_html(b"a\xff\xfe\xef\xbf\xbd<b>\x1b\n");
        assert_eq!(
            html,
            "a<span class=\"nb\" title=\"not UTF-8\">\\xff\\xfe</span>\u{fffd}&lt;b&gt;\\u{1b}\n"
        );
        // A right-to-left override would show `txt.exe` as `exe.txt`.
        assert_eq!(bytes_html("a\u{202e}b".as_bytes()), "a\\u{202e}b");
    }

    #[test]
    fn a_glimpse_of_binary_bytes_is_plain_ascii() {
        assert_eq!(
            glimpse(b"GET / HTTP/1.1\r\n", 40),
            r#""GET / HTTP/1.1\r\n""#
        );
        // Latin letters shown; Hebrew and a combining accent would draw over their
        // neighbours.
        assert_eq!(
            glimpse("\u{e1}\u{5d0}\u{301}".as_bytes(), 40),
            "\"\u{e1}\\u{5d0}\\u{301}\""
        );
        assert_eq!(glimpse(b"\xe1\x32", 40), r#""\xe12""#);
        assert_eq!(glimpse(b"abcdefgh", 6), "\"abcd…");
    }

    #[test]
    fn a_capture_folder_is_linked_relative_to_the_pages() {
        let (relative, _) =
            relative_dir(Path::new("/tmp/out/html"), Path::new("/tmp/out/pcap")).unwrap();
        assert_eq!(relative, Path::new("../pcap"));
        assert_eq!(
            href_of(&relative.join("my lab#1").join("message/06-binary.pcap")),
            "../pcap/my%20lab%231/message/06-binary.pcap"
        );
    }
}
