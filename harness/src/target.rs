//! Whose programs are graded: a submission folder, one program file given alone
//! ([`Target::from_program`]: its task and role from its name by the convention below, or
//! from `--task` and `--role`), or the reference binaries.
//!
//! A submission folder maps each task role to a command line in one of two ways:
//!
//! 1. `submission.toml`, with one table per task:
//!
//!    ```toml
//!    [message]
//!    server = "python3 server.py {port}"
//!    client = "python3 client.py {host} {port}"
//!    port = 12000        # optional: the programs hard-code their port
//!    workdir = "."       # optional: run in this folder instead of a fresh temporary one
//!    ```
//!
//!    Words of a command line that name a file of the folder are made absolute, so
//!    `server.py` works although the program runs in a temporary directory. A role may
//!    also be a table, `client = { command = "...", port = 12000 }`, and the task's table
//!    and a role's may say, to fit code as students write it (see [`RoleProgram`]):
//!    - `port`: a server listens on it; a client connects to it, and the harness listens
//!      there for it (`crate::peers::stand_in`);
//!    - `host`: the address a server binds (`127.0.1.1`), where the harness connects;
//!    - `stdin`: what the program's stdin starts with (`"{port}\n"` for `input()`; any
//!      value the scenario gives the program, [`placeholders`]);
//!    - `prompts`: what the program writes before it reads each line of `stdin`, taken
//!      off its stdout ([`prompts`]);
//!    - `line_prompt`: what it writes before it reads each line of its whole stdin (a loop
//!      of `input("> ")`), taken off the same way;
//!    - `workdir`: a folder of the submission, or `"{dir}"` for the test web site;
//!    - `drop = ["--loss"]`, `rename = { "--count" = "-n" }`: scenario options the
//!      program does not take; a failing scenario that depended on one says so;
//!    - `user`, `password`: the login a client hard-codes (`server.login('me@example.com',
//!      'hunter2')`). It becomes the login the scenario gives the client (`--user`,
//!      `--password`), so the account of the harness's server (IMAP, POP3, FTP, SSH,
//!      MySQL, SMTP) is that one, a scenario that gives a wrong password keeps another,
//!      and the checks look for this password (`crate::scenario::adapt`);
//!    - `with = { password = "1234" }`: a value the program hard-codes where the scenario
//!      passes one (`{password}` of `password-server`): the scenario uses it instead of its
//!      own, everywhere it writes its own (`crate::scenario::adapt`); `with = { file =
//!      "test.bin" }`: the file it always opens, where the scenario gives it one
//!      (`crate::scenario::GivenFile`);
//!    - `hold_stdin = true`: its stdin stays open (a server that reads commands from its
//!      terminal ends at end of file);
//!    - `site_files = ["404.html"]`: files of the submission copied into the test web site
//!      before it starts (a web server that opens its own error page beside the site).
//!
//!    At the top, outside any table, `requirements = "requirements.txt"` names the Python
//!    packages the programs import beyond what the machine has ([`requirements`]).
//!
//!    Words that are `.`, or a folder of a Java class path (`-cp .:lib`), name the
//!    submission folder too; a `java Main` with no class path gets `-cp` the folder.
//!
//!    What else a client hard-codes needs no setting: a name (`'servername'`,
//!    `smtp.gmail.com`) resolves to the harness inside a scenario, any address
//!    (`192.0.2.10`) is the harness's, and the task's well-known ports (25, 587 for a mail
//!    client) are served there (`crate::world::real::internet`).
//!
//! 2. By convention, a file named `<task>-<role>` with or without an extension
//!    (`message-server`, `message-server.py`): run directly when it is executable (its
//!    shebang line picks the interpreter), else with `python3` for `.py` and `sh` for `.sh`.
//!    Its arguments are the canonical ones of `scenarios/tasks.toml`.
//!
//! Whatever the manifest names stays inside the submission folder, and the folder is graded
//! from a private copy ([`confinement`]): `workdir = "/root"`, `site_files = ["../x"]` or a
//! command line naming `../classmate/server.py` is refused, unless the grader names that
//! folder a companion (`--companions DIR`).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::Spanned;

use crate::catalogue::Catalogue;
use crate::error::line_of;
use crate::{Error, Result};

pub mod confinement;
pub mod placeholders;
pub mod prompts;
pub mod requirements;

use confinement::{Allow, Place, Scope};
pub use confinement::{COMPANIONS_VARIABLE, Confinement, PrivateCopy, kit_fixture_folders};
use requirements::{Installed, Installer, Requirements};

/// How to run one role of one task.
#[derive(Debug, Clone, Default)]
pub struct RoleProgram {
    /// The command line, with `{host}`, `{port}`... still to fill in.
    pub template: Vec<String>,
    /// Where it runs instead of a fresh temporary directory.
    pub workdir: Option<Workdir>,
    /// A port the program always uses: a server listens on it, a client connects to it.
    pub fixed_port: Option<u16>,
    /// The address a server binds (`127.0.1.1`), which the harness then connects to.
    pub host: Option<String>,
    /// Text its stdin starts with, placeholders filled (`{port}\n` for a server that asks
    /// for its port with `input()`), before what the scenario gives it.
    pub stdin_prefix: Option<String>,
    /// How the scenario's extra options (`--loss 0.3`) reach it: kept, renamed or dropped.
    pub options: OptionMap,
    /// The user name and password a client hard-codes (`user`, `password`).
    pub login: Login,
    /// Values of the role's own placeholders that the program hard-codes (`with = {
    /// password = "1234" }`): the scenario's are replaced by them.
    pub own_values: BTreeMap<String, String>,
    /// Its stdin stays open after what the scenario gives it (`hold_stdin = true`).
    pub hold_stdin: bool,
    /// What it writes to stdout before it reads each line of `stdin_prefix`
    /// (`prompts`): not output, taken off its stdout ([`prompts`]).
    pub prompts: Vec<String>,
    /// What it writes to stdout before it reads each line of its whole stdin, the
    /// scenario's own lines too, and once more before it finds the end (`line_prompt`: a
    /// loop of `input("> ")`): not output, taken off its stdout ([`prompts`]).
    pub line_prompt: Option<String>,
    /// Files or folders of the submission copied into the test web site (`site_files`),
    /// as absolute paths.
    pub site_files: Vec<PathBuf>,
    /// The only folders of the machine its command line may make visible to it (with what
    /// they hold): its submission's private copy and the grader's companion folders, or
    /// the reference's folder. A path of its command line elsewhere shows it nothing.
    pub visible: Vec<PathBuf>,
    /// Its command line runs a program of the grader's companion folders (`--companions`:
    /// a known-good client beside a student's server), not one of the submission's: a
    /// failure it meets is the fault of the program under test it talks to.
    pub known_good: bool,
    /// The folders of the Python packages its submission's `requirements` and the
    /// class's (`--requirements`) installed, the submission's first (`PYTHONPATH`, shown
    /// read-only).
    pub python_path: Vec<PathBuf>,
    /// Why the packages its submission's `requirements` lists are missing, when they
    /// could not be installed: a failure of the program then says so in its first line,
    /// an import of them failing through no defect of its code.
    pub packages_missing: Option<String>,
}

/// A login a program hard-codes, from `submission.toml`; either part may be unset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Login {
    /// The user name (`None`: not set).
    pub user: Option<String>,
    /// The password (`None`: not set).
    pub password: Option<String>,
}

/// Where a program runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Workdir {
    /// This folder (`workdir = "."` in `submission.toml`).
    Folder(PathBuf),
    /// The scenario's test web site (`workdir = "{dir}"`): for a web server that serves
    /// the files of its working directory.
    Site,
}

/// Options of a scenario's extra arguments that a program does not take as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionMap {
    /// Options left out, with their value (`drop = ["--loss"]`).
    pub dropped: Vec<String>,
    /// Options given under another name (`rename = { "--count" = "-n" }`); an empty name
    /// keeps only the value (a positional argument).
    pub renamed: BTreeMap<String, String>,
}

/// A scenario's extra arguments as a program receives them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MappedArguments {
    /// The words for its command line.
    pub words: Vec<String>,
    /// What was left out (`--loss 0.3`), to say in the verdict: the scenario depends on it.
    pub dropped: Vec<String>,
}

impl OptionMap {
    /// Applies the map to `words`: an option (a word starting with `-`) takes the next word
    /// as its value unless that word is itself an option.
    pub fn apply(&self, words: &[String]) -> MappedArguments {
        let mut mapped = MappedArguments::default();
        let mut index = 0;
        while index < words.len() {
            let word = &words[index];
            let has_value = word.starts_with('-')
                && words
                    .get(index + 1)
                    .is_some_and(|next| !next.starts_with('-'));
            let taken = if has_value { 2 } else { 1 };
            let group = &words[index..index + taken];
            if self.dropped.contains(word) {
                mapped.dropped.push(group.join(" "));
            } else if let Some(replacement) = self.renamed.get(word) {
                if !replacement.is_empty() {
                    mapped.words.push(replacement.clone());
                }
                mapped.words.extend(group[1..].iter().cloned());
            } else {
                mapped.words.extend(group.iter().cloned());
            }
            index += taken;
        }
        mapped
    }
}

impl RoleProgram {
    /// `launcher` followed by the task's canonical arguments (`{host} {port}`), run in a
    /// fresh temporary directory on a harness-chosen port.
    fn canonical(launcher: Vec<String>, arguments: &str) -> RoleProgram {
        let mut template = launcher;
        template.extend(shell_words::split(arguments).unwrap_or_default());
        RoleProgram {
            template,
            ..RoleProgram::default()
        }
    }

    /// The command line with placeholders filled in.
    pub fn command_line(&self, values: &BTreeMap<&str, String>) -> Vec<String> {
        self.template
            .iter()
            .map(|word| fill(word, values))
            .collect()
    }

    /// The scenario options its command line or stdin places itself (`{--user}`): they
    /// are filled with the option's value, and not appended.
    pub fn placed_options(&self) -> Vec<String> {
        let pattern =
            regex::Regex::new(r"\{(--?[A-Za-z0-9][A-Za-z0-9-]*)\}").expect("a valid pattern");
        let mut placed: Vec<String> = self
            .template
            .iter()
            .chain(self.stdin_prefix.as_ref())
            .flat_map(|text| {
                pattern
                    .captures_iter(text)
                    .map(|found| found[1].to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        placed.sort();
        placed.dedup();
        placed
    }

    /// Whether its command line or stdin has `{placeholder}` (`port2` for a forwarder).
    pub fn uses_placeholder(&self, placeholder: &str) -> bool {
        let wanted = format!("{{{placeholder}}}");
        self.template
            .iter()
            .chain(self.stdin_prefix.as_ref())
            .any(|text| text.contains(&wanted))
    }

    /// Whether it needs the scenario's web site (`{dir}` in its command line or stdin, or
    /// as its working directory).
    pub fn uses_site(&self) -> bool {
        self.workdir == Some(Workdir::Site) || self.uses_placeholder("dir")
    }

    /// The file (or folder) it always reads, by a path relative to its working directory
    /// (`with = { file = "test.bin" }`: `open('test.bin', 'rb')`), where the scenario
    /// gives it one (`{dir}/photo.bin`, or the folder `{dir}` itself).
    pub fn hard_coded_file(&self) -> Option<&str> {
        self.own_values.get(HARD_CODED_FILE).map(String::as_str)
    }
}

/// The `with` key naming the file a program always reads instead of the one a scenario
/// gives it.
pub const HARD_CODED_FILE: &str = "file";

/// Words of a scenario's `args` ([`parsed_args`]): the words it spans, and the option with
/// its value (`None` for a positional word).
pub(crate) type ParsedArg = (std::ops::Range<usize>, Option<(String, String)>);

/// Each word of `words` (a scenario's `args`) by the one rule every reader of them uses:
/// a word starting with `-` is an option, which takes the next word as its value unless it
/// wrote one (`--user=alice`) or the next word is itself an option; any other word is
/// positional. Each item: the words it spans, and the option with its value (`None` for a
/// positional word).
pub(crate) fn parsed_args(words: &[String]) -> Vec<ParsedArg> {
    let mut parsed = Vec::new();
    let mut index = 0;
    while index < words.len() {
        let (start, word) = (index, &words[index]);
        index += 1;
        if !word.starts_with('-') {
            parsed.push((start..index, None));
            continue;
        }
        let option = match word.split_once('=') {
            Some((option, value)) => (option.to_owned(), value.to_owned()),
            None => {
                let value = words.get(index).filter(|next| !next.starts_with('-'));
                if value.is_some() {
                    index += 1;
                }
                (word.clone(), value.cloned().unwrap_or_default())
            }
        };
        parsed.push((start..index, Some(option)));
    }
    parsed
}

/// The options among `words` (a scenario's `args`), each with its value: `--user alice`
/// and `--user=alice` give `("--user", "alice")`, a flag (`--tls`) an empty value.
/// Positional words are not options.
pub fn option_values(words: &[String]) -> Vec<(String, String)> {
    parsed_args(words)
        .into_iter()
        .filter_map(|(_, option)| option)
        .collect()
}

/// `words` without the options of `placed` and their values (a template placed them).
pub fn without_options(words: &[String], placed: &[String]) -> Vec<String> {
    parsed_args(words)
        .into_iter()
        .filter(|(_, option)| {
            !option
                .as_ref()
                .is_some_and(|(name, _)| placed.iter().any(|placed| placed == name))
        })
        .flat_map(|(span, _)| words[span].iter().cloned())
        .collect()
}

/// `text` with `{key}` replaced by each value.
pub fn fill(text: &str, values: &BTreeMap<&str, String>) -> String {
    values.iter().fold(text.to_owned(), |text, (key, value)| {
        text.replace(&format!("{{{key}}}"), value)
    })
}

/// A graded target: a label for reports and its programs by task, then by role.
#[derive(Debug, Clone)]
pub struct Target {
    /// What the report calls it (the folder, or `reference`).
    pub label: String,
    /// Task name to role name to program. Tasks with no program at all are absent.
    pub programs: BTreeMap<String, BTreeMap<String, RoleProgram>>,
    /// What reading it left out, to tell the grader (a symbolic link leading outside the
    /// submission, not copied), and a `requirements` list that could not be installed.
    pub warnings: Vec<String>,
    /// The Python packages its manifest's `requirements` names, to install before it is
    /// graded ([`Target::install_requirements`]).
    pub requirements: Option<Requirements>,
    /// Its `submission.toml`, as the student knows it (what errors about it name), if it
    /// has one.
    pub manifest: Option<PathBuf>,
    /// The private copy its programs run from, as long as any clone of it lives.
    copy: Option<Arc<PrivateCopy>>,
    /// Its installed `requirements` and the class's, as long as any clone of it lives.
    python_packages: Vec<Arc<Installed>>,
}

impl Target {
    /// The programs of a task, if it was submitted.
    pub fn task(&self, task: &str) -> Option<&BTreeMap<String, RoleProgram>> {
        self.programs.get(task)
    }

    /// The folder its programs run from: a submission's private copy (`None` for the
    /// reference).
    pub fn graded_folder(&self) -> Option<&Path> {
        self.copy.as_deref().map(PrivateCopy::root)
    }

    /// Installs the Python packages its manifest's `requirements` names (each distinct
    /// list once per `installer`), and puts them on its programs' `PYTHONPATH`. A list
    /// that cannot be installed is a warning (its programs then fail on their `import`,
    /// which the report names); the warning is returned as well, to say at once.
    pub fn install_requirements(&mut self, installer: &Installer) -> Option<String> {
        let requirements = self.requirements.as_ref()?;
        match installer.install(requirements) {
            Ok(installed) => {
                for program in self.programs.values_mut().flat_map(BTreeMap::values_mut) {
                    program.python_path.insert(0, installed.site().to_owned());
                }
                self.python_packages.push(installed);
                None
            }
            Err(reason) => {
                let warning = format!(
                    "{} not installed, graded without it: {reason}",
                    requirements.file
                );
                for program in self.programs.values_mut().flat_map(BTreeMap::values_mut) {
                    program.packages_missing = Some(warning.clone());
                }
                self.warnings.push(warning.clone());
                Some(warning)
            }
        }
    }

    /// Puts the class's Python packages (`--requirements`, installed once for the run) on
    /// its programs' `PYTHONPATH`, after its own.
    pub fn add_class_packages(&mut self, installed: &Arc<Installed>) {
        for program in self.programs.values_mut().flat_map(BTreeMap::values_mut) {
            program.python_path.push(installed.site().to_owned());
        }
        self.python_packages.push(Arc::clone(installed));
    }

    /// Reads a submission folder, and copies it into a private folder to grade it from (see
    /// [`confinement`]); the paths its manifest names must stay inside it, or inside the
    /// companion folders `confinement` allows.
    pub fn from_folder(
        dir: &Path,
        catalogue: &Catalogue,
        confinement: &Confinement,
    ) -> Result<Target> {
        confinement::refuse_a_linked_folder(dir)?;
        if !dir.is_dir() {
            return Err(Error::Usage(format!(
                "target `{}` is neither a submission folder nor a program file: nothing is there",
                dir.display()
            )));
        }
        let original = dir
            .canonicalize()
            .map_err(Error::io(format!("cannot open {}", dir.display())))?;
        confinement.check_against(&original)?;
        let copy = PrivateCopy::make(&original)?;
        let scope = Scope {
            original: &original,
            copy: copy.root(),
            confinement,
        };
        // Read from the copy (a manifest that is a link leading outside was not copied),
        // named in errors as the student knows it.
        let manifest = original.join("submission.toml");
        let (mut programs, settings, requirements) =
            if copy.root().join("submission.toml").is_file() {
                read_manifest(&manifest, scope, catalogue)?
            } else {
                Default::default()
            };
        let dir = copy.root();
        // Roles the manifest does not name are still found by convention, with the task's
        // `port` and `workdir` from the manifest (a `[message]` table may say only `port`).
        for (task, info) in &catalogue.tasks {
            for (role, arguments) in &info.roles {
                if programs
                    .get(task)
                    .is_some_and(|roles: &BTreeMap<String, RoleProgram>| roles.contains_key(role))
                {
                    continue;
                }
                let name = info.program_name(task, role);
                let Some(launcher) = find_by_convention(dir, &original, &name)? else {
                    confinement::refuse_a_linked_program(&original, dir, &name)?;
                    continue;
                };
                let mut program = RoleProgram::canonical(launcher, arguments);
                if let Some(setting) = settings.get(task) {
                    setting.apply_to(&mut program);
                }
                programs
                    .entry(task.clone())
                    .or_default()
                    .insert(role.clone(), program);
            }
        }
        // Settings that cannot work together, said at the task's table.
        for (task, roles) in &programs {
            for (role, program) in roles {
                // Files copied into the test site need a program that uses the site.
                let site_unused = (!program.site_files.is_empty() && !program.uses_site()).then(|| {
                    "`site_files` are copied into the test web site, but this program does not use it (add `workdir = \"{dir}\"`, or `{dir}` to its command line)".to_owned()
                });
                // A program that always opens its own file runs in a folder of the
                // harness's where that file is put: it cannot also run elsewhere.
                let file_elsewhere = match (program.hard_coded_file(), &program.workdir) {
                    (Some(file), Some(_)) => Some(format!(
                        "`with = {{ file = \"{file}\" }}` runs the program in a fresh folder holding the scenario's file under that name; leave out `workdir`"
                    )),
                    _ => None,
                };
                if let Some(reason) = site_unused
                    .or(file_elsewhere)
                    .or_else(|| prompts::refusal(program))
                {
                    let text =
                        std::fs::read_to_string(dir.join("submission.toml")).unwrap_or_default();
                    let table = format!("[{task}]");
                    return Err(Error::BadFile {
                        line: line_of(&text, text.find(&table).unwrap_or(0)),
                        path: manifest.clone(),
                        reason: format!("[{task}] {role}: {reason}"),
                    });
                }
            }
        }
        let mut visible = vec![dir.to_owned()];
        visible.extend(confinement.companions.iter().cloned());
        for program in programs.values_mut().flat_map(BTreeMap::values_mut) {
            program.visible = visible.clone();
        }
        Ok(Target {
            label: original.display().to_string(),
            programs,
            warnings: copy.warnings().to_vec(),
            requirements,
            manifest: copy
                .root()
                .join("submission.toml")
                .is_file()
                .then(|| manifest.clone()),
            copy: Some(Arc::new(copy)),
            python_packages: Vec::new(),
        })
    }

    /// Reads a target given as a path: a program file alone ([`Target::from_program`]),
    /// else a submission folder ([`Target::from_folder`]). `tasks` and `role` (`--task`,
    /// `--role`) say what a program is when its name does not.
    pub fn from_path(
        path: &Path,
        catalogue: &Catalogue,
        confinement: &Confinement,
        tasks: &[String],
        role: Option<&str>,
    ) -> Result<Target> {
        if path.is_file() {
            return Target::from_program(path, catalogue, confinement, tasks, role);
        }
        if let Some(role) = role {
            return Err(Error::Usage(format!(
                "--role {role} says what a program given alone is (--target ./server.py --task message --role server); `{}` is a folder, whose programs are named by convention or by its submission.toml",
                path.display()
            )));
        }
        Target::from_folder(path, catalogue, confinement)
    }

    /// Reads one program given alone as the target (`--target ./message-server`): its task
    /// and role from its name by convention (`<task>-<role>[.ext]`, as in a folder), else
    /// from the one task of `tasks` and `role`. It runs as a folder's program does, from a
    /// private copy holding that file alone: the files beside it are not the submission.
    pub fn from_program(
        file: &Path,
        catalogue: &Catalogue,
        confinement: &Confinement,
        tasks: &[String],
        role: Option<&str>,
    ) -> Result<Target> {
        confinement::refuse_a_linked_file(file)?;
        let original = file
            .canonicalize()
            .map_err(Error::io(format!("cannot open {}", file.display())))?;
        confinement.check_against(&original)?;
        let (task, role) = program_task_and_role(file, catalogue, tasks, role)?;
        let copy = PrivateCopy::of_file(&original)?;
        let copied = copy.root().join(original.file_name().unwrap_or_default());
        if !copied.is_file() {
            return Err(Error::Usage(format!(
                "program `{}` changed while it was copied to be graded: {}",
                file.display(),
                copy.warnings().join("; ")
            )));
        }
        let launcher = launcher_of(
            &copied,
            &original,
            "or give its folder with a submission.toml that names its interpreter",
        )?;
        let mut program = RoleProgram::canonical(launcher, &catalogue.tasks[&task].roles[&role]);
        program.visible = vec![copy.root().to_owned()];
        program
            .visible
            .extend(confinement.companions.iter().cloned());
        Ok(Target {
            label: original.display().to_string(),
            programs: BTreeMap::from([(task, BTreeMap::from([(role, program)]))]),
            warnings: copy.warnings().to_vec(),
            requirements: None,
            manifest: None,
            copy: Some(Arc::new(copy)),
            python_packages: Vec::new(),
        })
    }

    /// The reference binaries in `bin_dir`.
    pub fn reference(bin_dir: &Path, catalogue: &Catalogue) -> Target {
        let mut programs: BTreeMap<String, BTreeMap<String, RoleProgram>> = BTreeMap::new();
        let visible = vec![
            bin_dir
                .canonicalize()
                .unwrap_or_else(|_| bin_dir.to_owned()),
        ];
        for (task, info) in &catalogue.tasks {
            for (role, arguments) in &info.roles {
                let binary = bin_dir.join(info.program_name(task, role));
                if binary.is_file() {
                    let launcher = vec![binary.display().to_string()];
                    let mut program = RoleProgram::canonical(launcher, arguments);
                    program.visible = visible.clone();
                    programs
                        .entry(task.clone())
                        .or_default()
                        .insert(role.clone(), program);
                }
            }
        }
        Target {
            label: "reference".into(),
            programs,
            warnings: Vec::new(),
            requirements: None,
            manifest: None,
            copy: None,
            python_packages: Vec::new(),
        }
    }
}

impl Target {
    /// The reference programs in the simulated world. Their command line starts with the
    /// bare program name (`message-server {port}`): the simulated host looks the name up
    /// instead of executing a file. Every program of the catalogue is here, those without a
    /// simulated version too (`ssh-info`, `xmlrpc-server`): their scenarios are then
    /// skipped, each with that reason (`crate::simulation::unsupported`), rather than
    /// their task left out as if not submitted.
    pub fn simulated(catalogue: &Catalogue) -> Target {
        let mut programs: BTreeMap<String, BTreeMap<String, RoleProgram>> = BTreeMap::new();
        for (task, info) in &catalogue.tasks {
            for (role, arguments) in &info.roles {
                let name = info.program_name(task, role);
                programs
                    .entry(task.clone())
                    .or_default()
                    .insert(role.clone(), RoleProgram::canonical(vec![name], arguments));
            }
        }
        Target {
            label: "reference (simulated)".into(),
            programs,
            warnings: Vec::new(),
            requirements: None,
            manifest: None,
            copy: None,
            python_packages: Vec::new(),
        }
    }
}

/// Whether the file `path` is named `name` by convention: `name` itself, or `name` with an
/// extension (`message-server`, `message-server.py`). The one test of a program's name, for
/// the programs of a folder and for a single program given as the target.
pub(crate) fn named_by_convention(path: &Path, name: &str) -> bool {
    path.file_name().is_some_and(|file| file == name)
        || path.file_stem().is_some_and(|stem| stem == name) && path.extension().is_some()
}

/// The task and role a program's file name gives by convention (`message-server.py`:
/// `message`, `server`), if it follows it.
pub fn task_and_role_of(path: &Path, catalogue: &Catalogue) -> Option<(String, String)> {
    catalogue.tasks.iter().find_map(|(task, info)| {
        info.roles
            .keys()
            .find(|role| named_by_convention(path, &info.program_name(task, role)))
            .map(|role| (task.clone(), role.clone()))
    })
}

/// The task and role of a program given alone: by its name when it follows the convention
/// (any `--task` and `--role` must agree with it), else from the one task `tasks` names and
/// `role`; else an error naming the convention and the flags.
fn program_task_and_role(
    file: &Path,
    catalogue: &Catalogue,
    tasks: &[String],
    role: Option<&str>,
) -> Result<(String, String)> {
    let shown = file.display();
    if let Some((task, named_role)) = task_and_role_of(file, catalogue) {
        if !tasks.is_empty() && !tasks.contains(&task) {
            return Err(Error::Usage(format!(
                "program `{shown}` is named as the {named_role} of `{task}`, but --task {} was given: rename it, or give --task {task}",
                tasks.join(" --task ")
            )));
        }
        if let Some(role) = role.filter(|role| *role != named_role) {
            return Err(Error::Usage(format!(
                "program `{shown}` is named as the {named_role} of `{task}`, but --role {role} was given: rename it, or leave --role out"
            )));
        }
        return Ok((task, named_role));
    }
    let (task, role) = match (tasks, role) {
        ([task], Some(role)) => (task, role),
        _ => {
            let given = match (tasks.len(), role) {
                (0, None) => String::new(),
                (1, None) => " (--task given, --role missing)".to_owned(),
                (0, Some(_)) => " (--role given, --task missing)".to_owned(),
                _ => " (give one --task, not several)".to_owned(),
            };
            return Err(Error::Usage(format!(
                "program `{shown}` is not named after a task's program, so its task and role are unknown{given}: name it <task>-<role>, with or without an extension (message-server, upper-tcp-client.py, web-server; `harness list` names every task and role), or say them with --task TASK --role ROLE"
            )));
        }
    };
    let Some(info) = catalogue.tasks.get(task) else {
        return Err(Error::Usage(format!(
            "unknown task `{task}` (`harness list` names every task)"
        )));
    };
    if !info.roles.contains_key(role) {
        let roles: Vec<&str> = info.roles.keys().map(String::as_str).collect();
        return Err(Error::Usage(format!(
            "--role {role}: task `{task}` has no such role (its roles: {})",
            roles.join(", ")
        )));
    }
    Ok((task.clone(), role.to_owned()))
}

/// The launcher of `<dir>/<name>[.ext]`: the file itself, or an interpreter and the file.
/// `dir` is the private copy of `original`, which errors name.
fn find_by_convention(dir: &Path, original: &Path, name: &str) -> Result<Option<Vec<String>>> {
    let entries =
        std::fs::read_dir(dir).map_err(Error::io(format!("cannot list {}", dir.display())))?;
    let mut candidates: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_file() && named_by_convention(path, name))
        .collect();
    // The bare name first (a compiled program), then by extension, for a stable choice.
    candidates.sort_by_key(|path| (path.extension().is_some(), path.clone()));
    let Some(path) = candidates.into_iter().next() else {
        return Ok(None);
    };
    let known = original.join(path.strip_prefix(dir).unwrap_or(&path));
    launcher_of(&path, &known, "or map it in submission.toml").map(Some)
}

/// How to run the program file `path` (in a private copy): the file itself when it is
/// executable (its shebang line picks the interpreter), else `python3` for `.py` and `sh`
/// for `.sh`. `known` is the file as the student knows it, which the error names, with
/// `otherwise`: the other way to say how it runs.
fn launcher_of(path: &Path, known: &Path, otherwise: &str) -> Result<Vec<String>> {
    let shown = path.display().to_string();
    let executable = path
        .metadata()
        .map(|meta| meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false);
    let has_shebang = std::fs::read(path)
        .map(|bytes| bytes.starts_with(b"#!"))
        .unwrap_or(false);
    let extension = path.extension().and_then(|ext| ext.to_str()).unwrap_or("");
    Ok(match extension {
        _ if executable && (has_shebang || extension.is_empty()) => vec![shown],
        "py" => vec!["python3".into(), shown],
        "sh" => vec!["sh".into(), shown],
        _ => {
            return Err(Error::Usage(format!(
                "{} is not executable and has no known interpreter: chmod +x it, {otherwise}",
                known.display()
            )));
        }
    })
}

/// What `submission.toml` may say of a program besides its command line, for a whole task
/// (every role, those found by convention too) or for one role.
#[derive(Debug, Clone, Default)]
struct Settings {
    fixed_port: Option<u16>,
    host: Option<String>,
    workdir: Option<Workdir>,
    stdin_prefix: Option<String>,
    dropped: Option<Vec<String>>,
    renamed: Option<BTreeMap<String, String>>,
    user: Option<String>,
    password: Option<String>,
    own_values: Option<BTreeMap<String, String>>,
    hold_stdin: Option<bool>,
    prompts: Option<Vec<String>>,
    line_prompt: Option<String>,
    site_files: Option<Vec<PathBuf>>,
}

impl Settings {
    /// These settings, where set, over `program`'s.
    fn apply_to(&self, program: &mut RoleProgram) {
        if let Some(port) = self.fixed_port {
            program.fixed_port = Some(port);
        }
        if let Some(host) = &self.host {
            program.host = Some(host.clone());
        }
        if let Some(workdir) = &self.workdir {
            program.workdir = Some(workdir.clone());
        }
        if let Some(prefix) = &self.stdin_prefix {
            program.stdin_prefix = Some(prefix.clone());
        }
        if let Some(dropped) = &self.dropped {
            program.options.dropped = dropped.clone();
        }
        if let Some(renamed) = &self.renamed {
            program.options.renamed = renamed.clone();
        }
        if let Some(user) = &self.user {
            program.login.user = Some(user.clone());
        }
        if let Some(password) = &self.password {
            program.login.password = Some(password.clone());
        }
        if let Some(values) = &self.own_values {
            program.own_values = values.clone();
        }
        if let Some(prompts) = &self.prompts {
            program.prompts = prompts.clone();
        }
        if let Some(prompt) = &self.line_prompt {
            program.line_prompt = Some(prompt.clone());
        }
        if let Some(hold) = self.hold_stdin {
            program.hold_stdin = hold;
        }
        if let Some(files) = &self.site_files {
            program.site_files = files.clone();
        }
    }
}

/// The keys a task table or a role table may hold besides the command.
const SETTING_KEYS: &str = "port, host, workdir, stdin, prompts, line_prompt, drop, rename, user, password, with, hold_stdin, site_files";

/// Programs by task and role, as the manifest names them, each task's settings, and the
/// Python packages it asks for.
type Manifest = (
    BTreeMap<String, BTreeMap<String, RoleProgram>>,
    BTreeMap<String, Settings>,
    Option<Requirements>,
);

type Entries = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// Reads `submission.toml`:
///
/// ```toml
/// [udp-pinger]
/// port = 12000                                   # both programs hard-code it
/// server = "python3 UDPPingerServer.py"          # takes no --loss
/// client = { command = "python3 UDPPingerClient.py", drop = ["--count"] }
/// ```
///
/// `path` is the manifest as the student knows it (in the submission folder), which errors
/// name; its text is read from the private copy of `scope`.
fn read_manifest(path: &Path, scope: Scope<'_>, catalogue: &Catalogue) -> Result<Manifest> {
    let copied = scope.copy.join("submission.toml");
    let text = std::fs::read_to_string(&copied)
        .map_err(Error::io(format!("cannot read {}", path.display())))?;
    let reader = ManifestReader {
        path,
        scope,
        text: &text,
    };
    let items: BTreeMap<Spanned<String>, Spanned<ManifestItem>> =
        toml::from_str(&text).map_err(|error| {
            reader.bad(
                error.span().map(|span| span.start).unwrap_or(0),
                error.message().trim().to_owned(),
            )
        })?;
    let mut programs = BTreeMap::new();
    let mut settings = BTreeMap::new();
    let mut requirements = None;
    for (name, item) in items {
        let at = item.span().start;
        let entries = match (name.get_ref().as_str(), item.into_inner()) {
            (REQUIREMENTS_KEY, ManifestItem::Text(file)) => {
                requirements = Some(reader.requirements(at, &file)?);
                continue;
            }
            (REQUIREMENTS_KEY, ManifestItem::Task(_)) => {
                return Err(reader.bad(
                    at,
                    format!("`{REQUIREMENTS_KEY}` names a file of the submission (`requirements = \"requirements.txt\"`)"),
                ));
            }
            (_, ManifestItem::Task(entries)) => entries,
            (task, ManifestItem::Text(_)) => {
                return Err(reader.bad(
                    at,
                    format!("`{task}` must be a table (`[{task}]`); the only other key at the top is `{REQUIREMENTS_KEY} = \"FILE\"`"),
                ));
            }
        };
        let task = name;
        let Some(info) = catalogue.tasks.get(task.get_ref()) else {
            let known: Vec<&str> = catalogue.tasks.keys().map(String::as_str).collect();
            return Err(reader.bad(
                task.span().start,
                format!(
                    "unknown task `{}` (tasks: {})",
                    task.get_ref(),
                    known.join(", ")
                ),
            ));
        };
        let mut task_settings = Settings::default();
        let mut role_entries = Vec::new();
        for (key, value) in entries {
            let name = key.get_ref().as_str();
            if info.roles.contains_key(name) {
                role_entries.push((key, value));
            } else if !reader.setting(
                &mut task_settings,
                task.get_ref(),
                &format!("[{}]", task.get_ref()),
                name,
                key.span().start,
                value.get_ref(),
            )? {
                let known: Vec<&str> = info.roles.keys().map(String::as_str).collect();
                return Err(reader.bad(
                    key.span().start,
                    format!(
                        "unknown key `{name}` for task `{}` (roles: {}; or {SETTING_KEYS})",
                        task.get_ref(),
                        known.join(", ")
                    ),
                ));
            }
        }
        let mut roles = BTreeMap::new();
        for (role, value) in role_entries {
            let mut program = RoleProgram::default();
            task_settings.apply_to(&mut program);
            let at = role.span().start;
            let role_name = role.into_inner();
            let command = match value.get_ref() {
                toml::Value::String(line) => line.clone(),
                // A role's own table: errors point at the role's line (an inline table is
                // on one line; the positions inside it are not kept).
                toml::Value::Table(table) => {
                    let mut own = Settings::default();
                    let mut command = None;
                    for (key, value) in table {
                        if key == "command" {
                            command = Some(value.as_str().map(str::to_owned).ok_or_else(|| {
                                reader.bad(at, "`command` must be a string".into())
                            })?);
                        } else if !reader.setting(
                            &mut own,
                            task.get_ref(),
                            &format!("[{}] {role_name}", task.get_ref()),
                            key,
                            at,
                            value,
                        )? {
                            return Err(reader.bad(
                                at,
                                format!(
                                    "unknown key `{key}` for role `{role_name}` (command, {SETTING_KEYS})"
                                ),
                            ));
                        }
                    }
                    own.apply_to(&mut program);
                    command.ok_or_else(|| {
                        reader.bad(at, format!("role `{role_name}` has no `command`"))
                    })?
                }
                _ => {
                    return Err(reader.bad(
                        at,
                        format!(
                            "`{role_name}` must be a command line, or a table with `command` and any of {SETTING_KEYS}"
                        ),
                    ));
                }
            };
            let owner = format!("[{}] {role_name}", task.get_ref());
            program.template = reader.command_words(at, &owner, &role_name, &command)?;
            program.known_good = reader.runs_a_companion(&program.template);
            roles.insert(role_name, program);
        }
        settings.insert(task.get_ref().clone(), task_settings);
        programs.insert(task.into_inner(), roles);
    }
    Ok((programs, settings, requirements))
}

/// The one key of `submission.toml` outside a task's table: the file listing the Python
/// packages the programs import ([`requirements`]).
const REQUIREMENTS_KEY: &str = "requirements";

/// What the top of `submission.toml` holds: a task's table, or the requirements file.
enum ManifestItem {
    Task(Entries),
    Text(String),
}

impl<'de> serde::Deserialize<'de> for ManifestItem {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ManifestItem;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a task's table (`[message]`), or `requirements = \"FILE\"`")
            }
            fn visit_str<E: serde::de::Error>(
                self,
                text: &str,
            ) -> std::result::Result<ManifestItem, E> {
                Ok(ManifestItem::Text(text.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<ManifestItem, A::Error> {
                // toml's own map, so that the entries keep their places in the file.
                serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(ManifestItem::Task)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// The manifest being read, for errors that say `file:line: reason`.
struct ManifestReader<'a> {
    /// The manifest in the submission folder (what errors name).
    path: &'a Path,
    /// The submission folder, its private copy, and what else its paths may name.
    scope: Scope<'a>,
    text: &'a str,
}

impl ManifestReader<'_> {
    fn bad(&self, offset: usize, reason: String) -> Error {
        Error::BadFile {
            path: self.path.to_owned(),
            line: line_of(self.text, offset),
            reason,
        }
    }

    /// Reads the requirements file `file` names (a file of the submission, never a link);
    /// an error in it names its own line.
    fn requirements(&self, at: usize, file: &str) -> Result<Requirements> {
        let place = self
            .scope
            .resolve(file, Allow::SubmissionOnly)
            .map_err(|reason| self.bad(at, format!("{REQUIREMENTS_KEY}: {reason}")))?;
        let Some(Place::Submission(path)) = place else {
            return Err(self.bad(
                at,
                format!("{REQUIREMENTS_KEY}: `{file}` is not a file of the submission"),
            ));
        };
        Requirements::read(&path, file).map_err(|(line, reason)| match line {
            0 => self.bad(at, reason),
            line => Error::BadFile {
                path: self.scope.original.join(file),
                line,
                reason,
            },
        })
    }

    /// `value`, a part of the login `task`'s programs hard-code (`key`: `user` or
    /// `password`), if every pack that checks that task's logins can carry it
    /// ([`crate::protocols::accounts::login_refusal`]): a login the peer would refuse or
    /// mangle is the manifest's error here, not a failure the student's program seems to
    /// have in every scenario that logs in.
    fn login_part(
        &self,
        task: &str,
        owner: &str,
        key: &str,
        at: usize,
        value: String,
    ) -> Result<String> {
        use crate::protocols::{LoginPart, login_refusal};
        let part = match key {
            "user" => LoginPart::User,
            _ => LoginPart::Password,
        };
        match login_refusal(task, part, &value) {
            Some(reason) => Err(self.bad(at, format!("{owner} {key}: {reason}"))),
            None => Ok(value),
        }
    }

    /// Reads one of [`SETTING_KEYS`] into `settings`; `false` if `key` is none of them.
    /// `owner` is the table it is in, for errors (`[message]`, `[message] server`).
    fn setting(
        &self,
        settings: &mut Settings,
        task: &str,
        owner: &str,
        key: &str,
        at: usize,
        value: &toml::Value,
    ) -> Result<bool> {
        let string = |what: &str| {
            value
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| self.bad(at, format!("`{what}` must be a string")))
        };
        match key {
            "port" => {
                let port = value
                    .as_integer()
                    .and_then(|port| u16::try_from(port).ok())
                    .filter(|port| *port > 0);
                settings.fixed_port = Some(port.ok_or_else(|| {
                    self.bad(at, "`port` must be a port number (1-65535)".into())
                })?);
            }
            "host" => {
                let host = string("host")?;
                if host.parse::<std::net::IpAddr>().is_err() {
                    return Err(self.bad(
                        at,
                        format!("`host` must be an IP address (`127.0.1.1`, `::1`), not `{host}`"),
                    ));
                }
                settings.host = Some(host);
            }
            "workdir" => {
                let folder = string("workdir")?;
                settings.workdir = Some(if folder == "{dir}" {
                    Workdir::Site
                } else {
                    let place = self
                        .scope
                        .resolve(&folder, Allow::SubmissionOnly)
                        .map_err(|reason| self.bad(at, format!("{owner} workdir: {reason}")))?;
                    match place {
                        Some(Place::Submission(path)) if path.is_dir() => Workdir::Folder(path),
                        _ => {
                            return Err(self.bad(
                                at,
                                format!(
                                    "{owner} workdir: workdir `{}` is not a folder (or write \"{{dir}}\" for the test web site)",
                                    self.scope.original.join(&folder).display()
                                ),
                            ));
                        }
                    }
                });
            }
            "stdin" => settings.stdin_prefix = Some(string("stdin")?),
            "prompts" => {
                let prompts = string_list(value)
                    .filter(|prompts| !prompts.iter().any(String::is_empty))
                    .ok_or_else(|| self.bad(at, format!("{owner} prompts: {}", prompts::SHAPE)))?;
                settings.prompts = Some(prompts);
            }
            "line_prompt" => {
                let prompt = value
                    .as_str()
                    .filter(|prompt| !prompt.is_empty())
                    .ok_or_else(|| {
                        self.bad(at, format!("{owner} line_prompt: {}", prompts::LINE_SHAPE))
                    })?;
                settings.line_prompt = Some(prompt.to_owned());
            }
            "hold_stdin" => {
                settings.hold_stdin =
                    Some(value.as_bool().ok_or_else(|| {
                        self.bad(at, "`hold_stdin` must be true or false".into())
                    })?);
            }
            "with" => {
                let values = string_table(value)
                    .filter(|values| !values.is_empty())
                    .ok_or_else(|| {
                        self.bad(
                            at,
                            "`with` must map the role's placeholders, or the scenario's options, to the values the program hard-codes (`{ password = \"1234\" }`, `{ \"--from\" = \"me@example.org\" }`)".into(),
                        )
                    })?;
                if let Some(file) = values.get(HARD_CODED_FILE) {
                    let relative = !file.is_empty()
                        && !file.chars().any(char::is_control)
                        && Path::new(file)
                            .components()
                            .all(|part| matches!(part, std::path::Component::Normal(_)));
                    if !relative {
                        return Err(self.bad(
                            at,
                            format!(
                                "{owner} with: `file = \"{file}\"` must be the path the program opens, relative to where it runs (`test.bin`, `files/notes`), with no `..`"
                            ),
                        ));
                    }
                }
                settings.own_values = Some(values);
            }
            "site_files" => {
                let names = string_list(value).ok_or_else(|| {
                    self.bad(
                        at,
                        "`site_files` must be a list of files of the submission (`[\"404.html\"]`)"
                            .into(),
                    )
                })?;
                let mut files = Vec::new();
                for name in names {
                    let inside = Path::new(&name)
                        .components()
                        .all(|part| matches!(part, std::path::Component::Normal(_)));
                    let place =
                        match inside {
                            true => self.scope.resolve(&name, Allow::SubmissionOnly).map_err(
                                |reason| self.bad(at, format!("{owner} site_files: {reason}")),
                            )?,
                            false => None,
                        };
                    let Some(Place::Submission(path)) = place else {
                        return Err(self.bad(
                            at,
                            format!(
                                "site_files: `{name}` is not a file or folder of the submission (a path inside it, like `404.html` or `errors/`)"
                            ),
                        ));
                    };
                    files.push(path);
                }
                settings.site_files = Some(files);
            }
            "user" => {
                settings.user = Some(self.login_part(task, owner, key, at, string("user")?)?)
            }
            "password" => {
                settings.password =
                    Some(self.login_part(task, owner, key, at, string("password")?)?)
            }
            "drop" => {
                let options = string_list(value)
                    .filter(|options| options.iter().all(|option| option.starts_with('-')))
                    .ok_or_else(|| {
                        self.bad(
                            at,
                            "`drop` must be a list of options (`[\"--loss\"]`)".into(),
                        )
                    })?;
                settings.dropped = Some(options);
            }
            "rename" => {
                let renamed = string_table(value)
                    .filter(|renamed| renamed.keys().all(|option| option.starts_with('-')))
                    .ok_or_else(|| {
                        self.bad(
                            at,
                            "`rename` must map options to names (`{ \"--count\" = \"-n\" }`, or \"\" to pass only the value)".into(),
                        )
                    })?;
                settings.renamed = Some(renamed);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Whether a command line (its words made absolute) runs a companion's file and none of
    /// the submission's: `python3 ../good/message-client.py {host} {port}`.
    fn runs_a_companion(&self, words: &[String]) -> bool {
        let inside = |roots: &[&Path]| {
            words.iter().any(|word| {
                let path = Path::new(word);
                path.is_absolute() && roots.iter().any(|root| path.starts_with(root))
            })
        };
        let companions: Vec<&Path> = self
            .scope
            .confinement
            .companions
            .iter()
            .map(PathBuf::as_path)
            .collect();
        inside(&companions) && !inside(&[self.scope.copy, self.scope.original])
    }

    /// A command line's words; those naming a file of the folder are made absolute, and
    /// so are `.` and the folders of a Java class path (see [`submission_words`]). A word
    /// that names an existing path outside the submission (and outside the companion
    /// folders) is refused; `owner` (`[message] server`) says where in errors.
    fn command_words(&self, at: usize, owner: &str, role: &str, line: &str) -> Result<Vec<String>> {
        let words =
            shell_words::split(line).map_err(|error| self.bad(at, format!("`{role}`: {error}")))?;
        if words.is_empty() {
            return Err(self.bad(at, format!("`{role}` is an empty command line")));
        }
        if words[0].contains('{') {
            return Err(self.bad(
                at,
                format!(
                    "{owner}: the program `{}` must be named as it is, without a placeholder",
                    words[0]
                ),
            ));
        }
        submission_words(self.scope, words)
            .map_err(|reason| self.bad(at, format!("{owner}: {reason}")))
    }
}

/// A TOML list of strings, if `value` is one.
fn string_list(value: &toml::Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect()
}

/// A TOML table of strings, if `value` is one.
fn string_table(value: &toml::Value) -> Option<BTreeMap<String, String>> {
    value
        .as_table()?
        .iter()
        .map(|(key, item)| Some((key.clone(), item.as_str()?.to_owned())))
        .collect()
}

/// `words` of a command line with what names the submission folder made absolute, in its
/// private copy: the program runs in a fresh temporary folder (or the test site), where
/// `server.py`, `.` or `-cp .` would name nothing.
///
/// - a word naming a file of the folder (`server.py`);
/// - `.` (`java -cp . Server`): the folder itself;
/// - each entry of a class path (`-cp .:lib/gson.jar`, `-classpath`, `--class-path`) that
///   is the folder or names something in it;
/// - `java Server` with no class path at all, where `Server.class` is in the folder:
///   Java's default class path is the working directory, so `-cp FOLDER` is added.
///
/// A word (or class path entry) that names an existing path must lead inside the
/// submission, or a companion folder, or (written absolute) the system's folders: else
/// `Err`, the reason. Words with a placeholder (`{port}`) and options are left alone.
fn submission_words(
    scope: Scope<'_>,
    words: Vec<String>,
) -> std::result::Result<Vec<String>, String> {
    let place = |word: &str| -> std::result::Result<Option<Place>, String> {
        if word.is_empty() || word.contains('{') || word.starts_with('-') {
            return Ok(None);
        }
        scope.resolve(word, Allow::CommandLine)
    };
    let written = |place: &Place| match place {
        Place::Submission(path) | Place::Companion(path) | Place::System(path) => {
            path.display().to_string()
        }
    };
    const CLASS_PATH_OPTIONS: [&str; 3] = ["-cp", "-classpath", "--class-path"];
    let mut out = Vec::with_capacity(words.len() + 2);
    let mut after_class_path_option = false;
    for word in &words {
        let mapped = if after_class_path_option {
            word.split(':')
                .map(|entry| {
                    Ok(place(entry)?
                        .map(|found| written(&found))
                        .unwrap_or_else(|| entry.to_owned()))
                })
                .collect::<std::result::Result<Vec<_>, String>>()?
                .join(":")
        } else {
            match place(word)? {
                // Files, and the folder itself; another folder stays as written, relative
                // to the program's working folder.
                Some(found) if word == "." || Path::new(&written(&found)).is_file() => {
                    written(&found)
                }
                _ => word.clone(),
            }
        };
        after_class_path_option = CLASS_PATH_OPTIONS.contains(&word.as_str());
        out.push(mapped);
    }
    let is_java = out.first().is_some_and(|program| {
        Path::new(program)
            .file_name()
            .is_some_and(|name| name == "java")
    });
    let has_class_path = words.iter().any(|word| {
        CLASS_PATH_OPTIONS.contains(&word.as_str())
            || word == "-jar"
            || word.starts_with("--class-path=")
    });
    let main_class = words
        .iter()
        .skip(1)
        .find(|word| !word.starts_with('-'))
        .filter(|class| {
            scope
                .copy
                .join(format!("{}.class", class.replace('.', "/")))
                .is_file()
        });
    if is_java && !has_class_path && main_class.is_some() {
        out.insert(1, "-cp".into());
        out.insert(2, scope.copy.display().to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    fn catalogue() -> Catalogue {
        let kit = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        Catalogue::load(&kit.join("scenarios/tasks.toml")).unwrap()
    }

    /// A class folder holding submission `mine` with `manifest` and a `server.py`, and a
    /// classmate `other` with its own `x.py`.
    fn class_with(manifest: &str) -> (tempfile::TempDir, PathBuf) {
        let class = tempfile::tempdir().unwrap();
        let mine = class.path().join("mine");
        std::fs::create_dir_all(&mine).unwrap();
        std::fs::create_dir_all(class.path().join("other")).unwrap();
        std::fs::write(class.path().join("other/x.py"), "print('theirs')\n").unwrap();
        std::fs::write(mine.join("server.py"), "print('mine')\n").unwrap();
        std::fs::write(mine.join("submission.toml"), manifest).unwrap();
        (class, mine)
    }

    /// The error reading `mine` with `manifest` gives, with no companion folder.
    fn refusal(manifest: &str) -> String {
        let (_class, mine) = class_with(manifest);
        Target::from_folder(&mine, &catalogue(), &Confinement::none())
            .expect_err("the manifest is refused")
            .to_string()
    }

    #[test]
    fn a_workdir_outside_the_submission_is_refused_naming_the_key_and_the_path() {
        for (workdir, named) in [("/root", "`/root`"), ("..", "`..`"), ("/", "`/`")] {
            let error = refusal(&format!(
                "[message]\nworkdir = \"{workdir}\"\nserver = \"python3 server.py {{port}}\"\n"
            ));
            assert!(
                error.contains("submission.toml:2: [message] workdir"),
                "{error}"
            );
            // `/root` may not exist here: then it is refused as no folder, still by name.
            assert!(
                error.contains(named) || error.contains("workdir `/root` is not a folder"),
                "{error}"
            );
        }
        let error = refusal(
            "[message]\nserver = { command = \"python3 server.py {port}\", workdir = \"..\" }\n",
        );
        assert!(
            error.contains("[message] server workdir: `..` is outside the submission folder"),
            "{error}"
        );
    }

    #[test]
    fn a_command_line_naming_a_classmates_file_is_refused_without_companions() {
        let error = refusal("[message]\nserver = \"python3 ../other/x.py {port}\"\n");
        assert!(error.contains("submission.toml:2: [message] server: `../other/x.py` is outside the submission folder"), "{error}");
        assert!(error.contains("--companions"), "{error}");
        // Also as an absolute path, and as an entry of a Java class path.
        let (class, _) = class_with("");
        let absolute = class.path().join("other/x.py").canonicalize().unwrap();
        let error = refusal(&format!(
            "[message]\nserver = \"python3 {} {{port}}\"\n",
            absolute.display()
        ));
        assert!(
            error.contains("is outside the submission folder"),
            "{error}"
        );
        let error = refusal("[message]\nserver = \"java -cp .:../other Server {port}\"\n");
        assert!(
            error.contains("`../other` is outside the submission folder"),
            "{error}"
        );
    }

    #[test]
    fn a_link_leading_outside_is_refused_as_the_program_and_left_out_of_the_copy() {
        let (class, mine) = class_with("[message]\nserver = \"python3 linked.py {port}\"\n");
        std::os::unix::fs::symlink(class.path().join("other/x.py"), mine.join("linked.py"))
            .unwrap();
        let error = Target::from_folder(&mine, &catalogue(), &Confinement::none())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("[message] server: `linked.py` (it leads to "),
            "{error}"
        );
        assert!(
            error.contains("other/x.py) is outside the submission folder"),
            "{error}"
        );
        // Not named by the manifest, it is only left out, and the grader told.
        std::fs::write(
            mine.join("submission.toml"),
            "[message]\nserver = \"python3 server.py {port}\"\n",
        )
        .unwrap();
        let target = Target::from_folder(&mine, &catalogue(), &Confinement::none()).unwrap();
        let copy = target.graded_folder().unwrap();
        assert!(copy.join("server.py").is_file());
        assert!(copy.join("linked.py").symlink_metadata().is_err());
        assert_eq!(target.warnings.len(), 1, "{:?}", target.warnings);
        assert!(
            target.warnings[0].contains("linked.py"),
            "{:?}",
            target.warnings
        );
    }

    #[test]
    fn a_submission_that_is_a_link_or_whose_program_is_one_leading_out_is_refused() {
        let (class, mine) = class_with("");
        std::fs::remove_file(mine.join("submission.toml")).unwrap();
        std::fs::write(class.path().join("other/message-server.py"), "theirs\n").unwrap();
        // The folder itself a link (to a classmate's): refused, however it is written.
        let linked = class.path().join("linked");
        std::os::unix::fs::symlink("other", &linked).unwrap();
        for written in ["linked", "linked/", "linked/."] {
            let error = Target::from_folder(
                &class.path().join(written),
                &catalogue(),
                &Confinement::none(),
            )
            .unwrap_err()
            .to_string();
            assert!(
                error.contains(
                    "is a symbolic link to other: a submission is graded from its own folder"
                ),
                "{written}: {error}"
            );
        }
        // A program found by its name that is a link leading out: refused, naming it.
        std::os::unix::fs::symlink(
            class.path().join("other/message-server.py"),
            mine.join("message-server.py"),
        )
        .unwrap();
        let error = Target::from_folder(&mine, &catalogue(), &Confinement::none())
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("`message-server.py` is a symbolic link to "),
            "{error}"
        );
        assert!(error.contains("never through a link"), "{error}");
        // A link to a file of its own is the student's own program.
        std::fs::remove_file(mine.join("message-server.py")).unwrap();
        std::os::unix::fs::symlink("server.py", mine.join("message-server.py")).unwrap();
        let target = Target::from_folder(&mine, &catalogue(), &Confinement::none()).unwrap();
        assert!(
            target
                .task("message")
                .is_some_and(|roles| roles.contains_key("server"))
        );
    }

    #[test]
    fn a_program_alone_is_copied_without_what_lies_beside_it() {
        let (class, mine) = class_with("");
        std::fs::write(mine.join("message-client.py"), "print('mine')\n").unwrap();
        let program = mine.join("message-client.py");
        let target =
            Target::from_program(&program, &catalogue(), &Confinement::none(), &[], None).unwrap();
        let copy = target.graded_folder().unwrap();
        let held: Vec<_> = std::fs::read_dir(copy)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(
            held,
            ["message-client.py"],
            "not server.py nor submission.toml"
        );
        let client = &target.programs["message"]["client"];
        assert_eq!(
            client.template[..2],
            [
                "python3".to_owned(),
                copy.join("message-client.py").display().to_string()
            ]
        );
        assert_eq!(client.visible, [copy.to_owned()]);
        assert_eq!(target.programs.len(), 1);
        assert_eq!(target.programs["message"].len(), 1);
        // Named otherwise, it needs its task and role; with them, it is that role.
        let error = Target::from_program(
            &mine.join("server.py"),
            &catalogue(),
            &Confinement::none(),
            &[],
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("--task TASK --role ROLE"), "{error}");
        let target = Target::from_program(
            &mine.join("server.py"),
            &catalogue(),
            &Confinement::none(),
            &["message".to_owned()],
            Some("server"),
        )
        .unwrap();
        assert!(target.programs["message"].contains_key("server"));
        // A link, even to a file of its own folder, is refused.
        std::os::unix::fs::symlink("server.py", mine.join("message-server.py")).unwrap();
        let error = Target::from_program(
            &mine.join("message-server.py"),
            &catalogue(),
            &Confinement::none(),
            &[],
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("is a symbolic link to server.py"), "{error}");
        drop(class);
    }

    #[test]
    fn a_companion_folder_may_be_named_and_the_rest_runs_from_the_private_copy() {
        let (class, mine) = class_with(
            "[message]\nserver = \"python3 server.py {port}\"\nclient = \"python3 ../other/x.py {host} {port}\"\nworkdir = \".\"\n",
        );
        let companions = Confinement::new([class.path().join("other")]).unwrap();
        let target = Target::from_folder(&mine, &catalogue(), &companions).unwrap();
        let copy = target.graded_folder().unwrap().to_owned();
        assert_ne!(copy, mine.canonicalize().unwrap());
        assert_eq!(
            target.label,
            mine.canonicalize().unwrap().display().to_string()
        );
        let roles = &target.programs["message"];
        let theirs = class.path().join("other/x.py").canonicalize().unwrap();
        assert_eq!(roles["client"].template[1], theirs.display().to_string());
        assert_eq!(
            roles["server"].template[1],
            copy.join("server.py").display().to_string()
        );
        assert_eq!(roles["server"].workdir, Some(Workdir::Folder(copy.clone())));
        assert_eq!(roles["server"].visible[0], copy);
        assert!(
            roles["server"]
                .visible
                .contains(&class.path().join("other").canonicalize().unwrap())
        );
        // The copy is the program's: what it writes there never reaches the submission.
        std::fs::write(copy.join("written"), "x").unwrap();
        assert!(!mine.join("written").exists());
        // A companion that holds the submission (a whole class) is refused.
        let whole_class = Confinement::new([class.path().to_owned()]).unwrap();
        let error = Target::from_folder(&mine, &catalogue(), &whole_class)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("never a folder of students' submissions"),
            "{error}"
        );
    }

    #[test]
    fn the_system_programs_may_be_named_by_their_path_but_nothing_else_outside() {
        let (_class, mine) = class_with("[message]\nserver = \"/bin/sh server.py {port}\"\n");
        let target = Target::from_folder(&mine, &catalogue(), &Confinement::none()).unwrap();
        assert_eq!(target.programs["message"]["server"].template[0], "/bin/sh");
        let error = refusal("[message]\nserver = \"python3 server.py /etc/passwd\"\n");
        assert!(
            error.contains("`/etc/passwd` is outside the submission folder"),
            "{error}"
        );
        let error = refusal("[message]\nserver = \"{password} server.py\"\n");
        assert!(error.contains("without a placeholder"), "{error}");
    }

    #[test]
    fn a_hard_coded_login_is_read_for_the_task_or_one_role() {
        let kit = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let catalogue = Catalogue::load(&kit.join("scenarios/tasks.toml")).unwrap();
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(
            folder.path().join("submission.toml"),
            "[smtp-client]\nclient = \"python3 mail.py\"\nuser = \"me@example.com\"\npassword = \"hunter2\"\n\n\
             [password]\nclient = { command = \"python3 c.py\", password = \"letmein\" }\n",
        )
        .unwrap();
        let target = Target::from_folder(folder.path(), &catalogue, &Confinement::none()).unwrap();
        let login = |task: &str| target.programs[task]["client"].login.clone();
        assert_eq!(
            login("smtp-client"),
            Login {
                user: Some("me@example.com".into()),
                password: Some("hunter2".into())
            }
        );
        assert_eq!(login("password").password.as_deref(), Some("letmein"));
        assert_eq!(login("password").user, None);
    }

    #[test]
    fn options_are_kept_renamed_or_dropped_with_their_values() {
        let map = OptionMap {
            dropped: vec!["--loss".into()],
            renamed: BTreeMap::from([
                ("--count".to_owned(), "-n".to_owned()),
                ("--root".to_owned(), String::new()),
            ]),
        };
        let mapped = map.apply(&words("--loss 0.3 --count 4 --verbose --root /srv"));
        assert_eq!(mapped.words, words("-n 4 --verbose /srv"));
        assert_eq!(mapped.dropped, vec!["--loss 0.3".to_owned()]);
    }

    #[test]
    fn a_template_places_the_options_it_names_and_they_are_not_appended() {
        let scenario = words("--user alice --password=s3cret FILE.bin --tls --dir up");
        assert_eq!(
            option_values(&scenario),
            vec![
                ("--user".to_owned(), "alice".to_owned()),
                ("--password".to_owned(), "s3cret".to_owned()),
                ("--tls".to_owned(), String::new()),
                ("--dir".to_owned(), "up".to_owned()),
            ]
        );
        let program = RoleProgram {
            template: words("python3 upload.py {host} {port} {--user}"),
            stdin_prefix: Some("{--password}\n".into()),
            ..RoleProgram::default()
        };
        let placed = program.placed_options();
        assert_eq!(placed, words("--password --user"));
        assert_eq!(
            without_options(&scenario, &placed),
            words("FILE.bin --tls --dir up")
        );
    }

    #[test]
    fn an_option_followed_by_an_option_has_no_value() {
        let map = OptionMap {
            dropped: vec!["--starttls".into()],
            renamed: BTreeMap::new(),
        };
        let mapped = map.apply(&words("--starttls --user u"));
        assert_eq!(mapped.words, words("--user u"));
        assert_eq!(mapped.dropped, vec!["--starttls".to_owned()]);
    }
}
