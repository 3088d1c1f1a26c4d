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
    // The requirement's prose names the account's user too (`the server accepts for
    // alice`): it is the declared one there as well, so the requirement shows the values
    // the scenario used.
    let users: Vec<(String, String)> = logins
        .iter()
        .filter_map(|login| match login {
            LoginReplacement::Part {
                option,
                theirs,
                ours,
            } if (option == "--user" || option == "user") && theirs != ours => {
                Some((theirs.clone(), ours.clone()))
            }
            _ => None,
        })
        .collect();
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
        .find(|variant| variant.id == scenario.id)
        .map(|mut variant| {
            for (theirs, ours) in &users {
                variant.requirement = with_word_replaced(&variant.requirement, theirs, ours);
            }
            variant
        }))
}

/// `text` with `word` made `by` wherever it stands as a word of its own (`for alice`, not
/// `alice@example.com` nor `malice`).
fn with_word_replaced(text: &str, word: &str, by: &str) -> String {
    let joined = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || "@-_".contains(c));
    let mut kept = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = match at {
            0 => kept.chars().next_back(),
            _ => rest[..at].chars().next_back(),
        };
        let after = rest[at + word.len()..].chars().next();
        kept.push_str(&rest[..at]);
        kept.push_str(if joined(before) || joined(after) {
            word
        } else {
            by
        });
        rest = &rest[at + word.len()..];
    }
    kept.push_str(rest);
    kept
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
mod tests;
