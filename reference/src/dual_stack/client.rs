//! `dual-stack-client HOST PORT`: connects over whichever family HOST has (`127.0.0.1`,
//! `::1`, a name), sends stdin a line at a time and prints each line echoed back.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

const PROGRAM: &str = "dual-stack-client";

/// How long the client waits for its line to come back.
const ECHO_WAIT: Duration = Duration::from_secs(5);

/// Echo client for either family.
#[derive(Parser)]
#[command(name = "dual-stack-client")]
struct Args {
    /// The server: an IPv4 or IPv6 address, or a name.
    host: String,
    /// Its TCP port.
    port: u16,
}

/// Runs `dual-stack-client` with the process's arguments and standard streams.
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

/// Connects to the first address of `host` that answers, whatever its family.
///
/// `to_socket_addrs` is `getaddrinfo(host, port)` with any family: `127.0.0.1` gives one
/// IPv4 address, `::1` one IPv6 address, `localhost` often both. Each is tried in the
/// order the resolver prefers; the first connection that succeeds is used.
fn connect_any(host: &str, port: u16) -> Result<TcpStream, String> {
    let addresses = (host, port)
        .to_socket_addrs()
        .map_err(|error| format!("cannot resolve {host}: {error}"))?;
    let mut last_error = None;
    for address in addresses {
        match TcpStream::connect(address) {
            Ok(stream) => return Ok(stream),
            Err(error) => last_error = Some(format!("{address}: {error}")),
        }
    }
    Err(format!(
        "cannot connect to {host} port {port}: {}",
        last_error.unwrap_or_else(|| "no address".into())
    ))
}

fn run(args: &Args) -> Result<(), String> {
    let stream = connect_any(&args.host, args.port)?;
    stream
        .set_read_timeout(Some(ECHO_WAIT))
        .map_err(|error| error.to_string())?;
    let mut sender = stream.try_clone().map_err(|error| error.to_string())?;
    // The echo is read a line at a time; BufReader keeps what came after the newline.
    let mut echoes = BufReader::new(stream);
    let stdin = io::stdin();
    let mut stdout = io::stdout().lock();
    let mut line = Vec::new();
    let mut echoed = Vec::new();
    loop {
        line.clear();
        let count = stdin
            .lock()
            .read_until(b'\n', &mut line)
            .map_err(|error| format!("cannot read stdin: {error}"))?;
        if count == 0 {
            // End of stdin: closing the connection tells the server we are done.
            return Ok(());
        }
        if !line.ends_with(b"\n") {
            line.push(b'\n');
        }
        sender
            .write_all(&line)
            .map_err(|error| format!("cannot send: {error}"))?;
        echoed.clear();
        match echoes.read_until(b'\n', &mut echoed) {
            Ok(_) if echoed.ends_with(b"\n") => {}
            Ok(_) => return Err("the server closed the connection before echoing".into()),
            Err(error) => return Err(format!("no echo: {error}")),
        }
        stdout
            .write_all(&echoed)
            .and_then(|()| stdout.flush())
            .map_err(|error| format!("cannot write stdout: {error}"))?;
    }
}
