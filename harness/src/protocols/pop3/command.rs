//! A POP3 command line, typed (RFC 1939 §§4–7, RFC 2449's `CAPA`, RFC 2595's `STLS`): what
//! a client sent is read here, one way, apart from what the server answers to it
//! (`server.rs`).
//!
//! The verb is the line's first word, in any case; the arguments are the words after it,
//! except for `USER` and `PASS`, which take the rest of the line after one space (§7: a
//! name or a password may hold spaces, and a manifest may declare one that does).

/// A message number or a line count as the client gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Number {
    Given(usize),
    /// A word that is not a number: the server says the command takes one.
    NotANumber,
}

/// One command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Command {
    Capa,
    Noop,
    Stls,
    Quit,
    Stat,
    Rset,
    /// The rest of the line after `USER `.
    User(String),
    /// The rest of the line after `PASS `.
    Pass(String),
    /// `APOP` and `AUTH`: not offered (the harness's account takes `USER` and `PASS`).
    Apop,
    Auth,
    List(Option<Number>),
    Uidl(Option<Number>),
    Retr(Option<Number>),
    Dele(Option<Number>),
    /// A message number and a count of body lines.
    Top(Option<Number>, Option<Number>),
    /// Any other verb, in capitals (an empty line's is empty).
    Unknown(String),
}

impl Command {
    /// Reads one line, its CRLF already taken off.
    pub(super) fn parse(line: &str) -> Command {
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        let mut numbers = words.map(|word| match word.parse::<usize>() {
            Ok(number) => Number::Given(number),
            Err(_) => Number::NotANumber,
        });
        // `USER` and `PASS` take the rest of the line after the one space that ends the verb.
        let rest = || line.split_once(' ').map_or("", |(_, rest)| rest).to_owned();
        match verb.as_str() {
            "CAPA" => Command::Capa,
            "NOOP" => Command::Noop,
            "STLS" => Command::Stls,
            "QUIT" => Command::Quit,
            "STAT" => Command::Stat,
            "RSET" => Command::Rset,
            "USER" => Command::User(rest()),
            "PASS" => Command::Pass(rest()),
            "APOP" => Command::Apop,
            "AUTH" => Command::Auth,
            "LIST" => Command::List(numbers.next()),
            "UIDL" => Command::Uidl(numbers.next()),
            "RETR" => Command::Retr(numbers.next()),
            "DELE" => Command::Dele(numbers.next()),
            "TOP" => Command::Top(numbers.next(), numbers.next()),
            _ => Command::Unknown(verb),
        }
    }

    /// Its verb, in capitals, as the session's record keeps it and replies name it.
    pub(super) fn verb(&self) -> &str {
        match self {
            Command::Capa => "CAPA",
            Command::Noop => "NOOP",
            Command::Stls => "STLS",
            Command::Quit => "QUIT",
            Command::Stat => "STAT",
            Command::Rset => "RSET",
            Command::User(_) => "USER",
            Command::Pass(_) => "PASS",
            Command::Apop => "APOP",
            Command::Auth => "AUTH",
            Command::List(_) => "LIST",
            Command::Uidl(_) => "UIDL",
            Command::Retr(_) => "RETR",
            Command::Dele(_) => "DELE",
            Command::Top(..) => "TOP",
            Command::Unknown(verb) => verb,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_command_is_read_as_rfc_1939_writes_it() {
        use Number::{Given, NotANumber};
        for (line, command) in [
            ("CAPA", Command::Capa),
            ("noop", Command::Noop),
            ("Stls", Command::Stls),
            ("USER my name", Command::User("my name".into())),
            ("PASS  two  spaces ", Command::Pass(" two  spaces ".into())),
            ("USER", Command::User(String::new())),
            ("STAT", Command::Stat),
            ("LIST", Command::List(None)),
            ("LIST 2", Command::List(Some(Given(2)))),
            ("uidl x", Command::Uidl(Some(NotANumber))),
            ("RETR 1", Command::Retr(Some(Given(1)))),
            ("RETR -1", Command::Retr(Some(NotANumber))),
            ("DELE 3 4", Command::Dele(Some(Given(3)))),
            ("TOP 1 0", Command::Top(Some(Given(1)), Some(Given(0)))),
            ("TOP 1", Command::Top(Some(Given(1)), None)),
            ("RSET", Command::Rset),
            ("APOP mrose c4c9334bac560ecc979e58001b3e22fb", Command::Apop),
            ("AUTH PLAIN", Command::Auth),
            ("QUIT", Command::Quit),
            ("XTND XMIT", Command::Unknown("XTND".into())),
            ("", Command::Unknown(String::new())),
        ] {
            assert_eq!(Command::parse(line), command, "{line:?}");
        }
    }

    proptest::proptest! {
        // A fixed seed and no file of past failures: the same cases on every run.
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 512,
            rng_seed: proptest::test_runner::RngSeed::Fixed(52),
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// Any line (what `from_utf8_lossy` makes of any bytes) is read without a panic,
        /// and its verb is its first word in capitals.
        #[test]
        fn any_line_is_read_and_keeps_its_verb(line in "[ -~é\t\u{FFFD}]{0,40}") {
            let command = Command::parse(&line);
            let first = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
            proptest::prop_assert_eq!(command.verb(), first.as_str());
        }

        /// A login with spaces anywhere in it, the verb in any case: the name and the
        /// password are what followed the verb's space, whole.
        #[test]
        fn user_and_pass_take_the_rest_of_the_line(
            verb_case in proptest::sample::select(vec!["USER", "user", "User"]),
            value in "[ -~é]{0,24}",
        ) {
            let command = Command::parse(&format!("{verb_case} {value}"));
            proptest::prop_assert_eq!(command, Command::User(value.clone()));
            let command = Command::parse(&format!("PASS {value}"));
            proptest::prop_assert_eq!(command, Command::Pass(value));
        }

        /// A message number is read as the number it is, whatever space surrounds it.
        #[test]
        fn message_numbers_are_read_whole(number in 0usize..100_000, spaces in " {1,3}") {
            let command = Command::parse(&format!("retr{spaces}{number}{spaces}"));
            proptest::prop_assert_eq!(command, Command::Retr(Some(Number::Given(number))));
        }
    }
}
