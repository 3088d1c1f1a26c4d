//! Properties of a whole connection to the file server ([`serve_one`]) on any client
//! input: the head reader, the target resolver and the response together (see
//! `crate::testing`).

use std::path::PathBuf;

use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{ConnectionOutcome, serve_one};
use crate::net::Tokio;
use crate::testing::{SESSION_CASES, mixed, within_deadline};

/// What the secret file outside the root holds: it must never be sent.
const SECRET: &str = "TOP SECRET";

/// A root with one file, and a secret next to it (outside the root).
fn site() -> (tempfile::TempDir, PathBuf) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let root = folder.path().join("root");
    std::fs::create_dir(&root).expect("the root");
    std::fs::write(root.join("hello.txt"), "hello, world\n").expect("a file");
    std::fs::write(folder.path().join("secret.txt"), SECRET).expect("the secret");
    let root = root.canonicalize().expect("a canonical root");
    (folder, root)
}

/// Lines of a request head, biased to the targets that matter here.
fn request_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "(GET|HEAD|POST|[A-Z]{1,5}) (/hello.txt|/../secret.txt|/%2e%2e/secret.txt|/..%2fsecret.txt|\
         //secret.txt|/[!-~]{0,20}) HTTP/1\\.[01]\r?\n",
        "[A-Za-z-]{1,12}: ?[ -~]{0,30}\r?\n",
        "\r?\n",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(SESSION_CASES))]

    /// SPEC web/5 and web/6: whatever a client sends, the connection ends when its input
    /// ends; it gets nothing if it sent nothing, else one response whose status is one the
    /// server has (a malformed request is a 400 or a 431, never a crash or a silence); and
    /// the file outside the root is never sent.
    #[test]
    fn any_client_gets_a_response_and_never_the_secret(
        request in mixed(request_line()),
        pipe in prop_oneof![1usize..16, Just(4096)],
    ) {
        let (_folder, root) = site();
        let (response, outcome) = within_deadline(async {
            let (client_end, server_end) = tokio::io::duplex(pipe);
            let (mut from_server, mut to_server) = tokio::io::split(client_end);
            let client = async {
                let send = async {
                    // The server stops reading after a refusal: not an error here.
                    let _ = to_server.write_all(&request).await;
                    let _ = to_server.shutdown().await;
                };
                let mut response = Vec::new();
                let ((), received) = tokio::join!(send, from_server.read_to_end(&mut response));
                received.expect("the pipe does not fail");
                response
            };
            tokio::join!(client, serve_one(server_end, Tokio, &root))
        });
        let response = String::from_utf8_lossy(&response);
        prop_assert!(!response.contains(SECRET));
        if request.is_empty() {
            prop_assert!(matches!(outcome, ConnectionOutcome::NoRequest));
            prop_assert!(response.is_empty());
            return Ok(());
        }
        prop_assert!(
            matches!(outcome, ConnectionOutcome::Answered { .. } | ConnectionOutcome::Truncated { .. }),
            "{:?}", outcome
        );
        let status = response.strip_prefix("HTTP/1.1 ").and_then(|rest| rest.get(..3));
        prop_assert!(
            matches!(status, Some("200" | "400" | "403" | "404" | "431" | "501")),
            "{:?}", response.lines().next()
        );
    }
}
