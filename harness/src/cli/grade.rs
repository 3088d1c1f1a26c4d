//! Grading from the command line: the target (or targets) and the selection, the run in
//! the real or the simulated world, and every report asked for.

use super::*;
use crate::target::requirements::{Installer, WheelSource};

pub(super) fn grade(args: &GradeArgs) -> Result<i32> {
    let (gradings, reporters) = match grade_with_reporters(args) {
        Ok(graded) => graded,
        Err(error) => {
            could_not_grade(&args.output, &error);
            return Err(error);
        }
    };
    let run = reporters.finish()?;
    if !args.output.quiet {
        announce_written(&args.output);
    }
    let failed = gradings.iter().flatten().any(|grading| {
        !grading.flaky.is_empty()
            || grading
                .outcomes
                .iter()
                .any(|outcome| outcome.status.is_failure())
    });
    // A folder that could not be read, or with nothing to grade in it, is not a pass.
    let unreadable = run
        .submissions
        .iter()
        .any(|submission| submission.info.problem.is_some() || submission.outcomes.is_empty());
    Ok(if failed || unreadable {
        EXIT_FAIL
    } else {
        EXIT_PASS
    })
}

/// The grading platforms' documents, written when the harness cannot grade (exit status
/// 2): the platform then tells the student why instead of reporting a missing file.
pub(super) fn could_not_grade(output: &OutputArgs, error: &Error) {
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
        if let Err(write_error) = crate::report::new_file::write(path, document(&message)) {
            eprintln!(
                "harness: cannot write {flag} {} to say so either: {write_error}",
                path.display()
            );
        }
    }
}

/// A shell that expanded `--target subs/*` leaves the other folders as scenario patterns:
/// said so, before they are taken for patterns that match nothing.
fn refuse_folders_as_patterns(patterns: &[String]) -> Result<()> {
    match patterns.iter().find(|pattern| Path::new(pattern).is_dir()) {
        Some(folder) => Err(Error::Usage(format!(
            "`{folder}` is a folder, not a scenario pattern: give each submission its own --target, or quote the glob (--target 'submissions/*')"
        ))),
        None => Ok(()),
    }
}

/// Grades what the arguments name into the reporters, not yet finished.
pub(super) fn grade_with_reporters(
    args: &GradeArgs,
) -> Result<(Vec<Option<crate::grading::Grading>>, Reporters)> {
    let suite = load(args.scenarios.as_deref(), &args.tasks)?;
    let mut selection = Selection::new(args.tasks.clone(), &args.patterns)?;
    refuse_folders_as_patterns(&args.patterns)?;
    suggest::check_patterns(&args.patterns, &suite)?;
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
        let confinement = Confinement::from_arguments_and_environment(&args.companions)?;
        let given = GivenRole {
            tasks: &args.tasks,
            role: args.role.as_deref(),
        };
        let (entries, replay) =
            target_entries(&args.targets, &suite, &selection, &confinement, given)?;
        // A program given alone is graded on its own task, not reported as every other
        // task not submitted.
        if let ([entry], [path], []) = (
            entries.as_slice(),
            args.targets.as_slice(),
            args.tasks.as_slice(),
        ) && Path::new(path).is_file()
            && let Ok(target) = &entry.target
        {
            selection = Selection::new(target.programs.keys().cloned().collect(), &args.patterns)?;
        }
        (entries, replay)
    } else {
        return Err(Error::Usage(
            "nothing to grade: give --target DIR, --reference or --simulate".into(),
        ));
    };
    // The command that regrades the run keeps what it selected (`--task`, the patterns);
    // each submission's keeps `--task`, as its failures add their own scenario id.
    let task_args: String = args
        .tasks
        .iter()
        .map(|task| format!(" --task {}", shell_words::quote(task)))
        .collect();
    let pattern_args: String = args
        .patterns
        .iter()
        .map(|pattern| format!(" {}", shell_words::quote(pattern)))
        .collect();
    let mut entries = entries;
    for entry in &mut entries {
        entry.replay_command.push_str(&task_args);
    }
    install_requirements(&mut entries, &args.wheels, args.requirements.as_deref())?;
    let replay_command = format!("{replay_command}{task_args}{pattern_args}");
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
    let settings = run_settings(args, &mode, &suite, &selection, &entries)?;
    let seed = args.seed.unwrap_or_else(random_seed);
    let jobs = args.jobs.count();
    let mut reporters = reporters(&args.output, &replay_command)?;
    let gradings = crate::batch::grade_all(
        crate::batch::Batch {
            suite: &suite,
            selection: &selection,
            entries,
            seed,
            mode,
            settings: &settings,
            jobs,
            repeat: Repeat {
                times: args.repeat,
                at_once: jobs,
            },
            replay_command,
        },
        &mut reporters,
    )?;
    Ok((gradings, reporters))
}

/// The run's settings, from the flags and the environment: this machine's sandbox layers
/// and network mode (`HARNESS_NO_NAMESPACES`, `HARNESS_SANDBOX`), `--memory-limit` and
/// the packs' settings (`--mysql`). The simulated world probes no sandbox and tries no
/// namespace.
fn run_settings(
    args: &GradeArgs,
    mode: &Mode,
    suite: &Suite,
    selection: &Selection,
    entries: &[Entry],
) -> Result<RunSettings> {
    let mut settings = match mode {
        Mode::Real => RunSettings::machine_defaults(),
        Mode::Simulated(_) => RunSettings::simulated(),
    };
    if let Some(bytes) = args.memory_limit {
        settings.sandbox.memory_limit = bytes;
    }
    for setting in crate::protocols::settings() {
        // The default (the first value) is chosen only for a run that may play the pack's
        // peer (a selected scenario of its task, which some submission has a program for):
        // choosing may take a while (`--mysql auto` makes MariaDB's data folder, a second
        // or two), and the header names the choice.
        let plays_its_peer = |task: &str| {
            suite
                .scenarios
                .iter()
                .any(|scenario| scenario.task == task && selection.includes(scenario))
                && entries.iter().any(|entry| {
                    entry
                        .target
                        .as_ref()
                        .is_ok_and(|target| target.task(task).is_some())
                })
        };
        let value = match args.pack_settings.chosen.get(setting.flag) {
            Some(value) => Some(value.as_str()),
            None if matches!(mode, Mode::Real)
                && setting.tasks.iter().any(|task| plays_its_peer(task)) =>
            {
                setting.values.first().copied()
            }
            None => None,
        };
        if let Some(value) = value {
            let choice =
                crate::protocols::choose_setting(setting.flag, value).map_err(Error::Usage)?;
            settings
                .pack_choices
                .insert(setting.flag.to_owned(), choice);
        }
    }
    Ok(settings)
}

/// Refuses a `--gradescope-visibility` rule that selects no scenario of the kit (a typo in
/// a category, task or glob would otherwise leave tests visible unnoticed).
pub(super) fn check_visibility_rules(rules: &[VisibilityRule], suite: &Suite) -> Result<()> {
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
pub(super) fn check_repeat(output: &OutputArgs, times: u32) -> Result<()> {
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

/// The terminal report and every file report asked for.
pub(super) fn reporters(output: &OutputArgs, replay_command: &str) -> Result<Reporters> {
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
            PcapReport::new(dir.clone()),
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
        if let Some(roster) = &output.roster {
            let roster = gradebook::Roster::read(roster).map_err(Error::Usage)?;
            reporters.add(
                format!("--roster {}", path.display()),
                gradebook::LmsReport::beside(path, roster, output.assignment.clone()),
            );
        }
    }
    Ok(reporters)
}

/// The files the reports were written to, each with the option that asked for it, in the
/// order of `--help`.
pub(super) fn files_written(output: &OutputArgs) -> Vec<(&'static str, PathBuf)> {
    let mut written = Vec::new();
    let files = [
        ("--json", &output.json),
        ("--junit", &output.junit),
        ("--gradebook", &output.gradebook),
        ("--gradescope", &output.gradescope),
        ("--prairielearn", &output.prairielearn),
        ("--github-classroom", &output.github_classroom),
        ("--record", &output.record),
    ];
    for (flag, path) in files {
        if let Some(path) = path {
            written.push((flag, path.clone()));
        }
        if flag == "--gradebook"
            && let (Some(gradebook), Some(_)) = (path, &output.roster)
        {
            let files = gradebook::LmsReport::beside(gradebook, Default::default(), String::new());
            written.push(("--roster", files.canvas));
            written.push(("--roster", files.moodle));
        }
    }
    if let Some(dir) = &output.html {
        written.push(("--html", dir.join("index.html")));
    }
    if let Some(dir) = &output.pcap {
        written.push(("--pcap", dir.clone()));
    }
    written
}

/// Names the report files written, on stderr (stdout is the report, and ends on its
/// `N passed, N failed` line).
pub(super) fn announce_written(output: &OutputArgs) {
    let written = files_written(output);
    if written.is_empty() {
        return;
    }
    eprintln!("reports written:");
    for (flag, path) in written {
        eprintln!("  {flag:<20} {}", path.display());
    }
}

/// Refuses, before anything runs, a report that could not be written at the end: a file
/// whose folder does not exist, a folder that cannot be made. A class's grading must not
/// be lost to a typo in `--json`.
pub(super) fn check_destinations(output: &OutputArgs) -> Result<()> {
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
            crate::report::new_file::folder(dir).map_err(Error::io(format!(
                "{flag} {}: cannot make the folder",
                dir.display()
            )))?;
        }
    }
    Ok(())
}

/// The simulated world's options from the flags, and the command line that replays them.
pub(super) fn simulation_options(args: &GradeArgs) -> (SimOptions, String) {
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

pub(super) fn single_entry(target: Target, replay: &str) -> Entry {
    Entry {
        label: target.label.clone(),
        replay_command: replay.to_owned(),
        target: Ok(target),
    }
}

/// Installs the Python packages each submission's `requirements` lists, before any
/// scenario runs: each distinct list once for the run, from `wheels` alone if given; then
/// the class's (`--requirements FILE`), once, for every submission. What is installed, and
/// what of a submission's could not be, is said on stderr; a class's list that cannot be
/// read or installed stops the harness: every submission would fail on its imports.
fn install_requirements(
    entries: &mut [Entry],
    wheels: &Option<PathBuf>,
    class_file: Option<&Path>,
) -> Result<()> {
    let source = match wheels {
        Some(folder) => WheelSource::Folder(folder.clone()),
        None => WheelSource::Index,
    };
    let installer = Installer::new(source);
    if let Some(file) = class_file {
        let requirements = crate::target::requirements::read_class_list(file)?;
        eprintln!(
            "harness: installing the class's {} ({}) ...",
            crate::escape::escaped(&requirements.file),
            crate::escape::escaped(&requirements.packages.join(", "))
        );
        let installed = installer.install(&requirements).map_err(|reason| {
            Error::Usage(format!("--requirements {}: {reason}", requirements.file))
        })?;
        for entry in entries.iter_mut() {
            if let Ok(target) = &mut entry.target {
                target.add_class_packages(&installed);
            }
        }
    }
    for entry in entries {
        let Ok(target) = &mut entry.target else {
            continue;
        };
        let label = crate::escape::escaped(&entry.label);
        if let Some(requirements) = target
            .requirements
            .as_ref()
            .filter(|requirements| !installer.tried(requirements))
        {
            eprintln!(
                "harness: {label}: installing {} ({}) ...",
                crate::escape::escaped(&requirements.file),
                crate::escape::escaped(&requirements.packages.join(", "))
            );
        }
        if let Some(warning) = target.install_requirements(&installer) {
            eprintln!("harness: {label}: {}", crate::escape::escaped(&warning));
        }
    }
    Ok(())
}

/// The submissions `--target` names: folders, or globs of folders. One folder is read
/// strictly (a bad `submission.toml` stops the harness); in a batch, a folder that does not
/// read is graded as nothing, with the reason in every report. Each is graded from a
/// private copy; what its manifest names must stay inside it, or inside the companion
/// folders of `confinement`.
pub(super) fn target_entries(
    given: &[String],
    suite: &Suite,
    selection: &Selection,
    confinement: &Confinement,
    program: GivenRole<'_>,
) -> Result<(Vec<Entry>, String)> {
    // A placeholder of a manifest that names no value of the scenarios is the manifest's
    // error, as a key it does not know is.
    let values = crate::scenario::scenario_values(suite);
    let read = |path: &str| {
        let target = Target::from_path(
            Path::new(path),
            &suite.catalogue,
            confinement,
            program.tasks,
            program.role,
        )?;
        crate::target::placeholders::check_placeholders(&target, &suite.catalogue, &values)?;
        Ok::<Target, Error>(target)
    };
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
    let mut seen = std::collections::BTreeSet::new();
    folders.retain(|folder| seen.insert(folder.clone()));
    let replay_of = |folder: &str| format!("harness --target {}", shell_words::quote(folder));
    // What a copy left out (a link leading outside the submission) is said on stderr.
    let warn = |folder: &str, target: &Target| {
        for warning in &target.warnings {
            // Both quote the submission (its folder's name, a link's target).
            eprintln!(
                "harness: {}: {}",
                crate::escape::escaped(folder),
                crate::escape::escaped(warning)
            );
        }
    };
    if let [folder] = folders.as_slice() {
        let target = read(folder)?;
        warn(folder, &target);
        let selected = crate::batch::selected_tasks(suite, selection);
        if !selected.is_empty() && selected.iter().all(|task| target.task(task).is_none()) {
            // Its lines each escaped apart (they quote the folder's file names).
            let text = suggest::unrecognised_folder(Path::new(folder), suite, &selected);
            return Err(Error::Many(
                text.lines()
                    .map(|line| Error::Usage(line.to_owned()))
                    .collect(),
            ));
        }
        let replay = replay_of(folder);
        return Ok((vec![single_entry(target, &replay)], replay));
    }
    let labels = labels_of(&folders);
    let entries = folders
        .iter()
        .zip(labels)
        .map(|(folder, label)| Entry {
            label: label.clone(),
            replay_command: replay_of(folder),
            target: read(folder)
                .map(|mut target| {
                    warn(folder, &target);
                    target.label = label;
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

/// What the command line says a program given alone as the target is, where its name does
/// not say it: `--task` (one) and `--role`.
#[derive(Debug, Clone, Copy)]
pub(super) struct GivenRole<'a> {
    pub(super) tasks: &'a [String],
    pub(super) role: Option<&'a str>,
}

/// Each folder of a batch as the reports name it: its own name (`alice` for
/// `/home/ta/lab1/subs/alice`), what a roster's `folder` column holds; the path as given
/// where two folders share a name, or a folder has none (`.`).
pub(super) fn labels_of(folders: &[String]) -> Vec<String> {
    let name_of = |folder: &String| {
        Path::new(folder)
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
    };
    folders
        .iter()
        .map(|folder| match name_of(folder) {
            Some(name)
                if folders
                    .iter()
                    .filter(|other| name_of(other).as_deref() == Some(name.as_str()))
                    .count()
                    == 1 =>
            {
                name
            }
            _ => folder.clone(),
        })
        .collect()
}

pub(super) fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    (nanos as u64 ^ u64::from(std::process::id())) % 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_names_each_folder_by_its_own_name_unless_two_share_it() {
        let folders = [
            "/home/ta/lab1/subs/alice",
            "subs/bob/",
            "2024/carol",
            "2025/carol",
            ".",
        ]
        .map(String::from);
        assert_eq!(
            labels_of(&folders),
            ["alice", "bob", "2024/carol", "2025/carol", "."]
        );
    }
}
