//! The one account every pack that keeps one checks a login against (FTP, POP3, IMAP,
//! SMTP AUTH, SSH, MySQL): a user and a password, each any printable text the scenario or
//! the manifest gives (spaces, the user equal to the password, `root`), compared exactly.
//!
//! The line protocols read a login off their command lines here, so that what the
//! manifest declares is what the peer takes: FTP's and POP3's `USER` and `PASS` take the
//! rest of the line (RFC 959 §4.1.1, RFC 1939 §7: a name or a password may hold spaces),
//! and IMAP's `LOGIN` takes two strings, or a user sent unquoted in several words before
//! the password (`imaplib` quotes the password only).

use super::imap::syntax::Arg;

/// A command line's verb, in capitals, and the rest of the line after the one space that
/// follows it (empty when there is none): `USER my name` is `("USER", "my name")`.
pub(crate) fn verb_and_argument(line: &str) -> (String, &str) {
    match line.split_once(' ') {
        Some((verb, argument)) => (verb.to_ascii_uppercase(), argument),
        None => (line.to_ascii_uppercase(), ""),
    }
}

/// Whether a login given as `user` and `password` is the account's.
pub(crate) fn is_the_account(
    user: &str,
    password: &str,
    account_user: &str,
    account_password: &str,
) -> bool {
    user == account_user && password == account_password
}

/// The user and the password of an IMAP `LOGIN`'s arguments: two atoms or strings, or, for
/// a client that sends the user unquoted (`a1 LOGIN my name "pw"`), the words before the
/// last one joined by a space.
pub(crate) fn imap_login(arguments: &[Arg]) -> Option<(String, String)> {
    let (password, user) = arguments.split_last()?;
    if user.is_empty() {
        return None;
    }
    let user = user
        .iter()
        .map(Arg::text)
        .collect::<Option<Vec<String>>>()?
        .join(" ");
    Some((user, password.text()?))
}

/// A pack that checks a login against the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginPack {
    Ftp,
    Pop3,
    Imap,
    Smtp,
    Ssh,
    Mysql,
    /// HTTP Basic credentials of an XML-RPC call (`--auth user:password`).
    XmlRpc,
}

impl LoginPack {
    /// The name a grader knows the protocol by, for errors.
    pub(crate) fn name(self) -> &'static str {
        match self {
            LoginPack::Ftp => "FTP",
            LoginPack::Pop3 => "POP3",
            LoginPack::Imap => "IMAP",
            LoginPack::Smtp => "SMTP",
            LoginPack::Ssh => "SSH",
            LoginPack::Mysql => "MySQL",
            LoginPack::XmlRpc => "XML-RPC (HTTP Basic)",
        }
    }
}

/// The packs whose peers check the login a client of `task` gives (none for a task whose
/// programs log in nowhere).
pub(crate) fn login_packs(task: &str) -> &'static [LoginPack] {
    match task {
        "ftp-upload" => &[LoginPack::Ftp],
        "pop3-fetch" => &[LoginPack::Pop3],
        "imap-read" => &[LoginPack::Imap],
        "smtp-client" | "mail-archive" => &[LoginPack::Smtp],
        "ssh-info" => &[LoginPack::Ssh],
        "mysql-remote" => &[LoginPack::Mysql],
        "xmlrpc" => &[LoginPack::XmlRpc],
        _ => &[],
    }
}

/// The part of a login a manifest declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginPart {
    User,
    Password,
}

/// The longest user name MySQL's account takes, in characters: MariaDB's (10.11, the
/// `--mysql auto` engine; `CREATE USER` of a longer one is error 1470, tried), which the
/// shim, with no limit of its own, keeps too so that both peers are one account model.
pub(crate) const MYSQL_USER_MAX_CHARS: usize = 128;

/// Why `pack` cannot carry `value` as a login's `part`, or `None` when it can. The one
/// place the account model's limits are written, checked when the manifest is read
/// (`crate::target`) and by the property test below against each pack's own parsing:
/// - every pack: no NUL (a login reaches the program as a command-line word, which cannot
///   hold one) and a user that is not empty (every pack's login names one);
/// - FTP, POP3, IMAP: no CR or LF, which end the command line the login is read off (a
///   `USER`/`PASS` line, an IMAP quoted string, RFC 3501 §4.3);
/// - XML-RPC: a user without `:`, where HTTP Basic's `user:password` ends the user
///   (RFC 7617 §2);
/// - MySQL: a user of at most [`MYSQL_USER_MAX_CHARS`] characters, none outside Unicode's
///   Basic Multilingual Plane (MariaDB keeps user names in `utf8mb3`, three bytes a
///   character: `CREATE USER 'u😀'` is error 1470, tried), and a password that is not
///   empty (the handshake answers the salt with a scramble of the password; an empty
///   answer is a login without one, refused).
///
/// SMTP's `AUTH PLAIN` separates its parts with NUL, already refused; SSH's user and
/// password are length-prefixed strings (RFC 4252 §5), so spaces and any other printable
/// text pass everywhere.
pub(crate) fn login_refusal(pack: LoginPack, part: LoginPart, value: &str) -> Option<String> {
    let what = match part {
        LoginPart::User => "user names",
        LoginPart::Password => "passwords",
    };
    let protocol = pack.name();
    if value.contains('\0') {
        return Some(format!(
            "holds a NUL character, which no command line carries ({protocol} {what} cannot hold one)"
        ));
    }
    if part == LoginPart::User && value.is_empty() {
        return Some(format!("is empty; {protocol}'s login names a user"));
    }
    let line_protocol = matches!(pack, LoginPack::Ftp | LoginPack::Pop3 | LoginPack::Imap);
    if line_protocol && value.contains(['\r', '\n']) {
        return Some(format!(
            "holds a line break; {protocol} reads a login off one command line, so its {what} cannot hold CR or LF"
        ));
    }
    if pack == LoginPack::XmlRpc && part == LoginPart::User && value.contains(':') {
        return Some(
            "holds `:`; HTTP Basic sends `user:password`, so its user names cannot hold one"
                .to_owned(),
        );
    }
    if pack == LoginPack::Mysql {
        let length = value.chars().count();
        if part == LoginPart::User && length > MYSQL_USER_MAX_CHARS {
            return Some(format!(
                "{length} characters; MySQL user names hold at most {MYSQL_USER_MAX_CHARS}"
            ));
        }
        if part == LoginPart::User
            && let Some(beyond) = value.chars().find(|c| u32::from(*c) > 0xFFFF)
        {
            return Some(format!(
                "holds `{beyond}` (U+{:X}), outside Unicode's Basic Multilingual Plane; MySQL user names hold only characters of three UTF-8 bytes at most (MariaDB refuses the account, error 1470)",
                u32::from(beyond)
            ));
        }
        if part == LoginPart::Password && value.is_empty() {
            return Some(
                "is empty; a MySQL client sends no scramble for an empty password, which the account refuses".to_owned(),
            );
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::imap::syntax::parse_args;

    /// An IMAP string as a client quotes it (RFC 3501 §4.3: `\` before `"` and `\`).
    fn imap_quoted(text: &str) -> String {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    }

    /// The login a line of FTP or POP3 gives, `USER` then `PASS`.
    fn line_login(user: &str, password: &str) -> (String, String) {
        let user_line = format!("USER {user}");
        let password_line = format!("PASS {password}");
        let (verb, given_user) = verb_and_argument(&user_line);
        assert_eq!(verb, "USER");
        let (verb, given_password) = verb_and_argument(&password_line);
        assert_eq!(verb, "PASS");
        (given_user.to_owned(), given_password.to_owned())
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
        // A fixed seed and no file of past failures: the same cases on every run.
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 256,
            rng_seed: proptest::test_runner::RngSeed::Fixed(50),
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]

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

    /// Whether `pack` carries both parts of a login, by the account model's rule.
    fn carried(pack: LoginPack, user: &str, password: &str) -> bool {
        login_refusal(pack, LoginPart::User, user).is_none()
            && login_refusal(pack, LoginPart::Password, password).is_none()
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
        assert!(login_refusal(LoginPack::Mysql, LoginPart::User, &long).is_some());
        assert!(login_refusal(LoginPack::Ssh, LoginPart::User, &long).is_none());
        assert!(login_refusal(LoginPack::Mysql, LoginPart::Password, "").is_some());
        assert!(login_refusal(LoginPack::Mysql, LoginPart::User, "u\u{1F600}").is_some());
        assert!(login_refusal(LoginPack::Mysql, LoginPart::User, "é中\u{FFFD}").is_none());
        assert!(login_refusal(LoginPack::Mysql, LoginPart::Password, "p\u{1F600}").is_none());
        assert!(login_refusal(LoginPack::Ssh, LoginPart::User, "u\u{1F600}").is_none());
        assert!(login_refusal(LoginPack::Ssh, LoginPart::User, "my name").is_none());
        assert!(login_refusal(LoginPack::XmlRpc, LoginPart::User, "ad:min").is_some());
        assert!(login_refusal(LoginPack::XmlRpc, LoginPart::Password, "pa:ss").is_none());
        for pack in [LoginPack::Ftp, LoginPack::Pop3, LoginPack::Imap] {
            assert!(login_refusal(pack, LoginPart::Password, "pass\r\nQUIT").is_some());
        }
        for pack in [
            LoginPack::Ftp,
            LoginPack::Pop3,
            LoginPack::Imap,
            LoginPack::Smtp,
            LoginPack::Ssh,
            LoginPack::Mysql,
            LoginPack::XmlRpc,
        ] {
            assert!(login_refusal(pack, LoginPart::User, "").is_some());
            assert!(login_refusal(pack, LoginPart::Password, "a\0b").is_some());
            assert!(login_refusal(pack, LoginPart::User, "root").is_none());
        }
    }

    proptest::proptest! {
        // A fixed seed and no file of past failures: the same cases on every run.
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 256,
            rng_seed: proptest::test_runner::RngSeed::Fixed(50),
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]

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

            if carried(LoginPack::Ssh, &user, &password) {
                proptest::prop_assert!(super::super::ssh::password_login(
                    &user, &password, &user, Some(&password)
                ));
                proptest::prop_assert!(!super::super::ssh::password_login(
                    &user, &wrong, &user, Some(&password)
                ));
            }

            if carried(LoginPack::Mysql, &user, &password) {
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

            if carried(LoginPack::XmlRpc, &user, &password) {
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
        assert!(login_refusal(LoginPack::XmlRpc, LoginPart::User, "ad:min").is_some());
    }
}
