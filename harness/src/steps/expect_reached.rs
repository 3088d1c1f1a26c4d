//! `expect_reached = "client"`: the program got as far as the condition its scenario is
//! about, before anything judges how it ended. An error scenario (a refused login, a
//! refused command, no server at all) wants a message on stderr and a non-zero exit; a
//! program that stops before it ever meets the error (an argparse usage error, a
//! `SyntaxError`, an `ImportError`) shows both, and must not pass for that. This step
//! proves the error was met, and when it was not, says what the program did instead:
//! `it never connected to ftp; it ended: exit status 2 after 0.05s; its stderr ends with:
//! "ftp-upload: error: the following arguments are required: --host"`.
//!
//! ```toml
//! [[step]]
//! expect_reached = "client"   # the program
//! at = "ftp"                  # the `listen` peer whose record tells (a protocol pack's)
//! reached = "refused-login"   # how far: see below
//! within_ms = 15000
//!
//! [[step]]
//! expect_reached = "client"
//! at = "ftp"
//! reached = "sent"
//! commands = ["STOR"]         # any of these commands, verbs in capitals
//!
//! [[step]]
//! expect_reached = "client"   # no `at`: the program was pointed at a port nothing
//! reached = "tried-to-connect" # listens on, and must have tried it (`sent-datagram`: UDP)
//! ```
//!
//! How far, in the words every protocol pack's record shares
//! (`crate::peers::ProtocolRecord::progress`): `connected` (a connection to the peer),
//! `tried-tls` (it began a TLS handshake there: its first bytes of it came),
//! `tried-login` (it sent a password or a key's signature), `refused-login` (the server
//! refused one), `logged-in` (the server accepted one), `sent` (one of `commands`).
//! `tried-to-connect` is counted by the kernel of the scenario's own network namespace
//! (`AttemptFails`): a `connect` that was refused (or reset, or timed out) before it was
//! established, as one to a port where nothing listens is. Not `ActiveOpens`, every
//! `connect`: the harness's own connections count there too (to a forwarder that then
//! never tries its remote). `sent-datagram` likewise from `NoPorts` (UDP, both families):
//! a datagram that reached a port where nothing listens. Without a namespace of its own (a shared loopback, the simulated
//! world) it cannot be told, and the step log says it was not judged.
//!
//! The step waits while the program runs (until `within_ms`, default 15000: an
//! interpreter starting on a loaded machine); once the program has ended, the record has
//! a moment ([`SETTLE`]) to take in what the peer was still reading, then the step
//! judges.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::expect_connect_rate::{attempt_fails, udp_no_ports};
use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::outcome::{StepFailure, harness_trouble};
use crate::peers::Progress;

pub(crate) const KIND: StepKind = StepKind {
    key: "expect_reached",
    load,
    schema: super::schema_of::<RawExpectReached>,
};

/// How long after the program ended its peer's record may still change (a connection
/// the peer had not yet accepted, a last command it had not yet read).
const SETTLE: Duration = Duration::from_millis(500);

/// The default of `within_ms`.
const DEFAULT_WITHIN_MS: u64 = 15_000;

/// How far the program must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum Reached {
    /// It tried to connect (no `at`: the port it was given has nothing listening).
    TriedToConnect,
    /// It sent a datagram (no `at`: the UDP port it was given has nothing listening).
    SentDatagram,
    /// It connected to the peer `at`.
    Connected,
    /// It began a TLS handshake with the peer `at` (whether or not it then refused the
    /// certificate).
    TriedTls,
    /// It sent a password or a key's signature.
    TriedLogin,
    /// The server refused a login.
    RefusedLogin,
    /// The server accepted a login.
    LoggedIn,
    /// It sent one of `commands`.
    Sent,
}

/// The step as written.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawExpectReached {
    /// The program.
    expect_reached: String,
    /// The `listen` peer (of a protocol pack) whose record tells; none with
    /// `reached = "tried-to-connect"`.
    at: Option<String>,
    /// How far: `tried-to-connect`, `sent-datagram`, `connected`, `tried-tls`,
    /// `tried-login`, `refused-login`, `logged-in`, `sent`.
    reached: Reached,
    /// With `reached = "sent"`: the commands, any of which will do (verbs in capitals).
    commands: Option<Vec<String>>,
    within_ms: Option<u64>,
}

#[derive(Debug)]
struct ExpectReached {
    program: String,
    at: Option<String>,
    reached: Reached,
    commands: Vec<String>,
    within: Duration,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawExpectReached::deserialize(input.table)?;
    let program = input.names.program(&raw.expect_reached)?;
    let at = match (&raw.at, raw.reached) {
        (Some(_), Reached::TriedToConnect | Reached::SentDatagram) => {
            return Err(format!(
                "`reached = \"{}\"` is counted without a peer: leave `at` out",
                serde_plain(raw.reached)
            )
            .into());
        }
        (None, Reached::TriedToConnect | Reached::SentDatagram) => None,
        (None, _) => {
            return Err(
                "give `at`: the `listen` peer whose record tells how far the program got".into(),
            );
        }
        (Some(at), _) => {
            if !input.names.speaking.contains_key(at) {
                return Err(format!(
                    "`at = \"{at}\"` is not a `listen` peer speaking a protocol pack's dialogue"
                )
                .into());
            }
            Some(at.clone())
        }
    };
    let commands: Vec<String> = raw
        .commands
        .unwrap_or_default()
        .iter()
        .map(|command| command.to_ascii_uppercase())
        .collect();
    if (raw.reached == Reached::Sent) == commands.is_empty() {
        return Err("`commands` goes with `reached = \"sent\"`, and only with it".into());
    }
    let within_ms = raw.within_ms.unwrap_or(DEFAULT_WITHIN_MS);
    if !(1..=120_000).contains(&within_ms) {
        return Err("`within_ms` is 1 to 120000".into());
    }
    Ok(Arc::new(ExpectReached {
        program,
        at,
        reached: raw.reached,
        commands,
        within: Duration::from_millis(within_ms),
    }))
}

impl ExpectReached {
    /// The milestone in words: `ftp's refusal of a login`.
    fn wanted(&self) -> String {
        let at = self.at.as_deref().unwrap_or_default();
        let what = match self.reached {
            Reached::TriedToConnect => {
                "to try to connect (to the port it was given, where nothing listens)".to_owned()
            }
            Reached::SentDatagram => {
                "to send a datagram (to the port it was given, where nothing listens)".to_owned()
            }
            Reached::Connected => format!("to connect to {at}"),
            Reached::TriedTls => format!("to begin a TLS handshake with {at}"),
            Reached::TriedLogin => format!("to try to log in to {at}"),
            Reached::RefusedLogin => format!("to try to log in to {at}, and be refused"),
            Reached::LoggedIn => format!("to log in to {at}"),
            Reached::Sent => format!("to send {} to {at}", self.commands_in_words()),
        };
        format!(
            "{} {what} before it ends: the error this scenario is about must have been met",
            self.program
        )
    }

    fn commands_in_words(&self) -> String {
        let quoted: Vec<String> = self
            .commands
            .iter()
            .map(|command| format!("`{command}`"))
            .collect();
        quoted.join(" or ")
    }

    /// Whether `progress` holds the milestone (a peer's; `tried-to-connect` is not).
    fn holds(&self, progress: &Progress) -> bool {
        match self.reached {
            Reached::TriedToConnect | Reached::SentDatagram => false,
            Reached::Connected => progress.connections > 0,
            Reached::TriedTls => progress.tls_handshakes > 0,
            Reached::TriedLogin => !progress.logins.is_empty(),
            Reached::RefusedLogin => progress.logins.contains(&false),
            Reached::LoggedIn => progress.logins.contains(&true),
            Reached::Sent => progress
                .commands
                .iter()
                .any(|command| self.commands.contains(command)),
        }
    }

    /// How far the program got instead, from the peer's record.
    fn instead(&self, progress: &Progress) -> String {
        let at = self.at.as_deref().unwrap_or_default();
        if progress.connections == 0 {
            return format!("it never connected to {at}");
        }
        let commands = last_commands(&progress.commands);
        match self.reached {
            Reached::TriedLogin | Reached::RefusedLogin | Reached::LoggedIn
                if progress.logins.is_empty() =>
            {
                format!("it connected but never tried to log in ({commands})")
            }
            Reached::RefusedLogin => {
                format!("its logins were all accepted ({commands})")
            }
            Reached::LoggedIn => format!("every login it tried was refused ({commands})"),
            Reached::TriedTls => {
                format!("it connected, never began a TLS handshake, and {commands}")
            }
            _ => format!("it connected, and {commands}"),
        }
    }

    /// Whether the program tried to connect (or sent a datagram), if the scenario's
    /// network can tell (or, for a connection, without one, the interposed library in the
    /// program).
    fn tried_to_connect(
        &self,
        context: &(dyn StepContext + Send),
    ) -> Result<Option<bool>, StepFailure> {
        match (self.reached, context.own_network()) {
            (Reached::SentDatagram, true) => Ok(Some(udp_no_ports().map_err(harness_trouble)? > 0)),
            (Reached::SentDatagram, false) => Ok(None),
            (_, false) => Ok(context
                .connect_attempts(&self.program)
                .map(|attempts| attempts > 0)),
            (_, true) => Ok(Some(attempt_fails().map_err(harness_trouble)? > 0)),
        }
    }
}

/// `its last commands: `USER alice`, `PASS`` or `it sent no command`.
fn last_commands(commands: &[String]) -> String {
    if commands.is_empty() {
        return "sent no command".to_owned();
    }
    let from = commands.len().saturating_sub(5);
    let shown: Vec<String> = commands[from..]
        .iter()
        .map(|command| format!("`{}`", crate::escape::escaped(command)))
        .collect();
    format!(
        "its {}commands: {}{}",
        if from > 0 { "last " } else { "" },
        if from > 0 { "..., " } else { "" },
        shown.join(", ")
    )
}

impl StepAction for ExpectReached {
    fn describe(&self) -> String {
        match &self.at {
            Some(at) => format!(
                "{} reached {} at {at}{}",
                self.program,
                serde_plain(self.reached),
                if self.commands.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", self.commands_in_words())
                }
            ),
            None => format!("{} tried to connect", self.program),
        }
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            let started = Instant::now();
            let mut ended_at: Option<Instant> = None;
            loop {
                let progress = match &self.at {
                    None => None,
                    Some(at) => Some(context.progress(at).ok_or_else(|| {
                        harness_trouble(format!("the peer {at} keeps no sessions to judge"))
                    })?),
                };
                let holds = match &progress {
                    Some(progress) => self.holds(progress),
                    None => match self.tried_to_connect(context)? {
                        Some(tried) => tried,
                        None => {
                            context.note(format!(
                                "whether {} {} is not judged: without the scenario's own network namespace its attempts cannot be counted",
                                self.program,
                                serde_plain(self.reached).replace('-', " ")
                            ));
                            return Ok(());
                        }
                    },
                };
                if holds {
                    return Ok(());
                }
                let instead = || match &progress {
                    Some(progress) => self.instead(progress),
                    None if self.reached == Reached::SentDatagram => {
                        "it never sent a datagram there".to_owned()
                    }
                    None => "it never tried to connect".to_owned(),
                };
                if context.has_exited(&self.program) {
                    let since = *ended_at.get_or_insert_with(Instant::now);
                    if since.elapsed() >= SETTLE {
                        let ending = context.ending(&self.program).unwrap_or_default();
                        return Err(StepFailure::fail(
                            self.wanted(),
                            format!("{}; it ended: {ending}", instead()),
                        ));
                    }
                } else if let Some(still) = context.blocked_for_good() {
                    return Err(StepFailure::fail(
                        self.wanted(),
                        format!("{}, and it is blocked for good: {still}", instead()),
                    ));
                } else if started.elapsed() >= self.within {
                    return Err(StepFailure::fail(
                        self.wanted(),
                        format!(
                            "{} within {} ms; it is still running",
                            instead(),
                            self.within.as_millis()
                        ),
                    ));
                }
                super::pause(context.endings()).await;
            }
        })
    }
}

/// The milestone as the scenario writes it (`refused-login`).
fn serde_plain(reached: Reached) -> &'static str {
    match reached {
        Reached::TriedToConnect => "tried-to-connect",
        Reached::SentDatagram => "sent-datagram",
        Reached::Connected => "connected",
        Reached::TriedTls => "tried-tls",
        Reached::TriedLogin => "tried-login",
        Reached::RefusedLogin => "refused-login",
        Reached::LoggedIn => "logged-in",
        Reached::Sent => "sent",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(reached: Reached, commands: &[&str]) -> ExpectReached {
        ExpectReached {
            program: "client".into(),
            at: Some("ftp".into()),
            reached,
            commands: commands
                .iter()
                .map(|command| (*command).to_owned())
                .collect(),
            within: Duration::from_secs(1),
        }
    }

    fn progress(connections: usize, logins: &[bool], commands: &[&str]) -> Progress {
        Progress {
            connections,
            logins: logins.to_vec(),
            commands: commands
                .iter()
                .map(|command| (*command).to_owned())
                .collect(),
            tls_handshakes: 0,
        }
    }

    #[test]
    fn a_program_that_never_connected_is_told_so() {
        let step = step(Reached::RefusedLogin, &[]);
        let none = progress(0, &[], &[]);
        assert!(!step.holds(&none));
        assert_eq!(step.instead(&none), "it never connected to ftp");
    }

    #[test]
    fn a_refused_login_is_told_from_an_accepted_one() {
        let step = step(Reached::RefusedLogin, &[]);
        assert!(step.holds(&progress(1, &[true, false], &["USER", "PASS"])));
        let accepted = progress(1, &[true], &["USER", "PASS", "QUIT"]);
        assert!(!step.holds(&accepted));
        assert_eq!(
            step.instead(&accepted),
            "its logins were all accepted (its commands: `USER`, `PASS`, `QUIT`)"
        );
    }

    #[test]
    fn any_of_the_commands_will_do_and_the_last_ones_are_shown() {
        let step = step(Reached::Sent, &["EPSV", "PASV"]);
        assert!(step.holds(&progress(1, &[true], &["USER", "PASS", "PASV"])));
        let short = progress(1, &[true], &["USER", "PASS", "TYPE", "CWD", "SYST", "QUIT"]);
        assert!(!step.holds(&short));
        assert_eq!(
            step.instead(&short),
            "it connected, and its last commands: ..., `PASS`, `TYPE`, `CWD`, `SYST`, `QUIT`"
        );
    }
}
