//! The command line: parse, load, grade, print. Thin on purpose: the work is in the
//! library's rooms.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::{Args, Parser, Subcommand};

use crate::engine::{Outcome, Status};
use crate::faults::{Range, SlicePlan};
use crate::grading::{self, Mode, Progress};
use crate::questions::Worlds;
use crate::report::{Style, TerminalReport};
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
    #[arg(long, value_name = "DIR")]
    target: Option<PathBuf>,
    /// Grade the reference implementation (built on demand).
    #[arg(long, conflicts_with = "target")]
    reference: bool,
    /// Run the reference in the simulated network (turmoil) instead of as processes:
    /// deterministic for a seed, with short reads and writes forced inside it.
    #[arg(long, conflicts_with_all = ["target", "reference"])]
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
    /// Show the step log, transcript and output of every scenario, not only of failures.
    #[arg(long, short)]
    verbose: bool,
    /// Scenario ids or globs: `message/03-*`, `message` (a whole task).
    #[arg(value_name = "SCENARIO")]
    patterns: Vec<String>,
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
        Some(Commands::Questions {
            numbers,
            world,
            seed,
            pcap,
        }) => questions(&numbers, world, seed, pcap.as_deref()),
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

fn grade(args: &GradeArgs) -> Result<i32> {
    let suite = load(args.scenarios.as_deref(), &args.tasks)?;
    let selection = Selection::new(args.tasks.clone(), &args.patterns)?;
    let mut mode = Mode::Real;
    let (target, replay_command) = match (&args.target, args.reference) {
        (None, false) if args.simulate => {
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
            mode = Mode::Simulated(options);
            (Target::simulated(&suite.catalogue), replay)
        }
        (Some(dir), _) => (
            Target::from_folder(dir, &suite.catalogue)?,
            format!(
                "harness --target {}",
                shell_words::quote(&dir.display().to_string())
            ),
        ),
        (None, true) => (
            Target::reference(&reference_bin_dir(&suite.kit_root)?, &suite.catalogue),
            "harness --reference".into(),
        ),
        (None, false) => {
            return Err(Error::Usage(
                "nothing to grade: give --target DIR, --reference or --simulate".into(),
            ));
        }
    };
    let seed = args.seed.unwrap_or_else(random_seed);
    let report = TerminalReport {
        style: Style::detect(),
        replay_command,
        simulated: matches!(mode, Mode::Simulated(_)),
    };
    let show_progress = std::io::stderr().is_terminal();
    let grading = grading::grade(
        &suite,
        &selection,
        &target,
        seed,
        &mode,
        |event| match event {
            Progress::Starting {
                index,
                total,
                scenario,
            } => {
                // The header waits for the first scenario, so an error comes without it.
                if index == 1 {
                    println!("grading {} with seed {seed}", target.label);
                }
                if show_progress {
                    eprint!("\r\x1b[K[{index}/{total}] {} …", scenario.id);
                    let _ = std::io::stderr().flush();
                }
            }
            Progress::Finished(outcome) => {
                if show_progress {
                    eprint!("\r\x1b[K");
                }
                println!("{}", report.scenario_line(outcome));
            }
        },
    )?;
    let outcomes = &grading.outcomes;
    let failures: Vec<&Outcome> = outcomes
        .iter()
        .filter(|outcome| outcome.status.is_failure())
        .collect();
    let detailed = outcomes.iter().filter(|outcome| {
        outcome.status.is_failure() || args.verbose && outcome.status != Status::Skipped
    });
    for outcome in detailed {
        println!();
        print!("{}", report.failure_details(outcome));
    }
    println!();
    print!(
        "{}",
        report.summary(outcomes, &grading.not_submitted, grading.elapsed)
    );
    Ok(if failures.is_empty() {
        EXIT_PASS
    } else {
        EXIT_FAIL
    })
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
    if !cfg!(debug_assertions) {
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
