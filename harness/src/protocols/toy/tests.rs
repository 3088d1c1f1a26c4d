//! The toy pack played through the whole harness: a kit of its own with a task of the
//! toy protocol, graded against right and wrong programs, and a look at the sources that
//! nothing outside the pack's folder names it.

use std::path::Path;

use crate::grading::{Mode, grade};
use crate::outcome::Status;
use crate::scenario::{Selection, load_suite};
use crate::target::Target;
use crate::target::confinement::Confinement;

const TASKS: &str = r#"
[greet]
title = "Greeting client and server"
roles = { server = "{port}", client = "{host} {port}" }
datagrams = true
"#;

const CLIENT_GREETS: &str = r#"
task = "greet"
clauses = ["greet/1"]
category = "basic"
points = 1
requirement = "The client greets the server as `ada` and exits."

[[step]]
listen = "greeter"
transport = "udp"
greet = {}

[[step]]
start = "client"
to = "greeter"

[[step]]
expect_received = "greeter"
greeted = { name = "ada" }

[[step]]
expect_exit = "client"
success = true
"#;

const SERVER_GREETS_BACK: &str = r#"
task = "greet"
clauses = ["greet/2"]
category = "basic"
points = 1
requirement = "The server answers `HELLO ada` with `HI ADA`."

[[step]]
start = "server"

[[step]]
wait_listening = "server"

[[step]]
check = "greet-back"
"#;

/// A client that greets as `NAME` and a server that answers in `CASE` (a Python string
/// method: `upper` is right).
fn programs(name: &str, case: &str) -> [(&'static str, String); 2] {
    [
        (
            "greet-client",
            format!(
                "#!/usr/bin/env python3\n\
                 import socket, sys\n\
                 s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
                 s.settimeout(5)\n\
                 s.sendto(b'HELLO {name}', (sys.argv[1], int(sys.argv[2])))\n\
                 print(s.recvfrom(512)[0].decode())\n"
            ),
        ),
        (
            "greet-server",
            format!(
                "#!/usr/bin/env python3\n\
                 import socket, sys\n\
                 s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
                 s.bind(('', int(sys.argv[1])))\n\
                 while True:\n    \
                     data, sender = s.recvfrom(512)\n    \
                     name = data.decode().split()[1]\n    \
                     s.sendto(('HI ' + name.{case}()).encode(), sender)\n"
            ),
        ),
    ]
}

fn write_kit(root: &Path) {
    let scenarios = root.join("scenarios");
    std::fs::create_dir_all(scenarios.join("greet")).expect("the kit's folders");
    std::fs::write(scenarios.join("tasks.toml"), TASKS).expect("tasks.toml");
    std::fs::write(scenarios.join("greet/01-client-greets.toml"), CLIENT_GREETS)
        .expect("a scenario");
    std::fs::write(
        scenarios.join("greet/02-server-greets-back.toml"),
        SERVER_GREETS_BACK,
    )
    .expect("a scenario");
}

fn write_submission(folder: &Path, name: &str, case: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(folder).expect("the submission's folder");
    for (file, text) in programs(name, case) {
        let path = folder.join(file);
        std::fs::write(&path, text).expect("a program");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("an executable program");
    }
}

/// Each scenario's id and verdict, with why it failed.
fn graded(kit: &Path, submission: &Path) -> Vec<(String, Status, String)> {
    let suite = load_suite(&kit.join("scenarios")).expect("the toy kit loads");
    let target = Target::from_folder(submission, &suite.catalogue, &Confinement::none())
        .expect("the submission reads");
    let selection = Selection::new(Vec::new(), &[]).expect("everything");
    let grading = grade(
        &suite,
        &selection,
        &target,
        1,
        &Mode::Real,
        &mut crate::events::Discard,
    )
    .expect("the toy kit grades");
    grading
        .outcomes
        .into_iter()
        .map(|outcome| {
            let why = outcome
                .failure
                .map(|failure| format!("expected {}; seen {}", failure.expected, failure.seen))
                .unwrap_or_default();
            (outcome.id, outcome.status, why)
        })
        .collect()
}

#[test]
fn a_pack_of_one_folder_and_one_registry_line_is_played_whole() {
    // The programs are Python's, as most students' are.
    assert!(
        std::process::Command::new("python3")
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success()),
        "the toy pack's programs need python3: install it (apt-get install python3)"
    );
    let root = tempfile::tempdir().expect("a temporary folder");
    write_kit(root.path());
    write_submission(&root.path().join("right"), "ada", "upper");
    write_submission(&root.path().join("wrong"), "bob", "lower");

    let right = graded(root.path(), &root.path().join("right"));
    assert_eq!(
        right,
        vec![
            (
                "greet/01-client-greets".to_owned(),
                Status::Pass,
                String::new()
            ),
            (
                "greet/02-server-greets-back".to_owned(),
                Status::Pass,
                String::new()
            ),
        ]
    );

    let wrong = graded(root.path(), &root.path().join("wrong"));
    let verdicts: Vec<(&str, Status)> = wrong
        .iter()
        .map(|(id, status, _)| (id.as_str(), *status))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("greet/01-client-greets", Status::Fail),
            ("greet/02-server-greets-back", Status::Fail),
        ],
        "{wrong:?}"
    );
    assert!(wrong[0].2.contains("greetings as bob"), "{wrong:?}");
    assert!(wrong[1].2.contains("HI ada"), "{wrong:?}");
}

#[test]
fn the_scenario_schema_offers_the_packs_keys() {
    let schema = crate::scenario::scenario_schema().to_string();
    for key in KEYS {
        assert!(schema.contains(key), "the schema has no {key}");
    }
}

/// No code outside the pack's folder names it but its two lines in `protocols/mod.rs`
/// (its module and its registry line), nor any of its keys: no step, no judge, no part of
/// the engine treats it apart.
/// The pack's keys, as code would write them.
const KEYS: [&str; 3] = ["\"greet\"", "\"greeted\"", "\"greet-back\""];

#[test]
fn nothing_outside_the_packs_folder_names_it() {
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let own = sources.join("protocols/toy");
    let mut naming = Vec::new();
    let mut folders = vec![sources.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("a source folder") {
            let path = entry.expect("an entry").path();
            if path == own {
                continue;
            }
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file");
                // Code that names it; a comment may.
                let names_it = |line: &&str| {
                    !line.trim_start().starts_with("//")
                        && (line
                            .split(|c: char| !c.is_alphanumeric() && c != '_')
                            .any(|word| word == "toy")
                            || KEYS.iter().any(|key| line.contains(key)))
                };
                for line in text.lines().filter(names_it) {
                    naming.push(format!(
                        "{}: {}",
                        path.strip_prefix(&sources).expect("below src").display(),
                        line.trim()
                    ));
                }
            }
        }
    }
    naming.sort();
    assert_eq!(
        naming,
        vec!["protocols/mod.rs: mod toy;", "protocols/mod.rs: toy::PACK,"]
    );
}
