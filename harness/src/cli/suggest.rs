//! What a newcomer's mistake is answered with: the task or scenario they most likely
//! meant (`unknown task `mesage`: did you mean `message`?`), and for a folder the harness
//! finds no program in, the files it holds and a `submission.toml` that would run them.

use std::path::Path;

use crate::scenario::{Selection, Suite};

/// The candidate nearest to `word` by edit distance, if near enough to be a typo: at most
/// a third of the word's length, and at least 1, away (`mesage` → `message`, not `calc` →
/// `chat`).
pub(super) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let most = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|candidate| (strsim::levenshtein(word, candidate), candidate))
        .filter(|(distance, _)| *distance <= most)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// `unknown task `mesage`: did you mean `message`?` (or, with nothing near, the tasks).
pub(super) fn unknown_task(task: &str, suite: &Suite) -> String {
    let known = suite.catalogue.tasks.keys().map(String::as_str);
    match closest(task, known.clone()) {
        Some(meant) => format!(
            "unknown task `{task}`: did you mean `{meant}`? (`harness list` names every task)"
        ),
        None => format!(
            "unknown task `{task}` (tasks: {})",
            known.collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Refuses a scenario pattern that selects no scenario of the kit, with the pattern it was
/// most likely meant to be: the task part corrected (`mesage/01-*` → `message/01-*`),
/// else the nearest scenario id. A typo in one pattern of several would otherwise grade
/// less than was asked, silently.
pub(super) fn check_patterns(patterns: &[String], suite: &Suite) -> crate::Result<()> {
    for pattern in patterns {
        let selection = Selection::new(Vec::new(), std::slice::from_ref(pattern))?;
        if suite
            .scenarios
            .iter()
            .any(|scenario| selection.includes(scenario))
        {
            continue;
        }
        let mut message = format!("no scenario matches `{pattern}`");
        if let Some(meant) = meant_pattern(pattern, suite) {
            message.push_str(&format!(": did you mean `{meant}`?"));
        }
        message.push_str(" (`harness list` names every scenario)");
        return Err(crate::Error::Usage(message));
    }
    Ok(())
}

fn meant_pattern(pattern: &str, suite: &Suite) -> Option<String> {
    let (task, rest) = match pattern.split_once('/') {
        Some((task, rest)) => (task, Some(rest)),
        None => (pattern, None),
    };
    let tasks = suite.catalogue.tasks.keys().map(String::as_str);
    if !suite.catalogue.tasks.contains_key(task) && !task.contains(['*', '?', '[']) {
        let meant = closest(task, tasks)?;
        return Some(match rest {
            Some(rest) => format!("{meant}/{rest}"),
            None => meant.to_owned(),
        });
    }
    // The task is right (or a glob): the nearest id, compared on the pattern's fixed start.
    let fixed: String = pattern
        .chars()
        .take_while(|c| !matches!(c, '*' | '?' | '['))
        .collect();
    let length = fixed.chars().count();
    let most = (length / 3).max(1);
    suite
        .scenarios
        .iter()
        .map(|scenario| {
            let start: String = scenario.id.chars().take(length).collect();
            (strsim::levenshtein(&fixed, &start), &scenario.id)
        })
        .filter(|(distance, _)| *distance <= most)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, id)| id.clone())
}

/// The files of a folder no program was found in, and a `submission.toml` that would run
/// them: `server.py` and `client.py` of a folder graded on `message` give
///
/// ```text
/// [message]
/// server = "python3 server.py {port}"
/// client = "python3 client.py {host} {port}"
/// ```
///
/// The task is the one selected, else the one the files' names mention, else `message`
/// with a note to change it. A role's program is the file whose name mentions the role.
pub(super) fn unrecognised_folder(folder: &Path, suite: &Suite, selected: &[String]) -> String {
    let mut files: Vec<String> = std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok())
                .filter(|entry| entry.path().is_file())
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| !name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut message = format!(
        "nothing to grade in {}: no program for {}",
        folder.display(),
        crate::report::terminal::tasks_named(selected)
    );
    if files.is_empty() {
        message.push_str(
            "\n  the folder has no file. The harness runs programs named <task>-<role>, with any \
             extension (message-server.py, message-client.py), or what a submission.toml names \
             (`harness list` gives every task and role)",
        );
        return message;
    }
    const SHOWN: usize = 12;
    let mut found = files
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if files.len() > SHOWN {
        found.push_str(&format!(", and {} more", files.len() - SHOWN));
    }
    message.push_str(&format!("\n  found: {found}"));
    let normal = |name: &str| name.to_ascii_lowercase().replace('_', "-");
    let guessed = match selected {
        [task] => Some(task.as_str()),
        _ => selected
            .iter()
            .filter(|task| {
                files
                    .iter()
                    .any(|file| normal(file).contains(task.as_str()))
            })
            .max_by_key(|task| task.len())
            .map(String::as_str),
    };
    let task = guessed.unwrap_or("message");
    let Some(info) = suite.catalogue.tasks.get(task) else {
        return message;
    };
    let programs: Vec<&String> = files.iter().filter(|file| runnable(folder, file)).collect();
    let mut table = format!("[{task}]");
    if guessed.is_none() {
        table.push_str("   # your task's name here: `harness list` names them");
    }
    let mut named = 0;
    for (role, arguments) in &info.roles {
        let program = programs
            .iter()
            .find(|file| normal(file).contains(role.as_str()))
            .or(match (info.roles.len(), programs.as_slice()) {
                (1, [only]) => Some(only),
                _ => None,
            });
        let line = match program {
            Some(file) => {
                named += 1;
                format!("{role} = \"{} {arguments}\"", command_of(file))
            }
            None => format!(
                "# {role} = \"python3 YOUR-{}.py {arguments}\"",
                role.to_uppercase()
            ),
        };
        table.push('\n');
        table.push_str(&line);
    }
    let expected: Vec<String> = info
        .roles
        .keys()
        .map(|role| info.program_name(task, role))
        .collect();
    message.push_str(&format!(
        "\n  the harness runs programs named {} (any extension), or what a submission.toml names.",
        expected.join(", ")
    ));
    if named > 0 {
        message.push_str(&format!(
            " This {} would run the files here (check the arguments: `harness list --task {task}`):\n\n",
            folder.join("submission.toml").display()
        ));
    } else {
        message.push_str(" A submission.toml like this one names them:\n\n");
    }
    for line in table.lines() {
        message.push_str(&format!("    {line}\n"));
    }
    message.trim_end().to_owned()
}

/// Whether a file of the folder looks like a program: a script or class the harness can
/// run, or an executable.
fn runnable(folder: &Path, file: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let extension = Path::new(file)
        .extension()
        .and_then(|extension| extension.to_str())
        .unwrap_or_default();
    matches!(extension, "py" | "sh" | "java" | "js" | "rb" | "pl" | "jar")
        || std::fs::metadata(folder.join(file))
            .is_ok_and(|meta| meta.permissions().mode() & 0o111 != 0)
}

/// How a `submission.toml` runs a file: by its interpreter, or as it is.
fn command_of(file: &str) -> String {
    let extension = Path::new(file)
        .extension()
        .and_then(|extension| extension.to_str())
        .unwrap_or_default();
    match extension {
        "py" => format!("python3 {file}"),
        "sh" => format!("sh {file}"),
        "java" => format!("java {file}"),
        "jar" => format!("java -jar {file}"),
        "js" => format!("node {file}"),
        "rb" => format!("ruby {file}"),
        "pl" => format!("perl {file}"),
        _ => file.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_is_matched_and_a_stranger_is_not() {
        let tasks = ["message", "chat", "calc", "web-server", "web-proxy"];
        assert_eq!(closest("mesage", tasks), Some("message"));
        assert_eq!(closest("web-sever", tasks), Some("web-server"));
        assert_eq!(closest("chta", tasks), None, "two edits in four letters");
        assert_eq!(closest("database", tasks), None);
    }

    #[test]
    fn files_run_by_their_interpreter() {
        assert_eq!(command_of("server.py"), "python3 server.py");
        assert_eq!(command_of("Client.java"), "java Client.java");
        assert_eq!(command_of("server"), "server");
    }
}
