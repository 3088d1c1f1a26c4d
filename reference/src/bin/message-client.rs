//! `message-client HOST PORT < FILE`: sends stdin to a message server, then exits.

use std::process::ExitCode;

use clap::Parser;
use reference::cli;
use reference::net::{Network, Tokio};

/// Message client: sends everything read from stdin to the server, then closes.
#[derive(Parser)]
#[command(name = "message-client")]
struct Args {
    /// Server host name or address (IPv4 or IPv6).
    host: String,
    /// Server TCP port.
    port: u16,
}

fn main() -> ExitCode {
    let args = Args::parse();
    cli::runtime().block_on(async {
        let stream = match Tokio.connect_tcp(&args.host, args.port).await {
            Ok(stream) => stream,
            // SPEC message/7: no server -> stderr, non-zero exit.
            Err(error) => {
                return cli::fail(
                    "message-client",
                    format!("cannot connect to {}:{}", args.host, args.port),
                    error,
                );
            }
        };
        match reference::message::send_message(tokio::io::stdin(), stream).await {
            Ok(_) => ExitCode::SUCCESS,
            Err(error) => cli::fail("message-client", "sending failed", error),
        }
    })
}
