//! `password-client HOST PORT`: sends each line of stdin as an attempt and prints the
//! server's answer (SPEC pass/1). The loop is [`crate::line_client`]'s; an empty line is
//! an attempt too (an empty password), so it is sent.

use std::process::ExitCode;

use crate::line_client::{self, Dialogue};

/// Runs `password-client` with the process's arguments and standard streams.
pub fn main() -> ExitCode {
    line_client::main(Dialogue {
        program: "password-client",
        send_empty_lines: true,
    })
}
