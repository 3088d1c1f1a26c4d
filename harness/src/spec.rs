//! The contract (`scenarios/SPEC.md`): every task's command lines and clauses, read from
//! the page a reader reads, so the page is the one source of truth.
//!
//! The page is Markdown with a fixed shape where it matters:
//!
//! ```markdown
//! ### upper-tcp, upper-udp            a task section: the tasks it covers, comma-separated
//!
//! Command lines:
//!
//! - `upper-tcp-server {port}`         a command line: a list item starting with a backtick
//!
//! Clauses:
//!
//! - **upper/1** Only the ASCII ...    a clause: a list item starting with its id in bold,
//!   continued on lines indented         its text continued on lines indented by two spaces
//!   by two spaces.
//!
//! ## Lab questions the kit answers by experiment
//!
//! 1. What happens to a TCP ...        a lab question, numbered
//! ```
//!
//! Everything else (the introduction, the conventions, a `##` section's title) is prose
//! for the reader. The reader checks what a page could get wrong silently: a clause outside
//! a task section, an id given twice, ids of one prefix not numbered 1, 2, 3... in order,
//! a list item in a task section that is neither a command line nor a clause.

use std::collections::BTreeMap;
use std::path::Path;

use crate::{Error, Result};

/// The page's name inside the scenarios folder.
pub const FILE: &str = "SPEC.md";

/// The heading of the lab questions' section.
const QUESTIONS_HEADING: &str = "Lab questions the kit answers by experiment";

/// The whole contract.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    /// The task sections, in page order.
    pub sections: Vec<Section>,
    /// The lab questions, numbered from 1, their Markdown text.
    pub questions: Vec<String>,
}

/// One task section (`### message`), or one shared by tasks (`### upper-tcp, upper-udp`).
#[derive(Debug, Clone, Default)]
pub struct Section {
    /// The tasks it covers.
    pub tasks: Vec<String>,
    /// Its anchor on the page (`upper-tcp-upper-udp`), as GitHub makes it.
    pub anchor: String,
    /// Its command lines, Markdown (`` `message-server {port}` ``, with any remark after).
    pub commands: Vec<String>,
    /// Its clauses, in page order.
    pub clauses: Vec<Clause>,
}

/// One clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// `message/3`.
    pub id: String,
    /// What it asks, Markdown, on one line.
    pub text: String,
}

impl Spec {
    /// Reads the page.
    pub fn load(path: &Path) -> Result<Spec> {
        let text = std::fs::read_to_string(path)
            .map_err(Error::io(format!("cannot read {}", path.display())))?;
        Spec::parse(&text).map_err(|(line, reason)| Error::BadFile {
            path: path.to_owned(),
            line,
            reason,
        })
    }

    /// Reads the page's text; an error is its 1-based line and what is wrong there.
    pub fn parse(text: &str) -> Result<Spec, (usize, String)> {
        let mut parser = PageReader::default();
        for (index, line) in text.lines().enumerate() {
            parser.line(index + 1, line)?;
        }
        parser.finish()
    }

    /// The section covering `task`.
    pub fn section_of(&self, task: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|section| section.tasks.iter().any(|name| name == task))
    }

    /// Every clause of the page, in page order, with its section.
    pub fn clauses(&self) -> impl Iterator<Item = (&Section, &Clause)> {
        self.sections
            .iter()
            .flat_map(|section| section.clauses.iter().map(move |clause| (section, clause)))
    }

    /// The clause with this id.
    pub fn clause(&self, id: &str) -> Option<&Clause> {
        self.clauses()
            .map(|(_, clause)| clause)
            .find(|clause| clause.id == id)
    }
}

/// Where the parser is on the page.
#[derive(Debug, Default)]
struct PageReader {
    spec: Spec,
    /// Inside a task section (the last of `spec.sections`).
    in_task: bool,
    /// Inside the lab questions' section.
    in_questions: bool,
    /// The list item being read, continued by indented lines.
    open: Option<OpenItem>,
    /// The last number of each clause prefix (`message` -> 9), to check the order.
    numbers: BTreeMap<String, u32>,
}

#[derive(Debug)]
enum OpenItem {
    Command,
    Clause,
    Question,
    /// A list item of the prose: read past.
    Prose,
}

impl PageReader {
    fn line(&mut self, number: usize, line: &str) -> Result<(), (usize, String)> {
        let fail = |reason: String| Err((number, reason));
        // A continuation of the open item: indented, not blank.
        if let Some(item) = &self.open
            && line.starts_with("  ")
            && !line.trim().is_empty()
        {
            let more = line.trim();
            match item {
                OpenItem::Command => push_words(self.last_section().commands.last_mut(), more),
                OpenItem::Clause => push_words(
                    self.last_section().clauses.last_mut().map(|c| &mut c.text),
                    more,
                ),
                OpenItem::Question => push_words(self.spec.questions.last_mut(), more),
                OpenItem::Prose => {}
            }
            return Ok(());
        }
        self.open = None;
        if let Some(heading) = line.strip_prefix("### ") {
            return self.task_heading(number, heading);
        }
        if let Some(heading) = line.strip_prefix("## ") {
            self.in_task = false;
            self.in_questions = heading.trim() == QUESTIONS_HEADING;
            return Ok(());
        }
        if line.starts_with("# ") {
            self.in_task = false;
            self.in_questions = false;
            return Ok(());
        }
        if let Some(item) = line.strip_prefix("- ") {
            let clause = parse_clause(item);
            if !self.in_task {
                if clause.is_some() {
                    return fail("a clause outside a task section (`### task`)".into());
                }
                self.open = Some(OpenItem::Prose);
                return Ok(());
            }
            if item.starts_with('`') {
                self.last_section().commands.push(item.trim().to_owned());
                self.open = Some(OpenItem::Command);
                return Ok(());
            }
            let Some((id, text)) = clause else {
                return fail(format!(
                    "a list item of a task section is a command line (- `...`) or a clause \
                     (- **task/N** ...), not `- {}`",
                    item.chars().take(30).collect::<String>()
                ));
            };
            self.clause(id, text).or_else(fail)?;
            self.open = Some(OpenItem::Clause);
            return Ok(());
        }
        if self.in_questions
            && let Some((digits, text)) = line.split_once(". ")
            && let Ok(question) = digits.parse::<usize>()
        {
            let expected = self.spec.questions.len() + 1;
            if question != expected {
                return fail(format!("question {question} where {expected} is due"));
            }
            self.spec.questions.push(text.trim().to_owned());
            self.open = Some(OpenItem::Question);
        }
        Ok(())
    }

    fn task_heading(&mut self, number: usize, heading: &str) -> Result<(), (usize, String)> {
        let tasks: Vec<String> = heading.split(',').map(|t| t.trim().to_owned()).collect();
        if let Some(bad) = tasks.iter().find(|task| !is_task_name(task)) {
            return Err((
                number,
                format!(
                    "`### {heading}`: a task section's heading names its tasks, \
                     comma-separated (`### upper-tcp, upper-udp`), not `{bad}`"
                ),
            ));
        }
        if let Some(task) = tasks
            .iter()
            .find(|task| self.spec.section_of(task).is_some())
        {
            return Err((number, format!("task `{task}` has a section already")));
        }
        self.spec.sections.push(Section {
            anchor: anchor(heading),
            tasks,
            ..Section::default()
        });
        self.in_task = true;
        self.in_questions = false;
        Ok(())
    }

    fn clause(&mut self, id: &str, text: &str) -> Result<(), String> {
        if self.spec.clause(id).is_some() {
            return Err(format!("clause `{id}` is defined twice"));
        }
        let (prefix, number) = id.split_once('/').unwrap_or_default();
        let number: u32 = number.parse().unwrap_or_default();
        let last = self.numbers.entry(prefix.to_owned()).or_default();
        if number != *last + 1 {
            return Err(format!(
                "clause `{id}` where `{prefix}/{}` is due (a prefix's clauses are numbered \
                 1, 2, 3... in page order)",
                *last + 1
            ));
        }
        *last = number;
        self.last_section().clauses.push(Clause {
            id: id.to_owned(),
            text: text.trim().to_owned(),
        });
        Ok(())
    }

    fn last_section(&mut self) -> &mut Section {
        self.spec
            .sections
            .last_mut()
            .expect("a task section is open")
    }

    fn finish(self) -> Result<Spec, (usize, String)> {
        if let Some(section) = self
            .spec
            .sections
            .iter()
            .find(|section| section.clauses.is_empty() || section.commands.is_empty())
        {
            return Err((
                0,
                format!(
                    "the section of `{}` needs its command lines and its clauses",
                    section.tasks.join(", ")
                ),
            ));
        }
        Ok(self.spec)
    }
}

/// Appends a continuation line's words to an item's text.
fn push_words(text: Option<&mut String>, more: &str) {
    if let Some(text) = text {
        text.push(' ');
        text.push_str(more);
    }
}

/// `**message/3** text` -> (`message/3`, `text`).
fn parse_clause(item: &str) -> Option<(&str, &str)> {
    let rest = item.strip_prefix("**")?;
    let (id, text) = rest.split_once("** ")?;
    let (prefix, number) = id.split_once('/')?;
    let prefix_ok = !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_lowercase());
    let number_ok = !number.is_empty()
        && !number.starts_with('0')
        && number.bytes().all(|b| b.is_ascii_digit());
    (prefix_ok && number_ok).then_some((id, text))
}

/// A task's name: lowercase words joined by `-` (`web-server`, `pop3-fetch`).
fn is_task_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// A heading's anchor as GitHub makes it: lowercase, every character but letters, digits,
/// `-`, `_` and spaces left out, spaces made `-` (`## 1. Stream basics` -> `1-stream-basics`).
pub fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Markdown as text for a terminal: code spans stay as they are, backticks included (they
/// tell `error:` from the words around it); emphasis marks (`*`, `**`) outside code are
/// left out.
pub fn plain(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    let mut in_code = false;
    for c in markdown.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                text.push(c);
            }
            '*' if !in_code => {}
            c => text.push(c),
        }
    }
    text
}

/// `text` cut into lines of at most `width` characters (a longer word stands alone).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "\
# The contract

- **000**: a handout, prose.

## 1. Stream basics

### upper-tcp, upper-udp

Command lines:

- `upper-tcp-server {port}`
- `upper-tcp-client {host} {port}` (one line
  on stdin)

Clauses:

- **upper/1** Only `a`-`z` change,
  *(decided)*.
- **upper/2** Forever.

## Lab questions the kit answers by experiment

1. A TCP client
   before its server?
2. A UDP one?
";

    #[test]
    fn a_page_gives_its_sections_clauses_and_questions() {
        let spec = Spec::parse(PAGE).unwrap();
        assert_eq!(spec.sections.len(), 1);
        let section = spec.section_of("upper-udp").unwrap();
        assert_eq!(section.tasks, ["upper-tcp", "upper-udp"]);
        assert_eq!(section.anchor, "upper-tcp-upper-udp");
        assert_eq!(
            section.commands,
            [
                "`upper-tcp-server {port}`",
                "`upper-tcp-client {host} {port}` (one line on stdin)"
            ]
        );
        assert_eq!(
            spec.clause("upper/1").unwrap().text,
            "Only `a`-`z` change, *(decided)*."
        );
        assert_eq!(spec.clauses().count(), 2);
        assert_eq!(
            spec.questions,
            ["A TCP client before its server?", "A UDP one?"]
        );
    }

    #[test]
    fn a_page_that_could_mislead_is_refused_with_its_line() {
        // (what is replaced, by what, the line of the error, what it says)
        let cases = [
            (
                "**upper/2**",
                "**upper/1**",
                19,
                "clause `upper/1` is defined twice",
            ),
            (
                "**upper/2**",
                "**upper/3**",
                19,
                "clause `upper/3` where `upper/2` is due",
            ),
            (
                "- **000**:",
                "- **message/1**",
                3,
                "a clause outside a task section",
            ),
            (
                "- **upper/2** F",
                "- upper/2 F",
                19,
                "a list item of a task section is",
            ),
            (
                "### upper-tcp, upper-udp",
                "### `upper-tcp`",
                7,
                "heading names its tasks",
            ),
            ("2. A UDP", "3. A UDP", 25, "question 3 where 2 is due"),
        ];
        for (old, new, line, reason) in cases {
            let (at, error) = Spec::parse(&PAGE.replace(old, new)).unwrap_err();
            assert_eq!(at, line, "{error}");
            assert!(error.contains(reason), "{error}");
        }
    }

    #[test]
    fn anchors_are_githubs() {
        assert_eq!(anchor("1. Stream basics"), "1-stream-basics");
        assert_eq!(
            anchor("How the harness finds a submission's programs"),
            "how-the-harness-finds-a-submissions-programs"
        );
        assert_eq!(
            anchor("`--pcap DIR`: packet captures"),
            "--pcap-dir-packet-captures"
        );
    }

    #[test]
    fn plain_text_keeps_code_and_drops_emphasis() {
        assert_eq!(
            plain("`+ - * / % **` and `9**9**9` *(decided)*, **bold**"),
            "`+ - * / % **` and `9**9**9` (decided), bold"
        );
    }

    #[test]
    fn wrapping_keeps_every_word_in_order() {
        assert_eq!(wrap("one two three four", 9), ["one two", "three", "four"]);
        assert_eq!(wrap("averyverylongword x", 4), ["averyverylongword", "x"]);
    }
}
