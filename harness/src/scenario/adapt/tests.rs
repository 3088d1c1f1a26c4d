//! The adaptation's tests: scenarios of the kit read again with the values programs
//! hard-code.

use super::*;
use std::path::Path;

fn suite() -> super::super::Suite {
    let kit = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    super::super::load_suite(&kit.join("scenarios")).unwrap()
}

fn granted_and_denied(suite: &super::super::Suite) -> &Scenario {
    suite
        .scenarios
        .iter()
        .find(|scenario| scenario.id == "password/01-granted-and-denied")
        .unwrap()
}

fn server_with(values: &[(&str, &str)]) -> BTreeMap<String, RoleProgram> {
    let program = RoleProgram {
        own_values: values
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
        ..RoleProgram::default()
    };
    BTreeMap::from([("server".to_owned(), program)])
}

#[test]
fn a_hard_coded_password_replaces_the_scenarios_everywhere_it_is_written() {
    let suite = suite();
    let scenario = granted_and_denied(&suite);
    let roles = server_with(&[("password", "1234")]);
    let adapted = adapted(scenario, &roles, &suite.catalogue)
        .unwrap()
        .unwrap();
    let start = adapted.steps[0].action.0.starts().unwrap();
    assert_eq!(start.with["password"], "1234");
    // Sent bytes show as numbers: `12342\n` (the longer word) is sent, and no `open `.
    let steps = format!("{:?}", adapted.steps);
    assert!(steps.contains("[49, 50, 51, 52, 50, 10]"), "{steps}");
    assert!(!steps.contains("111, 112, 101, 110, 32"), "{steps}");
    assert_eq!(adapted.steps.len(), scenario.steps.len());
    assert_eq!(adapted.steps[3].line, scenario.steps[3].line);
}

#[test]
fn the_same_value_or_none_leaves_the_scenario_as_it_is() {
    let suite = suite();
    let scenario = granted_and_denied(&suite);
    for roles in [
        server_with(&[("password", "open sesame")]),
        server_with(&[]),
    ] {
        assert!(
            adapted(scenario, &roles, &suite.catalogue)
                .unwrap()
                .is_none()
        );
    }
}

fn reader_logging_in_as(user: &str, password: &str) -> BTreeMap<String, RoleProgram> {
    let program = RoleProgram {
        login: crate::target::Login {
            user: Some(user.to_owned()),
            password: Some(password.to_owned()),
        },
        ..RoleProgram::default()
    };
    BTreeMap::from([("reader".to_owned(), program)])
}

fn imap_scenario<'s>(suite: &'s super::super::Suite, id: &str) -> &'s Scenario {
    suite
        .scenarios
        .iter()
        .find(|scenario| scenario.id == id)
        .unwrap()
}

#[test]
fn a_hard_coded_login_becomes_the_account_of_the_scenario() {
    let suite = suite();
    let scenario = imap_scenario(&suite, "imap-read/01-list");
    let roles = reader_logging_in_as("me@example.com", "hunter 2");
    let adapted = adapted(scenario, &roles, &suite.catalogue)
        .unwrap()
        .unwrap();
    let steps = format!("{:?}", adapted.steps);
    assert!(steps.contains("user: \"me@example.com\""), "{steps}");
    assert!(steps.contains("password: \"hunter 2\""), "{steps}");
    let start = adapted
        .steps
        .iter()
        .find_map(|step| step.action.0.starts())
        .unwrap();
    assert_eq!(start.option_value("--user"), Some("me@example.com"));
    assert_eq!(start.option_value("--password"), Some("hunter 2"));
    assert!(!steps.contains("s3cret-lab"), "{steps}");
}

#[test]
fn a_wrong_password_scenario_keeps_a_password_the_program_does_not_send() {
    let suite = suite();
    let scenario = imap_scenario(&suite, "imap-read/09-wrong-password");
    // Even when the program hard-codes the very password the scenario's account has.
    for hard_coded in ["hunter2", "s3cret-lab"] {
        let roles = reader_logging_in_as("alice", hard_coded);
        let adapted = adapted(scenario, &roles, &suite.catalogue)
            .unwrap()
            .unwrap();
        let start = adapted
            .steps
            .iter()
            .find_map(|step| step.action.0.starts())
            .unwrap();
        assert_eq!(start.option_value("--password"), Some(hard_coded));
        let steps = format!("{:?}", adapted.steps);
        let account = format!("password: \"{hard_coded}\"");
        assert!(!steps.contains(&account), "{hard_coded}: {steps}");
    }
}

fn client_logging_in_as(user: &str, password: &str) -> BTreeMap<String, RoleProgram> {
    let mut roles = reader_logging_in_as(user, password);
    let program = roles.remove("reader").unwrap();
    BTreeMap::from([("client".to_owned(), program)])
}

/// The account of the scenario's peer and the login its client is given, once adapted.
fn account_and_login(id: &str, user: &str, password: &str) -> (String, Option<String>) {
    let suite = suite();
    let scenario = imap_scenario(&suite, id);
    let roles = if id.starts_with("imap-read") || id.starts_with("pop3-fetch") {
        reader_logging_in_as(user, password)
    } else {
        client_logging_in_as(user, password)
    };
    let adapted = adapted(scenario, &roles, &suite.catalogue)
        .unwrap()
        .unwrap();
    let start = adapted
        .steps
        .iter()
        .find_map(|step| step.action.0.starts())
        .unwrap();
    let given = start
        .option_value("--password")
        .or(start.with.get("password").map(String::as_str))
        .map(str::to_owned);
    (format!("{:?}", adapted.steps[0]), given)
}

#[test]
fn a_user_equal_to_its_password_stays_the_accounts_user() {
    for (id, wrong) in [
        (
            "ftp-upload/01-binary-byte-exact",
            "ftp-upload/06-refused-login",
        ),
        ("imap-read/01-list", "imap-read/09-wrong-password"),
        ("pop3-fetch/01-list", "pop3-fetch/09-wrong-password"),
        (
            "ssh-info/01-password-known-host",
            "ssh-info/06-wrong-password",
        ),
        (
            "mysql-remote/01-select-prints-a-table",
            "mysql-remote/08-refused-login",
        ),
    ] {
        // The SSH peer's password is optional (a key may log in instead).
        let has_password = |account: &str| {
            account.contains("password: \"student\"")
                || account.contains("password: Some(\"student\")")
        };
        let (account, given) = account_and_login(id, "student", "student");
        assert!(account.contains("user: \"student\""), "{id}: {account}");
        assert!(has_password(&account), "{id}: {account}");
        assert_eq!(given.as_deref(), Some("student"), "{id}");
        let (account, given) = account_and_login(wrong, "student", "student");
        assert!(account.contains("user: \"student\""), "{wrong}: {account}");
        assert!(!has_password(&account), "{wrong}: {account}");
        assert_eq!(given.as_deref(), Some("student"), "{wrong}");
    }
}

#[test]
fn a_login_declared_as_the_placeholders_values_is_a_login_too() {
    let suite = suite();
    let wrong = imap_scenario(&suite, "mysql-remote/08-refused-login");
    // The program's password is the very one the account has: the account's changes.
    let program = RoleProgram {
        own_values: BTreeMap::from([
            ("user".to_owned(), "student".to_owned()),
            ("password".to_owned(), "s3cret-sql".to_owned()),
        ]),
        ..RoleProgram::default()
    };
    let roles = BTreeMap::from([("client".to_owned(), program)]);
    let adapted = adapted(wrong, &roles, &suite.catalogue).unwrap().unwrap();
    let account = format!("{:?}", adapted.steps[0]);
    assert!(account.contains("user: \"student\""), "{account}");
    assert!(!account.contains("password: \"s3cret-sql\""), "{account}");
    let start = adapted
        .steps
        .iter()
        .find_map(|step| step.action.0.starts())
        .unwrap();
    assert_eq!(start.with["user"], "student");
    assert_eq!(start.with["password"], "s3cret-sql");
}

#[test]
fn a_server_hard_coding_its_credentials_is_called_with_them_and_refuses_the_others() {
    let text = "args = \"--auth student:s3cret\"\n\
                a = { auth = \"student:s3cret\", returns = 5 }\n\
                b = { auth = \"student:wrong\", refused = \"unauthorized\" }\n\
                c = { auth = \"mallory:s3cret\", refused = \"unauthorized\" }\n";
    let pair = LoginReplacement::Pair {
        theirs: ("student".into(), "s3cret".into()),
        ours: ("admin".into(), "pass word".into()),
    };
    assert_eq!(
        apply_logins(text, &[pair]),
        "args = \"--auth 'admin:pass word'\"\n\
         a = { auth = \"admin:pass word\", returns = 5 }\n\
         b = { auth = \"admin:wrong\", refused = \"unauthorized\" }\n\
         c = { auth = \"mallory:pass word\", refused = \"unauthorized\" }\n"
    );
    // A program whose password is the scenario's wrong one: that stays wrong.
    let pair = LoginReplacement::Pair {
        theirs: ("student".into(), "s3cret".into()),
        ours: ("admin".into(), "wrong".into()),
    };
    let adapted = apply_logins(text, &[pair]);
    assert!(adapted.contains("\"admin:wrong-other\""), "{adapted}");
    assert!(
        adapted.contains("a = { auth = \"admin:wrong\""),
        "{adapted}"
    );
}

#[test]
fn quotes_and_backslashes_survive_the_file() {
    let suite = suite();
    let scenario = granted_and_denied(&suite);
    let roles = server_with(&[("password", "say \"hi\" \\o/")]);
    let adapted = adapted(scenario, &roles, &suite.catalogue)
        .unwrap()
        .unwrap();
    let start = adapted.steps[0].action.0.starts().unwrap();
    assert_eq!(start.with["password"], "say \"hi\" \\o/");
}

fn client_opening(file: &str) -> BTreeMap<String, RoleProgram> {
    let program = RoleProgram {
        own_values: BTreeMap::from([(crate::target::HARD_CODED_FILE.to_owned(), file.to_owned())]),
        ..RoleProgram::default()
    };
    BTreeMap::from([("client".to_owned(), program)])
}

#[test]
fn a_program_opening_its_own_file_is_expected_to_send_it_under_its_name() {
    let suite = suite();
    let scenario = imap_scenario(&suite, "ftp-upload/04-into-dir");
    let adapted = adapted(
        scenario,
        &client_opening("files/test.bin"),
        &suite.catalogue,
    )
    .unwrap()
    .unwrap();
    let steps = format!("{:?}", adapted.steps);
    // The judge's remote path takes the program's name; the kit's copy, and the word
    // that says where the harness finds the scenario's file, keep theirs.
    assert!(steps.contains("/uploads/test.bin"), "{steps}");
    assert!(!steps.contains("/uploads/photo.bin"), "{steps}");
    let start = adapted
        .steps
        .iter()
        .find_map(|step| step.action.0.starts())
        .unwrap();
    assert!(start.args().iter().any(|word| word == "{dir}/photo.bin"));
    assert!(
        adapted.requirement.contains("/uploads/test.bin"),
        "{}",
        adapted.requirement
    );
}

#[test]
fn a_program_zipping_its_own_folder_is_expected_to_mail_it_under_its_name() {
    let suite = suite();
    let scenario = imap_scenario(&suite, "mail-archive/13-folder-name-beyond-ascii");
    let adapted = adapted(scenario, &client_opening("notes"), &suite.catalogue)
        .unwrap()
        .unwrap();
    let steps = format!("{:?}", adapted.steps);
    assert!(steps.contains("\"notes.zip\""), "{steps}");
    assert!(!steps.contains("cours été.zip"), "{steps}");
    // The tree the zip must hold is still the scenario's.
    assert_eq!(adapted.dir_tree.unwrap().tree.name, "notes de cours été");
}

#[test]
fn a_name_inside_a_longer_name_is_left_alone() {
    assert_eq!(
        replace_name(
            "photo.bin /a/photo.bin photo.bin2 my-photo.bin",
            "photo.bin",
            "x"
        ),
        "x /a/x photo.bin2 my-photo.bin"
    );
    assert_eq!(
        replace_file_name(
            r#"tree_file = "t/photo.bin", path = "/photo.bin", args = "{dir}/photo.bin""#,
            "photo.bin",
            "x"
        ),
        r#"tree_file = "t/photo.bin", path = "/x", args = "{dir}/photo.bin""#
    );
}

/// Issue 50 §2: the requirement shows the user the scenario really used, where its prose
/// names it as well as where its command line does.
#[test]
fn the_requirement_names_the_declared_user() {
    let suite = suite();
    for (id, shown) in [
        (
            "ssh-info/02-ed25519-key",
            "the server accepts for student (no password)",
        ),
        (
            "ssh-info/01-password-known-host",
            "--user student --password",
        ),
    ] {
        let scenario = imap_scenario(&suite, id);
        let roles = client_logging_in_as("student", "pw 2");
        let adapted = adapted(scenario, &roles, &suite.catalogue)
            .unwrap()
            .unwrap();
        assert!(
            adapted.requirement.contains(shown),
            "{id}: {}",
            adapted.requirement
        );
        assert!(
            !adapted.requirement.contains("alice"),
            "{id}: {}",
            adapted.requirement
        );
    }
}

#[test]
fn a_user_is_replaced_only_where_it_stands_as_a_word() {
    assert_eq!(
        with_word_replaced(
            "for alice (no password); alice@example.com, malice, alice",
            "alice",
            "me"
        ),
        "for me (no password); alice@example.com, malice, me"
    );
}
