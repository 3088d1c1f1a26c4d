//! Properties of a whole SMTP session ([`serve_one`]) on any client input: the line
//! reader, the command parser and the session's state together (see `crate::testing`).

use proptest::collection::vec;
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Printer, SessionOutcome, serve_one};
use crate::lines::LineReader;
use crate::net::Tokio;
use crate::smtp_client::reply::{Received, read_reply};
use crate::testing::{SESSION_CASES, any_case, mixed, within_deadline};

/// Every code this server may answer a client that does not time out: greeting and
/// goodbye, OK, cannot verify, go ahead, too many recipients, and the errors.
const CODES: [u16; 12] = [220, 221, 250, 252, 354, 452, 500, 501, 502, 503, 552, 555];

/// Lines of an SMTP session, good and bad, and message lines.
fn session_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "(?i:ehlo|helo) [a-z.]{0,8}\r?\n",
        "(?i:mail from:)<[a-z@.]{0,8}>( SIZE=[0-9]{1,9}| BODY=8BITMIME| X=Y)?\r?\n",
        "(?i:rcpt to:)<[a-z@.]{0,8}>\r?\n",
        "(?i:data|rset|noop|vrfy|quit|starttls)( [a-z]{0,4})?\r?\n",
        "\\.{0,2}[ -~]{0,30}\r?\n",
        "[A-Za-z]{0,6} [ -~]{0,40}\r?\n",
    ]
}

/// Plays `script` against `serve_one` through a pipe of `pipe` bytes, then half-closes;
/// returns the server's bytes and how the session ended. Messages are printed nowhere.
fn session(script: &[u8], pipe: usize) -> (Vec<u8>, SessionOutcome) {
    within_deadline(async {
        let (client_end, server_end) = tokio::io::duplex(pipe);
        let (mut from_server, mut to_server) = tokio::io::split(client_end);
        // Writing and reading at once, as a client does: a small pipe would block the
        // server's replies until they are read.
        let client = async {
            let send = async {
                // The server may stop reading (after QUIT) and close: not an error here.
                let _ = to_server.write_all(script).await;
                let _ = to_server.shutdown().await;
            };
            let mut replies = Vec::new();
            let ((), received) = tokio::join!(send, from_server.read_to_end(&mut replies));
            received.expect("the pipe does not fail");
            replies
        };
        let printer = Printer::new(tokio::io::sink());
        tokio::join!(client, serve_one(server_end, Tokio, printer))
    })
}

/// The codes of the replies in `bytes`, read as the client reads them; fails on anything
/// that is not a well-formed reply.
fn codes(bytes: &[u8]) -> Result<Vec<u16>, TestCaseError> {
    let mut connection = LineReader::new(bytes);
    within_deadline(async {
        let mut codes = Vec::new();
        loop {
            match read_reply(&mut connection).await.expect("bytes in memory") {
                Received::Reply(reply) => codes.push(reply.code),
                Received::Closed => return Ok(codes),
                Received::Malformed(why) => return Err(TestCaseError::fail(why)),
            }
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(SESSION_CASES))]

    /// Whatever a client sends, the session ends when its input ends (or at QUIT), and
    /// every byte the server sent back is a well-formed reply with one of its codes: bad
    /// input is answered in SMTP (500, 501, 502, 503...), never with a crash, a silence
    /// or a broken connection.
    #[test]
    fn any_client_gets_well_formed_replies_and_the_session_ends(
        script in mixed(session_line()),
        pipe in prop_oneof![1usize..16, Just(4096)],
    ) {
        let (replies, outcome) = session(&script, pipe);
        prop_assert!(
            matches!(outcome, SessionOutcome::Quit { .. } | SessionOutcome::Vanished { .. }),
            "{:?}", outcome
        );
        let codes = codes(&replies)?;
        prop_assert_eq!(codes.first(), Some(&220));
        prop_assert!(codes.iter().all(|code| CODES.contains(code)), "{:?}", codes);
    }

    /// RFC 5321 §4.2.4 and SPEC smtpd/1: a line whose verb is no command is answered 500,
    /// a command with arguments it cannot have 501, and the session goes on.
    #[test]
    fn unknown_verbs_are_500_and_bad_arguments_501(
        (line, code) in prop_oneof![
            "[A-Za-z]{0,3}( [ -~]{0,10})?|[A-Za-z]{5,7}( [ -~]{0,10})?|[0-9#*%][ -~]{0,10}"
                .prop_map(|line| (line.into_bytes(), 500)),
            // Not text at all: bytes above 0x7F first.
            (vec(0x80u8..=0xff, 1..3), "[ -~]{0,5}")
                .prop_map(|(bytes, text)| ([bytes, text.into_bytes()].concat(), 500)),
            // Verbs in any ASCII case (a regex's `(?i)` would also give `ſ` for `s`).
            (prop_oneof![any_case("mail"), any_case("rcpt")], "( [0-9<>@]{1,10})?")
                .prop_map(|(verb, arguments)| ((verb + &arguments).into_bytes(), 501)),
            prop_oneof![any_case("ehlo"), any_case("helo"), any_case("vrfy")]
                .prop_map(|verb| (verb.into_bytes(), 501)),
            (prop_oneof![any_case("data"), any_case("rset"), any_case("quit")], " [!-~]{1,8}")
                .prop_map(|(verb, arguments)| ((verb + &arguments).into_bytes(), 501)),
        ],
    ) {
        let script = [&b"EHLO client\r\n"[..], &line, b"\r\nQUIT\r\n"].concat();
        let (replies, _) = session(&script, 4096);
        prop_assert_eq!(codes(&replies)?, vec![220, 250, code, 221]);
    }
}
