//! Shared by the integration tests: where the kit is, and the reference binaries.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use harness::scenario::{Suite, load_suite};

/// The seed every fixture's expectations were recorded with.
pub(crate) const SEED: u64 = 1;

/// The kit's root folder.
pub(crate) fn kit_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("harness/ is inside the kit")
        .to_owned()
}

/// Every scenario of the kit.
pub(crate) fn suite() -> Suite {
    load_suite(&kit_root().join("scenarios")).expect("the kit's scenarios load")
}

/// The reference binaries: `cargo test --workspace` builds them beside the test binaries;
/// otherwise the harness builds them.
///
/// Built at most once per test run, and every `harness` the tests start is told where
/// (`HARNESS_REFERENCE_BIN_DIR`): a `--reference` that ran `cargo build -p reference` itself
/// would resolve features for one package instead of the workspace, relink the binaries in
/// `target/debug/` and replace them under a test that is running them.
pub(crate) fn reference_bin_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(find_or_build_reference).clone()
}

fn find_or_build_reference() -> PathBuf {
    let test_exe = std::env::current_exe().expect("test executable path");
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    if profile_dir.join("message-server").is_file() {
        return profile_dir.to_owned();
    }
    harness::cli::reference_bin_dir(&kit_root()).expect("the reference builds")
}

/// A kit whose only scenario is `text`, as `scenarios/<task>/<name>.toml` (with the kit's
/// task catalogue and a link to its `fixtures/`), for tests that need a scenario the kit does
/// not ship.
pub(crate) fn one_scenario_suite(task: &str, name: &str, text: &str) -> (tempfile::TempDir, Suite) {
    let folder = tempfile::tempdir().unwrap();
    let scenarios = folder.path().join("scenarios");
    std::fs::create_dir_all(scenarios.join(task)).unwrap();
    std::fs::copy(
        kit_root().join("scenarios/tasks.toml"),
        scenarios.join("tasks.toml"),
    )
    .unwrap();
    std::os::unix::fs::symlink(kit_root().join("fixtures"), folder.path().join("fixtures"))
        .unwrap();
    std::fs::write(scenarios.join(task).join(format!("{name}.toml")), text).unwrap();
    let suite = load_suite(&scenarios).unwrap();
    (folder, suite)
}

/// The kit's fixtures whose programs other fixtures borrow (`client = "python3
/// ../good/message-client.py {host} {port}"`): the companion folders a grader would give.
pub(crate) fn companion_folders() -> Vec<PathBuf> {
    ["good", "hard-coded-port"]
        .iter()
        .map(|name| kit_root().join("fixtures/submissions").join(name))
        .collect()
}

/// The folder of the fixture `name` (`fixtures/submissions/<name>`), its C programs
/// compiled: each `PROGRAM.c` into `PROGRAM` beside it (git ignores it), as a grader compiles
/// a C submission before grading it (the harness compiles nothing). Compiled once per test
/// run, into the tests' own scratch folder first and then renamed into place: a test grading
/// the fixture at the same time copies either the whole program or none.
pub(crate) fn built_fixture(name: &str) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let folder = kit_root().join("fixtures/submissions").join(name);
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if built.iter().any(|done| done == name) {
        return folder;
    }
    for entry in std::fs::read_dir(&folder).unwrap() {
        let source = entry.unwrap().path();
        if source.extension().is_none_or(|extension| extension != "c") {
            continue;
        }
        let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let program = scratch.path().join("program");
        let output = std::process::Command::new("gcc")
            .args(["-Wall", "-o"])
            .arg(&program)
            .arg(&source)
            .output()
            .expect("gcc is installed (bash .ci/test installs it)");
        assert!(
            output.status.success(),
            "{}: {}",
            source.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::rename(&program, source.with_extension("")).unwrap();
    }
    built.push(name.to_owned());
    folder
}

/// A file of the fixture `folder` of `fixtures/submissions` (`good`: the good sample's).
pub(crate) fn fixture_file(folder: &str, file: &str) -> String {
    std::fs::read_to_string(
        kit_root()
            .join("fixtures/submissions")
            .join(folder)
            .join(file),
    )
    .unwrap_or_else(|error| panic!("fixtures/submissions/{folder}/{file}: {error}"))
}

/// The line under a failure's heading (`── FAIL id …`) in the terminal report `stdout`: the
/// failure's first line (empty when `id` has no failure there).
pub(crate) fn failure_first_line<'a>(stdout: &'a str, id: &str) -> &'a str {
    stdout
        .lines()
        .skip_while(|line| !(line.starts_with("── ") && line.contains(id)))
        .nth(1)
        .unwrap_or_default()
        .trim()
}

/// [`companion_folders`] as the harness takes them, for `Target::from_folder`.
pub(crate) fn companions() -> harness::target::Confinement {
    harness::target::Confinement::new(companion_folders()).expect("the companion fixtures exist")
}

/// The harness binary, run from the kit's folder, without colors, with the kit's companion
/// folders ([`companion_folders`]) in `HARNESS_COMPANIONS`.
pub(crate) fn harness() -> Command {
    let mut command = Command::cargo_bin("harness").unwrap();
    let companions = std::env::join_paths(companion_folders()).expect("paths without `:`");
    // A test that wants the shared loopback sets it again: the others test the namespaces
    // they name, whatever the caller's environment says.
    command
        .current_dir(kit_root())
        .env("NO_COLOR", "1")
        .env("HARNESS_REFERENCE_BIN_DIR", reference_bin_dir())
        .env(harness::target::COMPANIONS_VARIABLE, companions)
        .env_remove("HARNESS_NO_NAMESPACES");
    command
}

/// The terminal report of the submission in `folder` graded on `scenario` alone, seed 1.
pub(crate) fn graded_stdout(folder: &Path, scenario: &str) -> String {
    let output = harness()
        .arg("--target")
        .arg(folder)
        .args(["--seed", "1", scenario])
        .output()
        .expect("the harness runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A submission folder holding `files` (name, text).
pub(crate) fn submission(files: &[(&str, &str)]) -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(folder.path().join(name), text).unwrap();
    }
    folder
}

/// Fails the test, saying why, where scenarios do not get a network namespace of their own:
/// a test of the small internet that passed by skipping there would prove nothing.
pub(crate) fn require_own_networks(what: &str) {
    use harness::world::real::isolation::{NetworkMode, machine_network_mode};
    assert!(
        machine_network_mode() == NetworkMode::NamespacePerScenario,
        "{what} needs a network namespace per scenario, which this machine refuses (or HARNESS_NO_NAMESPACES is set): run the suite as root or where user namespaces are allowed"
    );
}

/// What `nobody` needs of the kit, copied into a fresh folder every user can read and write
/// (its reports): the scenarios and the fixtures they name, `sandbox-init`, and the
/// submissions `names` with `good`, whose client they use, and the interposed library
/// (`bin/libshort_calls.so`). The kit may sit in a folder only
/// root enters (a clone under `/root`), and a harness run by `nobody` enters a user
/// namespace of its own first, where no capability of the machine's reaches root's files.
pub(crate) fn kit_for_anyone(names: &[&str]) -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    let kit = kit_root();
    let submissions: Vec<String> = names
        .iter()
        .chain(&["good"])
        .map(|name| format!("fixtures/submissions/{name}"))
        .collect();
    let shared = [
        "scenarios",
        "fixtures/payloads",
        "fixtures/zones",
        "fixtures/trees",
        "fixtures/www",
    ];
    for part in shared
        .iter()
        .copied()
        .chain(submissions.iter().map(String::as_str))
    {
        copy_tree(&kit.join(part), &folder.path().join(part));
    }
    let init = sandbox::locate_init(&kit).expect("sandbox-init is built");
    let library = sandbox::interposed_library(&kit).expect("the interposed library is built");
    std::fs::create_dir(folder.path().join("bin")).unwrap();
    std::fs::copy(&init, folder.path().join("bin/sandbox-init")).unwrap();
    std::fs::copy(&library, folder.path().join("bin/libshort_calls.so")).unwrap();
    open_to_all(folder.path());
    folder
}

/// Copies the folder `from` to `to` (files and folders; the kit holds no links there).
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// Every folder below `dir` readable, searchable and writable by all; files readable.
fn open_to_all(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            open_to_all(&entry.path());
        } else {
            let mode = entry.metadata().unwrap().permissions().mode();
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode | 0o644))
                .unwrap();
        }
    }
}

/// `setpriv` running the harness as `nobody`: an ordinary user to the kernel (no
/// `CAP_SYS_ADMIN`, no `CAP_SETUID`), allowed to read and search every folder so that it
/// can start the harness binary wherever the kit was built (a clone under `/root`). Once
/// the harness enters a user namespace of its own that allowance is gone: give it what
/// it reads from [`kit_for_anyone`].
pub(crate) fn harness_as_nobody() -> std::process::Command {
    let setpriv = Path::new("/usr/bin/setpriv");
    assert!(
        setpriv.exists(),
        "this test runs the harness as `nobody` with setpriv: install util-linux"
    );
    let mut command = std::process::Command::new(setpriv);
    command.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=+dac_read_search",
        "--ambient-caps=+dac_read_search",
        "--",
    ]);
    command.arg(assert_cmd::cargo::cargo_bin("harness"));
    command
}

/// Whether the suite runs as root (CI does): what only root can set up (a container daemon,
/// `nobody` through setpriv, capabilities taken away) is tried then.
pub(crate) fn running_as_root() -> bool {
    // SAFETY: geteuid only reads the caller's id.
    unsafe { libc::geteuid() == 0 }
}

/// Work that loads this machine's disk and processors far beyond one grading (building a
/// container image with debootstrap: dpkg unpacking a hundred packages) holds this for
/// writing; a test whose verdicts depend on time (a fixture
/// graded and compared with what it declares) holds it for reading, so that the two never
/// overlap. Beside the image build, CI saw a correct server's instant answer take 1.2 s and
/// a program's DNS question wait 3 s: stalls no deadline in a scenario should have to
/// absorb.
static HEAVY_LOAD: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// Held while this test loads the machine (see [`HEAVY_LOAD`]).
pub(crate) fn loading_the_machine() -> std::sync::RwLockWriteGuard<'static, ()> {
    HEAVY_LOAD
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Held while this test's verdicts depend on time (see [`HEAVY_LOAD`]).
pub(crate) fn timing_matters() -> std::sync::RwLockReadGuard<'static, ()> {
    HEAVY_LOAD
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// No process (but zombies) whose command line mentions `marker` runs any more. SIGKILL is
/// delivered at once but a busy machine may take a moment to schedule the dying processes:
/// wait (bounded) for them to be gone.
pub(crate) fn assert_nothing_left_from(marker: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut survivors = running_from(marker);
    while !survivors.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        survivors = running_from(marker);
    }
    assert!(
        survivors.is_empty(),
        "processes left behind: {} of them, first {:?}",
        survivors.len(),
        survivors.first()
    );
}

/// The processes (not zombies) whose command line mentions `marker`.
fn running_from(marker: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| {
            let pid = entry.ok()?.file_name().to_str()?.parse::<u32>().ok()?;
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let zombie = stat.rsplit(')').next()?.trim_start().starts_with('Z');
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            (cmdline.contains(marker) && !zombie).then(|| format!("{pid}: {cmdline}"))
        })
        .collect()
}
