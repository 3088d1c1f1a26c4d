//! `harness package`: each platform's scripts, as the package holds them, run here with
//! the platform's folders moved to a temporary one and this build of the harness, on the
//! good sample and on a buggy server; their results files are read back.

use crate::common::{self, harness};

use std::path::Path;
use std::process::Command;

use predicates::prelude::*;

/// What a platform's runner has on its `PATH`: no Rust toolchain.
const PLATFORM_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";

/// The files of the built kit every package carries, under its `kit/`.
const BUILT_KIT: [&str; 5] = [
    "bin/harness",
    "bin/sandbox-init",
    "bin/libshort_calls.so",
    "scenarios/tasks.toml",
    "fixtures/submissions/good/message-client.py",
];

/// Asserts that the package's script `text` builds nothing and installs no toolchain.
fn builds_nothing(file: &str, text: &str) {
    for word in ["cargo", "rustup", "build-essential"] {
        assert!(!text.contains(word), "{file} mentions {word}:\n{text}");
    }
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

/// Runs `script` with `environment`, as the platform would: the package's own harness,
/// no cargo on the `PATH` nor named by `CARGO`, none of the suite's companions named; it
/// must exit 0 (the platforms read the results file, not the status).
fn run_script(script: &Path, environment: &[(&str, &Path)]) {
    let mut command = Command::new("bash");
    command.arg(script);
    platform_environment(&mut command);
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

/// A platform's environment: no toolchain, nothing of the suite's.
fn platform_environment(command: &mut Command) {
    command
        .env("PATH", PLATFORM_PATH)
        .env("NO_COLOR", "1")
        .env("CARGO", "/nonexistent/cargo")
        .env_remove("HARNESS")
        .env_remove("HARNESS_SANDBOX_INIT")
        .env_remove("HARNESS_SHORT_CALLS_LIB")
        .env_remove("HARNESS_COMPANIONS")
        .env_remove("HARNESS_REFERENCE_BIN_DIR")
        .env_remove("HARNESS_NO_NAMESPACES");
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
    for file in ["setup.sh", "run_autograder"]
        .into_iter()
        .map(str::to_owned)
        .chain(BUILT_KIT.iter().map(|file| format!("kit/{file}")))
    {
        assert!(source.join(&file).is_file(), "the zip holds {file}");
    }
    assert!(
        !source.join("kit/Cargo.toml").exists() && !source.join("kit/harness").exists(),
        "the zip holds the built kit, not its sources"
    );
    // One seed for the whole class, fixed when the package was made.
    let run = std::fs::read_to_string(source.join("run_autograder")).unwrap();
    assert!(run.contains("--seed 4242 --task message"), "{run}");
    let setup = std::fs::read_to_string(source.join("setup.sh")).unwrap();
    builds_nothing("setup.sh", &setup);
    assert!(setup.contains("kit/bin/harness\" --version"), "{setup}");
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
    platform_environment(&mut command);
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
    builds_nothing("Dockerfile", &dockerfile);
    assert!(
        dockerfile.contains("default-jdk-headless"),
        "--java adds a JDK"
    );
    for file in BUILT_KIT {
        assert!(
            package_dir.join("kit").join(file).is_file(),
            "the build context holds the built kit: {file}"
        );
    }
    assert!(
        !package_dir.join("kit/Cargo.lock").exists() && !package_dir.join("kit/target").exists(),
        "but neither its sources nor cargo's output"
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
    assert!(
        workflow.contains(
            "https://github.com/example-course/socket-lab-kit/releases/download/socket-lab-kit/socket-lab-kit.zip"
        ),
        "{workflow}"
    );
    assert!(workflow.contains("runners: socketlab"));
    builds_nothing("classroom.yml", &workflow);

    // The runner's workspace: the student's repository checked out.
    let workspace = folder.path().join("workspace");
    message_submission(&workspace.join("submission"), "good");
    let result = classroom_result(&package_dir, &workflow, &workspace);
    assert_eq!(result["status"], "pass", "{result:#}");
    assert!(result["max_score"].as_u64().unwrap() > 0);
}

/// What the reporter reads after the workflow's steps ran in `workspace` (holding the
/// student's repository as `submission/`), the kit's archive fetched from its release (here,
/// from the package's folder `package_dir`).
fn classroom_result(package_dir: &Path, workflow: &str, workspace: &Path) -> serde_json::Value {
    let folder = workspace.parent().unwrap();
    let runner_temp = folder.join("runner-temp");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let github_env = folder.join("github-env");
    let output = folder.join("github-output");
    let archive = package_dir.join("socket-lab-kit.zip");
    let archive_url = format!("file://{}", archive.display());
    let mut environment: Vec<(String, String)> = vec![
        ("SUDO".into(), String::new()),
        ("RUNNER_TEMP".into(), runner_temp.display().to_string()),
        ("GITHUB_ENV".into(), github_env.display().to_string()),
        ("GITHUB_OUTPUT".into(), output.display().to_string()),
        ("KIT_ARCHIVE_URL".into(), archive_url),
    ];
    for step in ["Fetch the kit", "Socket lab"] {
        let script = folder.join("step.sh");
        std::fs::write(&script, workflow_step(workflow, step)).unwrap();
        let mut command = Command::new("bash");
        platform_environment(&mut command);
        command.arg(&script).current_dir(workspace);
        for (name, value) in &environment {
            command.env(name, value);
        }
        let status = command.status().unwrap();
        assert!(status.success(), "the step `{step}`: {status}");
        // What a step puts in GITHUB_ENV, the next steps have in their environment.
        for line in std::fs::read_to_string(&github_env)
            .unwrap_or_default()
            .lines()
        {
            if let Some((name, value)) = line.split_once('=') {
                environment.push((name.into(), value.into()));
            }
        }
    }
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
    serde_json::from_slice(&decoded.stdout).unwrap()
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
/// workflow of a GitHub Classroom one, each made for `tasks` (and `extra` arguments).
fn package_scripts(tasks: &[&str], extra: &[&str]) -> [(&'static str, String); 3] {
    let folder = tempfile::tempdir().unwrap();
    let mut task_args: Vec<&str> = tasks.iter().flat_map(|task| ["--task", *task]).collect();
    task_args.extend(extra);
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
    for (file, script) in package_scripts(&tasks, &[]) {
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
    for (file, script) in package_scripts(&["ssh-info"], &[]) {
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
    for (file, script) in package_scripts(&["message"], &[]) {
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

/// A class's requirements file (`harness package --requirements FILE`): every platform's
/// image installs its packages with pip when it is built, each quoted for the shell; a
/// line that is not a package stops the package with the file and line.
#[test]
fn a_class_requirements_file_is_installed_into_every_image() {
    let folder = tempfile::tempdir().unwrap();
    let list = folder.path().join("class.txt");
    std::fs::write(
        &list,
        "# the class's
requests>=2,<3
six==1.16.0
",
    )
    .unwrap();
    for (file, script) in package_scripts(&["message"], &["--requirements", list.to_str().unwrap()])
    {
        assert!(
            apt_installed(&script)
                .iter()
                .any(|word| word == "python3-pip"),
            "{file}"
        );
        let pip = pip_installed(&script);
        assert!(
            pip.contains(&"'requests>=2,<3'".to_string())
                && pip.contains(&"six==1.16.0".to_string()),
            "{file}: {pip:?}\n{script}"
        );
    }
    std::fs::write(
        &list,
        "six==1.16.0
-r other.txt
",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "package",
            "gradescope",
            "--task",
            "message",
            "--requirements",
        ])
        .arg(&list)
        .arg("-o")
        .arg(folder.path().join("autograder.zip"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("class.txt:2"), "{stderr}");
    assert!(!folder.path().join("autograder.zip").exists());
}

/// A submission made of links to the kit's good sample (the folder itself, or its
/// programs), graded by each platform's script: it scores nothing, and what the platform
/// shows the student names the link.
#[test]
fn a_submission_of_links_to_the_good_sample_scores_nothing_on_every_platform_and_says_why() {
    let folder = tempfile::tempdir().unwrap();
    let says_why = |text: &str| {
        assert!(
            text.contains("is a symbolic link to ") && text.contains("never through a link"),
            "{text}"
        );
    };

    // Gradescope: the zip's one folder a link to the kit's good sample (which the
    // package carries beside the submission), then each program a link into it.
    let zip_path = folder.path().join("autograder.zip");
    package(&[
        "gradescope",
        "--task",
        "message",
        "-o",
        zip_path.to_str().unwrap(),
    ]);
    let root = folder.path().join("autograder");
    zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap())
        .unwrap()
        .extract(root.join("source"))
        .unwrap();
    let results = root.join("results/results.json");
    let submission = root.join("submission");
    std::fs::create_dir_all(&submission).unwrap();
    std::os::unix::fs::symlink(
        "../source/kit/fixtures/submissions/good",
        submission.join("lab"),
    )
    .unwrap();
    run_script(
        &root.join("source/run_autograder"),
        &[("AUTOGRADER", &root)],
    );
    let linked_folder = read_json(&results);
    assert_eq!(
        linked_folder["score"].as_f64(),
        Some(0.0),
        "{linked_folder:#}"
    );
    says_why(linked_folder["output"].as_str().unwrap());
    assert!(
        linked_folder["output"]
            .as_str()
            .unwrap()
            .contains("/lab` is a symbolic link"),
        "{linked_folder:#}"
    );
    std::fs::remove_file(submission.join("lab")).unwrap();
    for program in ["message-server.py", "message-client.py"] {
        std::os::unix::fs::symlink(
            format!("../source/kit/fixtures/submissions/good/{program}"),
            submission.join(program),
        )
        .unwrap();
    }
    run_script(
        &root.join("source/run_autograder"),
        &[("AUTOGRADER", &root)],
    );
    let linked_programs = read_json(&results);
    assert_eq!(
        linked_programs["score"].as_f64(),
        Some(0.0),
        "{linked_programs:#}"
    );
    says_why(linked_programs["output"].as_str().unwrap());

    // PrairieLearn: the student's programs links into the image's kit.
    let grader = folder.path().join("grader");
    package(&[
        "prairielearn",
        "--task",
        "message",
        "-o",
        grader.to_str().unwrap(),
    ]);
    let kit = grader.join("kit");
    let grade = folder.path().join("grade");
    let student = grade.join("student");
    std::fs::create_dir_all(&student).unwrap();
    for program in ["message-server.py", "message-client.py"] {
        std::os::unix::fs::symlink(
            kit.join("fixtures/submissions/good").join(program),
            student.join(program),
        )
        .unwrap();
    }
    run_script(&grader.join("run.sh"), &[("GRADE", &grade), ("KIT", &kit)]);
    let results = read_json(&grade.join("results/results.json"));
    assert_eq!(results["gradable"], false, "{results:#}");
    assert!(results["score"].is_null(), "{results:#}");
    says_why(results["message"].as_str().unwrap());

    // GitHub Classroom: the repository's server a link out of it.
    let classroom = folder.path().join("classroom");
    package(&[
        "github-classroom",
        "--task",
        "message",
        "--kit-repository",
        "example-course/socket-lab-kit",
        "-o",
        classroom.to_str().unwrap(),
    ]);
    let workflow =
        std::fs::read_to_string(classroom.join(".github/workflows/classroom.yml")).unwrap();
    let workspace = folder.path().join("workspace");
    message_submission(&workspace.join("submission"), "good");
    let good = common::kit_root().join("fixtures/submissions/good/message-server.py");
    std::fs::remove_file(workspace.join("submission/message-server.py")).unwrap();
    std::os::unix::fs::symlink(&good, workspace.join("submission/message-server.py")).unwrap();
    let result = classroom_result(&classroom, &workflow, &workspace);
    assert_eq!(result["status"], "error", "{result:#}");
    assert_eq!(result["max_score"], 0, "{result:#}");
    says_why(result["tests"][0]["message"].as_str().unwrap());
}
