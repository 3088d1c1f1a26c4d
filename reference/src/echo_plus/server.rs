//! `echo-plus-server PORT [--root DIR] [--allow-run CMD,...]`: answers each line of each
//! client with an echo, a file, or a command's output (see the module [`super`]), a thread
//! per client.
//!
//! Each client's loop reads one command line, answers it whole, and reads the next: a
//! download of 10 MB goes out 4 KiB at a time from the file to the socket, so memory does
//! not grow with the file.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use super::{files, ok_header, run};
use crate::line_server::{bind, serve_each_on_a_thread};

const PROGRAM: &str = "echo-plus-server";

/// The longest command line taken, end included (a longer one is answered `error:`).
const MAX_COMMAND: usize = 4096;

/// Echo server with `download NAME` and `run CMD`.
#[derive(Parser)]
#[command(name = "echo-plus-server")]
struct Args {
    /// TCP port to listen on.
    port: u16,
    /// The folder `download` serves files from and `run` runs in (default: the current one).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// The commands `run` may start, comma-separated.
    #[arg(long, value_delimiter = ',', default_values = run::DEFAULT_ALLOWED)]
    allow_run: Vec<String>,
}

/// What every client's thread is given.
struct Settings {
    root: PathBuf,
    allowed: Vec<String>,
}

/// Runs `echo-plus-server` with the process's arguments: serves until killed, and returns only if
/// it cannot start.
pub fn main() -> ExitCode {
    let args = Args::parse();
    // The root as the file system names it (links resolved): files are checked against it.
    let root = match args.root.canonicalize() {
        Ok(root) if root.is_dir() => root,
        Ok(root) => {
            eprintln!("{PROGRAM}: {} is not a folder", root.display());
            return ExitCode::FAILURE;
        }
        Err(error) => {
            eprintln!(
                "{PROGRAM}: cannot use root {}: {error}",
                args.root.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let listener = match bind(PROGRAM, args.port) {
        Ok(listener) => listener,
        Err(status) => return status,
    };
    let settings = Arc::new(Settings {
        root,
        allowed: args.allow_run,
    });
    serve_each_on_a_thread(PROGRAM, listener, move |stream| {
        serve_client(stream, &settings)
    })
}

/// Answers one client's commands until it closes.
fn serve_client(stream: TcpStream, settings: &Settings) -> io::Result<()> {
    let mut answers = stream.try_clone()?;
    // BufReader keeps what a `recv` returned after the newline: the next command's start.
    let mut commands = BufReader::with_capacity(crate::BUFFER_SIZE, stream);
    let mut line = Vec::with_capacity(MAX_COMMAND);
    loop {
        match read_command(&mut commands, &mut line)? {
            Command::Closed => return Ok(()),
            Command::TooLong => error(
                &mut answers,
                &format!("a command is at most {MAX_COMMAND} bytes"),
            )?,
            Command::Line => {
                let text = String::from_utf8_lossy(&line);
                answer(&text, settings, &mut answers)?;
            }
        }
    }
}

/// What [`read_command`] found.
enum Command {
    /// A whole line is in the buffer, without its end.
    Line,
    /// A line longer than [`MAX_COMMAND`], skipped to its end.
    TooLong,
    /// The client closed.
    Closed,
}

/// Reads the next command line into `line` (at most [`MAX_COMMAND`] bytes are kept).
fn read_command(commands: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<Command> {
    line.clear();
    // `take` bounds the read: a client sending no newline cannot make the line grow.
    let count = commands.take(MAX_COMMAND as u64).read_until(b'\n', line)?;
    if count == 0 {
        return Ok(Command::Closed);
    }
    if !line.ends_with(b"\n") {
        if line.len() < MAX_COMMAND {
            // The client closed in the middle of a line: answer what it sent.
            return Ok(Command::Line);
        }
        // Too long: drop the rest of the line, a buffer at a time.
        loop {
            let buffered = commands.fill_buf()?;
            if buffered.is_empty() {
                return Ok(Command::Closed);
            }
            match buffered.iter().position(|byte| *byte == b'\n') {
                Some(end) => {
                    commands.consume(end + 1);
                    return Ok(Command::TooLong);
                }
                None => {
                    let all = buffered.len();
                    commands.consume(all);
                }
            }
        }
    }
    line.pop();
    if line.ends_with(b"\r") {
        line.pop();
    }
    Ok(Command::Line)
}

/// Answers one command line.
fn answer(text: &str, settings: &Settings, answers: &mut TcpStream) -> io::Result<()> {
    let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
    match word {
        "download" => match files::resolve_inside(&settings.root, rest.trim()) {
            Ok(path) => send_file(&path, answers),
            Err(reason) => error(answers, &reason),
        },
        "run" => match run::run(rest, &settings.allowed, &settings.root) {
            Ok(output) => send(answers, &output),
            Err(reason) => error(answers, &reason),
        },
        _ => send(answers, text.as_bytes()),
    }
}

/// `ok LENGTH`, then the bytes.
fn send(answers: &mut TcpStream, body: &[u8]) -> io::Result<()> {
    // `write_all` loops over `write`, which may send only part of what it is given.
    answers.write_all(ok_header(body.len() as u64).as_bytes())?;
    answers.write_all(body)
}

/// `error: REASON`.
fn error(answers: &mut TcpStream, reason: &str) -> io::Result<()> {
    answers.write_all(format!("error: {reason}\n").as_bytes())
}

/// `ok LENGTH`, then the file, a buffer at a time.
fn send_file(path: &Path, answers: &mut TcpStream) -> io::Result<()> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(reason) => return error(answers, &reason.to_string()),
    };
    let length = file.metadata()?.len();
    answers.write_all(ok_header(length).as_bytes())?;
    // Exactly `length` bytes, even if the file grows meanwhile: the client counts them.
    let mut file = file.take(length);
    let mut buffer = [0u8; crate::BUFFER_SIZE];
    let mut sent = 0;
    while sent < length {
        let count = file.read(&mut buffer)?;
        if count == 0 {
            // The file shrank: the promised length cannot be kept, so the connection ends.
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} shrank while being sent", path.display()),
            ));
        }
        answers.write_all(&buffer[..count])?;
        sent += count as u64;
    }
    Ok(())
}
