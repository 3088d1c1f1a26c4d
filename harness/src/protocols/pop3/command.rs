//! A POP3 command line, typed (RFC 1939 §§4–7, RFC 2449's `CAPA`, RFC 2595's `STLS`): what
//! a client sent is read here, one way, apart from what the server answers to it
//! (`server.rs`).
//!
//! The verb is the line's first word, in any case; the arguments are the words after it,
//! except for `USER` and `PASS`, which take the rest of the line after one space (§7: a
//! name or a password may hold spaces, and a manifest may declare one that does).

/// A message number or a line count as the client gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::protocols) enum Pop3Number {
    Given(usize),
    /// A word that is not a number: the server says the command takes one.
    NotANumber,
}

/// One command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::protocols) enum Pop3Request {
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
    List(Option<Pop3Number>),
    Uidl(Option<Pop3Number>),
    Retr(Option<Pop3Number>),
    Dele(Option<Pop3Number>),
    /// A message number and a count of body lines.
    Top(Option<Pop3Number>, Option<Pop3Number>),
    /// Any other verb, in capitals (an empty line's is empty).
    Unknown(String),
}

impl Pop3Request {
    /// Reads one line, its CRLF already taken off.
    pub(in crate::protocols) fn parse(line: &str) -> Pop3Request {
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        let mut numbers = words.map(|word| match word.parse::<usize>() {
            Ok(number) => Pop3Number::Given(number),
            Err(_) => Pop3Number::NotANumber,
        });
        // `USER` and `PASS` take the rest of the line after the one space that ends the verb.
        let rest = || line.split_once(' ').map_or("", |(_, rest)| rest).to_owned();
        match verb.as_str() {
            "CAPA" => Pop3Request::Capa,
            "NOOP" => Pop3Request::Noop,
            "STLS" => Pop3Request::Stls,
            "QUIT" => Pop3Request::Quit,
            "STAT" => Pop3Request::Stat,
            "RSET" => Pop3Request::Rset,
            "USER" => Pop3Request::User(rest()),
            "PASS" => Pop3Request::Pass(rest()),
            "APOP" => Pop3Request::Apop,
            "AUTH" => Pop3Request::Auth,
            "LIST" => Pop3Request::List(numbers.next()),
            "UIDL" => Pop3Request::Uidl(numbers.next()),
            "RETR" => Pop3Request::Retr(numbers.next()),
            "DELE" => Pop3Request::Dele(numbers.next()),
            "TOP" => Pop3Request::Top(numbers.next(), numbers.next()),
            _ => Pop3Request::Unknown(verb),
        }
    }

    /// Its verb, in capitals, as the session's record keeps it and replies name it.
    pub(super) fn verb(&self) -> &str {
        match self {
            Pop3Request::Capa => "CAPA",
            Pop3Request::Noop => "NOOP",
            Pop3Request::Stls => "STLS",
            Pop3Request::Quit => "QUIT",
            Pop3Request::Stat => "STAT",
            Pop3Request::Rset => "RSET",
            Pop3Request::User(_) => "USER",
            Pop3Request::Pass(_) => "PASS",
            Pop3Request::Apop => "APOP",
            Pop3Request::Auth => "AUTH",
            Pop3Request::List(_) => "LIST",
            Pop3Request::Uidl(_) => "UIDL",
            Pop3Request::Retr(_) => "RETR",
            Pop3Request::Dele(_) => "DELE",
            Pop3Request::Top(..) => "TOP",
            Pop3Request::Unknown(verb) => verb,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_command_is_read_as_rfc_1939_writes_it() {
        use Pop3Number::{Given, NotANumber};
        for (line, command) in [
            ("CAPA", Pop3Request::Capa),
            ("noop", Pop3Request::Noop),
            ("Stls", Pop3Request::Stls),
            ("USER my name", Pop3Request::User("my name".into())),
            (
                "PASS  two  spaces ",
                Pop3Request::Pass(" two  spaces ".into()),
            ),
            ("USER", Pop3Request::User(String::new())),
            ("STAT", Pop3Request::Stat),
            ("LIST", Pop3Request::List(None)),
            ("LIST 2", Pop3Request::List(Some(Given(2)))),
            ("uidl x", Pop3Request::Uidl(Some(NotANumber))),
            ("RETR 1", Pop3Request::Retr(Some(Given(1)))),
            ("RETR -1", Pop3Request::Retr(Some(NotANumber))),
            ("DELE 3 4", Pop3Request::Dele(Some(Given(3)))),
            ("TOP 1 0", Pop3Request::Top(Some(Given(1)), Some(Given(0)))),
            ("TOP 1", Pop3Request::Top(Some(Given(1)), None)),
            ("RSET", Pop3Request::Rset),
            (
                "APOP mrose c4c9334bac560ecc979e58001b3e22fb",
                Pop3Request::Apop,
            ),
            ("AUTH PLAIN", Pop3Request::Auth),
            ("QUIT", Pop3Request::Quit),
            ("XTND XMIT", Pop3Request::Unknown("XTND".into())),
            ("", Pop3Request::Unknown(String::new())),
        ] {
            assert_eq!(Pop3Request::parse(line), command, "{line:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::protocols::fixed_cases::fixed_cases(512, 52))]

        /// Any line (what `from_utf8_lossy` makes of any bytes) is read without a panic,
        /// and its verb is its first word in capitals.
        #[test]
        fn any_line_is_read_and_keeps_its_verb(line in "[ -~é\t\u{FFFD}]{0,40}") {
            let command = Pop3Request::parse(&line);
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
            let command = Pop3Request::parse(&format!("{verb_case} {value}"));
            proptest::prop_assert_eq!(command, Pop3Request::User(value.clone()));
            let command = Pop3Request::parse(&format!("PASS {value}"));
            proptest::prop_assert_eq!(command, Pop3Request::Pass(value));
        }

        /// A message number is read as the number it is, whatever space surrounds it.
        #[test]
        fn message_numbers_are_read_whole(number in 0usize..100_000, spaces in " {1,3}") {
            let command = Pop3Request::parse(&format!("retr{spaces}{number}{spaces}"));
            proptest::prop_assert_eq!(command, Pop3Request::Retr(Some(Pop3Number::Given(number))));
        }
    }
}
