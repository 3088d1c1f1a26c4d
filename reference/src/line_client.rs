//! A client of a line-by-line dialogue: sends stdin one line at a time and prints each
//! answer line on stdout. `calc-client` (SPEC calc/1, calc/3, calc/5) and
//! `password-client` (pass/1) are this loop with their own settings ([`Dialogue`]).
//!
//! Each line waits for its answer before the next is sent, at most [`REPLY_WAIT`]: a
//! server that does not answer (a single server busy with another client, a server that
//! hung) gets a message on stderr and a non-zero exit, not a client that waits forever.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// How long the client waits for an answer (SPEC calc/3).
pub const REPLY_WAIT: Duration = Duration::from_secs(2);

/// What differs between the dialogues.
pub struct Dialogue {
    /// The program's name, for messages.
    pub program: &'static str,
    /// Whether an empty line is sent: a calc server does not answer one, so it is not.
    pub send_empty_lines: bool,
}

/// The client's command line: `HOST PORT`.
#[derive(Parser)]
struct Args {
    /// The server's host name or address.
    host: String,
    /// The server's TCP port.
    port: u16,
}

/// Runs the client with the process's arguments and standard streams.
pub fn main(dialogue: Dialogue) -> ExitCode {
    let args = Args::parse();
    match run(&args, &dialogue) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{}: {message}", dialogue.program);
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args, dialogue: &Dialogue) -> Result<(), String> {
    let stream = TcpStream::connect((args.host.as_str(), args.port))
        .map_err(|error| format!("cannot connect to {}:{}: {error}", args.host, args.port))?;
    // A read that waits longer than this fails with WouldBlock or TimedOut.
    stream
        .set_read_timeout(Some(REPLY_WAIT))
        .map_err(|error| error.to_string())?;
    let mut sender = stream.try_clone().map_err(|error| error.to_string())?;
    // Answers are read a line at a time; BufReader keeps what came after the newline.
    let mut answers = BufReader::new(stream);
    let stdin = io::stdin();
    let mut stdout = io::stdout().lock();
    let mut line = Vec::new();
    let mut answer = Vec::new();
    loop {
        line.clear();
        let count = stdin
            .lock()
            .read_until(b'\n', &mut line)
            .map_err(|error| format!("cannot read stdin: {error}"))?;
        if count == 0 {
            // The end of stdin: nothing more to ask. Closing the socket tells the server.
            return Ok(());
        }
        while line
            .last()
            .is_some_and(|byte| *byte == b'\n' || *byte == b'\r')
        {
            line.pop();
        }
        if !dialogue.send_empty_lines && line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        line.push(b'\n');
        // `write_all` loops over `write`, which may send only part of the line.
        sender
            .write_all(&line)
            .map_err(|error| format!("cannot send: {error}"))?;
        answer.clear();
        match answers.read_until(b'\n', &mut answer) {
            Ok(_) if answer.ends_with(b"\n") => {}
            Ok(_) => return Err("the server closed the connection without answering".into()),
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(format!(
                    "no answer within {} s: the server may be busy with another client",
                    REPLY_WAIT.as_secs()
                ));
            }
            Err(error) => return Err(format!("cannot receive: {error}")),
        }
        stdout
            .write_all(&answer)
            .and_then(|()| stdout.flush())
            .map_err(|error| format!("cannot write stdout: {error}"))?;
    }
}
