//! An SMTP command line, typed (RFC 5321 §4.1, RFC 3207's `STARTTLS`, RFC 4954's `AUTH`):
//! what a client sent is read here, one way, apart from what the server answers to it
//! (`server.rs`).
//!
//! The verb is the line's first word, in any case, whatever space comes before or after it
//! (the record keeps it so, and a scenario's `replies` name it so); the peer reads no other
//! argument but `AUTH`'s mechanism and initial response (RFC 4954 §4), the words after it.

/// One command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SmtpRequest {
    Ehlo,
    Helo,
    StartTls,
    /// The mechanism, in capitals (empty where none was given), and the initial response if
    /// one was.
    Auth {
        mechanism: String,
        initial: Option<String>,
    },
    Mail,
    Rcpt,
    Data,
    Rset,
    Noop,
    Quit,
    /// Any other verb, in capitals (an empty line's is empty).
    Other(String),
}

impl SmtpRequest {
    /// Reads one line, its line ending already taken off.
    pub(super) fn parse(line: &str) -> SmtpRequest {
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => SmtpRequest::Ehlo,
            "HELO" => SmtpRequest::Helo,
            "STARTTLS" => SmtpRequest::StartTls,
            "AUTH" => SmtpRequest::Auth {
                mechanism: words.next().unwrap_or("").to_ascii_uppercase(),
                initial: words.next().map(str::to_owned),
            },
            "MAIL" => SmtpRequest::Mail,
            "RCPT" => SmtpRequest::Rcpt,
            "DATA" => SmtpRequest::Data,
            "RSET" => SmtpRequest::Rset,
            "NOOP" => SmtpRequest::Noop,
            "QUIT" => SmtpRequest::Quit,
            _ => SmtpRequest::Other(verb),
        }
    }

    /// Its verb, in capitals, as the session's record keeps it and a scenario's `replies`
    /// name it.
    pub(super) fn verb(&self) -> &str {
        match self {
            SmtpRequest::Ehlo => "EHLO",
            SmtpRequest::Helo => "HELO",
            SmtpRequest::StartTls => "STARTTLS",
            SmtpRequest::Auth { .. } => "AUTH",
            SmtpRequest::Mail => "MAIL",
            SmtpRequest::Rcpt => "RCPT",
            SmtpRequest::Data => "DATA",
            SmtpRequest::Rset => "RSET",
            SmtpRequest::Noop => "NOOP",
            SmtpRequest::Quit => "QUIT",
            SmtpRequest::Other(verb) => verb,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_command_is_read_as_rfc_5321_writes_it() {
        let auth = |mechanism: &str, initial: Option<&str>| SmtpRequest::Auth {
            mechanism: mechanism.into(),
            initial: initial.map(Into::into),
        };
        for (line, command) in [
            ("EHLO client.example.com", SmtpRequest::Ehlo),
            ("helo x", SmtpRequest::Helo),
            ("StartTLS", SmtpRequest::StartTls),
            ("AUTH PLAIN", auth("PLAIN", None)),
            (
                "auth plain AHVzZXIAcGFzcw==",
                auth("PLAIN", Some("AHVzZXIAcGFzcw==")),
            ),
            ("AUTH  login ", auth("LOGIN", None)),
            ("AUTH", auth("", None)),
            ("MAIL FROM:<a@example.com>", SmtpRequest::Mail),
            ("mail from: <a@example.com> SIZE=10", SmtpRequest::Mail),
            ("RCPT TO:<b@example.com>", SmtpRequest::Rcpt),
            ("DATA", SmtpRequest::Data),
            ("RSET", SmtpRequest::Rset),
            ("NOOP", SmtpRequest::Noop),
            ("  QUIT", SmtpRequest::Quit),
            ("QUIT\t", SmtpRequest::Quit),
            ("VRFY postmaster", SmtpRequest::Other("VRFY".into())),
            ("", SmtpRequest::Other(String::new())),
        ] {
            assert_eq!(SmtpRequest::parse(line), command, "{line:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::protocols::fixed_cases::fixed_cases(512, 52))]

        /// Any line (what `from_utf8_lossy` makes of any bytes) is read without a panic,
        /// and its verb is its first word in capitals, as the record keeps it.
        #[test]
        fn any_line_is_read_and_keeps_its_verb(line in "[ -~é\t\u{FFFD}]{0,40}") {
            let command = SmtpRequest::parse(&line);
            let first = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
            proptest::prop_assert_eq!(command.verb(), first.as_str());
        }

        /// `AUTH` with a mechanism and an initial response in any case and spacing: both
        /// read whole.
        #[test]
        fn auth_reads_its_mechanism_and_initial_response(
            mechanism in "[A-Za-z0-9-]{1,12}",
            initial in "[A-Za-z0-9+/=]{1,40}",
            spaces in "[ \t]{1,3}",
        ) {
            let command = SmtpRequest::parse(&format!("auth{spaces}{mechanism}{spaces}{initial}{spaces}"));
            proptest::prop_assert_eq!(
                command,
                SmtpRequest::Auth {
                    mechanism: mechanism.to_ascii_uppercase(),
                    initial: Some(initial),
                }
            );
        }
    }
}
