//! Graded where classes are graded: inside a real Docker container, as Gradescope,
//! PrairieLearn and GitHub Actions run the grader (root, but Docker's capabilities without
//! `CAP_SYS_ADMIN`, its default seccomp profile refusing new namespaces and `mount`, a
//! read-only cgroup tree, a network of its own with a loopback and no IPv6), and by an
//! ordinary user (`nobody`) on this machine.
//!
//! Debian's `docker.io` daemon is started by the test, in the foreground on a socket and
//! folders of its own, and stopped by its pid; the image is made with `debootstrap` from
//! Debian's packages (no image registry is reachable from CI) and `docker import`, holding
//! only what the good sample's programs import. The kit is mounted read-only. In it the
//! harness grades the good sample, the hard-coded-port sample and every hostile fixture,
//! and each verdict must be the one with full privileges, except:
//! - the scenarios that cannot run there ([`NOT_RUN_IN_CONTAINER`]): skipped with the
//!   reason, never failed;
//! - the hostile fixtures' verdicts that depend on a layer the container refuses, declared
//!   in their `expected.toml` (`[environments.container]`, see `expected.rs`), where the
//!   report must say that layer was not there.
//!
//! Where no container can run here (no `dockerd`, or the daemon does not start), the same
//! gradings run in a stand-in and the test says so on stderr: this machine with the
//! harness's capabilities cut to Docker's (no `CAP_SYS_ADMIN`) and the cgroup tree
//! remounted read-only in a mount namespace of its own (`emulated-container`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use crate::expected::Expected;

/// Scenarios that a container cannot play, and why: they are skipped (`cannot-run`),
/// counted neither for nor against the student.
const NOT_RUN_IN_CONTAINER: [(&str, &str); 5] = [
    (
        "interfaces/02-interfaces-the-harness-adds",
        "adds interfaces: needs a network namespace of its own",
    ),
    (
        "dual-stack/01-both-families",
        "Docker gives a container no IPv6 loopback unless its network enables IPv6",
    ),
    ("dual-stack/02-both-families-at-once", "no IPv6 loopback"),
    ("dual-stack/03-client-over-ipv6", "no IPv6 loopback"),
    (
        "web-server/14-browser-shows-the-page",
        "the image holds no browser",
    ),
];

/// The first user id the harness gives a program of its own (`harness/sandbox/src/users.rs`).
const FIRST_PROGRAM_UID: u32 = 2_100_000_000;

/// The file listing, after every grading in the container, the programs' processes alive.
const SURVIVORS: &str = "survivors.txt";

/// Where the container's stand-in for a classmate's private copy is, and the secret in it.
const CLASSMATE_FOLDER: &str = "/srv/socket-lab-classmate";
const CLASSMATE_SECRET: &str = "socket-lab-secret-classmate-5170";

/// One grading: a fixture, the scenarios it is graded on, and what it must fail where.
struct Grading {
    fixture: String,
    expected: Expected,
    /// `--task` and scenario patterns.
    selection: Vec<String>,
}

/// The good sample (every task), the hard-coded-port sample and every hostile fixture.
fn gradings() -> Vec<Grading> {
    let folder = common::kit_root().join("fixtures/submissions");
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("-hostile-"))
        .collect();
    names.sort();
    names.insert(0, "hard-coded-port".into());
    names.insert(0, "good".into());
    names
        .into_iter()
        .map(|fixture| {
            let expected = Expected::of(&folder.join(&fixture));
            let mut selection = Vec::new();
            if let Some((task, _)) = fixture.split_once("-hostile-") {
                selection.extend(["--task".to_owned(), task.to_owned()]);
            }
            selection.extend(expected.only.iter().cloned());
            Grading {
                fixture,
                expected,
                selection,
            }
        })
        .collect()
}

/// The harness's arguments for `grading`, the kit at `kit`, its JSON report at `json`.
fn arguments(grading: &Grading, kit: &str, json: &str) -> Vec<String> {
    let mut arguments = vec![
        "--target".to_owned(),
        format!("{kit}/fixtures/submissions/{}", grading.fixture),
        "--companions".to_owned(),
        format!("{kit}/fixtures/submissions/good"),
        "--scenarios".to_owned(),
        format!("{kit}/scenarios"),
        "--seed".to_owned(),
        "1".to_owned(),
    ];
    arguments.extend(grading.selection.iter().cloned());
    arguments.extend(["--json".to_owned(), json.to_owned()]);
    arguments
}

/// Checks the JSON report of `grading` in `environment`; returns what differs.
fn check(grading: &Grading, environment: &str, report: &Path) -> Vec<String> {
    let fixture = &grading.fixture;
    let console = report.with_extension("txt");
    let text = match std::fs::read_to_string(report) {
        Ok(text) => text,
        Err(error) => return vec![format!("{fixture}: no report ({error})")],
    };
    let status = std::fs::read_to_string(report.with_extension("status")).unwrap_or_default();
    if !matches!(status.trim(), "0" | "1") {
        return vec![format!(
            "{fixture}: the harness could not grade (exit status {}): see {}",
            status.trim(),
            report.with_extension("txt").display()
        )];
    }
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let not_here: Vec<&str> = report["sandbox"]["not_here"]
        .as_array()
        .map(|ids| ids.iter().filter_map(|id| id.as_str()).collect())
        .unwrap_or_default();
    let mut failed = BTreeSet::new();
    let mut not_run = BTreeSet::new();
    let mut problems = Vec::new();
    for scenario in report["submissions"][0]["scenarios"].as_array().unwrap() {
        let id = scenario["id"].as_str().unwrap().to_owned();
        match scenario["status"].as_str().unwrap() {
            "pass" | "missed" => {}
            "fail" | "error" => {
                failed.insert(id);
            }
            "skipped" if scenario["skip_kind"] == "cannot-run" => {
                not_run.insert(id);
            }
            other => problems.push(format!("{fixture}: {id} {other}")),
        }
    }
    let (fails, because) = grading.expected.in_environment(environment);
    let fails: BTreeSet<String> = fails.iter().cloned().collect();
    if failed != fails {
        problems.push(format!(
            "{fixture}: failed {failed:?}, declared {fails:?} for {environment}"
        ));
    }
    if let Some(words) = grading.expected.says_in(environment) {
        let console = std::fs::read_to_string(console).unwrap_or_default();
        if !console.contains(words) {
            problems.push(format!(
                "{fixture}: its console report for {environment} does not say {words:?}"
            ));
        }
    }
    if let Some(layer) = because
        && !not_here.contains(&layer)
    {
        problems.push(format!(
            "{fixture}: its verdict for {environment} is declared to come from `{layer}` missing, but the report says not here: {not_here:?}"
        ));
    }
    // What only the simulated world plays is skipped everywhere (`fixtures.rs` too).
    let mut allowed = simulated_only().clone();
    if environment != "ordinary-user" {
        allowed.extend(NOT_RUN_IN_CONTAINER.iter().map(|(id, _)| (*id).to_owned()));
    }
    if !not_run.is_subset(&allowed) {
        problems.push(format!(
            "{fixture}: not run {:?}, which is not declared not runnable there",
            not_run.difference(&allowed).collect::<Vec<_>>()
        ));
    }
    problems
}

/// The scenarios only the simulated world plays.
fn simulated_only() -> &'static BTreeSet<String> {
    static IDS: std::sync::OnceLock<BTreeSet<String>> = std::sync::OnceLock::new();
    IDS.get_or_init(|| {
        common::suite()
            .scenarios
            .iter()
            .filter(|scenario| scenario.simulated_only)
            .map(|scenario| scenario.id.clone())
            .collect()
    })
}

#[test]
fn in_a_real_container_every_verdict_is_that_of_full_privileges_but_what_is_declared() {
    if !common::running_as_root() {
        // As an ordinary user the suite cannot start a container daemon; CI runs as root.
        eprintln!("not root: the container test runs in CI, as root");
        return;
    }
    let work = tempfile::Builder::new()
        .prefix("harness-container-test-")
        .tempdir_in("/var/tmp")
        .unwrap();
    let gradings = gradings();
    let out = work.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let environment = match Daemon::start(work.path()) {
        Ok(daemon) => {
            let image = build_image(&daemon, work.path());
            // One grading at a time, its verdicts timed as any fixture's: beside the other
            // timed tests (most of a hostile fixture's grading is waiting for it to hang,
            // flood or die; holding the others off left the machine idle for a minute).
            let _timed = common::timing_matters();
            run_in_container(&daemon, &image, &gradings, &out);
            "container"
        }
        Err(why) => {
            eprintln!(
                "no container can run here ({why}): the gradings run in the stand-in instead (emulated-container)"
            );
            let _timed = common::timing_matters();
            run_emulated(&gradings, &out);
            "emulated-container"
        }
    };
    let mut problems: Vec<String> = gradings
        .iter()
        .flat_map(|grading| {
            check(
                grading,
                environment,
                &out.join(format!("{}.json", grading.fixture)),
            )
        })
        .collect();
    if environment == "container" {
        // Docker's default profile refuses the warden a copy of a program's sockets: it
        // owns their datagram sockets there, and the header says so.
        let console = std::fs::read_to_string(out.join("good.txt")).unwrap_or_default();
        if !console.contains("its UDP sockets made by the warden") {
            problems.push(
                "the good sample's header does not say the warden made its UDP sockets".into(),
            );
        }
        // The kit reader tried the classmate's file (its stderr lists what it tried) and
        // reached nothing (its verdict, checked above: what it reads goes to its stdout).
        let reader = std::fs::read_to_string(out.join("message-hostile-kit-reader.json"))
            .unwrap_or_default();
        let classmate = format!("{CLASSMATE_FOLDER}/copy/server.py");
        if !reader.contains(&classmate) || reader.contains(CLASSMATE_SECRET) {
            problems.push(format!(
                "message-hostile-kit-reader did not try {classmate}, or reached it:\n{reader}"
            ));
        }
        let survivors = std::fs::read_to_string(out.join(SURVIVORS)).unwrap_or_default();
        if !survivors.trim().is_empty() {
            problems.push(format!(
                "processes of programs outlived their gradings:\n{survivors}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "in the {environment}:\n{}\n(the harness's output is in {})",
        problems.join("\n"),
        work.keep().join("out").display()
    );
}

#[test]
fn by_an_ordinary_user_every_verdict_is_that_of_full_privileges_but_what_is_declared() {
    if !common::running_as_root() {
        // The suite's own run is already an ordinary user's.
        return;
    }
    let _timed = common::timing_matters();
    let gradings = gradings();
    let names: Vec<&str> = gradings
        .iter()
        .map(|grading| grading.fixture.as_str())
        .collect();
    let folder = common::kit_for_anyone(&names);
    let kit = folder.path();
    // The private copies the programs run from: a folder of this test's, so that any process
    // of theirs left after the gradings is found by its command line.
    let copies = kit.join("tmp");
    std::fs::create_dir(&copies).unwrap();
    std::fs::set_permissions(
        &copies,
        std::os::unix::fs::PermissionsExt::from_mode(0o1777),
    )
    .unwrap();
    let mut problems = Vec::new();
    for grading in &gradings {
        let json = kit.join(format!("{}.json", grading.fixture));
        let output = common::harness_as_nobody()
            .args(arguments(
                grading,
                kit.to_str().unwrap(),
                json.to_str().unwrap(),
            ))
            .current_dir(kit)
            .env("NO_COLOR", "1")
            .env("HOME", kit)
            .env("HARNESS_SANDBOX_INIT", kit.join("bin/sandbox-init"))
            .env("HARNESS_SHORT_CALLS_LIB", kit.join("bin/libshort_calls.so"))
            .env("TMPDIR", &copies)
            .env_remove("HARNESS_NO_NAMESPACES")
            .output()
            .unwrap();
        let status = output
            .status
            .code()
            .map_or("none".into(), |code| code.to_string());
        std::fs::write(json.with_extension("status"), status).unwrap();
        std::fs::write(json.with_extension("txt"), &output.stdout).unwrap();
        problems.extend(check(grading, "ordinary-user", &json));
    }
    assert!(problems.is_empty(), "as nobody:\n{}", problems.join("\n"));
    // Daemons, fork armies, programs deaf to SIGTERM: none outlived its grading.
    common::assert_nothing_left_from(&copies.display().to_string());
}

/// The harness, `sandbox-init` and the interposed library this suite grades with.
fn binaries() -> [(PathBuf, &'static str); 3] {
    let kit = common::kit_root();
    [
        (assert_cmd::cargo::cargo_bin("harness"), "harness"),
        (
            sandbox::locate_init(&kit).expect("sandbox-init is built"),
            "sandbox-init",
        ),
        (
            sandbox::interposed_library(&kit).expect("the interposed library is built"),
            "libshort_calls.so",
        ),
    ]
}

/// A shell script running every grading, each report into `out` (as the container sees
/// it), with the kit at `kit` and the binaries in `bin`.
fn grading_script(gradings: &[Grading], kit: &str, bin: &str, out: &str) -> String {
    let mut script = format!(
        "cd {kit}\nexport NO_COLOR=1 HARNESS_SANDBOX_INIT={bin}/sandbox-init HARNESS_SHORT_CALLS_LIB={bin}/libshort_calls.so\n"
    );
    // The grader's own services beside the gradings, as a platform's image may run them
    // (fixtures/submissions/message-hostile-grader-services tries to reach them): a web
    // server on a port below the harness's, one among them (a classmate's server, say) and
    // one among the kernel's outgoing ports, UDP echo services on the same ports, an
    // abstract unix socket and a named one any user may connect to.
    script.push_str(
        "python3 -m http.server 19123 --bind 127.0.0.1 >/dev/null 2>&1 &\n\
         python3 -m http.server 24123 --bind 127.0.0.1 >/dev/null 2>&1 &\n\
         python3 -m http.server 40123 --bind 127.0.0.1 >/dev/null 2>&1 &\n\
         python3 -c 'import socket, time; s = socket.socket(socket.AF_UNIX); s.bind(b\"\\0socket-lab-grader\"); s.listen(); time.sleep(3600)' &\n\
         python3 -c 'import os, socket, time; s = socket.socket(socket.AF_UNIX); s.bind(\"/run/socket-lab-grader.sock\"); os.chmod(\"/run/socket-lab-grader.sock\", 0o777); s.listen(); time.sleep(3600)' &\n",
    );
    for port in [19123, 24123, 40123] {
        script.push_str(&format!(
            "python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((\"127.0.0.1\", {port})); [s.sendto(*s.recvfrom(2048)) for _ in iter(int, 1)]' >/dev/null 2>&1 &\n"
        ));
    }
    for grading in gradings {
        let json = format!("{out}/{}.json", grading.fixture);
        let mut words = vec![format!("{bin}/harness")];
        words.extend(arguments(grading, kit, &json));
        // Its exit status too: 0 or 1 (some failed) is a grading, 2 is not.
        script.push_str(&format!(
            "{} > {out}/{name}.txt 2>&1; echo $? > {out}/{name}.status\n",
            shell_words::join(&words),
            name = grading.fixture
        ));
    }
    script.push_str("kill $(jobs -p) 2>/dev/null\n");
    script
}

/// Debian's Docker daemon, started in the foreground for this test, with its data, its
/// state and its socket in the test's folder, no bridge and no firewall rules (containers
/// run with `--network none`). Dropped, it is stopped by its pid and what it mounted is
/// unmounted.
struct Daemon {
    child: std::process::Child,
    socket: PathBuf,
    data: PathBuf,
}

impl Daemon {
    fn start(work: &Path) -> Result<Daemon, String> {
        let dockerd = Path::new("/usr/sbin/dockerd");
        if !dockerd.exists() || docker_client().is_none() {
            return Err("Debian's docker.io is not installed (.ci/test installs it)".into());
        }
        let data = work.join("data");
        let socket = work.join("docker.sock");
        let log = std::fs::File::create(work.join("dockerd.log")).unwrap();
        let child = Command::new(dockerd)
            .arg("--data-root")
            .arg(&data)
            .arg("--exec-root")
            .arg(work.join("exec"))
            .arg("--pidfile")
            .arg(work.join("dockerd.pid"))
            .arg("--host")
            .arg(format!("unix://{}", socket.display()))
            .args(["--iptables=false", "--ip6tables=false", "--bridge=none"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .map_err(|error| format!("cannot start dockerd: {error}"))?;
        let mut daemon = Daemon {
            child,
            socket,
            data,
        };
        // Bounded: the daemon answers within seconds, or never.
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                let log = std::fs::read_to_string(work.join("dockerd.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                return Err(format!("dockerd exited ({status}): {tail:?}"));
            }
            let answered = daemon
                .docker()
                .args(["version", "--format", "{{.Server.Version}}"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            if answered {
                return Ok(daemon);
            }
            if Instant::now() > deadline {
                return Err("dockerd did not answer within 90 s".into());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The Docker client, talking to this daemon.
    fn docker(&self) -> Command {
        let mut command = Command::new(docker_client().unwrap());
        command
            .arg("--host")
            .arg(format!("unix://{}", self.socket.display()));
        command
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: kill only sends a signal to the daemon this test started.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // What the daemon left mounted below its data (overlays, its own bind mount),
        // deepest first, so that the test's folder can be removed.
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        let mut below: Vec<&str> = mounts
            .lines()
            .filter_map(|line| line.split(' ').nth(1))
            .filter(|point| Path::new(point).starts_with(&self.data))
            .collect();
        below.sort_by_key(|point| std::cmp::Reverse(point.len()));
        for point in below {
            let point = std::ffi::CString::new(point).unwrap();
            // SAFETY: a path the daemon mounted below the test's folder.
            unsafe { libc::umount2(point.as_ptr(), libc::MNT_DETACH) };
        }
    }
}

/// Debian's Docker client (`docker.io`'s own, which matches its daemon), else any.
fn docker_client() -> Option<PathBuf> {
    ["/usr/bin/docker", "/usr/local/bin/docker"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
}

/// A minimal Debian with the packages the programs need (`container-root.sh`, beside this
/// file), imported into `daemon`; its name.
///
/// `HARNESS_TEST_IMAGE_ROOT` names a root file system made so before, to use instead (for
/// working on this test: debootstrap takes a minute and a half).
/// `HARNESS_TEST_IMAGE_PREPARED` names the folder in which `.ci/test` makes one in the
/// background while the suite compiles: the test waits for it by the lock that job holds,
/// beside the other tests (its wait loads nothing).
fn build_image(daemon: &Daemon, work: &Path) -> String {
    let image = format!("socket-lab-test:{}", std::process::id());
    if let Some(root) = std::env::var_os("HARNESS_TEST_IMAGE_ROOT") {
        import(daemon, Path::new(&root), &image);
        return image;
    }
    let root = match std::env::var_os("HARNESS_TEST_IMAGE_PREPARED") {
        Some(folder) => prepared_root(Path::new(&folder)),
        None => {
            // dpkg unpacking a hundred packages: no timed test beside it.
            let _loading = common::loading_the_machine();
            let root = work.join("image");
            let script =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/suite/container-root.sh");
            let output = Command::new("bash")
                .arg(&script)
                .arg(&root)
                .stdin(Stdio::null())
                .output()
                .expect("bash runs");
            assert!(
                output.status.success(),
                "{} failed: {}",
                script.display(),
                last_lines(&output.stdout)
            );
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
            root
        }
    };
    import(daemon, &root, &image);
    // The root file system is in the image now; the folder is not needed again.
    let _ = std::fs::remove_dir_all(&root);
    image
}

/// The root file system `.ci/test` makes in `folder` in the background: waits until its job
/// lets go of `folder/building` (an exclusive `flock` it holds from before it starts), then
/// reads how it ended from `folder/status`.
fn prepared_root(folder: &Path) -> PathBuf {
    use std::os::fd::AsRawFd;
    let lock = std::fs::File::open(folder.join("building"))
        .unwrap_or_else(|e| panic!("{}/building: {e}", folder.display()));
    let started = Instant::now();
    // SAFETY: flock on a descriptor this function owns; it blocks until the job has ended.
    let locked = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(locked, 0, "flock: {}", std::io::Error::last_os_error());
    let status = std::fs::read_to_string(folder.join("status")).unwrap_or_default();
    let log = std::fs::read(folder.join("log")).unwrap_or_default();
    assert_eq!(
        status.trim(),
        "0",
        "the image's root file system, made by .ci/test in {}, failed: {}",
        folder.display(),
        last_lines(&log)
    );
    eprintln!(
        "container test: the root made while the suite compiled (waited {:.0} s for it)",
        started.elapsed().as_secs_f64()
    );
    folder.join("root")
}

/// The last ten lines of a command's output, for a failure's message.
fn last_lines(output: &[u8]) -> String {
    String::from_utf8_lossy(output)
        .lines()
        .rev()
        .take(10)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n")
}

/// `docker import` of the root file system `root` as `image`.
fn import(daemon: &Daemon, root: &Path, image: &str) {
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(root)
        .args(["-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let imported = daemon
        .docker()
        .args(["import", "-", image])
        .stdin(tar.stdout.take().unwrap())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(
        tar.wait().unwrap().success() && imported.success(),
        "docker import"
    );
}

/// Every grading in one container of `image`: the kit and the binaries mounted read-only,
/// the reports into `out`.
fn run_in_container(daemon: &Daemon, image: &str, gradings: &[Grading], out: &Path) {
    let kit = common::kit_root();
    let mut script = classmate();
    script.push_str(&grading_script(gradings, "/kit", "/kit-bin", "/out"));
    // Once every grading has ended: any process of a program's own user still alive
    // outlived its run (the container's PID namespace shows only its own processes).
    script.push_str(&format!(
        "ps -eo uid=,stat=,args= | awk '$1 >= {FIRST_PROGRAM_UID} && $2 !~ /^Z/' > /out/{SURVIVORS}\n"
    ));
    std::fs::write(out.join("grade.sh"), script).unwrap();
    let mut command = daemon.docker();
    command.args(["run", "--rm", "--network", "none"]);
    command
        .arg("--volume")
        .arg(format!("{}:/kit:ro", kit.display()));
    command
        .arg("--volume")
        .arg(format!("{}:/out", out.display()));
    for (path, name) in binaries() {
        command
            .arg("--volume")
            .arg(format!("{}:/kit-bin/{name}:ro", path.display()));
    }
    let started = Instant::now();
    let status = command
        .args([image, "bash", "/out/grade.sh"])
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "docker run: {status}");
    eprintln!(
        "container test: {} gradings in the container took {:.0} s",
        gradings.len(),
        started.elapsed().as_secs_f64()
    );
}

/// A classmate graded beside the gradings in the container: a program running from its
/// private copy (a folder of mode 0711 above it, its files 0666, as a batch's copies once
/// were), whose command line names its file
/// (fixtures/submissions/message-hostile-kit-reader reads every path on the machine's
/// command lines and tries to read and change it). It ends with the container.
fn classmate() -> String {
    format!(
        "mkdir -p $(dirname {CLASSMATE_FOLDER}) && mkdir -m 0711 {CLASSMATE_FOLDER}\n\
         mkdir -m 0755 {CLASSMATE_FOLDER}/copy\n\
         printf '# {CLASSMATE_SECRET}\\nimport time\\ntime.sleep(3600)\\n' > {CLASSMATE_FOLDER}/copy/server.py\n\
         chmod 0666 {CLASSMATE_FOLDER}/copy/server.py\n\
         python3 {CLASSMATE_FOLDER}/copy/server.py &\n"
    )
}

/// Every grading on this machine as a platform's container would have it: a mount
/// namespace where the cgroup tree is read-only, and `CAP_SYS_ADMIN` gone.
fn run_emulated(gradings: &[Grading], out: &Path) {
    let kit = common::kit_root();
    let bin = out.join("bin");
    std::fs::create_dir(&bin).unwrap();
    for (path, name) in binaries() {
        std::fs::copy(path, bin.join(name)).unwrap();
    }
    let script = grading_script(
        gradings,
        kit.to_str().unwrap(),
        bin.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let stand_in = format!(
        "for m in $(findmnt -rn -o TARGET -R /sys/fs/cgroup); do mount -o remount,bind,ro \"$m\"; done\n\
         exec setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin -- bash -c {}\n",
        shell_words::quote(&script)
    );
    let status = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "bash",
            "-c",
            &stand_in,
        ])
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the stand-in: {status}");
}
