//! The command line: parse, load, grade, print. Thin on purpose: the work is in the
//! library's rooms.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::{Args, Parser, Subcommand};

use crate::batch::Entry;
use crate::faults::{Range, SlicePlan};
use crate::grading::Mode;
use crate::questions::Worlds;
use crate::repeat::Repeat;
use crate::report::capture::CaptureReport;
use crate::report::gradescope::VisibilityRule;
use crate::report::html::HtmlReport;
use crate::report::{Console, Recorder, Reporters, Style, TerminalReport, Verbosity};
use crate::report::{classroom, gradebook, gradescope, json, junit, prairielearn};
use crate::scenario::{Selection, Suite, load_suite};
use crate::target::Target;
use crate::world::real::cleanup;
use crate::world::sim::SimOptions;
use crate::{EXIT_FAIL, EXIT_HARNESS_ERROR, EXIT_PASS, Error, Result};

/// Plays the lab scenarios against a submission (or the reference) over real sockets.
///
/// Exit status: 0 every scenario passed, 1 some failed, 2 the harness could not run.
#[derive(Debug, Parser)]
#[command(name = "harness", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Commands>,
    #[command(flatten)]
    grade: GradeArgs,
}

#[derive(Debug, Subcommand)]
enum Commands {
    /// List every task, scenario id and the clauses it checks.
    List {
        /// Only these tasks.
        #[arg(long = "task", value_name = "TASK")]
        tasks: Vec<String>,
        /// Where the scenarios are (default: the kit's `scenarios/`).
        #[arg(long, value_name = "DIR")]
        scenarios: Option<PathBuf>,
    },
    /// Report a recorded run (`--record FILE`) again, into any report, without running
    /// anything.
    Replay {
        /// The recording.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        // Boxed: the outputs' flags outweigh every other subcommand's.
        #[command(flatten)]
        output: Box<OutputArgs>,
    },
    /// Answer the handouts' lab questions by running each experiment, on loopback and in
    /// the simulated network.
    Questions {
        /// Only these questions (1-8, repeatable).
        #[arg(long = "question", value_name = "N", value_parser = clap::value_parser!(u8).range(1..=8))]
        numbers: Vec<u8>,
        /// Which worlds to run the experiments in.
        #[arg(long, value_enum, default_value_t = WorldsArg::Both)]
        world: WorldsArg,
        /// Seed of the simulated runs and of the pinger's losses.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write each experiment's packet capture (`q<N>-loopback.pcap`, `q<N>-simulated.pcap`).
        #[arg(long, value_name = "DIR")]
        pcap: Option<PathBuf>,
    },
    /// Print the JSON Schema of scenario files (the kit keeps it in
    /// `harness/schema/scenario.schema.json`).
    Schema,
    /// Time 20 KB and 100 MB through message client and server as whole processes: the
    /// reference (a release build), a submission's with --target, and nc and socat where
    /// installed, side by side in one run.
    Bench {
        /// A submission folder whose message programs to bench beside the reference.
        #[arg(long, value_name = "DIR")]
        target: Option<PathBuf>,
        /// Bench the reference (it always is; the flag says so explicitly).
        #[arg(long)]
        reference: bool,
        /// Rounds per subject and size (the table gives the median).
        #[arg(long, value_name = "N", default_value_t = 7, value_parser = clap::value_parser!(u16).range(1..=1000))]
        rounds: u16,
        /// 20 KB and 1 MB, 3 rounds: proves the bench runs (CI), measures little.
        #[arg(long)]
        quick: bool,
    },
}

/// `--world` of `harness questions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum WorldsArg {
    /// This machine's loopback.
    Real,
    /// The simulated network.
    Simulated,
    /// Both.
    Both,
}

#[derive(Debug, Args)]
struct GradeArgs {
    /// A submission folder: `submission.toml`, or programs named `<task>-<role>[.ext]`.
    /// Repeat it, or give a quoted glob (`--target 'submissions/*'`), to grade several.
    #[arg(long = "target", value_name = "DIR")]
    targets: Vec<String>,
    /// Grade the reference implementation (built on demand).
    #[arg(long, conflicts_with = "targets")]
    reference: bool,
    /// Run the reference in the simulated network (turmoil) instead of as processes:
    /// deterministic for a seed, with short reads and writes forced inside it.
    #[arg(long, conflicts_with_all = ["targets", "reference"])]
    simulate: bool,
    /// With --simulate: the most bytes each read or write of the reference moves, drawn
    /// per call from the seed: `1` (every call moves one byte), `1-1500` (the default),
    /// or `off` (whole writes, as the simulated network delivers them).
    #[arg(long, value_name = "SIZE", requires = "simulate", value_parser = parse_short_io)]
    short_io: Option<ShortIo>,
    /// With --simulate: the fraction (0 to 1) of the datagrams the reference sends that are
    /// lost, drawn from the seed.
    #[arg(long, value_name = "FRACTION", requires = "simulate", value_parser = parse_fraction)]
    loss: Option<f64>,
    /// With --simulate: the fraction of the reference's datagrams delivered twice.
    #[arg(long, value_name = "FRACTION", requires = "simulate", value_parser = parse_fraction)]
    duplicate: Option<f64>,
    /// With --simulate: the fraction of the reference's datagrams held back and delivered
    /// after the next one.
    #[arg(long, value_name = "FRACTION", requires = "simulate", value_parser = parse_fraction)]
    reorder: Option<f64>,
    /// With --simulate: the one-way latency of every link, in milliseconds (default 1).
    #[arg(long, value_name = "MS", requires = "simulate")]
    latency: Option<u64>,
    /// Only these tasks (repeatable).
    #[arg(long = "task", value_name = "TASK")]
    tasks: Vec<String>,
    /// Seed of every slice plan; a failure's report prints the one that replays it.
    #[arg(long)]
    seed: Option<u64>,
    /// Where the scenarios are (default: the kit's `scenarios/`).
    #[arg(long, value_name = "DIR")]
    scenarios: Option<PathBuf>,
    /// Submissions graded at once, or with one submission its scenarios at once (each in
    /// its own network namespace where the system allows it; on a shared loopback one at a
    /// time); with --repeat, runs of a scenario at once.
    #[arg(long, short, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
    /// Run each selected scenario N times, with the seeds S, S+1, ... (S the run's
    /// seed; `--seed` with one of them replays that run), and report every scenario whose
    /// verdict changed as FLAKY, with the seeds that passed and failed. A flaky scenario
    /// counts as failed.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = parse_repeat)]
    repeat: u32,
    #[command(flatten)]
    output: OutputArgs,
    /// Scenario ids or globs: `message/03-*`, `message` (a whole task).
    #[arg(value_name = "SCENARIO")]
    patterns: Vec<String>,
}

/// What to write besides the terminal report (grading and `replay` alike).
#[derive(Debug, Args)]
struct OutputArgs {
    /// Write one packet capture per scenario into DIR (`<task>/<name>.pcap`; a folder per
    /// submission when grading several).
    #[arg(long, value_name = "DIR")]
    pcap: Option<PathBuf>,
    /// Write the results as JSON (schema: `harness/schema/report.schema.json`).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write JUnit XML: one testsuite per task, one testcase per scenario.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write Gradescope's `results.json` (one submission).
    #[arg(long, value_name = "FILE")]
    gradescope: Option<PathBuf>,
    /// With --gradescope: when Gradescope shows the tests a rule selects, as
    /// SELECTOR=VISIBILITY. SELECTOR: a category (`security`), a task (`message`) or a
    /// scenario id glob (`'web-server/08*'`); VISIBILITY: hidden, after_due_date,
    /// after_published or visible. Repeatable; the last matching rule wins, over the
    /// scenario file's `visibility`.
    #[arg(
        long = "gradescope-visibility",
        value_name = "RULE",
        requires = "gradescope",
        value_parser = VisibilityRule::parse
    )]
    gradescope_visibility: Vec<VisibilityRule>,
    /// Write PrairieLearn's external-grader `results.json` (one submission), even when the
    /// submission cannot be graded (`gradable: false`, with why).
    #[arg(long, value_name = "FILE")]
    prairielearn: Option<PathBuf>,
    /// Write a GitHub Classroom test runner's result (one submission), the JSON that
    /// `autograding-grading-reporter` reads base64-encoded from a step output `result`.
    #[arg(long = "github-classroom", value_name = "FILE")]
    github_classroom: Option<PathBuf>,
    /// Write an HTML page per submission into DIR, transcripts drawn as sequence diagrams.
    #[arg(long, value_name = "DIR")]
    html: Option<PathBuf>,
    /// Write a CSV gradebook: one row per submission, per-task and total points.
    #[arg(long, value_name = "FILE")]
    gradebook: Option<PathBuf>,
    /// Record every event of the run (JSON lines), for `harness replay`.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Print only the closing lines.
    #[arg(long, short, conflicts_with = "verbose")]
    quiet: bool,
    /// Show the step log, transcript and output of every scenario, not only of failures.
    #[arg(long, short)]
    verbose: bool,
    /// For each failure, say what the clause asks in plain words, with a hint.
    #[arg(long)]
    explain: bool,
}

/// Runs the command line; returns the exit status.
pub fn main_with_args(args: impl IntoIterator<Item = String>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                EXIT_HARNESS_ERROR
            } else {
                EXIT_PASS
            };
        }
    };
    cleanup::install_hooks();
    let result = match cli.command {
        Some(Commands::List { tasks, scenarios }) => list(scenarios.as_deref(), &tasks),
        Some(Commands::Replay { file, output }) => replay(&file, &output),
        Some(Commands::Questions {
            numbers,
            world,
            seed,
            pcap,
        }) => questions(&numbers, world, seed, pcap.as_deref()),
        Some(Commands::Schema) => {
            print!("{}", crate::scenario::scenario_schema_text());
            Ok(EXIT_PASS)
        }
        Some(Commands::Bench {
            target,
            reference: _,
            rounds,
            quick,
        }) => bench(target.as_deref(), usize::from(rounds), quick),
        None => grade(&cli.grade),
    };
    match result {
        Ok(status) => status,
        Err(error) => {
            eprintln!("harness: {error}");
            EXIT_HARNESS_ERROR
        }
    }
}

/// The kit's `scenarios/`: the given one, `./scenarios`, or the one beside this crate.
fn scenarios_dir(given: Option<&Path>) -> PathBuf {
    if let Some(dir) = given {
        return dir.to_owned();
    }
    let local = PathBuf::from("scenarios");
    if local.join("tasks.toml").is_file() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("scenarios")
}

fn load(given: Option<&Path>, tasks: &[String]) -> Result<Suite> {
    let dir = scenarios_dir(given);
    if !dir.join("tasks.toml").is_file() {
        return Err(Error::Usage(format!(
            "no scenarios at {} (tasks.toml is missing)",
            dir.display()
        )));
    }
    let suite = load_suite(&dir)?;
    for task in tasks {
        if !suite.catalogue.tasks.contains_key(task) {
            let known: Vec<&str> = suite.catalogue.tasks.keys().map(String::as_str).collect();
            return Err(Error::Usage(format!(
                "unknown task `{task}` (tasks: {})",
                known.join(", ")
            )));
        }
    }
    Ok(suite)
}

fn list(scenarios: Option<&Path>, tasks: &[String]) -> Result<i32> {
    let suite = load(scenarios, tasks)?;
    let mut out = String::new();
    for (task, info) in &suite.catalogue.tasks {
        if !tasks.is_empty() && !tasks.contains(task) {
            continue;
        }
        let roles: Vec<String> = info
            .roles
            .iter()
            .map(|(role, args)| {
                format!("{} {args}", info.program_name(task, role))
                    .trim_end()
                    .to_owned()
            })
            .collect();
        out += &format!("{task}: {} ({})\n", info.title, roles.join(" · "));
        let of_task: Vec<_> = suite
            .scenarios
            .iter()
            .filter(|scenario| &scenario.task == task)
            .collect();
        if of_task.is_empty() {
            out += "  (no scenarios yet)\n";
        }
        for scenario in of_task {
            out += &format!(
                "  {:<36} {:<24} {:<12} {}\n",
                scenario.id,
                scenario.clauses.join(" "),
                format!("{} {}pt", scenario.category.name(), scenario.points),
                scenario.requirement.lines().next().unwrap_or("")
            );
        }
    }
    print!("{out}");
    Ok(EXIT_PASS)
}

fn questions(numbers: &[u8], world: WorldsArg, seed: u64, pcap: Option<&Path>) -> Result<i32> {
    let worlds = match world {
        WorldsArg::Real => Worlds::Real,
        WorldsArg::Simulated => Worlds::Simulated,
        WorldsArg::Both => Worlds::Both,
    };
    let answers = crate::questions::answer(numbers, worlds, seed)
        .map_err(Error::io("cannot run the experiments"))?;
    print!("{}", crate::questions::render(&answers, seed));
    if let Some(dir) = pcap {
        let written = crate::questions::write_captures(&answers, dir).map_err(Error::io(
            format!("cannot write captures to {}", dir.display()),
        ))?;
        println!(
            "{} captures written to {} (synthesized from the experiments' sockets)",
            written.len(),
            dir.display()
        );
    }
    let failed = answers.iter().any(|answer| {
        matches!(answer.real, Some(Err(_))) || matches!(answer.simulated, Some(Err(_)))
    });
    Ok(if failed {
        EXIT_HARNESS_ERROR
    } else {
        EXIT_PASS
    })
}

fn bench(target: Option<&Path>, rounds: usize, quick: bool) -> Result<i32> {
    let suite = load(None, &[])?;
    let mut subjects = Vec::new();
    if let Some(folder) = target {
        let target = Target::from_folder(folder, &suite.catalogue)?;
        let name = folder.display().to_string();
        subjects.push(
            crate::bench::Subject::from_target(&name, target.task("message"))
                .map_err(Error::Usage)?,
        );
    }
    // A bench of an unoptimised build would measure the compiler's debug code.
    let bin_dir = reference_bin_dir_built(&suite.kit_root, Profile::Release)?;
    let reference = Target::reference(&bin_dir, &suite.catalogue);
    subjects.push(
        crate::bench::Subject::from_target("reference", reference.task("message"))
            .map_err(Error::Build)?,
    );
    let tools: Vec<_> = [
        crate::bench::Subject::netcat(),
        crate::bench::Subject::socat(),
    ]
    .into_iter()
    .flatten()
    .collect();
    if tools.is_empty() {
        eprintln!("harness bench: neither nc nor socat is installed: no ratio to nc");
    }
    subjects.extend(tools);
    let bench = crate::bench::Bench {
        subjects,
        sizes: if quick {
            crate::bench::QUICK_SIZES.to_vec()
        } else {
            crate::bench::FULL_SIZES.to_vec()
        },
        rounds: if quick { rounds.min(3) } else { rounds },
    };
    let rows = crate::bench::run(&bench, &mut |step| eprintln!("harness bench: {step}"))?;
    print!("{}", crate::bench::table(&rows, bench.rounds));
    eprintln!("harness bench: the harness's own overhead");
    let overheads = crate::bench::harness_overhead(&suite, &reference, bench.rounds.max(5))?;
    print!("\n{}", crate::bench::overhead_line(&overheads));
    let failed = rows.iter().any(|row| row.timings.is_err());
    Ok(if failed { EXIT_FAIL } else { EXIT_PASS })
}

fn grade(args: &GradeArgs) -> Result<i32> {
    let (gradings, reporters) = match grade_with_reporters(args) {
        Ok(graded) => graded,
        Err(error) => {
            could_not_grade(&args.output, &error);
            return Err(error);
        }
    };
    let run = reporters.finish()?;
    let failed = gradings.iter().flatten().any(|grading| {
        !grading.flaky.is_empty()
            || grading
                .outcomes
                .iter()
                .any(|outcome| outcome.status.is_failure())
    });
    let unreadable = run
        .submissions
        .iter()
        .any(|submission| submission.info.problem.is_some());
    Ok(if failed || unreadable {
        EXIT_FAIL
    } else {
        EXIT_PASS
    })
}

/// The grading platforms' documents, written when the harness cannot grade (exit status
/// 2): the platform then tells the student why instead of reporting a missing file.
fn could_not_grade(output: &OutputArgs, error: &Error) {
    let message = error.to_string();
    let documents = [
        (
            "--gradescope",
            &output.gradescope,
            gradescope::could_not_grade as fn(&str) -> String,
        ),
        (
            "--prairielearn",
            &output.prairielearn,
            prairielearn::could_not_grade,
        ),
        (
            "--github-classroom",
            &output.github_classroom,
            classroom::could_not_grade,
        ),
    ];
    for (flag, path, document) in documents {
        let Some(path) = path else { continue };
        if let Err(write_error) = std::fs::write(path, document(&message)) {
            eprintln!(
                "harness: cannot write {flag} {} to say so either: {write_error}",
                path.display()
            );
        }
    }
}

/// Grades what the arguments name into the reporters, not yet finished.
fn grade_with_reporters(
    args: &GradeArgs,
) -> Result<(Vec<Option<crate::grading::Grading>>, Reporters)> {
    let suite = load(args.scenarios.as_deref(), &args.tasks)?;
    let selection = Selection::new(args.tasks.clone(), &args.patterns)?;
    check_visibility_rules(&args.output.gradescope_visibility, &suite)?;
    let mut mode = Mode::Real;
    let (entries, replay_command) = if args.simulate {
        let (options, replay) = simulation_options(args);
        mode = Mode::Simulated(options);
        let entry = single_entry(Target::simulated(&suite.catalogue), &replay);
        (vec![entry], replay)
    } else if args.reference {
        let replay = "harness --reference".to_string();
        let target = Target::reference(&reference_bin_dir(&suite.kit_root)?, &suite.catalogue);
        (vec![single_entry(target, &replay)], replay)
    } else if !args.targets.is_empty() {
        target_entries(&args.targets, &suite, &args.patterns)?
    } else {
        return Err(Error::Usage(
            "nothing to grade: give --target DIR, --reference or --simulate".into(),
        ));
    };
    if args.repeat > 1 {
        check_repeat(&args.output, args.repeat)?;
        if entries.len() > 1 {
            return Err(Error::Usage(format!(
                "--repeat runs one submission's scenarios again and again ({} submissions given): repeat each submission in a run of its own",
                entries.len()
            )));
        }
    }
    if entries.len() > 1 {
        // These platforms grade one submission per run of the autograder.
        let per_submission = [
            (
                "--gradescope",
                args.output.gradescope.is_some(),
                "Gradescope",
            ),
            (
                "--prairielearn",
                args.output.prairielearn.is_some(),
                "PrairieLearn",
            ),
            (
                "--github-classroom",
                args.output.github_classroom.is_some(),
                "a GitHub Classroom workflow",
            ),
        ];
        if let Some((flag, _, platform)) = per_submission.iter().find(|(_, given, _)| *given) {
            return Err(Error::Usage(format!(
                "{flag} describes one submission ({} given): {platform} runs the autograder once per submission",
                entries.len()
            )));
        }
    }
    let seed = args.seed.unwrap_or_else(random_seed);
    let mut reporters = reporters(&args.output, &replay_command)?;
    let gradings = crate::batch::grade_all(
        crate::batch::Batch {
            suite: &suite,
            selection: &selection,
            entries,
            seed,
            mode,
            jobs: usize::from(args.jobs),
            repeat: Repeat {
                times: args.repeat,
                at_once: usize::from(args.jobs),
            },
            replay_command,
        },
        &mut reporters,
    )?;
    Ok((gradings, reporters))
}

/// Refuses a `--gradescope-visibility` rule that selects no scenario of the kit (a typo in
/// a category, task or glob would otherwise leave tests visible unnoticed).
fn check_visibility_rules(rules: &[VisibilityRule], suite: &Suite) -> Result<()> {
    for rule in rules {
        if !suite
            .scenarios
            .iter()
            .any(|scenario| rule.selects(&scenario.id, scenario.category))
        {
            return Err(Error::Usage(format!(
                "--gradescope-visibility `{}` selects no scenario: before `=`, name a category \
                 (basic, robustness, concurrency, performance, security), a task (see \
                 `harness list`) or a scenario id glob like `web-server/08*`",
                rule.text
            )));
        }
    }
    Ok(())
}

/// The reports that describe one run of each scenario: given a run with `--repeat`, they
/// would show one repetition's verdict and hide that others differed, so they are refused.
/// (The terminal report, JSON, JUnit, the recording and the captures tell repetitions.)
fn check_repeat(output: &OutputArgs, times: u32) -> Result<()> {
    let single_run = [
        ("--gradescope", output.gradescope.is_some()),
        ("--prairielearn", output.prairielearn.is_some()),
        ("--github-classroom", output.github_classroom.is_some()),
        ("--html", output.html.is_some()),
        ("--gradebook", output.gradebook.is_some()),
    ];
    match single_run.iter().find(|(_, given)| *given) {
        Some((flag, _)) => Err(Error::Usage(format!(
            "{flag} cannot report a run with --repeat {times}: it shows one verdict per scenario and \
             could not say that a verdict changed from one repetition to another. Use the terminal \
             report, --json or --junit; for {flag}, replay one repetition alone with its seed \
             (--seed N 'scenario id')"
        ))),
        None => Ok(()),
    }
}

/// `harness replay FILE`: the recorded events, into the reports asked for.
fn replay(file: &Path, output: &OutputArgs) -> Result<i32> {
    let recorded = crate::report::record::recorded_run(file)?;
    if recorded.repeat > 1 {
        check_repeat(output, recorded.repeat)?;
    }
    let mut reporters = reporters(output, "harness")?;
    crate::report::replay(file, &mut reporters)?;
    let run = reporters.finish()?;
    let failed = run.submissions.iter().any(|submission| {
        !submission.flaky().is_empty()
            || submission
                .outcomes
                .iter()
                .any(|outcome| outcome.status.is_failure())
    });
    Ok(if failed { EXIT_FAIL } else { EXIT_PASS })
}

/// The terminal report and every file report asked for.
fn reporters(output: &OutputArgs, replay_command: &str) -> Result<Reporters> {
    check_destinations(output)?;
    let mut reporters = Reporters::new();
    let terminal = TerminalReport {
        style: Style::detect(),
        replay_command: replay_command.to_owned(),
        simulated: false,
    };
    let verbosity = Verbosity {
        quiet: output.quiet,
        verbose: output.verbose,
        explain: output.explain,
    };
    let progress = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
    reporters.add(
        "the terminal report",
        Console::new(terminal, verbosity, progress),
    );
    if let Some(path) = &output.record {
        let recorder = Recorder::create(path)
            .map_err(Error::io(format!("cannot create {}", path.display())))?;
        reporters.add(format!("--record {}", path.display()), recorder);
    }
    if let Some(dir) = &output.pcap {
        reporters.add(
            format!("--pcap {}", dir.display()),
            CaptureReport::new(dir.clone()),
        );
    }
    if let Some(path) = &output.json {
        reporters.add(
            format!("--json {}", path.display()),
            json::report(path.clone()),
        );
    }
    if let Some(path) = &output.junit {
        reporters.add(
            format!("--junit {}", path.display()),
            junit::report(path.clone()),
        );
    }
    if let Some(path) = &output.gradescope {
        reporters.add(
            format!("--gradescope {}", path.display()),
            gradescope::report(path.clone(), output.gradescope_visibility.clone()),
        );
    }
    if let Some(path) = &output.prairielearn {
        reporters.add(
            format!("--prairielearn {}", path.display()),
            prairielearn::report(path.clone()),
        );
    }
    if let Some(path) = &output.github_classroom {
        reporters.add(
            format!("--github-classroom {}", path.display()),
            classroom::report(path.clone()),
        );
    }
    if let Some(dir) = &output.html {
        reporters.add(
            format!("--html {}", dir.display()),
            HtmlReport::new(dir.clone(), output.pcap.clone()),
        );
    }
    if let Some(path) = &output.gradebook {
        reporters.add(
            format!("--gradebook {}", path.display()),
            gradebook::report(path.clone()),
        );
    }
    Ok(reporters)
}

/// Refuses, before anything runs, a report that could not be written at the end: a file
/// whose folder does not exist, a folder that cannot be made. A class's grading must not
/// be lost to a typo in `--json`.
fn check_destinations(output: &OutputArgs) -> Result<()> {
    let files = [
        ("--json", &output.json),
        ("--junit", &output.junit),
        ("--gradescope", &output.gradescope),
        ("--prairielearn", &output.prairielearn),
        ("--github-classroom", &output.github_classroom),
        ("--gradebook", &output.gradebook),
        ("--record", &output.record),
    ];
    for (flag, path) in files {
        let Some(path) = path else { continue };
        let folder = match path.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder,
            _ => Path::new("."),
        };
        if path.is_dir() || !folder.is_dir() {
            return Err(Error::Usage(format!(
                "{flag} {}: {}",
                path.display(),
                if path.is_dir() {
                    "is a folder; give a file name".to_string()
                } else {
                    format!("the folder {} does not exist", folder.display())
                }
            )));
        }
    }
    for (flag, dir) in [("--pcap", &output.pcap), ("--html", &output.html)] {
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir).map_err(Error::io(format!(
                "{flag} {}: cannot make the folder",
                dir.display()
            )))?;
        }
    }
    Ok(())
}

/// The simulated world's options from the flags, and the command line that replays them.
fn simulation_options(args: &GradeArgs) -> (SimOptions, String) {
    let mut options = SimOptions::default();
    let mut replay = String::from("harness --simulate");
    if let Some(ShortIo { plan, text }) = &args.short_io {
        options.short_io = *plan;
        replay.push_str(&format!(" --short-io {text}"));
    }
    let datagram_faults = [
        ("loss", args.loss, &mut options.datagrams.loss),
        (
            "duplicate",
            args.duplicate,
            &mut options.datagrams.duplicate,
        ),
        ("reorder", args.reorder, &mut options.datagrams.reorder),
    ];
    for (flag, given, field) in datagram_faults {
        if let Some(fraction) = given {
            *field = fraction;
            replay.push_str(&format!(" --{flag} {fraction}"));
        }
    }
    if let Some(latency) = args.latency {
        options.latency = std::time::Duration::from_millis(latency);
        replay.push_str(&format!(" --latency {latency}"));
    }
    (options, replay)
}

fn single_entry(target: Target, replay: &str) -> Entry {
    Entry {
        label: target.label.clone(),
        replay_command: replay.to_owned(),
        target: Ok(target),
    }
}

/// The submissions `--target` names: folders, or globs of folders. One folder is read
/// strictly (a bad `submission.toml` stops the harness); in a batch, a folder that does not
/// read is graded as nothing, with the reason in every report.
fn target_entries(
    given: &[String],
    suite: &Suite,
    patterns: &[String],
) -> Result<(Vec<Entry>, String)> {
    let mut folders: Vec<String> = Vec::new();
    for text in given {
        if text.contains(['*', '?', '[']) {
            let paths = glob::glob(text)
                .map_err(|error| Error::Usage(format!("--target `{text}`: {error}")))?;
            let mut matched: Vec<String> = paths
                .filter_map(|path| path.ok())
                .filter(|path| path.is_dir())
                .map(|path| path.display().to_string())
                .collect();
            if matched.is_empty() {
                return Err(Error::Usage(format!("--target `{text}` matches no folder")));
            }
            matched.sort();
            folders.extend(matched);
        } else {
            folders.push(text.clone());
        }
    }
    // A shell that expanded `--target subs/*` leaves the other folders as scenario patterns.
    if let Some(folder) = patterns.iter().find(|pattern| Path::new(pattern).is_dir()) {
        return Err(Error::Usage(format!(
            "`{folder}` is a folder, not a scenario pattern: give each submission its own --target, or quote the glob (--target 'submissions/*')"
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    folders.retain(|folder| seen.insert(folder.clone()));
    let replay_of = |folder: &str| format!("harness --target {}", shell_words::quote(folder));
    if let [folder] = folders.as_slice() {
        let target = Target::from_folder(Path::new(folder), &suite.catalogue)?;
        let replay = replay_of(folder);
        return Ok((vec![single_entry(target, &replay)], replay));
    }
    let entries = folders
        .iter()
        .map(|folder| Entry {
            label: folder.clone(),
            replay_command: replay_of(folder),
            target: Target::from_folder(Path::new(folder), &suite.catalogue)
                .map(|mut target| {
                    target.label = folder.clone();
                    target
                })
                .map_err(|error| error.to_string()),
        })
        .collect();
    let replay = format!(
        "harness {}",
        given
            .iter()
            .map(|text| format!("--target {}", shell_words::quote(text)))
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok((entries, replay))
}

/// A `--repeat` count: at least 1.
fn parse_repeat(text: &str) -> std::result::Result<u32, String> {
    match text.parse::<u32>() {
        Ok(0) => Err(
            "--repeat 0 would run nothing: give how many times to run each scenario (1 or more)"
                .into(),
        ),
        Ok(times) => Ok(times),
        Err(_) => Err(format!("`{text}` is not a number of runs (like 50)")),
    }
}

/// A probability, from 0 to 1.
fn parse_fraction(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(fraction) if (0.0..=1.0).contains(&fraction) => Ok(fraction),
        _ => Err(format!("`{text}` is not a fraction from 0 to 1 (like 0.3)")),
    }
}

/// A `--short-io` value: the plan, and the text that replays it.
#[derive(Debug, Clone)]
struct ShortIo {
    plan: Option<SlicePlan>,
    text: String,
}

fn parse_short_io(text: &str) -> std::result::Result<ShortIo, String> {
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

fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    (nanos as u64 ^ u64::from(std::process::id())) % 1_000_000
}

/// Builds the reference binaries (same profile as the harness) and returns their folder.
///
/// `HARNESS_REFERENCE_BIN_DIR` skips the build (tests set it to the binaries cargo built).
pub fn reference_bin_dir(kit_root: &Path) -> Result<PathBuf> {
    let profile = if cfg!(debug_assertions) {
        Profile::Debug
    } else {
        Profile::Release
    };
    reference_bin_dir_built(kit_root, profile)
}

/// How the reference is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Debug,
    Release,
}

/// [`reference_bin_dir`], built with `profile`.
pub fn reference_bin_dir_built(kit_root: &Path, profile: Profile) -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("HARNESS_REFERENCE_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(kit_root).args([
        "build",
        "-p",
        "reference",
        "--bins",
        "--message-format=json-render-diagnostics",
    ]);
    if profile == Profile::Release {
        command.arg("--release");
    }
    eprintln!("building the reference binaries…");
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(Error::io("cannot run cargo to build the reference"))?;
    if !output.status.success() {
        return Err(Error::Build(format!(
            "cargo build -p reference failed ({})",
            output.status
        )));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|message| message.get("executable")?.as_str().map(PathBuf::from))
        .find_map(|executable| executable.parent().map(Path::to_path_buf))
        .ok_or_else(|| Error::Build("cargo built no reference binary".into()))
}
