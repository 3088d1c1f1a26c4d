//! `message-server PORT`: prints every client's message on stdout, one client at a time.

use std::process::ExitCode;

use clap::Parser;
use reference::cli;
use reference::net::{Network, Tokio};

/// Sequential message server: prints on stdout exactly the bytes each client sends.
#[derive(Parser)]
#[command(name = "message-server")]
struct Args {
    /// TCP port to listen on (0 picks a free one).
    port: u16,
}

fn main() -> ExitCode {
    let args = Args::parse();
    cli::runtime().block_on(async {
        let listener = match Tokio.bind_tcp(args.port).await {
            Ok(listener) => listener,
            // SPEC message/6: cannot bind -> stderr, non-zero exit, nothing on stdout.
            Err(error) => {
                return cli::fail(
                    "message-server",
                    format!("cannot bind port {}", args.port),
                    error,
                );
            }
        };
        let mut stdout = tokio::io::stdout();
        match reference::message::serve(listener, &mut stdout, std::future::pending::<()>()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => cli::fail("message-server", "cannot write stdout", error),
        }
    })
}
