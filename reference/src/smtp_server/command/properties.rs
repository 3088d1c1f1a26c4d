//! Properties of [`parse_command`] on any line (see `crate::testing`).

use proptest::prelude::*;

use super::{Command, MailParameter, NOT_IMPLEMENTED, parse_command};
use crate::testing::{PURE_CASES, any_case, mixed};

/// The verbs this server implements (RFC 5321 §4.1.1).
const IMPLEMENTED: [&str; 9] = [
    "EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "VRFY",
];

/// Lines in the shape of SMTP commands, right and wrong.
fn command_like() -> impl Strategy<Value = String> {
    let verb = prop_oneof![
        any_case("mail"),
        any_case("rcpt"),
        any_case("ehlo"),
        any_case("data"),
        any_case("vrfy"),
        any_case("starttls"),
        "[A-Za-z]{0,8}",
    ];
    let arguments = prop_oneof![
        Just(String::new()),
        "(FROM|from|TO|To):? ?<[ -~]{0,12}>?( [A-Za-z]{1,5}=[ -~]{0,6}){0,2}",
        "[ -~]{0,30}",
    ];
    (
        verb,
        prop_oneof![Just(" "), Just(""), Just("  "), Just("\t")],
        arguments,
    )
        .prop_map(|(verb, space, arguments)| format!("{verb}{space}{arguments}"))
}

/// The verb of `line` as the parser finds it: up to the first space, in upper case.
fn verb_of(line: &[u8]) -> Option<String> {
    let line = std::str::from_utf8(line).ok()?;
    let verb = line
        .split_once(' ')
        .map_or(line.trim_end(), |(verb, _)| verb);
    Some(verb.to_ascii_uppercase())
}

/// An address without spaces or angle brackets, and the null path `<>`.
fn path() -> impl Strategy<Value = String> {
    "[A-Za-z0-9.+_-]{0,10}(@[a-z0-9.-]{1,10})?"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(PURE_CASES))]

    /// Whatever the line, the parser says what it is without panicking, and bad input is
    /// one of the protocol's own errors (RFC 5321 §4.2.4): an unknown verb, an empty line
    /// or a line that is not text is `Unknown` (500), a known verb with arguments it cannot
    /// have is `BadArguments` (501) for that verb. A path taken from the line has no
    /// space, control character or angle bracket, so printing it in the record
    /// (`MAIL FROM:<path>`) cannot start a new line.
    #[test]
    fn every_line_is_its_verbs_command_or_a_protocol_error(
        line in prop_oneof![mixed(command_like()), command_like().prop_map(String::into_bytes)],
    ) {
        let verb = verb_of(&line);
        let known = |verb: &str| IMPLEMENTED.contains(&verb) || NOT_IMPLEMENTED.contains(&verb);
        let command = parse_command(&line);
        let said = match &command {
            Command::Unknown => {
                prop_assert!(!verb.as_deref().is_some_and(known), "{:?} is known", verb);
                return Ok(());
            }
            Command::Ehlo { .. } => "EHLO",
            Command::Helo { .. } => "HELO",
            Command::Mail { reverse_path: path, .. } | Command::Rcpt { forward_path: path } => {
                let unsafe_char = |c: char| c.is_whitespace() || c.is_control() || "<>".contains(c);
                prop_assert!(!path.contains(unsafe_char), "path {:?}", path);
                if matches!(command, Command::Mail { .. }) { "MAIL" } else { "RCPT" }
            }
            Command::Data => "DATA",
            Command::Rset => "RSET",
            Command::Noop => "NOOP",
            Command::Quit => "QUIT",
            Command::Vrfy => "VRFY",
            Command::NotImplemented { verb } => verb,
            Command::BadArguments { verb, .. } => verb,
        };
        prop_assert_eq!(verb.as_deref(), Some(said));
        prop_assert!(known(said));
    }

    /// Well-formed commands, verbs and keywords in any case, maybe with trailing spaces,
    /// parse to what they say (RFC 5321 §2.4: verbs are case-insensitive).
    #[test]
    fn well_formed_commands_parse_to_what_they_say(
        (line, expected) in well_formed(),
        trailing in "[ ]{0,2}",
    ) {
        prop_assert_eq!(parse_command(format!("{line}{trailing}").as_bytes()), expected);
    }
}

/// A well-formed command line and the command it is.
fn well_formed() -> impl Strategy<Value = (String, Command)> {
    let domain = "[a-z0-9-]{1,10}(\\.[a-z]{2,5}){0,2}";
    let size = proptest::option::of(any::<u64>());
    let body = proptest::option::of(prop_oneof![any_case("7bit"), any_case("8bitmime")]);
    let mail =
        (any_case("mail from:"), path(), size, body).prop_map(|(keyword, path, size, body)| {
            let mut line = format!("{keyword}<{path}>");
            let mut parameters = Vec::new();
            if let Some(size) = size {
                line.push_str(&format!(" SIZE={size}"));
                parameters.push(MailParameter::Size(size));
            }
            if let Some(body) = body {
                line.push_str(&format!(" BODY={body}"));
                parameters.push(MailParameter::Body);
            }
            (
                line,
                Command::Mail {
                    reverse_path: path,
                    parameters,
                },
            )
        });
    let rcpt = (
        any_case("rcpt to:"),
        path().prop_filter("not <>", |path| !path.is_empty()),
    )
        .prop_map(|(keyword, path)| {
            (
                format!("{keyword}<{path}>"),
                Command::Rcpt { forward_path: path },
            )
        });
    let ehlo = (any_case("ehlo"), domain)
        .prop_map(|(verb, client)| (format!("{verb} {client}"), Command::Ehlo { client }));
    let bare = prop_oneof![
        any_case("data").prop_map(|verb| (verb, Command::Data)),
        any_case("rset").prop_map(|verb| (verb, Command::Rset)),
        any_case("quit").prop_map(|verb| (verb, Command::Quit)),
        (any_case("noop"), "( [ -~]{0,10})?")
            .prop_map(|(verb, rest)| (verb + &rest, Command::Noop)),
    ];
    prop_oneof![mail, rcpt, ehlo, bare]
}
