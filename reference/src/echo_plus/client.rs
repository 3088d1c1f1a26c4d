//! `echo-plus-client HOST PORT`: sends stdin's commands one line at a time and shows each
//! answer (see the module [`super`] for the protocol):
//!
//! - `download NAME`: the file is written as `client_BASENAME` in the current folder, and
//!   `downloaded client_BASENAME (N bytes)` is printed;
//! - `run CMD`: the command's output is printed as it came;
//! - anything else: the echoed line is printed;
//! - a refusal: its `error: REASON` line is printed, and no file is written.
//!
//! The answer's length comes first, so the client reads exactly that many bytes, a
//! buffer at a time, whatever `recv` returns: the file is complete, with nothing of the next
//! answer in it.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use super::{Header, parse_header};

const PROGRAM: &str = "echo-plus-client";

/// How long one `recv` may wait for the server before the client gives up.
const REPLY_WAIT: Duration = Duration::from_secs(10);

/// Client of `echo-plus-server`: commands on stdin, answers on stdout.
#[derive(Parser)]
#[command(name = "echo-plus-client")]
struct Args {
    /// The server's host name or address.
    host: String,
    /// The server's TCP port.
    port: u16,
}

/// Runs `echo-plus-client` with the process's arguments and standard streams.
pub fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{PROGRAM}: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let stream = TcpStream::connect((args.host.as_str(), args.port))
        .map_err(|error| format!("cannot connect to {}:{}: {error}", args.host, args.port))?;
    stream
        .set_read_timeout(Some(REPLY_WAIT))
        .map_err(|error| error.to_string())?;
    let mut sender = stream.try_clone().map_err(|error| error.to_string())?;
    let mut answers = BufReader::with_capacity(crate::BUFFER_SIZE, stream);
    let stdin = io::stdin();
    let mut stdout = io::stdout().lock();
    let mut line = String::new();
    loop {
        line.clear();
        let count = stdin
            .lock()
            .read_line(&mut line)
            .map_err(|error| format!("cannot read stdin: {error}"))?;
        if count == 0 {
            // The end of stdin: closing the socket tells the server we are done.
            return Ok(());
        }
        let command = line.trim_end_matches(['\n', '\r']);
        if command.trim().is_empty() {
            continue;
        }
        // `write_all` loops over `write`, which may send only part of the line.
        sender
            .write_all(format!("{command}\n").as_bytes())
            .map_err(|error| format!("cannot send: {error}"))?;
        match read_header(&mut answers)? {
            Header::Error(reason) => writeln!(stdout, "error: {reason}").map_err(stdout_error)?,
            Header::Ok(length) => match command.split_once(' ') {
                Some(("download", name)) => {
                    let saved = download(&mut answers, name.trim(), length)?;
                    writeln!(stdout, "downloaded {saved} ({length} bytes)")
                        .map_err(stdout_error)?;
                }
                // The output goes to stdout as it arrives: no need to hold it all.
                Some(("run", _)) => copy_body(&mut answers, length, &mut stdout)?,
                _ => {
                    copy_body(&mut answers, length, &mut stdout)?;
                    stdout.write_all(b"\n").map_err(stdout_error)?;
                }
            },
        }
        stdout.flush().map_err(stdout_error)?;
    }
}

/// Reads an answer's header line.
fn read_header(answers: &mut impl BufRead) -> Result<Header, String> {
    let mut header = Vec::new();
    // A header is short: `take` stops a server that sends no newline from filling memory.
    answers
        .take(4096)
        .read_until(b'\n', &mut header)
        .map_err(received_error)?;
    match header.strip_suffix(b"\n") {
        Some(line) => parse_header(line),
        None => Err("the server closed the connection without answering".into()),
    }
}

/// Copies exactly `length` bytes of an answer to `into`, a buffer at a time.
fn copy_body(answers: &mut impl Read, length: u64, into: &mut impl Write) -> Result<(), String> {
    let mut buffer = [0u8; crate::BUFFER_SIZE];
    let mut left = length;
    while left > 0 {
        let wanted = buffer
            .len()
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        // A `recv` returns what has arrived: from one byte to `wanted`.
        let count = answers
            .read(&mut buffer[..wanted])
            .map_err(received_error)?;
        if count == 0 {
            return Err(format!(
                "the server closed the connection {left} bytes before the end of its answer"
            ));
        }
        into.write_all(&buffer[..count])
            .map_err(|error| format!("cannot write: {error}"))?;
        left -= count as u64;
    }
    Ok(())
}

/// Writes a download's `length` bytes as `client_BASENAME`; returns that name.
fn download(answers: &mut impl Read, name: &str, length: u64) -> Result<String, String> {
    // Only the last part of the name: `download ../../x` writes `client_x` here, never
    // a file elsewhere. The `client_` prefix keeps `..` or `.` from being a real folder.
    let base = name.rsplit('/').next().unwrap_or(name);
    let saved = format!("client_{base}");
    // Written under a temporary name and renamed at the end: a download cut short
    // leaves no file that looks complete.
    let partial = PathBuf::from(format!(".{saved}.part"));
    let mut file =
        File::create(&partial).map_err(|error| format!("cannot create {saved}: {error}"))?;
    if let Err(message) = copy_body(answers, length, &mut file) {
        let _ = fs::remove_file(&partial);
        return Err(message);
    }
    fs::rename(&partial, &saved).map_err(|error| format!("cannot write {saved}: {error}"))?;
    Ok(saved)
}

/// A failed `recv`, said plainly.
fn received_error(error: io::Error) -> String {
    match error.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => format!(
            "no answer within {} s from the server",
            REPLY_WAIT.as_secs()
        ),
        _ => format!("cannot receive: {error}"),
    }
}

/// A failed write to stdout.
fn stdout_error(error: io::Error) -> String {
    format!("cannot write stdout: {error}")
}
