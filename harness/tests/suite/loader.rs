//! Bad scenario files are rejected with `file:line: reason`, every one of them.

use harness::scenario::load_suite;

const TASKS: &str = r#"
[message]
title = "Sequential message server and client"
roles = { server = "{port}", client = "{host} {port}" }
"#;

const HEADER: &str = r#"task = "message"
clauses = ["message/1"]
category = "basic"
points = 1
requirement = "r"
"#;

/// Loads a kit whose only scenario is `body`, and returns the error text.
fn error_of(body: &str) -> String {
    let kit = tempfile::tempdir().unwrap();
    let scenarios = kit.path().join("scenarios");
    std::fs::create_dir_all(scenarios.join("message")).unwrap();
    std::fs::write(scenarios.join("tasks.toml"), TASKS).unwrap();
    std::fs::write(scenarios.join("message/bad.toml"), body).unwrap();
    match load_suite(&scenarios) {
        Ok(_) => panic!("this scenario must be rejected:\n{body}"),
        Err(error) => error.to_string().replace(
            &scenarios.canonicalize().unwrap().display().to_string(),
            "scenarios",
        ),
    }
}

#[test]
fn bad_files_are_rejected_with_file_line_and_reason() {
    let cases: &[(&str, String, &str)] = &[
        (
            "a misspelt key",
            format!("{HEADER}\n[[step]]\nstart = \"server\"\nsendd = 1\n"),
            "scenarios/message/bad.toml:9: unknown field `sendd`",
        ),
        (
            "a missing field",
            "task = \"message\"\nclauses = [\"message/1\"]\n".into(),
            "scenarios/message/bad.toml:1: missing field `category`",
        ),
        (
            "two actions",
            format!("{HEADER}\n[[step]]\nstart = \"server\"\nwait = \"c1\"\n"),
            "bad.toml:7: step 1: a step has one action, this one has start and wait",
        ),
        (
            "no action",
            format!("{HEADER}\n[[step]]\nwithin_ms = 5\n"),
            "bad.toml:7: step 1: a step needs an action",
        ),
        (
            "an unknown role",
            format!("{HEADER}\n[[step]]\nstart = \"proxy\"\n"),
            "bad.toml:7: step 1: this task has no role `proxy` (roles: client, server)",
        ),
        (
            "a name used before it exists",
            format!("{HEADER}\n[[step]]\nexpect_stdout = \"server\"\nempty = true\n"),
            "bad.toml:7: step 1: no program named `server`",
        ),
        (
            "a modifier of another action",
            format!("{HEADER}\n[[step]]\nstart = \"server\"\nsend = {{ text = \"x\" }}\n"),
            "step 1: `send` does not go with `start`",
        ),
        (
            "a bad regex",
            format!(
                "{HEADER}\n[[step]]\nstart = \"server\"\n[[step]]\nexpect_stdout = \"server\"\nmatches = \"(\"\n"
            ),
            "bad.toml:9: step 2: `matches` is not a valid regex",
        ),
        (
            "a missing payload file",
            format!(
                "{HEADER}\n[[step]]\nstart = \"server\"\n[[step]]\nconnect = \"server\"\nas = \"c1\"\nsend = {{ file = \"nope.txt\" }}\n"
            ),
            "step 2: payload file `nope.txt`",
        ),
        (
            "an unknown check",
            format!("{HEADER}\n[[step]]\ncheck = \"speed\"\n"),
            "step 1: unknown check `speed` (checks: peak-memory, ",
        ),
        (
            "a zero-byte slice",
            format!(
                "{HEADER}\n[[step]]\nstart = \"server\"\n[[step]]\nconnect = \"server\"\nas = \"c1\"\nslices = {{ size = 0 }}\n"
            ),
            "step 2: slice size must be at least 1 byte",
        ),
        (
            "a task of another folder",
            HEADER.replace("\"message\"", "\"chat\"") + "\n[[step]]\nstart = \"server\"\n",
            "bad.toml:1: task `chat` does not match its folder `message`",
        ),
        (
            "a clause that is not an id",
            HEADER.replace("message/1", "message-one") + "\n[[step]]\nstart = \"server\"\n",
            "bad.toml:2: clause `message-one` is not a SPEC clause id",
        ),
        (
            "no steps",
            HEADER.to_string(),
            "bad.toml:1: a scenario needs at least one [[step]]",
        ),
        (
            "a partition in a scenario for both worlds",
            format!(
                "{HEADER}\n[[step]]\nstart = \"server\"\n\n[[step]]\npartition = [\"server\", \"harness\"]\n"
            ),
            "bad.toml:10: partitions exist only in the simulated world: add `world = \"simulated\"`",
        ),
        (
            "a partition with an unknown host",
            format!(
                "world = \"simulated\"\n{HEADER}\n[[step]]\npartition = [\"server\", \"nobody\"]\n"
            ),
            "step 1: no step starts a program named `server`",
        ),
        (
            "an unknown world",
            format!("world = \"both\"\n{HEADER}\n[[step]]\nstart = \"server\"\n"),
            "bad.toml:1: world `both` is not known",
        ),
        (
            "a ping script on a TCP server peer",
            format!("{HEADER}\n[[step]]\nlisten = \"pinger\"\nping = {{ drop = [3] }}\n"),
            "step 1: `ping` scripts a UDP ping server: it needs `transport = \"udp\"` and no `reply`",
        ),
        (
            "read_until on UDP",
            format!(
                "{HEADER}\n[[step]]\nlisten = \"srv\"\ntransport = \"udp\"\nread_until = \"eof\"\n"
            ),
            "step 1: `read_until` is for TCP",
        ),
        (
            "a datagram too large",
            format!(
                "{HEADER}\n[[step]]\nstart = \"server\"\n\n[[step]]\nsend_datagram = \"server\"\nas = \"d1\"\nsend = {{ generate = \"binary\", bytes = 70000 }}\n"
            ),
            "step 2: a datagram holds at most 65507 bytes; this one has 70000",
        ),
        (
            "checking what an unknown peer received",
            format!("{HEADER}\n[[step]]\nexpect_received = \"c9\"\nnot_empty = true\n"),
            "step 1: no harness peer named `c9`",
        ),
        (
            "a ping report without a ping server",
            format!(
                "{HEADER}\n[[step]]\nstart = \"client\"\n\n[[step]]\nexpect_stdout = \"client\"\nping_report = {{ server = \"pinger\" }}\n"
            ),
            "step 2: `ping_report` needs the `listen` peer that plays the ping server",
        ),
        (
            "arguments that do not parse",
            format!("{HEADER}\n[[step]]\nstart = \"server\"\nargs = \"--loss '0.3\"\n"),
            "step 1: `args` is not a valid command line",
        ),
        (
            "an expectation on stdout that says nothing of the rest",
            format!(
                "{HEADER}\n[[step]]\nstart = \"server\"\n\n[[step]]\nexpect_stdout = \"server\"\ncontains = {{ text = \"x\" }}\n"
            ),
            "step 2: stdout is judged whole (it is data: every line counts)",
        ),
        (
            "a sliced answer on UDP",
            format!(
                "{HEADER}\n[[step]]\nlisten = \"srv\"\ntransport = \"udp\"\nslices = {{ size = 1 }}\n"
            ),
            "step 1: `slices` cuts a TCP answer",
        ),
        (
            "a clear-text check on a peer that plays no mail server",
            format!(
                "{HEADER}\n[[step]]\nlisten = \"srv\"\n\n[[step]]\nexpect_received = \"srv\"\nnever_in_clear = {{ password = \"s3cret\" }}\n"
            ),
            "step 2: `never_in_clear` judges what a `listen` peer with `imap` or `pop3` or `smtp` received; `srv` is not one",
        ),
        (
            "a mail server that greets with a success code as its refusal",
            format!(
                "{HEADER}\n[[step]]\nlisten = \"mta\"\nsmtp = {{ replies = {{ greeting = 250 }} }}\n"
            ),
            "`replies = { greeting = 250 }`: a greeting that refuses is a 4xx or 5xx",
        ),
        (
            "header fields to judge without an address",
            format!(
                "{HEADER}\n[[step]]\nlisten = \"mta\"\nsmtp = {{}}\n\n[[step]]\nexpect_received = \"mta\"\nmail = {{ headers = {{}} }}\n"
            ),
            "`headers` names the `from` or `to` the header fields hold",
        ),
        (
            "a conversation on a connection that was not kept open",
            format!(
                "{HEADER}\n[[step]]\nstart = \"server\"\n[[step]]\nconnect = \"server\"\nas = \"c1\"\n[[step]]\nsay = \"c1\"\nsend = {{ text = \"1\\n\" }}\n"
            ),
            "bad.toml:12: step 3: `say` sends on a connection kept open",
        ),
        (
            "a misspelt key in a conversation step, at its own line",
            format!(
                "{HEADER}\n[[step]]\nstart = \"server\"\n[[step]]\nexpect_line = \"server\"\nline = {{ number = 3 }}\nwithin = 5\n"
            ),
            "bad.toml:12: unknown field `within`",
        ),
        (
            "a line expectation of two kinds",
            format!(
                "{HEADER}\n[[step]]\nstart = \"server\"\n[[step]]\nexpect_line = \"server\"\nline = {{ number = 3, prefix = \"3\" }}\n"
            ),
            "step 2: a line expectation has exactly one of equals, prefix, matches, number, status, one_of (here: prefix, number)",
        ),
        (
            "waiting for a line of a stream nobody opened",
            format!("{HEADER}\n[[step]]\nexpect_line = \"c1\"\nline = {{ status = 250 }}\n"),
            "step 1: no connection (from `connect`) or program (from `start`) named `c1`",
        ),
        (
            "a scenario repeated for a role the task does not have",
            format!(
                "for_roles = [\"server\", \"proxy\"]\n{HEADER}\n[[step]]\nstart = \"{{role}}\"\n"
            ),
            "bad.toml:1: `for_roles`: this task has no role `proxy`",
        ),
        (
            "a scenario repeated per role that never names the role",
            format!("for_roles = [\"server\"]\n{HEADER}\n[[step]]\nstart = \"server\"\n"),
            "`for_roles` repeats the scenario per role: write `{role}` where the role goes",
        ),
        (
            "a crash asked for",
            format!(
                "{HEADER}\n[[step]]\nstart = \"client\"\n[[step]]\nexpect_exit = \"client\"\nsuccess = false\ncrash = true\n"
            ),
            "bad.toml:9: step 2: `crash = true` is not something to expect: write `crash = false`",
        ),
        (
            "no crash beside a success",
            format!(
                "{HEADER}\n[[step]]\nstart = \"client\"\n[[step]]\nexpect_exit = \"client\"\nsuccess = true\ncrash = false\n"
            ),
            "bad.toml:9: step 2: `crash = false` goes with an exit that may be a failure",
        ),
        (
            "a crash rule that is not a boolean",
            format!(
                "{HEADER}\n[[step]]\nstart = \"client\"\n[[step]]\nexpect_exit = \"client\"\nsuccess = false\ncrash = \"no\"\n"
            ),
            "invalid type: string \"no\", expected a boolean",
        ),
        (
            "a visibility Gradescope does not know",
            format!("{HEADER}visibility = \"after_deadline\"\n\n[[step]]\nstart = \"server\"\n"),
            "bad.toml:6: `after_deadline` is not a visibility (hidden, after_due_date, after_published, visible)",
        ),
    ];
    for (what, body, expected) in cases {
        let error = error_of(body);
        assert!(
            error.contains(expected),
            "{what}: expected `{expected}` in:\n{error}"
        );
    }
}

#[test]
fn a_scenario_for_several_roles_is_one_scenario_per_role() {
    let kit = tempfile::tempdir().unwrap();
    let scenarios = kit.path().join("scenarios");
    std::fs::create_dir_all(scenarios.join("message")).unwrap();
    std::fs::write(scenarios.join("tasks.toml"), TASKS).unwrap();
    let body = format!(
        "for_roles = [\"server\", \"client\"]\n{}\n[[step]]\nstart = \"{{role}}\"\n",
        HEADER.replace("requirement = \"r\"", "requirement = \"the {role} starts\"")
    );
    std::fs::write(scenarios.join("message/01-starts.toml"), body).unwrap();
    let suite = load_suite(&scenarios).unwrap();
    let seen: Vec<(&str, &str, Vec<&str>)> = suite
        .scenarios
        .iter()
        .map(|scenario| {
            (
                scenario.id.as_str(),
                scenario.requirement.as_str(),
                scenario.roles(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "message/01-starts-server",
                "the server starts",
                vec!["server"]
            ),
            (
                "message/01-starts-client",
                "the client starts",
                vec!["client"]
            ),
        ]
    );
}

#[test]
fn every_bad_file_is_reported_not_just_the_first() {
    let kit = tempfile::tempdir().unwrap();
    let scenarios = kit.path().join("scenarios");
    std::fs::create_dir_all(scenarios.join("message")).unwrap();
    std::fs::create_dir_all(scenarios.join("mesage")).unwrap();
    std::fs::write(scenarios.join("tasks.toml"), TASKS).unwrap();
    std::fs::write(scenarios.join("message/a.toml"), "task = 1\n").unwrap();
    std::fs::write(scenarios.join("message/b.toml"), "nonsense\n").unwrap();
    let error = load_suite(&scenarios).unwrap_err().to_string();
    assert!(error.contains("a.toml:1:"), "{error}");
    assert!(error.contains("b.toml:1:"), "{error}");
    assert!(error.contains("folder `mesage` is not a task"), "{error}");
}

#[test]
fn a_scenario_says_when_gradescope_shows_its_result() {
    use harness::outcome::Visibility;
    let kit = tempfile::tempdir().unwrap();
    let scenarios = kit.path().join("scenarios");
    std::fs::create_dir_all(scenarios.join("message")).unwrap();
    std::fs::write(scenarios.join("tasks.toml"), TASKS).unwrap();
    let step = "\n[[step]]\nstart = \"server\"\n";
    std::fs::write(
        scenarios.join("message/hidden.toml"),
        format!("{HEADER}visibility = \"after_due_date\"\n{step}"),
    )
    .unwrap();
    std::fs::write(
        scenarios.join("message/plain.toml"),
        format!("{HEADER}{step}"),
    )
    .unwrap();
    let suite = load_suite(&scenarios).unwrap();
    let visibility: Vec<(&str, Option<Visibility>)> = suite
        .scenarios
        .iter()
        .map(|scenario| (scenario.id.as_str(), scenario.visibility))
        .collect();
    assert_eq!(
        visibility,
        [
            ("message/hidden", Some(Visibility::AfterDueDate)),
            ("message/plain", None)
        ]
    );
}
