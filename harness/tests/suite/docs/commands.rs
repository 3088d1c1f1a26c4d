//! The commands the README and the guide show in ```` ```console ```` blocks, run as written:
//! each line `$ harness ARGS` (or `$ cargo run -p harness -- ARGS`), from the kit's folder,
//! exits 0, or with the status its comment names (`# exit 1`). Commands that cannot run
//! here (uploads, `cargo install`, a student's folder) are in ```` ```sh ```` blocks: those
//! that call the harness are parsed by its own command line, as a doc test's `no_run`
//! example is compiled, so that every flag, subcommand and value they show exists.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common;

/// Far above what any of them takes (seconds): a loaded machine must not fail them.
const DEADLINE: Duration = Duration::from_secs(600);

/// One command of a page.
#[derive(Debug)]
struct Shown {
    /// The page and line it is on, for failures.
    place: String,
    /// The harness's arguments.
    args: Vec<String>,
    /// The exit status the page says (0 unless a comment says `exit N`).
    exit: i32,
}

/// The README and every page of the guide.
fn pages() -> Vec<PathBuf> {
    crate::spec::documentation_pages()
        .into_iter()
        .filter(|page| page == "README.md" || page.starts_with("harness/docs/guide/"))
        .map(|page| common::kit_root().join(page))
        .collect()
}

/// A command line and its comment: from the first `#` that begins a word outside quotes
/// (`shell_words` would drop it, and the comment may say the exit status).
fn split_comment(line: &str) -> (&str, &str) {
    let mut quote = None;
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), _) if c == open => quote = None,
            (None, '#') if previous.is_whitespace() => return (&line[..at], &line[at..]),
            _ => {}
        }
        previous = c;
    }
    (line, "")
}

/// The commands of `console` blocks in `text`, the page at `path`.
fn commands_of(path: &Path, text: &str) -> Vec<Shown> {
    let exit = regex::Regex::new(r"\bexit (\d+)\b").unwrap();
    let mut found = Vec::new();
    for (place, (fence, _), line) in fenced_lines(path, text) {
        if fence != "console" {
            continue;
        }
        let Some(command) = line.strip_prefix("$ ") else {
            continue;
        };
        let (command, comment) = split_comment(command);
        let words = shell_words::split(command)
            .unwrap_or_else(|error| panic!("{place}: `{command}`: {error}"));
        let Some(args) = harness_arguments(&words) else {
            panic!(
                "{place}: a console block's commands begin with `harness` or `cargo run -p harness --` (it is run by this test): `{command}`; put other commands in a ```sh block"
            )
        };
        let status = exit
            .captures(comment)
            .map_or(0, |found| found[1].parse().unwrap());
        found.push(Shown {
            place,
            args: args.to_vec(),
            exit: status,
        });
    }
    found
}

/// Every line inside a fenced block of `text` (the page at `path`): its place
/// (`page.md:12`), the block's info string (`console`, `sh`) and number, and the line.
fn fenced_lines<'a>(path: &Path, text: &'a str) -> Vec<(String, (String, usize), &'a str)> {
    let shown = path
        .strip_prefix(common::kit_root())
        .unwrap_or(path)
        .display()
        .to_string();
    let mut lines = Vec::new();
    let mut fence: Option<(String, usize)> = None;
    let mut blocks = 0;
    for (index, line) in text.lines().enumerate() {
        if let Some(info) = line.trim_start().strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => {
                    blocks += 1;
                    Some((info.trim().to_owned(), blocks))
                }
            };
            continue;
        }
        if let Some(fence) = &fence {
            lines.push((format!("{shown}:{}", index + 1), fence.clone(), line));
        }
    }
    lines
}

/// The harness's arguments in a command line's words: after `harness`, or after the `--`
/// of a `cargo run` of the harness package (`cargo run --release -p harness -- ...`).
fn harness_arguments(words: &[String]) -> Option<&[String]> {
    match words {
        [program, args @ ..] if program == "harness" => Some(args),
        [cargo, run, args @ ..] if cargo == "cargo" && run == "run" => {
            let dashes = args.iter().position(|word| word == "--")?;
            let cargo_options = &args[..dashes];
            cargo_options
                .windows(2)
                .any(|pair| pair[0] == "-p" && pair[1] == "harness")
                .then(|| &args[dashes + 1..])
        }
        _ => None,
    }
}

/// What `of` finds on the README and every page of the guide.
fn on_every_page<T>(of: fn(&Path, &str) -> Vec<T>) -> Vec<T> {
    pages()
        .iter()
        .flat_map(|page| of(page, &std::fs::read_to_string(page).unwrap()))
        .collect()
}

#[test]
fn every_console_command_of_the_readme_and_the_guide_exits_as_the_page_says() {
    let commands = on_every_page(commands_of);
    assert!(
        commands.len() >= 5,
        "the scan finds the pages' console commands ({commands:?})"
    );
    let mut wrong = Vec::new();
    for shown in &commands {
        let output = common::harness()
            .args(&shown.args)
            .timeout(DEADLINE)
            .output()
            .unwrap();
        if output.status.code() != Some(shown.exit) {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let stdout = String::from_utf8_lossy(&output.stdout);
            let tail = |text: &str| {
                let lines: Vec<&str> = text.lines().collect();
                lines[lines.len().saturating_sub(8)..].join("\n")
            };
            wrong.push(format!(
                "{}: `harness {}` exited {:?}, the page says {}\n  stdout ends:\n{}\n  stderr ends:\n{}",
                shown.place,
                shell_words::join(&shown.args),
                output.status.code(),
                shown.exit,
                tail(&stdout),
                tail(&stderr),
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn console_blocks_are_read_as_commands_with_their_exit_status() {
    let page = "text\n```console\n$ harness list --task message\n$ cargo run -p harness -- --target 'a b' 'message/0*'   # exit 1: it fails\noutput line\n```\n```sh\nharness package gradescope --task message\n```\n";
    let found = commands_of(Path::new("page.md"), page);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].args, ["list", "--task", "message"]);
    assert_eq!(found[0].exit, 0);
    assert_eq!(found[1].args, ["--target", "a b", "message/0*"]);
    assert_eq!(found[1].exit, 1);
    assert_eq!(found[1].place, "page.md:4");
}

/// The harness's command lines in `sh` blocks of `text` (the page at `path`), a line ending
/// in `\\` joined with the next; other programs' lines (`docker`, `gh`) are left out.
fn sh_commands_of(path: &Path, text: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let mut pending: Option<(String, String)> = None;
    let mut previous_block = 0;
    for (place, (fence, block), line) in fenced_lines(path, text) {
        // A line ending in `\` continues in its own block only.
        if block != previous_block {
            pending = None;
            previous_block = block;
        }
        if !matches!(fence.as_str(), "sh" | "bash") {
            continue;
        }
        let (place, command) = match pending.take() {
            Some((place, start)) => (place, format!("{start} {}", line.trim())),
            None => (place, line.trim().to_owned()),
        };
        if let Some(start) = command.strip_suffix('\\') {
            pending = Some((place, start.trim_end().to_owned()));
            continue;
        }
        let command = split_comment(&command).0.trim();
        let command = command.strip_prefix("$ ").unwrap_or(command);
        let Ok(words) = shell_words::split(command) else {
            continue;
        };
        if let Some(args) = harness_arguments(&words) {
            found.push((place, args.to_vec()));
        }
    }
    found
}

#[test]
fn every_harness_command_of_an_sh_block_is_one_the_harness_takes() {
    use clap::Parser;
    let commands = on_every_page(sh_commands_of);
    assert!(
        commands.len() >= 20,
        "the scan finds the pages' sh commands ({commands:?})"
    );
    let refused: Vec<String> = commands
        .iter()
        .filter_map(|(place, args)| {
            let words = std::iter::once("harness").chain(args.iter().map(String::as_str));
            harness::cli::Cli::try_parse_from(words).err().map(|error| {
                format!(
                    "{place}: `harness {}`: {}",
                    shell_words::join(args),
                    error.render()
                )
            })
        })
        .collect();
    assert!(refused.is_empty(), "{}", refused.join("\n"));
}

#[test]
fn sh_blocks_are_read_with_their_continuation_lines() {
    let page = "```sh\nharness package gradescope --task message \\\n    -o autograder.zip   # the zip\ndocker build -t you/grader grader/\ncargo run --release -p harness -- --target sub\n```\n";
    let found = sh_commands_of(Path::new("page.md"), page);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].0, "page.md:2");
    assert_eq!(
        found[0].1,
        [
            "package",
            "gradescope",
            "--task",
            "message",
            "-o",
            "autograder.zip"
        ]
    );
    assert_eq!(found[1].1, ["--target", "sub"]);
}
