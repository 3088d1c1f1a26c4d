//! A scenario adapted to a value a submission hard-codes.
//!
//! A scenario fills a role's own placeholders (`with = { password = "open sesame" }` for
//! `password-server {port} --password {password}`), and writes the same value where it
//! plays its part (`send = { text = "open sesame\n" }`). A student's server often
//! hard-codes its own (`PASSWORD = '1234'`); `submission.toml` says so (`with = {
//! password = "1234" }`), and the scenario is read again with its value replaced by the
//! program's wherever the file writes it: `open sesame2`, the longer word that must be
//! denied, becomes `12342`.
//!
//! A client that hard-codes its login (`M.login('me@example.com', 'hunter2')`) is said so
//! with `user` and `password`. The scenario gives its client a login on the command line
//! (`--user alice --password s3cret-lab`, or mysql-remote's `with = { user = "alice" }`);
//! that login becomes the declared one wherever the file names it as a whole value (the
//! account of the IMAP, POP3, FTP, SSH or MySQL peer, the password a check looks for), so
//! the declared account is the scenario's account, whatever its user and password (equal
//! ones included). A scenario that gives a wrong password (`--password wrong-one`) keeps
//! its account's own and the declared user: the hard-coded password is then the wrong one,
//! and if it happens to be the account's, the account's is changed, so that it stays
//! wrong. A server that
//! hard-codes the credentials it accepts (`--auth student:s3cret` of `xmlrpc-server`) is
//! said so the same way, and each half of every `user:password` the scenario sends is
//! replaced on its own: the wrong password stays wrong, the wrong user wrong.
//!
//! Any other option's value a program hard-codes is said as the login is: `with = {
//! "--from" = "me@example.org" }` (a mail client that always sends from its author's
//! address) makes that the value the scenario gives `--from`, wherever the file writes it
//! as a whole string (the envelope and the `From:` header the mail judge expects).
//!
//! A program that always opens its own file (`with = { file = "test.bin" }`, see
//! [`GivenFile`]) sends it under that name: the name of the file the scenario gives
//! (`photo.bin`, the folder `lab-notes`) becomes the program's wherever the file writes it
//! (the stored `/photo.bin`, the attachment `lab-notes.zip`, the subject naming the folder,
//! the requirement), but for the words that say where the kit's own copy is (`tree`,
//! `tree_file`, `unzips_to`) and the `args` that give the scenario's file (the harness
//! reads it there to put it where the program runs).

use std::collections::BTreeMap;

use super::loader::load_scenario_text;
use super::{GivenFile, Scenario};
use crate::catalogue::Catalogue;
use crate::target::RoleProgram;
use crate::{Error, Result};

/// `scenario` as `roles` make it, or `None` when no program hard-codes a value the
/// scenario gives.
pub fn adapted(
    scenario: &Scenario,
    roles: &BTreeMap<String, RoleProgram>,
    catalogue: &Catalogue,
) -> Result<Option<Scenario>> {
    let replacements = replacements(scenario, roles);
    let logins = login_replacements(scenario, roles);
    let files = file_replacements(scenario, roles);
    if replacements.is_empty() && logins.is_empty() && files.is_empty() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&scenario.path).map_err(Error::io(format!(
        "cannot read {}",
        scenario.path.display()
    )))?;
    let text = replacements.iter().fold(text, |text, (theirs, ours)| {
        text.replace(theirs, &escaped(ours))
    });
    let text = apply_logins(&text, &logins);
    let text = files.iter().fold(text, |text, (theirs, ours)| {
        replace_file_name(&text, theirs, ours)
    });
    let replacements: Vec<(String, String)> = replacements
        .into_iter()
        .chain(logins.into_iter().map(LoginReplacement::values))
        .chain(files)
        .collect();
    let variants = load_scenario_text(
        &scenario.path,
        text,
        &scenario.task,
        catalogue,
        &scenario.kit_root,
    )
    .map_err(|error| {
        Error::Usage(format!(
            "{}: the values submission.toml gives ({}) cannot be put into this scenario: {error}",
            scenario.id,
            replacements
                .iter()
                .map(|(_, ours)| format!("`{ours}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    Ok(variants
        .into_iter()
        .find(|variant| variant.id == scenario.id))
}

/// Each value the scenario gives a role whose program hard-codes another, with that other,
/// longest first (so that a value inside another is replaced after it).
fn replacements(
    scenario: &Scenario,
    roles: &BTreeMap<String, RoleProgram>,
) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = scenario
        .steps
        .iter()
        .filter_map(|step| step.action.0.starts())
        .flat_map(|start| {
            let own = roles.get(&start.role).map(|program| &program.own_values);
            let login = gives_a_login(start);
            start.with.iter().filter_map(move |(key, theirs)| {
                // A login's parts are replaced as a login (`login_replacements`).
                if login && LOGIN_PLACEHOLDERS.contains(&key.as_str()) {
                    return None;
                }
                let ours = own?.get(key)?;
                (ours != theirs && !theirs.is_empty()).then(|| (theirs.clone(), ours.clone()))
            })
        })
        .collect();
    found.sort_by_key(|(theirs, _)| std::cmp::Reverse(theirs.len()));
    found.dedup();
    found
}

/// The options through which a scenario gives a program one part of a login.
const LOGIN_OPTIONS: [&str; 2] = ["--user", "--password"];

/// The placeholders through which a scenario gives a program its login where it gives no
/// option (`with = { user = "alice", password = "s3cret-sql" }`: mysql-remote's URL).
const LOGIN_PLACEHOLDERS: [&str; 2] = ["user", "password"];

/// Whether `start` gives its program a login by [`LOGIN_PLACEHOLDERS`] (both of them: a
/// `password` alone is a server's own value, `{password}` of `password-server`).
fn gives_a_login(start: &crate::steps::start::Start) -> bool {
    LOGIN_PLACEHOLDERS
        .iter()
        .all(|placeholder| start.with.contains_key(*placeholder))
}

/// The option through which a scenario gives a server the `user:password` it accepts
/// (`xmlrpc-server {port} --auth student:s3cret`).
const AUTH_OPTION: &str = "--auth";

/// A login a scenario gives a program on its command line, and the one the program
/// hard-codes instead.
#[derive(Debug, Clone, PartialEq)]
enum LoginReplacement {
    /// One part: `--user alice`, `--password s3cret-lab`.
    Part {
        option: String,
        theirs: String,
        ours: String,
    },
    /// A `user:password` pair (`--auth student:s3cret`), each half replaced on its own
    /// wherever the scenario writes a pair (`auth = "student:wrong"` keeps its wrong
    /// password, `"mallory:s3cret"` its wrong user).
    Pair {
        theirs: (String, String),
        ours: (String, String),
    },
}

impl LoginReplacement {
    /// The scenario's value and the program's, as a message shows them.
    fn values(self) -> (String, String) {
        match self {
            LoginReplacement::Part { theirs, ours, .. } => (theirs, ours),
            LoginReplacement::Pair { theirs, ours } => (
                format!("{}:{}", theirs.0, theirs.1),
                format!("{}:{}", ours.0, ours.1),
            ),
        }
    }
}

/// `"value"` as the scenario file writes a whole string.
fn quoted(value: &str) -> String {
    format!("\"{}\"", escaped(value))
}

/// `value` with `-other` added (and more `-` while `text` holds it): a value the scenario
/// keeps that must differ from the program's.
fn other_than(text: &str, value: &str) -> String {
    let mut other = format!("{value}-other");
    while text.contains(&other) {
        other.push('-');
    }
    other
}

/// `text` with the scenario's logins replaced by the programs'.
///
/// Each part is replaced as a whole TOML string (`user = "alice"`), all in one pass over
/// the file, so that the value one part puts in is never taken for the scenario's own by
/// another: a declared user equal to its password (`student`, `student`) stays the
/// account's user. A string the scenario wrote that holds a program's value and gives no
/// part of its login (the account's own password, where the scenario gives a wrong one
/// that the program's replaces) is changed, so that the two stay different. Then each
/// part as its option's word on a command line (`--user alice`, `--user=alice`), and each
/// half of every `user:password` pair.
fn apply_logins(text: &str, logins: &[LoginReplacement]) -> String {
    let parts: Vec<(&str, &str, &str)> = logins
        .iter()
        .filter_map(|login| match login {
            LoginReplacement::Part {
                option,
                theirs,
                ours,
            } => Some((option.as_str(), theirs.as_str(), ours.as_str())),
            LoginReplacement::Pair { .. } => None,
        })
        .collect();
    let mut made: BTreeMap<String, String> = BTreeMap::new();
    for &(_, _, ours) in &parts {
        let given = parts.iter().any(|&(_, theirs, _)| theirs == ours);
        if !given && text.contains(&quoted(ours)) {
            made.insert(quoted(ours), quoted(&other_than(text, ours)));
        }
    }
    for &(_, theirs, ours) in &parts {
        made.insert(quoted(theirs), quoted(ours));
    }
    let mut text = text.to_owned();
    if !made.is_empty() {
        let mut strings: Vec<&String> = made.keys().collect();
        strings.sort_by_key(|string| std::cmp::Reverse(string.len()));
        let pattern = strings
            .iter()
            .map(|string| regex::escape(string))
            .collect::<Vec<_>>()
            .join("|");
        let any = regex::Regex::new(&pattern).expect("escaped strings");
        text = any
            .replace_all(&text, |found: &regex::Captures<'_>| made[&found[0]].clone())
            .into_owned();
    }
    for &(option, theirs, ours) in &parts {
        text = replace_on_command_line(&text, option, theirs, ours);
    }
    for login in logins {
        if let LoginReplacement::Pair { theirs, ours } = login {
            text = replace_pair(&text, theirs, ours);
        }
    }
    text
}

/// `text` with `option theirs` (or `option=theirs`) in a command line made `option ours`.
fn replace_on_command_line(text: &str, option: &str, theirs: &str, ours: &str) -> String {
    let word = escaped(&shell_words::quote(ours));
    let pattern = regex::Regex::new(&format!(
        r#"({}[ =]){}([\s"]|$)"#,
        regex::escape(option),
        regex::escape(theirs)
    ))
    .expect("an escaped pattern");
    pattern
        .replace_all(text, |found: &regex::Captures<'_>| {
            format!("{}{word}{}", &found[1], &found[2])
        })
        .into_owned()
}

/// `text` with the pair `theirs` made `ours` on the command line, and each half replaced
/// in every `"user:password"` string.
fn replace_pair(text: &str, theirs: &(String, String), ours: &(String, String)) -> String {
    let text = replace_on_command_line(
        text,
        AUTH_OPTION,
        &format!("{}:{}", theirs.0, theirs.1),
        &format!("{}:{}", ours.0, ours.1),
    );
    let pair = regex::Regex::new(r#""([^"\\:\s]*):([^"\\]*)""#).expect("a valid pattern");
    // A half that holds the program's value without being the scenario's (a wrong
    // password the program happens to send) is changed, so that it stays wrong.
    let half = |found: &str, theirs: &str, ours: &str| {
        if found == theirs {
            ours.to_owned()
        } else if found == ours {
            other_than(&text, ours)
        } else {
            found.to_owned()
        }
    };
    pair.replace_all(&text, |found: &regex::Captures<'_>| {
        let user = half(&found[1], &theirs.0, &ours.0);
        let password = half(&found[2], &theirs.1, &ours.1);
        quoted(&format!("{user}:{password}"))
    })
    .into_owned()
}

/// The login each program that hard-codes one is given by the scenario (on its command
/// line, or as its login placeholders' values), with the declared values.
fn login_replacements(
    scenario: &Scenario,
    roles: &BTreeMap<String, RoleProgram>,
) -> Vec<LoginReplacement> {
    let mut found = Vec::new();
    let mut add = |replacement: LoginReplacement| {
        if !found.contains(&replacement) {
            found.push(replacement);
        }
    };
    for start in scenario
        .steps
        .iter()
        .filter_map(|step| step.action.0.starts())
    {
        let Some(program) = roles.get(&start.role) else {
            continue;
        };
        // A login declared as `user` and `password`, or as the placeholders' values
        // (`with = { user = "root", password = "root" }`) where the scenario gives it so.
        let login = gives_a_login(start);
        let declared = [&program.login.user, &program.login.password]
            .into_iter()
            .zip(LOGIN_PLACEHOLDERS)
            .map(|(part, placeholder)| {
                part.as_ref()
                    .or_else(|| login.then(|| program.own_values.get(placeholder)).flatten())
            });
        // The login's parts, and any option whose value the manifest declares (`with = {
        // "--from" = "me@example.org" }`: an address the program hard-codes).
        let declared_options = program
            .own_values
            .iter()
            .filter(|(key, _)| key.starts_with("--"))
            .map(|(option, ours)| (option.as_str(), Some(ours)));
        for (option, ours) in LOGIN_OPTIONS
            .into_iter()
            .zip(declared)
            .chain(declared_options)
        {
            // A login part the scenario gives as a placeholder's value rather than an
            // option (`with = { user = "alice" }` for mysql-remote's URL).
            let placeholder = option.trim_start_matches('-');
            let given = start.option_value(option).or_else(|| {
                (login && LOGIN_OPTIONS.contains(&option))
                    .then(|| start.with.get(placeholder).map(String::as_str))
                    .flatten()
            });
            let (Some(ours), Some(theirs)) = (ours, given) else {
                continue;
            };
            if ours != theirs {
                add(LoginReplacement::Part {
                    option: option.to_owned(),
                    theirs: theirs.to_owned(),
                    ours: ours.clone(),
                });
            }
        }
        let pair = start
            .option_value(AUTH_OPTION)
            .and_then(|value| value.split_once(':'));
        if let (Some(user), Some(password), Some((their_user, their_password))) =
            (&program.login.user, &program.login.password, pair)
            && (user != their_user || password != their_password)
        {
            add(LoginReplacement::Pair {
                theirs: (their_user.to_owned(), their_password.to_owned()),
                ours: (user.clone(), password.clone()),
            });
        }
    }
    found
}

/// The name of each file the scenario gives a program that opens its own, with the name of
/// the program's (its last part: `files/test.bin` sends `test.bin`).
fn file_replacements(
    scenario: &Scenario,
    roles: &BTreeMap<String, RoleProgram>,
) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    for start in scenario
        .steps
        .iter()
        .filter_map(|step| step.action.0.starts())
    {
        let Some(ours) = roles
            .get(&start.role)
            .and_then(RoleProgram::hard_coded_file)
        else {
            continue;
        };
        let Some(given) = GivenFile::of(start.args(), scenario.dir_tree.as_ref()) else {
            continue;
        };
        let ours = ours.rsplit('/').next().unwrap_or(ours);
        let pair = (given.name().to_owned(), ours.to_owned());
        if pair.0 != pair.1 && !found.contains(&pair) {
            found.push(pair);
        }
    }
    found
}

/// The keys whose strings name where the kit's copy of a file is, or give the scenario's
/// file on a command line: a program's own file name is not put there.
const KIT_PATH_KEYS: [&str; 4] = ["tree", "tree_file", "unzips_to", "args"];

/// `text` with the file name `theirs` made `ours` wherever it stands as a name (not inside
/// a longer word: `photo.bin` in `/uploads/photo.bin`, `lab-notes` in `lab-notes.zip`), but
/// in the strings of [`KIT_PATH_KEYS`].
fn replace_file_name(text: &str, theirs: &str, ours: &str) -> String {
    let kept = regex::Regex::new(&format!(
        r#"\b(?:{})\s*=\s*"(?:[^"\\]|\\.)*""#,
        KIT_PATH_KEYS.join("|")
    ))
    .expect("a valid pattern");
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for found in kept.find_iter(text) {
        out.push_str(&replace_name(&text[from..found.start()], theirs, ours));
        out.push_str(found.as_str());
        from = found.end();
    }
    out.push_str(&replace_name(&text[from..], theirs, ours));
    out
}

/// `text` with every `theirs` that is not part of a longer name made `ours`.
fn replace_name(text: &str, theirs: &str, ours: &str) -> String {
    let part_of_a_name = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for (at, _) in text.match_indices(theirs) {
        if at < from {
            continue;
        }
        let before = text[..at].chars().next_back();
        let after = text[at + theirs.len()..].chars().next();
        if before.is_some_and(part_of_a_name) || after.is_some_and(part_of_a_name) {
            continue;
        }
        out.push_str(&text[from..at]);
        out.push_str(&escaped(ours));
        from = at + theirs.len();
    }
    out.push_str(&text[from..]);
    out
}

/// `value` as the inside of a TOML basic string (`"..."`), where scenarios write text.
fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for character in value.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            other if other.is_control() => out.push_str(&format!("\\u{:04X}", other as u32)),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
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
            own_values: BTreeMap::from([(
                crate::target::HARD_CODED_FILE.to_owned(),
                file.to_owned(),
            )]),
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
}
