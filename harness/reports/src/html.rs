//! `--html DIR`: one self-contained page per submission.
//!
//! One submission: `DIR/index.html`. Several: `DIR/<submission>.html` each (the label made a
//! file name by [`file_name_of`]), and `DIR/index.html` listing them with their scores.
//! A page needs nothing else: its style is inline, it has no script, no font, no image;
//! transcripts are drawn as sequence diagrams in inline SVG ([`sequence`]). With `--pcap
//! DIR` each scenario links to its capture by a path relative to the page.
//!
//! The markup is in askama templates (`harness/reports/templates/`, checked when the
//! crate compiles), fed by small views the code computes: `index` the list of a batch,
//! `page` a submission's page, `sequence` a diagram. Everything a program wrote (its
//! output, the bytes it sent, even its command line) and every name a submission chose
//! (its folder's) is hostile: the templates escape every value (`markup::Escape`), but
//! for the fragments `markup::Markup` escaped as it built them.
//!
//! The page is written at the end of the run, from the collected [`RunRecord`].

mod index;
mod markup;
mod page;
mod sequence;

use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use super::{Reporter, RunRecord, file_name_of};
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
        super::new_file::folder(&self.dir)?;
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
            super::new_file::write(
                &self.dir.join(name),
                page::submission_page(&context, submission)?,
            )?;
        }
        if batch || run.submissions.is_empty() {
            super::new_file::write(
                &self.dir.join("index.html"),
                index::index_page(run, &names)?,
            )?;
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

/// A page rendered from its template, a failure to render as an I/O error of the report.
fn render(page: &impl askama::Template) -> io::Result<String> {
    page.render().map_err(io::Error::other)
}

/// `+0.012s`.
fn at(duration: Duration) -> String {
    format!("+{}s", decimal_seconds(duration, 3))
}

/// `0.31s`.
fn seconds(duration: Duration) -> String {
    format!("{}s", decimal_seconds(duration, 2))
}

/// The run's facts, as both pages list them first: seed, world, date, harness version,
/// sandbox, the peers the run chose (`templates/run_facts.html`; `None`: no run
/// information was recorded).
struct RunFacts<'a> {
    seed: u64,
    world: &'static str,
    started: String,
    harness: &'a str,
    /// What ran around the programs (a platform's container refuses layers).
    sandbox: Option<&'a str>,
    /// Who played the peers a pack lets the run choose, as the terminal's header says them.
    servers: &'a [String],
}

impl RunFacts<'_> {
    fn of(info: Option<&RunInfo>) -> Option<RunFacts<'_>> {
        let info = info?;
        let world = match info.world {
            WorldKind::Real => "real: the programs ran on this machine's loopback",
            WorldKind::Simulated => "simulated: the reference in a deterministic simulated network",
        };
        let started = if info.started_unix_ms == 0 {
            "(no wall clock: simulated runs replay byte for byte)".to_owned()
        } else {
            httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(info.started_unix_ms))
        };
        Some(RunFacts {
            seed: info.seed,
            world,
            started,
            harness: &info.harness_version,
            sandbox: info
                .sandbox
                .as_deref()
                .map(|sandbox| sandbox.strip_prefix("sandbox: ").unwrap_or(sandbox)),
            servers: &info.servers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SubmissionRecord;
    use run_record::events::{Isolation, SubmissionInfo};
    use run_record::outcome::{Outcome, ProgramReport, Status};

    /// A batch of one submission whose folder's name, problem and program output are
    /// markup, and a submission beside it.
    fn hostile_batch() -> RunRecord {
        let label = r#"class/x<script>alert("1")</script>"#;
        let mut outcome = Outcome::blank("message/01-text");
        outcome.task = "message".into();
        outcome.status = Status::Fail;
        outcome.programs = vec![ProgramReport {
            name: "server".into(),
            command_line: r#"python3 "<script>".py"#.into(),
            stdout: (br#"<script>alert("out")</script>"#.to_vec(), 29),
            ..ProgramReport::default()
        }];
        let submission =
            |label: &str, problem: Option<&str>, outcomes: Vec<Outcome>| SubmissionRecord {
                info: SubmissionInfo {
                    submission: label.into(),
                    replay_command: format!("harness --target '{label}'"),
                    scenarios: outcomes.len(),
                    not_submitted: Vec::new(),
                    not_submitted_points: Default::default(),
                    problem: problem.map(str::to_owned),
                },
                outcomes,
                repetitions: Default::default(),
                elapsed: None,
            };
        RunRecord {
            info: Some(RunInfo {
                record_version: run_record::events::RECORD_VERSION,
                harness_version: "test".into(),
                seed: 7,
                repeat: 1,
                world: WorldKind::Real,
                replay_command: format!("harness --target '{label}'"),
                submissions: vec![label.into(), "other".into()],
                jobs: 1,
                isolation: Isolation::None,
                sandbox: None,
                sandbox_not_here: Vec::new(),
                servers: vec!["\"<b>\"".into()],
                started_unix_ms: 0,
            }),
            submissions: vec![
                submission(label, None, vec![outcome]),
                submission("other", Some("<i>broken</i> \"toml\""), Vec::new()),
            ],
            elapsed: None,
        }
    }

    #[test]
    fn a_hostile_label_and_output_land_escaped_in_the_pages() {
        let dir = tempfile::tempdir().unwrap();
        let run = hostile_batch();
        HtmlReport::new(dir.path().to_owned(), None)
            .finish(&run)
            .unwrap();
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        let names = HtmlReport::page_names(&run);
        let (index, page, other) = (read("index.html"), read(&names[0]), read(&names[1]));
        for html in [&index, &page, &other] {
            assert!(!html.contains("<script"), "{html}");
            assert!(!html.contains("<b>") && !html.contains("<i>"), "{html}");
            assert!(html.contains("<dd>&quot;&lt;b&gt;&quot;</dd>"), "{html}");
        }
        let label = "class/x&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt;";
        assert!(index.contains(&format!(">{label}</a>")), "{index}");
        assert!(
            index.contains(&format!(r#"title="{label}: FAIL""#)),
            "{index}"
        );
        assert!(
            index.contains(
                "<div class=\"problem\">&lt;i&gt;broken&lt;/i&gt; &quot;toml&quot;</div>"
            ),
            "{index}"
        );
        assert!(page.contains(&format!("<title>{label}: socket-lab report</title>")));
        assert!(page.contains(&format!("<h1>{label}</h1>")), "{page}");
        assert!(
            page.contains("<pre>&lt;script&gt;alert(&quot;out&quot;)&lt;/script&gt;</pre>"),
            "{page}"
        );
        assert!(
            page.contains("<code>python3 &quot;&lt;script&gt;&quot;.py</code>"),
            "{page}"
        );
        assert!(
            other.contains("Nothing could be graded: &lt;i&gt;broken&lt;/i&gt; &quot;toml&quot;"),
            "{other}"
        );
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
