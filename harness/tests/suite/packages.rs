//! `harness package`: each platform's scripts, as the package holds them, run here with
//! the platform's folders moved to a temporary one and this build of the harness, on the
//! good sample and on a buggy server; their results files are read back.

use crate::common::{self, harness};

use std::path::{Path, PathBuf};
use std::process::Command;

use predicates::prelude::*;

/// The harness binary the scripts run (instead of the kit's release build, which the
/// platform's set-up makes).
fn harness_binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("harness")
}

/// A submission of the message task: the good sample's client and `server_from`'s server.
fn message_submission(into: &Path, server_from: &str) {
    std::fs::create_dir_all(into).unwrap();
    let fixtures = common::kit_root().join("fixtures/submissions");
    std::fs::copy(
        fixtures.join(server_from).join("message-server.py"),
        into.join("message-server.py"),
    )
    .unwrap();
    std::fs::copy(
        fixtures.join("good/message-client.py"),
        into.join("message-client.py"),
    )
    .unwrap();
}

fn package(args: &[&str]) {
    harness()
        .arg("package")
        .args(args)
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote "))
        .stdout(predicate::str::contains(
            "every submission is graded with seed ",
        ));
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("{} was not written: {error}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Runs `script` with `environment` and the harness binary; it must exit 0 (the platforms
/// read the results file, not the status).
fn run_script(script: &Path, environment: &[(&str, &Path)]) {
    let mut command = Command::new("bash");
    command
        .arg(script)
        .env("HARNESS", harness_binary())
        .env("HARNESS_REFERENCE_BIN_DIR", common::reference_bin_dir())
        .env("NO_COLOR", "1")
        .env_remove("HARNESS_NO_NAMESPACES");
    for (name, value) in environment {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{} failed: {}\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_gradescope_autograder_grades_a_submission_into_results_json() {
    let folder = tempfile::tempdir().unwrap();
    let zip_path = folder.path().join("autograder.zip");
    package(&[
        "gradescope",
        "--task",
        "message",
        "--seed",
        "4242",
        "-o",
        zip_path.to_str().unwrap(),
    ]);
    // Gradescope unpacks the zip into /autograder/source.
    let root = folder.path().join("autograder");
    let source = root.join("source");
    zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap())
        .unwrap()
        .extract(&source)
        .unwrap();
    for file in [
        "setup.sh",
        "run_autograder",
        "kit/Cargo.toml",
        "kit/scenarios/tasks.toml",
    ] {
        assert!(source.join(file).is_file(), "the zip holds {file}");
    }
    // One seed for the whole class, fixed when the package was made.
    let run = std::fs::read_to_string(source.join("run_autograder")).unwrap();
    assert!(run.contains("--seed 4242 --task message"), "{run}");
    let setup = std::fs::read_to_string(source.join("setup.sh")).unwrap();
    assert!(setup.contains("cargo build --release -p harness -p sandbox-init -p short-calls"));
    let results = root.join("results/results.json");

    // The good sample, zipped in a folder of its own as students often do.
    message_submission(&root.join("submission/lab1"), "good");
    run_script(&source.join("run_autograder"), &[("AUTOGRADER", &root)]);
    let good = read_json(&results);
    let maximum = good["extra_data"]["maximum"].as_f64().unwrap();
    assert!(maximum > 0.0);
    assert_eq!(good["score"].as_f64(), Some(maximum), "{good:#}");

    // A server that reads once: points lost, each failing test saying why.
    std::fs::remove_dir_all(root.join("submission")).unwrap();
    message_submission(&root.join("submission"), "message-single-recv");
    run_script(&source.join("run_autograder"), &[("AUTOGRADER", &root)]);
    let buggy = read_json(&results);
    assert!(buggy["score"].as_f64().unwrap() < maximum, "{buggy:#}");
    let tests = buggy["tests"].as_array().unwrap();
    assert!(tests.iter().any(|test| test["status"] == "failed"));

    // Nothing to grade: the harness still writes why.
    std::fs::remove_dir_all(root.join("submission")).unwrap();
    std::fs::create_dir_all(root.join("submission")).unwrap();
    std::fs::write(root.join("submission/notes.txt"), "my lab").unwrap();
    run_script(&source.join("run_autograder"), &[("AUTOGRADER", &root)]);
    let empty = read_json(&results);
    assert_eq!(empty["score"].as_f64(), Some(0.0));
    assert!(
        empty["output"]
            .as_str()
            .unwrap()
            .contains("nothing to grade"),
        "{empty:#}"
    );

    // A harness that cannot start: the script writes a results file of its own.
    std::fs::remove_file(&results).unwrap();
    let mut command = Command::new("bash");
    let status = command
        .arg(source.join("run_autograder"))
        .env("AUTOGRADER", &root)
        .env("HARNESS", folder.path().join("no-such-harness"))
        .status()
        .unwrap();
    assert!(status.success());
    let failed = read_json(&results);
    assert_eq!(failed["score"].as_f64(), Some(0.0));
    assert!(
        failed["output"]
            .as_str()
            .unwrap()
            .contains("could not be graded")
    );
}

#[test]
fn a_prairielearn_grader_grades_the_students_files() {
    let folder = tempfile::tempdir().unwrap();
    let package_dir = folder.path().join("grader");
    package(&[
        "prairielearn",
        "--task",
        "message",
        "--java",
        "-o",
        package_dir.to_str().unwrap(),
    ]);
    let dockerfile = std::fs::read_to_string(package_dir.join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("COPY kit /kit"));
    assert!(
        dockerfile.contains("default-jdk-headless"),
        "--java adds a JDK"
    );
    assert!(
        package_dir.join("kit/Cargo.lock").is_file(),
        "the build context holds the kit"
    );
    assert!(
        !package_dir.join("kit/target").exists(),
        "but not its build output"
    );

    let grade = folder.path().join("grade");
    message_submission(&grade.join("student"), "good");
    let kit = package_dir.join("kit");
    run_script(
        &package_dir.join("run.sh"),
        &[("GRADE", &grade), ("KIT", &kit)],
    );
    let results = read_json(&grade.join("results/results.json"));
    assert_eq!(results["gradable"], true, "{results:#}");
    assert_eq!(results["score"].as_f64(), Some(1.0), "{results:#}");
}

/// The `run: |` block of the workflow's step `name`, unindented.
fn workflow_step(workflow: &str, name: &str) -> String {
    let lines: Vec<&str> = workflow.lines().collect();
    let start = lines
        .iter()
        .position(|line| line.trim() == format!("- name: {name}"))
        .unwrap_or_else(|| panic!("the workflow has a step `{name}`"));
    let run = (start..lines.len())
        .find(|index| lines[*index].trim() == "run: |")
        .expect("the step runs a script");
    let indent = lines[run + 1].len() - lines[run + 1].trim_start().len();
    lines[run + 1..]
        .iter()
        .take_while(|line| line.len() - line.trim_start().len() >= indent)
        .map(|line| &line[indent..])
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_github_classroom_workflow_reports_points_to_the_reporter() {
    let folder = tempfile::tempdir().unwrap();
    let package_dir = folder.path().join("classroom");
    package(&[
        "github-classroom",
        "--task",
        "message",
        "--kit-repository",
        "example-course/socket-lab-kit",
        "-o",
        package_dir.to_str().unwrap(),
    ]);
    let workflow =
        std::fs::read_to_string(package_dir.join(".github/workflows/classroom.yml")).unwrap();
    assert!(workflow.contains("repository: example-course/socket-lab-kit"));
    assert!(workflow.contains("runners: socketlab"));

    // The runner's workspace: the student's repository and the kit side by side.
    let workspace = folder.path().join("workspace");
    message_submission(&workspace.join("submission"), "good");
    std::os::unix::fs::symlink(common::kit_root(), workspace.join("kit")).unwrap();
    let script = folder.path().join("socket-lab-step.sh");
    std::fs::write(&script, workflow_step(&workflow, "Socket lab")).unwrap();
    let runner_temp = folder.path().join("runner-temp");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let output = folder.path().join("github-output");
    let mut command = Command::new("bash");
    let status = command
        .arg(&script)
        .current_dir(&workspace)
        .env("HARNESS", harness_binary())
        .env("HARNESS_REFERENCE_BIN_DIR", common::reference_bin_dir())
        .env("SUDO", "")
        .env("RUNNER_TEMP", &runner_temp)
        .env("GITHUB_OUTPUT", &output)
        .env_remove("HARNESS_NO_NAMESPACES")
        .status()
        .unwrap();
    assert!(status.success());
    // The reporter decodes the step's output `result`.
    let line = std::fs::read_to_string(&output).unwrap();
    let encoded = line.trim().strip_prefix("result=").expect("result=BASE64");
    let decoded = Command::new("base64")
        .arg("-d")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(encoded.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    let result: serde_json::Value = serde_json::from_slice(&decoded.stdout).unwrap();
    assert_eq!(result["status"], "pass", "{result:#}");
    assert!(result["max_score"].as_u64().unwrap() > 0);
}

#[test]
fn a_package_without_tasks_or_with_a_typo_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let zip_path = folder.path().join("a.zip");
    for (args, error) in [
        (vec!["gradescope"], "name its tasks with --task"),
        (
            vec!["gradescope", "--task", "mesage"],
            "unknown task `mesage`",
        ),
        (
            vec![
                "gradescope",
                "--task",
                "message",
                "--gradescope-visibility",
                "securty=hidden",
            ],
            "selects no scenario",
        ),
        (
            vec!["github-classroom", "--task", "message"],
            "--kit-repository",
        ),
    ] {
        harness()
            .arg("package")
            .args(&args)
            .args(["-o", zip_path.to_str().unwrap()])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(error));
    }
    assert!(
        !zip_path.exists(),
        "nothing is written for a refused package"
    );
    // A folder that holds something is not written over.
    std::fs::write(folder.path().join("keep.txt"), "mine").unwrap();
    harness()
        .args(["package", "prairielearn", "--task", "message", "-o"])
        .arg(folder.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not empty"));
}

/// The words of the line of `script` that installs packages with apt-get.
fn apt_installed(script: &str) -> Vec<String> {
    let line = script
        .lines()
        .find(|line| line.contains("apt-get install"))
        .unwrap_or_else(|| panic!("no apt-get install in:\n{script}"));
    line.split_whitespace().map(str::to_owned).collect()
}

/// The packages the line of `script` that runs `pip install` installs (none without one).
fn pip_installed(script: &str) -> Vec<String> {
    script
        .lines()
        .filter_map(|line| line.split_once("pip install"))
        .flat_map(|(_, rest)| rest.split_whitespace())
        .filter(|word| !word.starts_with('-'))
        .map(str::to_owned)
        .collect()
}

/// `setup.sh` of a Gradescope package, the Dockerfile of a PrairieLearn one and the
/// workflow of a GitHub Classroom one, each made for `tasks`.
fn package_scripts(tasks: &[&str]) -> [(&'static str, String); 3] {
    let folder = tempfile::tempdir().unwrap();
    let task_args: Vec<&str> = tasks.iter().flat_map(|task| ["--task", *task]).collect();
    let zip_path = folder.path().join("autograder.zip");
    let mut args = vec!["gradescope"];
    args.extend(&task_args);
    args.extend(["-o", zip_path.to_str().unwrap()]);
    package(&args);
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let mut setup = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("setup.sh").unwrap(), &mut setup).unwrap();

    let grader = folder.path().join("grader");
    let mut args = vec!["prairielearn"];
    args.extend(&task_args);
    args.extend(["-o", grader.to_str().unwrap()]);
    package(&args);
    let dockerfile = std::fs::read_to_string(grader.join("Dockerfile")).unwrap();

    let classroom = folder.path().join("classroom");
    let mut args = vec!["github-classroom"];
    args.extend(&task_args);
    args.extend(["--kit-repository", "example-course/socket-lab-kit"]);
    args.extend(["-o", classroom.to_str().unwrap()]);
    package(&args);
    let workflow =
        std::fs::read_to_string(classroom.join(".github/workflows/classroom.yml")).unwrap();
    [
        ("setup.sh", setup),
        ("Dockerfile", dockerfile),
        ("classroom.yml", workflow),
    ]
}

/// The Debian packages of the libraries the mail and remote-administration tasks' programs
/// import, as students write them.
const TASK_LIBRARIES: [(&str, &str); 3] = [
    ("mx-lookup", "python3-dnspython"),
    ("ssh-info", "python3-paramiko"),
    ("mysql-remote", "python3-pymysql"),
];

#[test]
fn every_package_installs_the_libraries_of_its_tasks_and_no_others() {
    let tasks: Vec<&str> = TASK_LIBRARIES.iter().map(|(task, _)| *task).collect();
    for (file, script) in package_scripts(&tasks) {
        let installed = apt_installed(&script);
        for (task, library) in TASK_LIBRARIES {
            assert!(
                installed.iter().any(|word| word == library),
                "{file} of a package for {task} installs {library}: {installed:?}"
            );
        }
        assert!(installed.iter().any(|word| word == "python3"), "{file}");
        // A real MariaDB plays mysql-remote's server where it is installed.
        for server in ["mariadb-server", "mariadb-client"] {
            assert!(installed.iter().any(|word| word == server), "{file}");
        }
        // Oracle's connector, which Debian and Ubuntu do not package, from PyPI.
        assert!(installed.iter().any(|word| word == "python3-pip"), "{file}");
        assert!(
            pip_installed(&script).contains(&"mysql-connector-python==26.10.0".to_string()),
            "{file} of a package for mysql-remote installs mysql-connector-python:\n{script}"
        );
    }
    // One task of them: its library alone.
    for (file, script) in package_scripts(&["ssh-info"]) {
        let installed = apt_installed(&script);
        assert!(installed.iter().any(|word| word == "python3-paramiko"));
        for library in ["python3-dnspython", "python3-pymysql"] {
            assert!(
                !installed.iter().any(|word| word == library),
                "{file}: {installed:?}"
            );
        }
        assert!(pip_installed(&script).is_empty(), "{file}:\n{script}");
    }
    // The message task needs Python's standard library only.
    for (file, script) in package_scripts(&["message"]) {
        let installed = apt_installed(&script);
        assert!(installed.iter().any(|word| word == "python3"), "{file}");
        for (_, library) in TASK_LIBRARIES {
            assert!(
                !installed.iter().any(|word| word == library),
                "{file} of a package for message installs {library}: {installed:?}"
            );
        }
    }
}
