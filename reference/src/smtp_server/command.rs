//! One SMTP command line to a [`Command`] (a pure function).
//!
//! RFC 5321 §4.1.1 defines the commands, §4.1.2 their argument syntax. A command is a
//! four-letter verb, case-insensitive (§2.4: `mail from:` is `MAIL FROM:`), then its
//! arguments after a space:
//!
//! ```text
//! EHLO client.example.com            HELO client.example.com
//! MAIL FROM:<alice@example.com>      MAIL FROM:<> SIZE=1234 BODY=8BITMIME
//! RCPT TO:<bob@example.com>          DATA   RSET   NOOP   QUIT   VRFY bob
//! ```
//!
//! The parser only says what the line is. Whether the command is allowed *now* (MAIL
//! before EHLO is a 503) is the session's business (`server`).

/// What a command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// `EHLO name` (RFC 5321 §4.1.1.1): the client speaks ESMTP and wants our extensions.
    Ehlo {
        /// The name the client gives itself.
        client: String,
    },
    /// `HELO name`: the same, in plain SMTP, without extensions.
    Helo {
        /// The name the client gives itself.
        client: String,
    },
    /// `MAIL FROM:<reverse-path> [parameters]` (§4.1.1.2): a new mail transaction.
    /// `reverse_path` is what was between the angle brackets (empty for `<>`, the null
    /// sender of bounces).
    Mail {
        /// What was between the angle brackets: empty for `<>`.
        reverse_path: String,
        /// The parameters after the path, in order.
        parameters: Vec<MailParameter>,
    },
    /// `RCPT TO:<forward-path>` (§4.1.1.3): one recipient.
    Rcpt {
        /// What was between the angle brackets: the recipient's address.
        forward_path: String,
    },
    /// `DATA` (§4.1.1.4): the message follows, ended by a line holding only `.`.
    Data,
    /// `RSET` (§4.1.1.5): abort the mail transaction.
    Rset,
    /// `NOOP` (§4.1.1.9): do nothing, say OK.
    Noop,
    /// `QUIT` (§4.1.1.10): say goodbye and close.
    Quit,
    /// `VRFY string` (§4.1.1.6): is this a user? Answered 252 ("cannot verify"): saying
    /// which users exist helps spammers, and §7.3 allows a server not to.
    Vrfy,
    /// A command RFC 5321 or an extension defines, that this server does not implement
    /// (§4.2.4: 502). `verb` is in upper case.
    NotImplemented {
        /// The command's verb, in upper case.
        verb: String,
    },
    /// A known command with arguments it cannot have (§4.2.2: 501).
    BadArguments {
        /// The command's verb, in upper case.
        verb: &'static str,
        /// Why its arguments are refused, for the 501 reply.
        why: &'static str,
    },
    /// Not a command at all: unknown verb, empty line, not text (§4.2.4: 500).
    Unknown,
}

/// A parameter after `MAIL FROM:<...>` (ESMTP extensions the server announced).
#[derive(Debug, PartialEq, Eq)]
pub enum MailParameter {
    /// `SIZE=n` (RFC 1870): the message will be about `n` bytes.
    Size(u64),
    /// `BODY=7BIT` or `BODY=8BITMIME` (RFC 6152): whether the message has 8-bit bytes.
    Body,
    /// Anything else: not announced by this server, so not recognized (RFC 5321 §4.1.1.11:
    /// 555).
    Unrecognized(String),
}

/// Verbs of commands this server knows but does not implement: the rest of RFC 5321's
/// list and the common extensions (§4.2.4: 502, not 500).
const NOT_IMPLEMENTED: [&str; 11] = [
    "EXPN", "HELP", "TURN", "SEND", "SOML", "SAML", "ETRN", "ATRN", "BDAT", "STARTTLS", "AUTH",
];

/// Parses one command line (without its line end).
///
/// | line                      | command                                   |
/// |---------------------------|-------------------------------------------|
/// | `ehlo a.example`          | `Ehlo { client: "a.example" }`            |
/// | `MAIL FROM:<a@x> SIZE=9`  | `Mail { "a@x", [Size(9)] }`               |
/// | `MAIL TO:<a@x>`           | `BadArguments` (501)                      |
/// | `STARTTLS`                | `NotImplemented` (502)                    |
/// | `HELLO`                   | `Unknown` (500)                           |
pub fn parse_command(line: &[u8]) -> Command {
    // Commands are ASCII (RFC 5321 §2.4); a line that is not even UTF-8 is no command.
    let Ok(line) = std::str::from_utf8(line) else {
        return Command::Unknown;
    };
    // The verb, then one space, then the arguments (§4.1.1). Trailing spaces are
    // forgiven: they are invisible in a hand-typed session.
    let (verb, arguments) = match line.split_once(' ') {
        Some((verb, arguments)) => (verb, arguments.trim()),
        None => (line.trim_end(), ""),
    };
    // RFC 5321 §2.4: verbs are case-insensitive.
    let verb = verb.to_ascii_uppercase();
    match verb.as_str() {
        "EHLO" | "HELO" if arguments.is_empty() => Command::BadArguments {
            verb: if verb == "EHLO" { "EHLO" } else { "HELO" },
            why: "a domain name or address literal is required",
        },
        "EHLO" => Command::Ehlo {
            client: arguments.to_owned(),
        },
        "HELO" => Command::Helo {
            client: arguments.to_owned(),
        },
        "MAIL" => parse_mail(arguments),
        "RCPT" => parse_rcpt(arguments),
        "DATA" | "RSET" | "QUIT" if !arguments.is_empty() => Command::BadArguments {
            verb: match verb.as_str() {
                "DATA" => "DATA",
                "RSET" => "RSET",
                _ => "QUIT",
            },
            why: "this command takes no arguments",
        },
        "DATA" => Command::Data,
        "RSET" => Command::Rset,
        "QUIT" => Command::Quit,
        // §4.1.1.9: NOOP may have an argument, which is ignored.
        "NOOP" => Command::Noop,
        "VRFY" if arguments.is_empty() => Command::BadArguments {
            verb: "VRFY",
            why: "a user name or mailbox is required",
        },
        "VRFY" => Command::Vrfy,
        verb if NOT_IMPLEMENTED.contains(&verb) => Command::NotImplemented {
            verb: verb.to_owned(),
        },
        _ => Command::Unknown,
    }
}

/// `FROM:<reverse-path> [SP parameter]...` (RFC 5321 §4.1.1.2, §4.1.2).
fn parse_mail(arguments: &str) -> Command {
    let Some((path, rest)) = path_after(arguments, "FROM:") else {
        return Command::BadArguments {
            verb: "MAIL",
            why: "expected FROM:<address>",
        };
    };
    let parameters = rest.split_whitespace().map(parse_mail_parameter).collect();
    Command::Mail {
        reverse_path: path.to_owned(),
        parameters,
    }
}

/// `TO:<forward-path>` (RFC 5321 §4.1.1.3). No parameters are announced for RCPT, so any
/// is unrecognized.
fn parse_rcpt(arguments: &str) -> Command {
    match path_after(arguments, "TO:") {
        Some(("", _)) => Command::BadArguments {
            verb: "RCPT",
            // §4.1.1.3: `<>` is a reverse-path only; a recipient needs an address.
            why: "a recipient cannot be <>",
        },
        Some((path, "")) => Command::Rcpt {
            forward_path: path.to_owned(),
        },
        Some(_) => Command::BadArguments {
            verb: "RCPT",
            why: "RCPT TO takes no parameters here",
        },
        None => Command::BadArguments {
            verb: "RCPT",
            why: "expected TO:<address>",
        },
    }
}

/// Splits `FROM:<path> rest` (with `keyword` = `FROM:`) into the path between the angle
/// brackets and what follows them, or `None` if the shape is wrong.
///
/// `FROM: <a@x>` (a space after the colon) is accepted though §4.1.2 has none: many
/// clients send it, and Postel's robustness principle (§4.1.1) covers it.
fn path_after<'a>(arguments: &'a str, keyword: &str) -> Option<(&'a str, &'a str)> {
    let head = arguments.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arguments[keyword.len()..].trim_start();
    let inside = rest.strip_prefix('<')?;
    let close = inside.find('>')?;
    let path = &inside[..close];
    // An address has no spaces or angle brackets outside quotes; this server does not
    // take quoted local parts (`"john doe"@x`), which are rare and mostly abuse.
    if path.contains(|c: char| c == '<' || c.is_whitespace() || c.is_control()) {
        return None;
    }
    let rest = &inside[close + 1..];
    // After the path: nothing, or a space and parameters.
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((path, rest.trim()))
}

/// One `keyword=value` after MAIL FROM:<...>; keywords are case-insensitive (§4.1.2).
fn parse_mail_parameter(parameter: &str) -> MailParameter {
    let (keyword, value) = parameter.split_once('=').unwrap_or((parameter, ""));
    if keyword.eq_ignore_ascii_case("SIZE") {
        if let Ok(size) = value.parse() {
            return MailParameter::Size(size);
        }
    } else if keyword.eq_ignore_ascii_case("BODY")
        && (value.eq_ignore_ascii_case("7BIT") || value.eq_ignore_ascii_case("8BITMIME"))
    {
        return MailParameter::Body;
    }
    MailParameter::Unrecognized(parameter.to_owned())
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(reverse_path: &str, parameters: Vec<MailParameter>) -> Command {
        Command::Mail {
            reverse_path: reverse_path.to_owned(),
            parameters,
        }
    }

    fn rcpt(forward_path: &str) -> Command {
        Command::Rcpt {
            forward_path: forward_path.to_owned(),
        }
    }

    #[test]
    fn verbs_are_case_insensitive() {
        let table: [(&[u8], Command); 5] = [
            (
                b"ehlo a.example",
                Command::Ehlo {
                    client: "a.example".into(),
                },
            ),
            (
                b"Helo a.example",
                Command::Helo {
                    client: "a.example".into(),
                },
            ),
            (b"mail from:<a@x>", mail("a@x", vec![])),
            (b"rCpT tO:<b@y>", rcpt("b@y")),
            (b"quit", Command::Quit),
        ];
        for (line, expected) in table {
            assert_eq!(parse_command(line), expected, "{:?}", line.escape_ascii());
        }
    }

    #[test]
    fn mail_from_takes_the_null_path_a_space_and_announced_parameters() {
        let table: [(&[u8], Command); 6] = [
            (b"MAIL FROM:<>", mail("", vec![])),
            (b"MAIL FROM: <a@x>", mail("a@x", vec![])),
            (b"MAIL FROM:<a@x>  ", mail("a@x", vec![])),
            (
                b"MAIL FROM:<a@x> SIZE=1234 BODY=8BITMIME",
                mail("a@x", vec![MailParameter::Size(1234), MailParameter::Body]),
            ),
            (
                b"MAIL FROM:<a@x> size=12 body=7bit",
                mail("a@x", vec![MailParameter::Size(12), MailParameter::Body]),
            ),
            (
                b"MAIL FROM:<a@x> SMTPUTF8",
                mail("a@x", vec![MailParameter::Unrecognized("SMTPUTF8".into())]),
            ),
        ];
        for (line, expected) in table {
            assert_eq!(parse_command(line), expected, "{:?}", line.escape_ascii());
        }
    }

    #[test]
    fn malformed_arguments_of_known_commands_are_501() {
        let table: [&[u8]; 12] = [
            b"MAIL",
            b"MAIL a@x",
            b"MAIL FROM:a@x",
            b"MAIL FROM:<a@x",
            b"MAIL FROM:<a b@x>",
            b"MAIL FROM:<a@x>SIZE=1",
            b"RCPT TO:<>",
            b"RCPT FROM:<b@y>",
            b"RCPT TO:<b@y> NOTIFY=NEVER",
            b"EHLO",
            b"DATA now",
            b"VRFY",
        ];
        for line in table {
            assert!(
                matches!(parse_command(line), Command::BadArguments { .. }),
                "{:?}",
                line.escape_ascii()
            );
        }
    }

    #[test]
    fn known_but_unimplemented_commands_are_told_apart_from_unknown_ones() {
        let table: [(&[u8], Command); 7] = [
            (
                b"STARTTLS",
                Command::NotImplemented {
                    verb: "STARTTLS".into(),
                },
            ),
            (
                b"auth PLAIN AGFAYg==",
                Command::NotImplemented {
                    verb: "AUTH".into(),
                },
            ),
            (
                b"EXPN staff",
                Command::NotImplemented {
                    verb: "EXPN".into(),
                },
            ),
            (b"HELLO", Command::Unknown),
            (b"", Command::Unknown),
            (b"GET / HTTP/1.1", Command::Unknown),
            (b"\xff\xfe", Command::Unknown),
        ];
        for (line, expected) in table {
            assert_eq!(parse_command(line), expected, "{:?}", line.escape_ascii());
        }
    }

    #[test]
    fn noop_and_vrfy_take_arguments() {
        assert_eq!(parse_command(b"NOOP anything"), Command::Noop);
        assert_eq!(parse_command(b"VRFY bob"), Command::Vrfy);
    }
}
