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
}
