//! What the FTP pack adds to `expect_received` on its server peer: `ftp_session = {
//! stored, quit, logged_in, nothing_stored }`, judged once every session of the peer has
//! ended (the client quit or closed).
//!
//! - `stored = { path = "/uploads/photo.bin", content = PAYLOAD }` (or `tree_file =
//!   "ftp-upload/photo.bin"`, a file of a tree of `fixtures/trees/`, the one the
//!   scenario's `{dir}` holds): a file was stored whole at that path, in `TYPE I`, byte
//!   for byte the expected one (SPEC ftp/1). A difference names its first byte, and says
//!   when it is a text-mode upload's (`TYPE A`, a CR added before an LF); a file stored
//!   elsewhere (the local path sent as the name) is named with the `STOR` that did it;
//! - `nothing_stored = true`: no file was stored whole (SPEC ftp/2: a refused login, a
//!   data connection that failed);
//! - `quit = true`: every session ended with `QUIT` (SPEC ftp/2), not a bare close; it
//!   holds when the program never connected (put it after the program's `expect_exit`);
//! - `logged_in = true`: some session logged in.
//!
//! ```toml
//! [[step]]
//! expect_received = "ftp"
//! ftp_session = { stored = { path = "/photo.bin", tree_file = "ftp-upload/photo.bin" }, quit = true }
//! ```

use std::sync::Arc;

use serde::Deserialize;

use super::record::{FtpSession, FtpStore, StoreOutcome, TransferType};
use crate::judge::bytes::{Evaluation, compare_exact};
use crate::judge::output::{Facts, ProtocolExpectation};
use crate::outcome::{StepFailure, StepResult};
use crate::payload::{Concatenation, Payload, PayloadSpec};
use crate::protocols::mailstore::judge_logins;
use crate::protocols::sessions::once_over;
use crate::protocols::{ExpectationKind, ExpectationShape, Loaded, OptionsInput};
use crate::tree::Tree;
use crate::world::capture::Capture;

/// `ftp_session = { ... }`.
pub(super) const FTP_SESSION: ExpectationKind = ExpectationKind {
    key: "ftp_session",
    load: load_ftp_session,
    schema: |generator| generator.subschema_for::<FtpSessionExpectation>(),
    judges_whole_stdout: true,
};

/// `stored = { path, content }` or `{ path, tree_file }`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StoredFile {
    /// The absolute path it must be stored at (`/photo.bin`, `/uploads/photo.bin`).
    pub path: String,
    /// Its bytes.
    #[serde(default)]
    pub content: Option<PayloadSpec>,
    /// Or the file of a tree it must equal: `TREE/PATH` (`ftp-upload/photo.bin`).
    #[serde(default)]
    pub tree_file: Option<String>,
}

/// `ftp_session = { stored = {...}, quit = true, logged_in = true, nothing_stored =
/// true }`: each given or `true` is judged.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct FtpSessionExpectation {
    /// A file stored whole, in `TYPE I`, byte for byte.
    #[serde(default)]
    pub stored: Option<StoredFile>,
    /// No file stored whole.
    #[serde(default)]
    pub nothing_stored: bool,
    /// Every session ended with `QUIT`.
    #[serde(default)]
    pub quit: bool,
    /// Some session logged in.
    #[serde(default)]
    pub logged_in: bool,
}

/// What `stored` wants, loaded.
#[derive(Debug)]
pub(super) struct Wanted {
    pub path: String,
    pub content: Payload,
    /// What the content is, for the report.
    pub described: String,
}

#[derive(Debug)]
struct FtpSessionJudged {
    server: String,
    expectation: FtpSessionExpectation,
    wanted: Option<Wanted>,
}

fn load_ftp_session(
    input: OptionsInput<'_, '_, ExpectationShape<'_>>,
) -> Loaded<Arc<dyn ProtocolExpectation>> {
    let expectation = FtpSessionExpectation::deserialize(input.value)?;
    let server = input.step.server_speaking(super::PACK.key, "ftp_session")?;
    let FtpSessionExpectation {
        stored,
        nothing_stored,
        quit,
        logged_in,
    } = &expectation;
    if stored.is_none() && !(nothing_stored | quit | logged_in) {
        return Err(
            "`ftp_session` judges nothing unless `stored` is given or a field is true".into(),
        );
    }
    if stored.is_some() && *nothing_stored {
        return Err("`ftp_session`: `stored` and `nothing_stored` cannot both hold".into());
    }
    let wanted = match stored {
        None => None,
        Some(stored) => Some(load_wanted(stored, input.kit_root)?),
    };
    Ok(Arc::new(FtpSessionJudged {
        server,
        expectation,
        wanted,
    }))
}

fn load_wanted(stored: &StoredFile, kit_root: &std::path::Path) -> Result<Wanted, String> {
    if !stored.path.starts_with('/') {
        return Err(format!(
            "`ftp_session.stored.path` is absolute (`/{}`)",
            stored.path
        ));
    }
    let (content, described) = match (&stored.content, &stored.tree_file) {
        (Some(content), None) => {
            let payload = content.resolve(kit_root)?;
            let described = payload.describe();
            (payload, described)
        }
        (None, Some(tree_file)) => {
            let Some((tree, path)) = tree_file.split_once('/') else {
                return Err(format!(
                    "`tree_file` is TREE/PATH (`ftp-upload/photo.bin`), not `{tree_file}`"
                ));
            };
            let tree = Tree::load(kit_root, tree)?;
            let Some((_, payload)) = tree.files.iter().find(|(name, _)| name == path) else {
                return Err(format!("tree `{}` has no file `{path}`", tree.name));
            };
            (payload.clone(), format!("the file {path} of {{dir}}"))
        }
        _ => {
            return Err(
                "`ftp_session.stored`: give its `content` or its `tree_file`, one of them".into(),
            );
        }
    };
    Ok(Wanted {
        path: stored.path.clone(),
        content,
        described,
    })
}

impl ProtocolExpectation for FtpSessionJudged {
    fn evaluate(
        &self,
        facts: &dyn Facts,
        where_: &str,
        _: &Capture,
        _: bool,
    ) -> StepResult<Evaluation> {
        let needs_a_session = self.wanted.is_some() || self.expectation.logged_in;
        once_over(
            facts,
            &self.server,
            where_,
            needs_a_session,
            |sessions: &[FtpSession]| {
                judge_ftp_session(sessions, &self.expectation, self.wanted.as_ref())
            },
        )
    }
}

/// Judges the sessions; the failure names the first thing that does not hold.
pub(super) fn judge_ftp_session(
    sessions: &[FtpSession],
    expected: &FtpSessionExpectation,
    wanted: Option<&Wanted>,
) -> StepResult<()> {
    // What came past the peer's bound was not kept: nothing else can be judged of it.
    if let Some(said) = sessions
        .iter()
        .find_map(|session| session.past_bound.as_ref())
    {
        return Err(StepFailure::fail(
            "the client's uploads within the harness's bounds",
            said.clone(),
        ));
    }
    let logins = sessions.iter().flat_map(|session| &session.logins);
    judge_logins(logins, expected.logged_in, false, "USER and PASS")
        .map_err(|(expected, seen)| StepFailure::fail(expected, seen))?;
    let stores: Vec<&FtpStore> = sessions
        .iter()
        .flat_map(|session| &session.stores)
        .collect();
    if let Some(wanted) = wanted {
        judge_stored(&stores, wanted)?;
    }
    if expected.nothing_stored
        && let Some(store) = stores
            .iter()
            .find(|store| store.outcome == StoreOutcome::Stored)
    {
        return Err(StepFailure::fail(
            "no file stored: the upload cannot succeed here (SPEC ftp/2)",
            format!(
                "`STOR {}` stored {} bytes at {}",
                store.asked,
                store.bytes.len(),
                store.path
            ),
        ));
    }
    if expected.quit
        && let Some(index) = sessions.iter().position(|session| !session.quit)
    {
        return Err(StepFailure::fail(
            "the control connection to end with QUIT whenever it was opened (SPEC ftp/2, RFC 959 §4.1.1)",
            format!(
                "connection {} closed without QUIT, after {}",
                index + 1,
                last_commands(&sessions[index])
            ),
        ));
    }
    Ok(())
}

/// The last few commands of a session, for the report.
fn last_commands(session: &FtpSession) -> String {
    let commands = &session.commands;
    if commands.is_empty() {
        return "no command".into();
    }
    let from = commands.len().saturating_sub(4);
    let shown: Vec<String> = commands[from..]
        .iter()
        .map(|command| format!("`{command}`"))
        .collect();
    format!(
        "{}{}",
        if from > 0 { "..., " } else { "" },
        shown.join(", ")
    )
}

/// The file at `wanted.path` was stored whole, in `TYPE I`, byte for byte.
fn judge_stored(stores: &[&FtpStore], wanted: &Wanted) -> StepResult<()> {
    let expected = format!(
        "{} stored at {} in TYPE I, byte for byte (SPEC ftp/1)",
        wanted.described, wanted.path
    );
    let Some(store) = stores
        .iter()
        .rev()
        .find(|store| store.path == wanted.path && store.outcome == StoreOutcome::Stored)
    else {
        let seen = if stores.is_empty() {
            "no STOR".to_owned()
        } else {
            stores
                .iter()
                .map(|store| match &store.outcome {
                    StoreOutcome::Stored => format!(
                        "`STOR {}` stored {} bytes at {}",
                        store.asked,
                        store.bytes.len(),
                        store.path
                    ),
                    StoreOutcome::Refused(reply) | StoreOutcome::Failed(reply) => {
                        format!("`STOR {}` answered `{reply}`", store.asked)
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        return Err(StepFailure::fail(expected, seen));
    };
    let ascii = store.transfer_type == TransferType::Ascii;
    let in_type_a = "stored in TYPE A (ASCII, the default until TYPE I): a server may rewrite its line ends (RFC 959 §3.1.1.1)";
    let content = Concatenation::new(vec![wanted.content.clone()]);
    let mut verified = 0;
    match compare_exact(&store.bytes, &content, &expected, true, &mut verified) {
        Ok(Evaluation::Holds { .. }) if ascii => Err(StepFailure::fail(
            expected,
            format!("the right bytes, but {in_type_a}"),
        )),
        Ok(Evaluation::Holds { .. }) => Ok(()),
        Ok(_) => Err(StepFailure::fail(
            expected,
            format!(
                "{} of {} bytes: the file was cut short{}",
                store.bytes.len(),
                content.len(),
                if ascii {
                    format!("; {in_type_a}")
                } else {
                    String::new()
                }
            ),
        )),
        Err(mut failure) => {
            let at = mismatch_offset(&store.bytes, &content);
            let mut notes = Vec::new();
            if ascii {
                notes.push(in_type_a.to_owned());
            }
            if let Some(at) = at
                && byte_at(&store.bytes, at) == Some(b'\r')
                && content_byte_at(&content, at) == Some(b'\n')
            {
                notes.push(format!(
                    "a CR added before the LF at byte {at}: the file went as text lines (ftplib's storlines, or a file opened in text mode)"
                ));
            }
            if !notes.is_empty() {
                failure.seen = format!("{}; {}", failure.seen, notes.join("; "));
            }
            Err(failure)
        }
    }
}

/// The first byte where the stored file and the expected one differ.
fn mismatch_offset(stored: &Capture, content: &Concatenation) -> Option<u64> {
    let (mut ours, mut theirs) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    let mut offset = 0u64;
    loop {
        let got = stored.read_at(offset, &mut theirs).ok()?;
        let want = content.read_at(offset, &mut ours).ok()?;
        let both = got.min(want);
        if let Some(index) = (0..both).find(|index| ours[*index] != theirs[*index]) {
            return Some(offset + index as u64);
        }
        if both == 0 {
            return (got != want).then_some(offset);
        }
        offset += both as u64;
    }
}

fn byte_at(capture: &Capture, at: u64) -> Option<u8> {
    let mut byte = [0u8];
    (capture.read_at(at, &mut byte).ok()? == 1).then_some(byte[0])
}

fn content_byte_at(content: &Concatenation, at: u64) -> Option<u8> {
    let mut byte = [0u8];
    (content.read_at(at, &mut byte).ok()? == 1).then_some(byte[0])
}
