//! The one account every pack that keeps one checks a login against (FTP, POP3, IMAP,
//! SMTP AUTH, SSH, MySQL, XML-RPC's HTTP Basic): a user and a password, each any printable
//! text the scenario or the manifest gives (spaces, the user equal to the password,
//! `root`), compared exactly.
//!
//! A pack that checks logins says so in its registry line ([`Login`]): which tasks'
//! programs log in to its peer, and what it cannot carry beyond what no pack carries. The
//! manifest's declared logins are checked against those limits when it is read
//! ([`login_refusal`]).
//!
//! The line protocols read a login off their command lines in their packs, so that what the
//! manifest declares is what the peer takes: FTP's and POP3's `USER` and `PASS` take the
//! rest of the line (RFC 959 §4.1.1, RFC 1939 §7: a name or a password may hold spaces:
//! `ftp::command`, `pop3::command`); IMAP's `LOGIN` is read by `imap::syntax::login`. This
//! module's tests read every login a manifest may declare through each of them.

/// Whether a login given as `user` and `password` is the account's.
pub(crate) fn is_the_account(
    user: &str,
    password: &str,
    account_user: &str,
    account_password: &str,
) -> bool {
    user == account_user && password == account_password
}

/// What a pack that checks a login against the account declares in its registry line.
pub(crate) struct Login {
    /// The name a grader knows the protocol by, for errors (`FTP`).
    pub(crate) protocol: &'static str,
    /// The tasks whose programs log in to its peer.
    pub(crate) tasks: &'static [&'static str],
    /// Why it cannot carry `value` as a login's part, beyond what no pack carries (a NUL,
    /// an empty user): called with its `protocol`, for the sentence.
    pub(crate) refusal: fn(&str, LoginPart, &str) -> Option<String>,
}

/// The part of a login a manifest declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginPart {
    User,
    Password,
}

impl LoginPart {
    /// The part, in the plural, for sentences: `user names`.
    pub(crate) fn plural(self) -> &'static str {
        match self {
            LoginPart::User => "user names",
            LoginPart::Password => "passwords",
        }
    }
}

/// Why `value` cannot be `task`'s programs' login `part`, or `None` when every pack whose
/// peer checks that task's logins can carry it. The account model's limits, checked when
/// the manifest is read (`crate::target`) and by the property tests below against each
/// pack's own parsing:
/// - every pack: no NUL (a login reaches the program as a command-line word, which cannot
///   hold one) and a user that is not empty (every pack's login names one);
/// - then each pack's own ([`Login::refusal`]): the line protocols' [`line_refusal`], MySQL's
///   and XML-RPC's in their folders. SMTP's `AUTH PLAIN` separates its parts with NUL,
///   already refused; SSH's user and password are length-prefixed strings (RFC 4252 §5), so
///   spaces and any other printable text pass everywhere.
pub(crate) fn login_refusal(task: &str, part: LoginPart, value: &str) -> Option<String> {
    super::REGISTRY
        .iter()
        .filter_map(|pack| pack.login.as_ref())
        .filter(|login| login.tasks.contains(&task))
        .find_map(|login| refusal_by(login, part, value))
}

/// Why `login`'s pack cannot carry `value` as `part`: what no pack carries, then its own.
fn refusal_by(login: &Login, part: LoginPart, value: &str) -> Option<String> {
    let protocol = login.protocol;
    if value.contains('\0') {
        return Some(format!(
            "holds a NUL character, which no command line carries ({protocol} {} cannot hold one)",
            part.plural()
        ));
    }
    if part == LoginPart::User && value.is_empty() {
        return Some(format!("is empty; {protocol}'s login names a user"));
    }
    (login.refusal)(protocol, part, value)
}

/// A pack that carries every login the account model lets through (SMTP, SSH).
pub(crate) fn carries_any(_protocol: &str, _part: LoginPart, _value: &str) -> Option<String> {
    None
}

/// A line protocol's limit (FTP, POP3, IMAP): no CR or LF, which end the command line the
/// login is read off (a `USER`/`PASS` line, an IMAP quoted string, RFC 3501 §4.3).
pub(crate) fn line_refusal(protocol: &str, part: LoginPart, value: &str) -> Option<String> {
    value.contains(['\r', '\n']).then(|| {
        format!(
            "holds a line break; {protocol} reads a login off one command line, so its {} cannot hold CR or LF",
            part.plural()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::imap::syntax::{login as imap_login, parse_args};
    use crate::protocols::mysql::MYSQL_USER_MAX_CHARS;

    /// Why the pack `key` cannot carry `value` as `part` (its registry line's [`Login`]).
    fn refusal(key: &str, part: LoginPart, value: &str) -> Option<String> {
        let pack = super::super::REGISTRY
            .iter()
            .find(|pack| pack.key == key)
            .unwrap_or_else(|| panic!("no pack {key}"));
        let login = pack
            .login
            .as_ref()
            .unwrap_or_else(|| panic!("{key} checks no login"));
        refusal_by(login, part, value)
    }

    /// The packs whose peers check the logins of the tasks that log in: the registry's
    /// lines say so, as the tasks' scenarios use them.
    #[test]
    fn every_task_that_logs_in_is_checked_by_its_packs_limits() {
        let packs_of = |task: &str| -> Vec<&str> {
            super::super::REGISTRY
                .iter()
                .filter(|pack| {
                    pack.login
                        .as_ref()
                        .is_some_and(|login| login.tasks.contains(&task))
                })
                .map(|pack| pack.key)
                .collect()
        };
        for (task, packs) in [
            ("ftp-upload", vec!["ftp"]),
            ("pop3-fetch", vec!["pop3"]),
            ("imap-read", vec!["imap"]),
            ("smtp-client", vec!["smtp"]),
            ("mail-archive", vec!["smtp"]),
            ("ssh-info", vec!["ssh"]),
            ("mysql-remote", vec!["mysql"]),
            ("xmlrpc", vec!["xmlrpc"]),
            ("message", vec![]),
        ] {
            assert_eq!(packs_of(task), packs, "{task}");
        }
        assert!(login_refusal("ftp-upload", LoginPart::Password, "a\r\nQUIT").is_some());
        assert!(login_refusal("message", LoginPart::Password, "a\r\nQUIT").is_none());
    }

    /// An IMAP string as a client quotes it (RFC 3501 §4.3: `\` before `"` and `\`).
    fn imap_quoted(text: &str) -> String {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    }

    /// The login a line of FTP or POP3 gives, `USER` then `PASS`, read by each pack's own
    /// reader (the same from both).
    fn line_login(user: &str, password: &str) -> (String, String) {
        use super::super::ftp::command::FtpCommand;
        use super::super::pop3::command::Pop3Request;
        let (user_line, password_line) = (format!("USER {user}"), format!("PASS {password}"));
        let ftp = match (
            FtpCommand::parse(&user_line),
            FtpCommand::parse(&password_line),
        ) {
            (FtpCommand::User(user), FtpCommand::Pass(password)) => (user, password),
            other => panic!("FTP read {other:?}"),
        };
        let pop3 = match (
            Pop3Request::parse(&user_line),
            Pop3Request::parse(&password_line),
        ) {
            (Pop3Request::User(user), Pop3Request::Pass(password)) => (user, password),
            other => panic!("POP3 read {other:?}"),
        };
        assert_eq!(ftp, pop3);
        ftp
    }

    /// The login an IMAP `LOGIN` line gives, with the user quoted or, as `imaplib` sends
    /// it, not.
    fn imap_line_login(user: &str, password: &str, user_quoted: bool) -> Option<(String, String)> {
        let user = if user_quoted {
            imap_quoted(user)
        } else {
            user.to_owned()
        };
        let line = format!("a1 LOGIN {user} {}\r\n", imap_quoted(password));
        let arguments = parse_args(line.as_bytes());
        imap_login(arguments.get(2..)?)
    }

    #[test]
    fn a_user_with_a_space_is_taken_whole() {
        assert_eq!(
            line_login("my name", "pass word"),
            ("my name".to_owned(), "pass word".to_owned())
        );
        assert_eq!(
            imap_line_login("my name", "pass word", false),
            Some(("my name".to_owned(), "pass word".to_owned()))
        );
    }

    /// Printable text as a manifest may declare it: ASCII and beyond, spaces anywhere.
    const PRINTABLE: &str = "[ -~é中]{1,24}";

    proptest::proptest! {
        #![proptest_config(crate::protocols::fixed_cases::fixed_cases(256, 50))]

        /// Any printable account, its user equal to its password or not: its own login is
        /// read off each protocol's lines as it was declared and accepted; another
        /// password, and the user given as the password, are refused.
        #[test]
        fn any_printable_account_logs_in_with_its_own_login_only(
            user in PRINTABLE,
            password in proptest::prop_oneof![PRINTABLE, proptest::strategy::Just(String::new())],
            equal in proptest::bool::ANY,
        ) {
            let password = if equal || password.is_empty() { user.clone() } else { password };
            let account = (user.as_str(), password.as_str());
            let accepted = |(given_user, given_password): (String, String)| {
                is_the_account(&given_user, &given_password, account.0, account.1)
            };

            // FTP and POP3: `USER`, `PASS`, the rest of each line.
            proptest::prop_assert!(accepted(line_login(&user, &password)));
            let wrong = format!("{password}-wrong");
            proptest::prop_assert!(!accepted(line_login(&user, &wrong)));
            if user != password {
                proptest::prop_assert!(!accepted(line_login(&user, &user)));
            }

            // IMAP: quoted strings always; an unquoted user as imaplib sends it, when it is
            // atoms (none of RFC 3501's atom-specials, nor a `[` that opens a section; no
            // space at either end or two in a row).
            let given = imap_line_login(&user, &password, true);
            proptest::prop_assert_eq!(given.clone(), Some((user.clone(), password.clone())));
            proptest::prop_assert!(accepted(given.unwrap()));
            proptest::prop_assert!(!accepted(imap_line_login(&user, &wrong, true).unwrap()));
            let atoms = !user.contains(['"', '{', '}', '(', ')', '\\', '[', ']', '%', '*'])
                && user.trim() == user
                && !user.contains("  ");
            if atoms {
                let given = imap_line_login(&user, &password, false);
                proptest::prop_assert_eq!(given, Some((user.clone(), password.clone())));
            }
        }
    }

    /// What MySQL's handshake carries of a user name: its bytes up to the NUL that ends
    /// them on the wire (a NUL inside the name cuts it there).
    fn mysql_handshake_user(user: &str) -> String {
        let on_the_wire = [user.as_bytes(), b"\0"].concat();
        let carried = on_the_wire
            .split(|byte| *byte == 0)
            .next()
            .unwrap_or_default();
        String::from_utf8_lossy(carried).into_owned()
    }

    /// Whether the pack `key` carries both parts of a login, by the account model's rule.
    fn carried(key: &str, user: &str, password: &str) -> bool {
        refusal(key, LoginPart::User, user).is_none()
            && refusal(key, LoginPart::Password, password).is_none()
    }

    /// Text a manifest may declare, mostly printable, sometimes with a character no
    /// pack carries, empty, or longer than MySQL's user names.
    fn declared() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::prop_oneof![
            6 => PRINTABLE,
            1 => "[ -~é\r\n\u{0}\u{1F600}]{0,6}",
            1 => "[a-z]{120,136}",
        ]
    }

    #[test]
    fn the_account_model_says_what_each_pack_cannot_carry() {
        let long = "u".repeat(MYSQL_USER_MAX_CHARS + 1);
        assert!(refusal("mysql", LoginPart::User, &long).is_some());
        assert!(refusal("ssh", LoginPart::User, &long).is_none());
        assert!(refusal("mysql", LoginPart::Password, "").is_some());
        assert!(refusal("mysql", LoginPart::User, "u\u{1F600}").is_some());
        assert!(refusal("mysql", LoginPart::User, "é中\u{FFFD}").is_none());
        assert!(refusal("mysql", LoginPart::Password, "p\u{1F600}").is_none());
        assert!(refusal("ssh", LoginPart::User, "u\u{1F600}").is_none());
        assert!(refusal("ssh", LoginPart::User, "my name").is_none());
        assert!(refusal("xmlrpc", LoginPart::User, "ad:min").is_some());
        assert!(refusal("xmlrpc", LoginPart::Password, "pa:ss").is_none());
        for pack in ["ftp", "pop3", "imap"] {
            assert!(refusal(pack, LoginPart::Password, "pass\r\nQUIT").is_some());
        }
        for pack in ["ftp", "pop3", "imap", "smtp", "ssh", "mysql", "xmlrpc"] {
            assert!(refusal(pack, LoginPart::User, "").is_some());
            assert!(refusal(pack, LoginPart::Password, "a\0b").is_some());
            assert!(refusal(pack, LoginPart::User, "root").is_none());
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::protocols::fixed_cases::fixed_cases(256, 50))]

        /// Any login the account model lets a manifest declare for SSH, MySQL or XML-RPC,
        /// its user equal to its password or not, logs in through that pack's own check; a
        /// wrong password is refused. MySQL's by both of its methods; XML-RPC's as the
        /// server reads the `Authorization` the harness's client sends.
        #[test]
        fn ssh_mysql_and_xmlrpc_accept_every_login_the_model_lets_through(
            user in declared(),
            password in declared(),
            equal in proptest::bool::ANY,
        ) {
            let password = if equal { user.clone() } else { password };
            let wrong = format!("{password}-wrong");

            if carried("ssh", &user, &password) {
                proptest::prop_assert!(super::super::ssh::password_login(
                    &user, &password, &user, Some(&password)
                ));
                proptest::prop_assert!(!super::super::ssh::password_login(
                    &user, &wrong, &user, Some(&password)
                ));
            }

            if carried("mysql", &user, &password) {
                use super::super::mysql::{native_scramble, scramble_login, sha2_scramble};
                let salt = b"ABCDEFGHIJKLMNOPQRST";
                let given_user = mysql_handshake_user(&user);
                for scramble in [native_scramble, sha2_scramble] {
                    let (_, accepted) = scramble_login(
                        &given_user, salt, &scramble(&password, salt), &user, &password,
                    );
                    proptest::prop_assert!(accepted);
                    let (_, accepted) = scramble_login(
                        &given_user, salt, &scramble(&wrong, salt), &user, &password,
                    );
                    proptest::prop_assert!(!accepted);
                }
            }

            if carried("xmlrpc", &user, &password) {
                let account = (user.as_str(), password.as_str());
                let sent = basic_login(&format!("{user}:{password}"));
                proptest::prop_assert_eq!(sent.clone(), Some((user.clone(), password.clone())));
                let (given_user, given_password) = sent.unwrap();
                proptest::prop_assert!(is_the_account(&given_user, &given_password, account.0, account.1));
                let (given_user, given_password) =
                    basic_login(&format!("{user}:{wrong}")).unwrap();
                proptest::prop_assert!(!is_the_account(&given_user, &given_password, account.0, account.1));
            }
        }
    }

    /// The login a server reads off the `Authorization` header the XML-RPC pack sends for
    /// `credentials`: base64 decoded, the user up to the first `:` (RFC 7617 §2).
    fn basic_login(credentials: &str) -> Option<(String, String)> {
        use base64::Engine as _;
        let header = super::super::xmlrpc::basic_authorization(credentials);
        let encoded = header.strip_prefix("Basic ")?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        Some((user.to_owned(), password.to_owned()))
    }

    /// Why XML-RPC's user cannot hold `:`: the server would read another login.
    #[test]
    fn an_xmlrpc_user_with_a_colon_would_reach_the_server_as_another_login() {
        assert_eq!(
            basic_login("ad:min:pw"),
            Some(("ad".to_owned(), "min:pw".to_owned()))
        );
        assert!(refusal("xmlrpc", LoginPart::User, "ad:min").is_some());
    }
}
