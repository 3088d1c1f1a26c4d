//! `run CMD ARG...`: a command started without a shell (SPEC echo/3, echo/4).
//!
//! The handout's version is `subprocess.check_output(line, shell=True)`: the shell reads
//! the whole line, so `run echo hi; rm -rf ~` runs two commands, the second one chosen by
//! whoever connects. Here the line is split on whitespace and the first word is the program,
//! started directly (`execvp`): `;`, `|`, `&&`, `$(...)` and quotes reach the program as
//! ordinary characters, so `run echo hi; touch pwned` prints `hi; touch pwned` and creates
//! nothing. On top of that, only the programs named by `--allow-run` are started.
//!
//! A command gets no stdin, runs in the server's root, is stopped after
//! [`RUN_TIME_LIMIT`], and at most [`OUTPUT_LIMIT`] bytes of its output are sent.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The commands `run` starts unless `--allow-run` says otherwise.
pub const DEFAULT_ALLOWED: &[&str] = &["ls", "ps", "echo", "date", "uname"];

/// How long a command may run.
pub const RUN_TIME_LIMIT: Duration = Duration::from_secs(5);

/// How much of a command's output is sent (the rest is dropped, and the answer says so).
pub const OUTPUT_LIMIT: u64 = 1 << 20;

/// Runs `command_line` in `folder` if its program is `allowed`; its output (stdout, then
/// stderr), or why it did not run.
pub fn run(command_line: &str, allowed: &[String], folder: &Path) -> Result<Vec<u8>, String> {
    let mut words = command_line.split_whitespace();
    let program = words.next().ok_or("run needs a command")?;
    if !allowed.iter().any(|name| name == program) {
        return Err(format!(
            "{program}: not allowed (allowed: {})",
            allowed.join(" ")
        ));
    }
    let mut child = Command::new(program)
        .args(words)
        .current_dir(folder)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("{program}: {error}"))?;
    // Both pipes are read at once (a thread each): a command that fills one pipe while
    // the server reads the other would otherwise wait forever.
    let stdout = child.stdout.take().expect("piped above");
    let stderr = child.stderr.take().expect("piped above");
    let stdout = thread::spawn(move || read_limited(stdout));
    let stderr = thread::spawn(move || read_limited(stderr));
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() < RUN_TIME_LIMIT => {
                thread::sleep(Duration::from_millis(10));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{program}: stopped after {} s",
                    RUN_TIME_LIMIT.as_secs()
                ));
            }
        }
    }
    let mut output = stdout.join().unwrap_or_default();
    output.extend(stderr.join().unwrap_or_default());
    output.truncate(OUTPUT_LIMIT as usize);
    Ok(output)
}

/// Reads a pipe to its end, keeping at most [`OUTPUT_LIMIT`] bytes (the rest is read and
/// dropped, so the command is never stuck writing).
fn read_limited(mut pipe: impl Read) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buffer = [0u8; crate::BUFFER_SIZE];
    loop {
        match pipe.read(&mut buffer) {
            Ok(0) | Err(_) => return kept,
            Ok(count) => {
                let room = (OUTPUT_LIMIT as usize).saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..count.min(room)]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        DEFAULT_ALLOWED
            .iter()
            .map(|name| name.to_string())
            .collect()
    }

    #[test]
    fn no_shell_reads_the_line() {
        let folder = tempfile::tempdir().unwrap();
        let output = run("echo hi; touch pwned", &allowed(), folder.path()).unwrap();
        assert_eq!(output, b"hi; touch pwned\n");
        assert!(!folder.path().join("pwned").exists());
        let output = run("echo $(id) `id` | cat", &allowed(), folder.path()).unwrap();
        assert_eq!(output, b"$(id) `id` | cat\n");
    }

    #[test]
    fn only_allowed_programs_run() {
        let folder = tempfile::tempdir().unwrap();
        assert!(run("touch pwned", &allowed(), folder.path()).is_err());
        assert!(run("", &allowed(), folder.path()).is_err());
        assert!(!folder.path().join("pwned").exists());
    }
}
