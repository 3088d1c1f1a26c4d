//! An FTP command line, typed (RFC 959 §4.1 and §5.3; RFC 4217's `AUTH`, `PBSZ`, `PROT`;
//! RFC 2389's `FEAT` and `OPTS`; RFC 2428's `EPSV` and `EPRT`; RFC 3659's `SIZE`): what a
//! client sent is read here, one way, apart from what the server answers to it
//! (`server.rs`).
//!
//! The verb is the line's first word, in any case; the argument is the rest of the line
//! after the one space that ends the verb (RFC 959: `<SP> <pathname>`, and a name or a
//! password may hold spaces, leading ones included), empty where there is none.

/// One command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::protocols) enum FtpCommand {
    User(String),
    /// The password: the rest of the line, spaces and all (RFC 959 §4.1.1).
    Pass(String),
    /// `AUTH` and its mechanism, as sent.
    Auth(String),
    Quit,
    Syst,
    Feat,
    Pbsz,
    /// The protection level asked for, as sent.
    Prot(String),
    Noop,
    Opts(String),
    /// `PWD`, or RFC 775's `XPWD`.
    Pwd,
    /// `CWD` (or `XCWD`) and its folder.
    Cwd(String),
    /// `CDUP`, or `XCUP`.
    Cdup,
    Type(String),
    Mode(String),
    Stru(String),
    /// `PASV`, or `EPSV` (`extended`); `all`: `EPSV ALL` (RFC 2428 §4), in either.
    Passive {
        extended: bool,
        all: bool,
    },
    /// `PORT` or `EPRT`: active mode, which the peer does not offer.
    Active,
    Stor(String),
    Size(String),
    /// Any other verb, in capitals (an empty line's is empty).
    Other(String),
}

impl FtpCommand {
    /// Reads one line, its CRLF already taken off.
    pub(in crate::protocols) fn parse(line: &str) -> FtpCommand {
        let (verb, argument) = match line.split_once(' ') {
            Some((verb, argument)) => (verb.to_ascii_uppercase(), argument),
            None => (line.to_ascii_uppercase(), ""),
        };
        let argument = argument.to_owned();
        match verb.as_str() {
            "USER" => FtpCommand::User(argument),
            "PASS" => FtpCommand::Pass(argument),
            "AUTH" => FtpCommand::Auth(argument),
            "QUIT" => FtpCommand::Quit,
            "SYST" => FtpCommand::Syst,
            "FEAT" => FtpCommand::Feat,
            "PBSZ" => FtpCommand::Pbsz,
            "PROT" => FtpCommand::Prot(argument),
            "NOOP" => FtpCommand::Noop,
            "OPTS" => FtpCommand::Opts(argument),
            "PWD" | "XPWD" => FtpCommand::Pwd,
            "CWD" | "XCWD" => FtpCommand::Cwd(argument),
            "CDUP" | "XCUP" => FtpCommand::Cdup,
            "TYPE" => FtpCommand::Type(argument),
            "MODE" => FtpCommand::Mode(argument),
            "STRU" => FtpCommand::Stru(argument),
            "PASV" | "EPSV" => FtpCommand::Passive {
                extended: verb == "EPSV",
                all: argument.eq_ignore_ascii_case("ALL"),
            },
            "PORT" | "EPRT" => FtpCommand::Active,
            "STOR" => FtpCommand::Stor(argument),
            "SIZE" => FtpCommand::Size(argument),
            _ => FtpCommand::Other(verb),
        }
    }

    /// Its verb, in capitals, as replies name it (an alias by its RFC 959 name).
    pub(super) fn verb(&self) -> &str {
        match self {
            FtpCommand::User(_) => "USER",
            FtpCommand::Pass(_) => "PASS",
            FtpCommand::Auth(_) => "AUTH",
            FtpCommand::Quit => "QUIT",
            FtpCommand::Syst => "SYST",
            FtpCommand::Feat => "FEAT",
            FtpCommand::Pbsz => "PBSZ",
            FtpCommand::Prot(_) => "PROT",
            FtpCommand::Noop => "NOOP",
            FtpCommand::Opts(_) => "OPTS",
            FtpCommand::Pwd => "PWD",
            FtpCommand::Cwd(_) => "CWD",
            FtpCommand::Cdup => "CDUP",
            FtpCommand::Type(_) => "TYPE",
            FtpCommand::Mode(_) => "MODE",
            FtpCommand::Stru(_) => "STRU",
            FtpCommand::Passive {
                extended: false, ..
            } => "PASV",
            FtpCommand::Passive { extended: true, .. } => "EPSV",
            FtpCommand::Active => "PORT",
            FtpCommand::Stor(_) => "STOR",
            FtpCommand::Size(_) => "SIZE",
            FtpCommand::Other(verb) => verb,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_command_is_read_as_its_rfc_writes_it() {
        for (line, command) in [
            ("USER anonymous", FtpCommand::User("anonymous".into())),
            ("user my name", FtpCommand::User("my name".into())),
            ("USER", FtpCommand::User(String::new())),
            ("USER ", FtpCommand::User(String::new())),
            (
                "PASS  two  spaces ",
                FtpCommand::Pass(" two  spaces ".into()),
            ),
            ("AUTH TLS", FtpCommand::Auth("TLS".into())),
            ("auth ssl", FtpCommand::Auth("ssl".into())),
            ("QUIT", FtpCommand::Quit),
            ("quit now", FtpCommand::Quit),
            ("SYST", FtpCommand::Syst),
            ("FEAT", FtpCommand::Feat),
            ("PBSZ 0", FtpCommand::Pbsz),
            ("PROT P", FtpCommand::Prot("P".into())),
            ("NOOP", FtpCommand::Noop),
            ("OPTS UTF8 ON", FtpCommand::Opts("UTF8 ON".into())),
            ("PWD", FtpCommand::Pwd),
            ("XPWD", FtpCommand::Pwd),
            (
                "CWD /upload/my files",
                FtpCommand::Cwd("/upload/my files".into()),
            ),
            ("XCWD up", FtpCommand::Cwd("up".into())),
            ("CDUP", FtpCommand::Cdup),
            ("XCUP", FtpCommand::Cdup),
            ("TYPE A N", FtpCommand::Type("A N".into())),
            ("TYPE I", FtpCommand::Type("I".into())),
            ("MODE S", FtpCommand::Mode("S".into())),
            ("STRU F", FtpCommand::Stru("F".into())),
            (
                "PASV",
                FtpCommand::Passive {
                    extended: false,
                    all: false,
                },
            ),
            (
                "EPSV",
                FtpCommand::Passive {
                    extended: true,
                    all: false,
                },
            ),
            (
                "epsv all",
                FtpCommand::Passive {
                    extended: true,
                    all: true,
                },
            ),
            ("PORT 127,0,0,1,78,32", FtpCommand::Active),
            ("EPRT |1|127.0.0.1|20000|", FtpCommand::Active),
            ("STOR report 2.txt", FtpCommand::Stor("report 2.txt".into())),
            ("STOR  lead", FtpCommand::Stor(" lead".into())),
            ("SIZE a.txt", FtpCommand::Size("a.txt".into())),
            ("RETR a.txt", FtpCommand::Other("RETR".into())),
            ("", FtpCommand::Other(String::new())),
            // A tab is no space: the verb is the whole word.
            ("USER\tx", FtpCommand::Other("USER\tX".into())),
        ] {
            assert_eq!(FtpCommand::parse(line), command, "{line:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::protocols::fixed_cases::fixed_cases(512, 52))]

        /// Any line (what `from_utf8_lossy` makes of any bytes) is read without a panic; a
        /// verb the peer does not know is kept as its first word in capitals.
        #[test]
        fn any_line_is_read_and_an_unknown_verb_kept(line in "[ -~é\t\u{FFFD}]{0,40}") {
            let first = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
            if let FtpCommand::Other(verb) = FtpCommand::parse(&line) {
                proptest::prop_assert_eq!(verb, first);
            }
        }

        /// A name with spaces anywhere in it, the verb in any case: what followed the
        /// verb's one space, whole.
        #[test]
        fn names_and_passwords_take_the_rest_of_the_line(
            verb in proptest::sample::select(vec!["USER", "pass", "Cwd", "stor", "SIZE"]),
            value in "[ -~é]{0,24}",
        ) {
            let command = FtpCommand::parse(&format!("{verb} {value}"));
            let expected = match verb.to_ascii_uppercase().as_str() {
                "USER" => FtpCommand::User(value),
                "PASS" => FtpCommand::Pass(value),
                "CWD" => FtpCommand::Cwd(value),
                "STOR" => FtpCommand::Stor(value),
                _ => FtpCommand::Size(value),
            };
            proptest::prop_assert_eq!(command, expected);
        }
    }
}
