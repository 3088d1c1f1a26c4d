//! `calc-client HOST PORT`: sends stdin's expressions one line at a time and prints each
//! answer on stdout, giving up after 2 s without one (SPEC calc/1, calc/3, calc/5). The
//! loop is [`crate::line_client`]'s; empty lines are not sent, since the server does not
//! answer them.

use std::process::ExitCode;

use crate::line_client::{self, Dialogue};

/// Runs `calc-client` with the process's arguments and standard streams.
pub fn main() -> ExitCode {
    line_client::main(Dialogue {
        program: "calc-client",
        send_empty_lines: false,
    })
}
