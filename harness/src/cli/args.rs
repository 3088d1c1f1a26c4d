//! The options of grading (`harness [OPTIONS] [SCENARIO]...`) and of the reports, and
//! the parsers of their values.

use super::*;

/// The headings `--help` groups the options under, in the order a newcomer needs them.
const HEADING_SUBMISSIONS: &str = "What to grade";
const HEADING_SELECTION: &str = "Which scenarios";
pub(super) const HEADING_RUNNING: &str = "How to run them";
const HEADING_SIMULATED: &str = "The simulated network (with --simulate)";
const HEADING_TERMINAL: &str = "What the terminal shows";
const HEADING_REPORTS: &str = "Report files";
const HEADING_CLASS: &str = "A class's gradebook";
const HEADING_PLATFORMS: &str = "Grading platforms (one submission per run)";

#[derive(Debug, Args)]
pub(super) struct GradeArgs {
    /// A submission folder: `submission.toml`, or programs named `<task>-<role>[.ext]`.
    /// Or one program file alone (`./message-server`, `./a.out --task message --role
    /// server`): graded on its task's scenarios that need no other program of the student's.
    /// Repeat it, or give a quoted glob (`--target 'submissions/*'`), to grade several.
    #[arg(help_heading = HEADING_SUBMISSIONS, long = "target", value_name = "DIR|FILE")]
    pub(super) targets: Vec<String>,
    /// With a program given alone as --target whose name is not `<task>-<role>[.ext]`: the
    /// role it plays (`server`, `client`; `harness list --task TASK` shows a task's roles),
    /// with its task given by --task.
    #[arg(help_heading = HEADING_SUBMISSIONS, long, value_name = "ROLE", requires = "targets")]
    pub(super) role: Option<String>,
    /// Known-good programs a manifest may name outside its submission folder, e.g. an
    /// instructor's reference client (`client = "python3 ../ref/client.py ..."`), shown to
    /// the program read-only. Repeatable; also `HARNESS_COMPANIONS` (folders separated by
    /// `:`). Never give a students' folder.
    #[arg(help_heading = HEADING_SUBMISSIONS, long = "companions", value_name = "DIR")]
    pub(super) companions: Vec<PathBuf>,
    /// Install the Python packages a submission's `requirements` file lists from the wheel
    /// files in DIR alone, never from an index (a grading machine without a network).
    /// Without it, pip's configured index (PyPI). Wheels only, either way.
    #[arg(help_heading = HEADING_SUBMISSIONS, long, value_name = "DIR")]
    pub(super) wheels: Option<PathBuf>,
    /// A requirements file for the whole class (one package a line, `requests==2.31.0`):
    /// installed once for the run, before any scenario, for every submission's programs,
    /// after the packages a submission's own `requirements` lists. A line that is not a
    /// package, or a list pip cannot install, stops the harness (exit status 2).
    #[arg(help_heading = HEADING_SUBMISSIONS, long, value_name = "FILE", requires = "targets")]
    pub(super) requirements: Option<PathBuf>,
    /// Grade the reference implementation (built on demand).
    #[arg(help_heading = HEADING_SUBMISSIONS, long, conflicts_with = "targets")]
    pub(super) reference: bool,
    /// Run the reference in the simulated network (turmoil) instead of as processes:
    /// deterministic for a seed, with short reads and writes forced inside it.
    #[arg(help_heading = HEADING_SUBMISSIONS, long, conflicts_with_all = ["targets", "reference"])]
    pub(super) simulate: bool,
    /// Only these tasks (repeatable).
    #[arg(help_heading = HEADING_SELECTION, long = "task", value_name = "TASK")]
    pub(super) tasks: Vec<String>,
    /// Scenario ids or globs: `message/03-*`, `message` (a whole task).
    #[arg(help_heading = HEADING_SELECTION, value_name = "SCENARIO")]
    pub(super) patterns: Vec<String>,
    /// Where the scenarios are (default: the kit's `scenarios/`).
    #[arg(help_heading = HEADING_SELECTION, long, value_name = "DIR")]
    pub(super) scenarios: Option<PathBuf>,
    /// Seed of every slice plan; a failure's report prints the one that replays it.
    #[arg(help_heading = HEADING_RUNNING, long)]
    pub(super) seed: Option<u64>,
    /// Submissions graded at once, or with one submission its scenarios at once (each in
    /// its own network namespace where the system allows it; on a shared loopback the
    /// ports programs hard-code are moved apart, and a static binary's fixed port makes it
    /// one at a time); with --repeat, runs of a scenario at once. `auto` (the default):
    /// four per CPU, at most 8.
    #[arg(help_heading = HEADING_RUNNING, long, short, value_name = "N", default_value = "auto", value_parser = parse_jobs)]
    pub(super) jobs: Jobs,
    /// Run each selected scenario N times, with the seeds S, S+1, ... (S the run's
    /// seed; `--seed` with one of them replays that run), and report every scenario whose
    /// verdict changed as FLAKY, with the seeds that passed and failed. A flaky scenario
    /// counts as failed.
    #[arg(help_heading = HEADING_RUNNING, long, value_name = "N", default_value_t = 1, value_parser = parse_repeat)]
    pub(super) repeat: u32,
    /// The memory a program and everything it forks may use together (a memory cgroup
    /// per program, where the system allows one): `1G` (the default), `512M`, `2G`. Past
    /// it the kernel kills a process of the program, and the report says so.
    #[arg(help_heading = HEADING_RUNNING, long, value_name = "SIZE", value_parser = parse_memory_limit)]
    pub(super) memory_limit: Option<u64>,
    /// The protocol packs' run-wide choices (`--mysql`), one flag per pack setting of the
    /// registry.
    #[command(flatten)]
    pub(super) pack_settings: PackFlags,
    /// With --simulate: the most bytes each read or write of the reference moves, drawn
    /// per call from the seed: `1` (every call moves one byte), `1-1500` (the default),
    /// or `off` (whole writes, as the simulated network delivers them).
    #[arg(help_heading = HEADING_SIMULATED, long, value_name = "SIZE", requires = "simulate", value_parser = parse_short_io)]
    pub(super) short_io: Option<ShortIo>,
    /// With --simulate: the fraction (0 to 1) of the datagrams the reference sends that are
    /// lost, drawn from the seed.
    #[arg(help_heading = HEADING_SIMULATED, long, value_name = "FRACTION", requires = "simulate", value_parser = parse_fraction)]
    pub(super) loss: Option<f64>,
    /// With --simulate: the fraction of the reference's datagrams delivered twice.
    #[arg(help_heading = HEADING_SIMULATED, long, value_name = "FRACTION", requires = "simulate", value_parser = parse_fraction)]
    pub(super) duplicate: Option<f64>,
    /// With --simulate: the fraction of the reference's datagrams held back and delivered
    /// after the next one.
    #[arg(help_heading = HEADING_SIMULATED, long, value_name = "FRACTION", requires = "simulate", value_parser = parse_fraction)]
    pub(super) reorder: Option<f64>,
    /// With --simulate: the one-way latency of every link, in milliseconds (default 1).
    #[arg(help_heading = HEADING_SIMULATED, long, value_name = "MS", requires = "simulate")]
    pub(super) latency: Option<u64>,
    #[command(flatten)]
    pub(super) output: OutputArgs,
}

/// What to write besides the terminal report (grading and `replay` alike).
#[derive(Debug, Args)]
pub(super) struct OutputArgs {
    /// Print only the closing lines.
    #[arg(help_heading = HEADING_TERMINAL, long, short, conflicts_with = "verbose")]
    pub(super) quiet: bool,
    /// Show the step log, transcript and output of every scenario, not only of failures.
    #[arg(help_heading = HEADING_TERMINAL, long, short)]
    pub(super) verbose: bool,
    /// For each failure, say what the clause asks in plain words, with a hint.
    #[arg(help_heading = HEADING_TERMINAL, long)]
    pub(super) explain: bool,
    /// Write the results as JSON (schema: `harness/schema/report.schema.json`).
    #[arg(help_heading = HEADING_REPORTS, long, value_name = "FILE")]
    pub(super) json: Option<PathBuf>,
    /// Write JUnit XML: one testsuite per task, one testcase per scenario.
    #[arg(help_heading = HEADING_REPORTS, long, value_name = "FILE")]
    pub(super) junit: Option<PathBuf>,
    /// Write an HTML page per submission into DIR, transcripts drawn as sequence diagrams.
    #[arg(help_heading = HEADING_REPORTS, long, value_name = "DIR")]
    pub(super) html: Option<PathBuf>,
    /// Write one packet capture per scenario into DIR (`<task>/<name>.pcap`; a folder per
    /// submission when grading several).
    #[arg(help_heading = HEADING_REPORTS, long, value_name = "DIR")]
    pub(super) pcap: Option<PathBuf>,
    /// Record every event of the run (JSON lines), for `harness replay`.
    #[arg(help_heading = HEADING_REPORTS, long, value_name = "FILE")]
    pub(super) record: Option<PathBuf>,
    /// Write a CSV gradebook: one row per submission (named by its folder), per-task and
    /// total points, out of one maximum.
    #[arg(help_heading = HEADING_CLASS, long, value_name = "FILE")]
    pub(super) gradebook: Option<PathBuf>,
    /// With --gradebook FILE.csv: a CSV of the class (a `folder` column, and the students'
    /// Canvas or Moodle ids: `Student`, `ID`, `SIS User ID`, `SIS Login ID`, `Section`,
    /// `Email`, `Username`, `ID number`); writes FILE.canvas.csv and FILE.moodle.csv,
    /// which Canvas's and Moodle's grade imports take as they are.
    #[arg(help_heading = HEADING_CLASS, long, value_name = "ROSTER.csv", requires = "gradebook")]
    pub(super) roster: Option<PathBuf>,
    /// With --roster: the assignment's column in the Canvas and Moodle files.
    #[arg(
        help_heading = HEADING_CLASS,
        long,
        value_name = "NAME",
        default_value = "Socket lab",
        requires = "roster"
    )]
    pub(super) assignment: String,
    /// Write Gradescope's `results.json` (one submission).
    #[arg(help_heading = HEADING_PLATFORMS, long, value_name = "FILE")]
    pub(super) gradescope: Option<PathBuf>,
    /// With --gradescope: when Gradescope shows the tests a rule selects, as
    /// SELECTOR=VISIBILITY. SELECTOR: a category (`security`), a task (`message`) or a
    /// scenario id glob (`'web-server/08*'`); VISIBILITY: hidden, after_due_date,
    /// after_published or visible. Repeatable; the last matching rule wins, over the
    /// scenario file's `visibility`.
    #[arg(
        help_heading = HEADING_PLATFORMS,
        long = "gradescope-visibility",
        value_name = "RULE",
        requires = "gradescope",
        value_parser = VisibilityRule::parse
    )]
    pub(super) gradescope_visibility: Vec<VisibilityRule>,
    /// Write PrairieLearn's external-grader `results.json` (one submission), even when the
    /// submission cannot be graded (`gradable: false`, with why).
    #[arg(help_heading = HEADING_PLATFORMS, long, value_name = "FILE")]
    pub(super) prairielearn: Option<PathBuf>,
    /// Write a GitHub Classroom test runner's result (one submission), the JSON that
    /// `autograding-grading-reporter` reads base64-encoded from a step output `result`.
    #[arg(help_heading = HEADING_PLATFORMS, long = "github-classroom", value_name = "FILE")]
    pub(super) github_classroom: Option<PathBuf>,
}

/// A `--repeat` count: at least 1.
pub(super) fn parse_repeat(text: &str) -> std::result::Result<u32, String> {
    match text.parse::<u32>() {
        Ok(0) => Err(
            "--repeat 0 would run nothing: give how many times to run each scenario (1 or more)"
                .into(),
        ),
        Ok(times) => Ok(times),
        Err(_) => Err(format!("`{text}` is not a number of runs (like 50)")),
    }
}

/// A memory size: `1G`, `512M`, `65536K`, or bytes; from 16 MiB to 64 GiB.
pub(super) fn parse_memory_limit(text: &str) -> std::result::Result<u64, String> {
    let trimmed = text.trim();
    let (number, unit) = match trimmed.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => trimmed.split_at(at),
        None => (trimmed, ""),
    };
    let shift = match unit
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => {
            return Err(format!(
                "`{text}` is not a memory size: give one like 1G or 512M"
            ));
        }
    };
    let bytes = number
        .parse::<u64>()
        .ok()
        .and_then(|number| number.checked_mul(1 << shift))
        .ok_or_else(|| format!("`{text}` is not a memory size: give one like 1G or 512M"))?;
    if !(16 << 20..=64 << 30).contains(&bytes) {
        return Err(format!("`{text}`: a memory limit must be from 16M to 64G"));
    }
    Ok(bytes)
}

/// How many things at once `--jobs` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Jobs {
    /// As many as suit this machine ([`Jobs::count`]).
    Auto,
    /// Exactly this many (1 to 64).
    Exactly(u16),
}

/// At most this many at once when `--jobs` is `auto`.
const AUTO_JOBS_AT_MOST: usize = 8;

impl Jobs {
    /// The number of jobs. `auto`: four per CPU, at most [`AUTO_JOBS_AT_MOST`], since a
    /// scenario mostly waits (for a program to start, answer, time out: the good sample
    /// submission's 166 scenarios, eight at a time on 2 cores, keep under half of the CPU
    /// time busy). On a shared loopback too: the ports programs hard-code are moved by the
    /// interposed library, and where it cannot move them (a static binary) the grading
    /// runs one at a time by itself (`batch`, `grading`).
    pub(super) fn count(self) -> usize {
        match self {
            Jobs::Exactly(jobs) => usize::from(jobs),
            Jobs::Auto => {
                let cpus = std::thread::available_parallelism().map_or(1, |cpus| cpus.get());
                (4 * cpus).clamp(1, AUTO_JOBS_AT_MOST)
            }
        }
    }
}

/// `auto` or a number of jobs from 1 to 64.
pub(super) fn parse_jobs(text: &str) -> std::result::Result<Jobs, String> {
    if text == "auto" {
        return Ok(Jobs::Auto);
    }
    match text.parse::<u16>() {
        Ok(jobs @ 1..=64) => Ok(Jobs::Exactly(jobs)),
        _ => Err(format!(
            "`{text}` is not a number of jobs: give 1 to 64, or `auto`"
        )),
    }
}

/// A probability, from 0 to 1.
pub(super) fn parse_fraction(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(fraction) if (0.0..=1.0).contains(&fraction) => Ok(fraction),
        _ => Err(format!("`{text}` is not a fraction from 0 to 1 (like 0.3)")),
    }
}

/// A `--short-io` value: the plan, and the text that replays it.
#[derive(Debug, Clone)]
pub(super) struct ShortIo {
    pub(super) plan: Option<SlicePlan>,
    pub(super) text: String,
}

pub(super) fn parse_short_io(text: &str) -> std::result::Result<ShortIo, String> {
    let number = |word: &str| {
        word.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{word}` is not a number of bytes"))
    };
    let plan = if text == "off" {
        None
    } else {
        let size = match text.split_once('-') {
            Some((low, high)) => Range::Between([number(low)?, number(high)?]),
            None => Range::Exactly(number(text)?),
        };
        let plan = SlicePlan {
            size,
            gap_ms: Range::Exactly(0),
        };
        plan.validate()?;
        Some(plan)
    };
    Ok(ShortIo {
        plan,
        text: text.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_limits_are_sizes_with_units() {
        assert_eq!(parse_memory_limit("1G"), Ok(1 << 30));
        assert_eq!(parse_memory_limit("512M"), Ok(512 << 20));
        assert_eq!(parse_memory_limit("2GiB"), Ok(2 << 30));
        assert_eq!(parse_memory_limit("65536k"), Ok(64 << 20));
        for wrong in ["", "G", "1T", "-1G", "1.5G", "8M", "100G"] {
            assert!(parse_memory_limit(wrong).is_err(), "{wrong} was taken");
        }
    }

    #[test]
    fn jobs_are_auto_or_one_to_sixty_four() {
        assert_eq!(parse_jobs("auto"), Ok(Jobs::Auto));
        assert_eq!(parse_jobs("1"), Ok(Jobs::Exactly(1)));
        assert_eq!(parse_jobs("64"), Ok(Jobs::Exactly(64)));
        for wrong in ["0", "65", "-1", "two", ""] {
            let error = parse_jobs(wrong).unwrap_err();
            assert!(error.contains("1 to 64, or `auto`"), "{wrong}: {error}");
        }
    }

    #[test]
    fn auto_jobs_are_four_per_cpu_at_most_eight() {
        let cpus = std::thread::available_parallelism().map_or(1, |cpus| cpus.get());
        assert_eq!(Jobs::Auto.count(), (4 * cpus).min(AUTO_JOBS_AT_MOST));
        assert_eq!(Jobs::Exactly(3).count(), 3);
    }
}
