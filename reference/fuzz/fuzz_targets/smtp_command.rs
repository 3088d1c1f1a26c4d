//! `smtp_server::command`: every line is its verb's command or a protocol error (500 for
//! an unknown verb, 501 for bad arguments), and a path has no space, control character
//! or angle bracket.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reference::smtp_server::{Command, parse_command};

/// The verbs the parser knows: implemented, then known but not implemented.
const KNOWN: [&str; 20] = [
    "EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "VRFY", "EXPN", "HELP", "TURN",
    "SEND", "SOML", "SAML", "ETRN", "ATRN", "BDAT", "STARTTLS", "AUTH",
];

fuzz_target!(|line: &[u8]| {
    let verb = std::str::from_utf8(line).ok().map(|line| {
        let verb = line
            .split_once(' ')
            .map_or(line.trim_end(), |(verb, _)| verb);
        verb.to_ascii_uppercase()
    });
    let command = parse_command(line);
    let said = match &command {
        Command::Unknown => {
            assert!(!verb.is_some_and(|verb| KNOWN.contains(&verb.as_str())));
            return;
        }
        Command::Ehlo { .. } => "EHLO",
        Command::Helo { .. } => "HELO",
        Command::Mail {
            reverse_path: path, ..
        }
        | Command::Rcpt { forward_path: path } => {
            let unsafe_char = |c: char| c.is_whitespace() || c.is_control() || "<>".contains(c);
            assert!(!path.contains(unsafe_char), "path {path:?}");
            if matches!(command, Command::Mail { .. }) {
                "MAIL"
            } else {
                "RCPT"
            }
        }
        Command::Data => "DATA",
        Command::Rset => "RSET",
        Command::Noop => "NOOP",
        Command::Quit => "QUIT",
        Command::Vrfy => "VRFY",
        Command::NotImplemented { verb } => verb,
        Command::BadArguments { verb, .. } => verb,
    };
    assert_eq!(verb.as_deref(), Some(said));
    assert!(KNOWN.contains(&said));
});
