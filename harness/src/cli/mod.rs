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
use crate::report::gradescope::VisibilityRule;
use crate::report::html::HtmlReport;
use crate::report::pcap_files::PcapReport;
use crate::report::{Console, Recorder, Reporters, Style, TerminalReport, Verbosity};
use crate::report::{classroom, gradebook, gradescope, json, junit, prairielearn};
use crate::scenario::{Selection, Suite, load_suite};
use crate::settings::RunSettings;
use crate::target::{Confinement, Target};
use crate::world::real::cleanup;
use crate::world::sim::SimOptions;
use crate::{EXIT_FAIL, EXIT_HARNESS_ERROR, EXIT_PASS, Error, Result};

mod args;
mod grade;
mod list;
mod pack_flags;
mod reference_build;
mod suggest;

use args::*;
use grade::*;
use list::list;
use pack_flags::PackFlags;
pub use reference_build::{
    Profile, reference_bin_dir, reference_bin_dir_built, static_reference_bin_dir,
};

/// Plays the lab scenarios against a submission (or the reference) over real sockets.
///
/// Exit status: 0 every scenario passed, 1 some failed, 2 the harness could not run.
#[derive(Debug, Parser)]
#[command(
    name = "harness",
    version,
    args_conflicts_with_subcommands = true,
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Commands>,
    #[command(flatten)]
    grade: GradeArgs,
}

/// The examples closing `--help`: the first commands of a student and of an instructor.
const EXAMPLES: &str = "\
Examples:
  harness --target my-lab --task message
      grade one task of the folder my-lab (programs message-server.py, message-client.py,
      or a submission.toml saying how to run them)
  harness --target my-lab 'message/03-*'
      only the scenarios whose id matches (see `harness list --task message`)
  harness --target my-lab --seed 5 'message/06-binary'
      replay one failure, as its report says
  harness --target 'submissions/*' --task message --gradebook grades.csv --html report
      a class: a CSV row per folder, and report/index.html with a page per student
  harness --target 'submissions/*' --task message --gradebook grades.csv --roster class.csv
      and grades.canvas.csv, grades.moodle.csv for Canvas's and Moodle's grade imports
  harness replay run.jsonl --html report
      a run recorded with --record, into another report";

#[derive(Debug, Subcommand)]
enum Commands {
    /// List every task, scenario id and the clauses it checks; with --task, also the
    /// task's command lines and the text of its clauses (`scenarios/SPEC.md`).
    List {
        /// Only these tasks, each with its part of the contract.
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
    /// Make what a grading platform needs to grade an assignment with this kit: Gradescope's
    /// autograder zip, a PrairieLearn grader image and entrypoint, or a GitHub Classroom
    /// workflow.
    Package {
        /// The platform.
        #[arg(value_enum)]
        platform: crate::package::Platform,
        /// The assignment's tasks (repeatable; at least one).
        #[arg(long = "task", value_name = "TASK")]
        tasks: Vec<String>,
        /// Where to write it: a zip file for Gradescope (default `autograder.zip`), a new
        /// or empty folder for the others (default `prairielearn/`, `classroom/`).
        #[arg(short, long, value_name = "PATH")]
        output: Option<PathBuf>,
        /// Students may hand in Java: the image gets a JDK.
        #[arg(long)]
        java: bool,
        /// Gradescope: a visibility rule for the results (as `--gradescope-visibility`).
        #[arg(long = "gradescope-visibility", value_name = "RULE")]
        visibility: Vec<String>,
        /// GitHub Classroom: the kit's repository (`OWNER/NAME`), to a release of which
        /// `socket-lab-kit.zip` is attached; the workflow fetches it from there.
        #[arg(long, value_name = "OWNER/NAME")]
        kit_repository: Option<String>,
        /// GitHub Classroom: the tag of that release.
        #[arg(long, value_name = "TAG", default_value = "socket-lab-kit")]
        kit_release: String,
        /// The seed every submission of the assignment is graded with (default: one drawn
        /// now, and printed): the whole class meets the same slices, losses and orders,
        /// so failures compare.
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// A requirements file for the whole class (one package a line, read as `harness
        /// --requirements` reads it): installed into the image's Python when the image is
        /// built, so every submission's programs import them and no grading waits for pip.
        #[arg(long, value_name = "FILE")]
        requirements: Option<PathBuf>,
    },
    /// Print the JSON Schema of scenario files (the kit keeps it in
    /// `harness/schema/scenario.schema.json`).
    Schema,
    /// Time 20 KB and 100 MB through message client and server as whole processes: the
    /// reference (a release build), a submission's with --target, and nc and socat where
    /// installed, side by side in one run; then the harness's own costs: a program's start
    /// in the sandbox beside a plain start, unshare's and bubblewrap's, and the overhead
    /// per scenario.
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
        /// Only the harness's own costs (program start and overhead per scenario), no
        /// transfers.
        #[arg(long)]
        overhead: bool,
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
    // What a harness killed with SIGKILL could not remove (its own servers died with it).
    crate::temporary::clear_orphans();
    let result = match cli.command {
        Some(Commands::List { tasks, scenarios }) => list(scenarios.as_deref(), &tasks),
        Some(Commands::Replay { file, output }) => replay(&file, &output),
        Some(Commands::Questions {
            numbers,
            world,
            seed,
            pcap,
        }) => questions(&numbers, world, seed, pcap.as_deref()),
        Some(Commands::Package {
            platform,
            tasks,
            output,
            java,
            visibility,
            kit_repository,
            kit_release,
            seed,
            requirements,
        }) => match requirements
            .as_deref()
            .map(crate::target::requirements::read_class_list)
            .transpose()
        {
            Err(error) => Err(error),
            Ok(class) => package(crate::package::PackageRequest {
                platform,
                output: output.unwrap_or_else(|| {
                    PathBuf::from(match platform {
                        crate::package::Platform::Gradescope => "autograder.zip",
                        crate::package::Platform::Prairielearn => "prairielearn",
                        crate::package::Platform::GithubClassroom => "classroom",
                    })
                }),
                tasks,
                java,
                visibility,
                kit_repository,
                kit_release,
                seed: seed.unwrap_or_else(grade::random_seed),
                class_packages: class.map(|list| list.packages).unwrap_or_default(),
            }),
        },
        Some(Commands::Schema) => {
            print!("{}", crate::scenario::scenario_schema_text());
            Ok(EXIT_PASS)
        }
        Some(Commands::Bench {
            target,
            reference: _,
            rounds,
            quick,
            overhead,
        }) => bench(target.as_deref(), usize::from(rounds), quick, overhead),
        None => grade(&cli.grade),
    };
    // Nothing a program started outlives the run, wherever no PID namespace ended it.
    cleanup::kill_all();
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
            return Err(Error::Usage(suggest::unknown_task(task, &suite)));
        }
    }
    Ok(suite)
}

/// `harness package`: the tasks and visibility rules checked against the kit first, so
/// that a typo fails here rather than on the platform.
fn package(request: crate::package::PackageRequest) -> Result<i32> {
    let suite = load(None, &request.tasks)?;
    if request.platform != crate::package::Platform::Gradescope && !request.visibility.is_empty() {
        return Err(Error::Usage(
            "--gradescope-visibility is for a Gradescope package".into(),
        ));
    }
    let rules = request
        .visibility
        .iter()
        .map(|rule| VisibilityRule::parse(rule).map_err(Error::Usage))
        .collect::<Result<Vec<_>>>()?;
    check_visibility_rules(&rules, &suite)?;
    let kit_root = suite.kit_root.canonicalize().map_err(Error::io(format!(
        "cannot open the kit at {}",
        suite.kit_root.display()
    )))?;
    for written in crate::package::write(&request, &kit_root)? {
        println!("wrote {}", written.display());
    }
    if let (crate::package::Platform::GithubClassroom, Some(repository)) =
        (request.platform, &request.kit_repository)
    {
        println!(
            "attach socket-lab-kit.zip to the release {tag} of {repository}, from which the workflow fetches it: \
             gh release create {tag} {archive} -R {repository} (or gh release upload {tag} {archive} --clobber -R {repository})",
            tag = request.kit_release,
            archive = request.output.join("socket-lab-kit.zip").display(),
        );
    }
    if cfg!(debug_assertions) {
        println!(
            "note: this harness is a debug build, and so are the package's binaries (larger, slower); \
             for a class, make it with `cargo run --release -p harness -- package ...`"
        );
    }
    println!(
        "every submission is graded with seed {} (harness package --seed {} makes the same package again)",
        request.seed, request.seed
    );
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

fn bench(target: Option<&Path>, rounds: usize, quick: bool, overhead_only: bool) -> Result<i32> {
    let suite = load(None, &[])?;
    let mut subjects = Vec::new();
    // Held until the bench is over: its programs run from the target's private copy.
    let mut _graded = None;
    if let Some(folder) = target {
        let confinement = Confinement::from_arguments_and_environment(&[])?;
        let target = Target::from_folder(folder, &suite.catalogue, &confinement)?;
        crate::target::placeholders::check_placeholders(
            &target,
            &suite.catalogue,
            &crate::scenario::scenario_values(&suite),
        )?;
        let name = folder.display().to_string();
        subjects.push(
            crate::bench::Subject::from_target(&name, target.task("message"))
                .map_err(Error::Usage)?,
        );
        _graded = Some(target);
    }
    // A bench of an unoptimised build would measure the compiler's debug code.
    let bin_dir = reference_bin_dir_built(&suite.kit_root, Profile::Release)?;
    let reference = Target::reference(&bin_dir, &suite.catalogue);
    subjects.push(
        crate::bench::Subject::from_target("reference", reference.task("message"))
            .map_err(Error::Build)?,
    );
    // Beside it, the same code linked statically: its start-up without shared libraries.
    if let Some(static_dir) = static_reference_bin_dir(&suite.kit_root) {
        let linked_in = Target::reference(&static_dir?, &suite.catalogue);
        subjects.push(
            crate::bench::Subject::from_target("reference, static", linked_in.task("message"))
                .map_err(Error::Build)?,
        );
    }
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
        settings: RunSettings::machine_defaults(),
    };
    let rows = if overhead_only {
        Vec::new()
    } else {
        let rows = crate::bench::run(&bench, &mut |step| eprintln!("harness bench: {step}"))?;
        println!("{}", crate::bench::table(&rows, bench.rounds));
        rows
    };
    eprintln!("harness bench: a program's start, in the sandbox and beside it");
    // Starts are short: many rounds cost little and steady the medians.
    let start_rounds = if quick {
        5
    } else {
        (bench.rounds * 10).max(40)
    };
    let starts = crate::bench::measure_starts(start_rounds);
    print!("{}", crate::bench::start_table(&starts, start_rounds));
    eprintln!("harness bench: the harness's own overhead");
    let overheads =
        crate::bench::harness_overhead(&suite, &reference, bench.rounds.max(5), &bench.settings)?;
    print!("\n{}", crate::bench::overhead_line(&overheads, &starts));
    let failed = rows.iter().any(|row| row.timings.is_err())
        || starts.iter().take(2).any(|row| row.timings.is_err());
    Ok(if failed { EXIT_FAIL } else { EXIT_PASS })
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
    if !output.quiet {
        announce_written(output);
    }
    let failed = run.submissions.iter().any(|submission| {
        !submission.flaky().is_empty()
            || submission
                .outcomes
                .iter()
                .any(|outcome| outcome.status.is_failure())
    });
    Ok(if failed { EXIT_FAIL } else { EXIT_PASS })
}
