//! `direct_crowd = "server"`: many users sending private messages at once (SPEC
//! direct/3: "50 clients exchanging at once: no message lost, misrouted or merged").
//!
//! ```toml
//! [[step]]
//! direct_crowd = "server"
//! clients = 50
//! messages = 4          # each user sends this many, to as many other users
//! within_ms = 20000
//! ```
//!
//! `user1` ... `userN` register one by one. Before the next registers, `user1` sends the
//! newest a message and waits for it to arrive (retrying a few times while the server
//! answers `error:`, as registration may take a moment): so every user is known to be
//! registered before the exchange. Then every user sends its messages at once, all of
//! them in one write (several lines in one segment, as a client that types fast sends
//! them), to users spread over the crowd; half of the messages contain `|` themselves.
//! Each user must receive exactly the messages sent to it, each as `sender|message`:
//! none missing, none twice, none meant for another user, none cut or glued to another.
//! Lines that are not messages (greetings, acknowledgements) are not graded.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::task::JoinSet;

use super::members::Member;
use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::outcome::StepFailure;

pub(crate) const KIND: StepKind = StepKind {
    key: "direct_crowd",
    load,
    schema: super::schema_of::<RawDirectCrowd>,
};

const MAX_USERS: u32 = 1_000;
const MAX_MESSAGES: u32 = 20;
const DEFAULT_WITHIN_MS: u64 = 20_000;

/// How often `user1` tries to reach a user that just registered, and how long each try
/// waits.
const PROBE_TRIES: u32 = 20;
const PROBE_PAUSE: Duration = Duration::from_millis(50);

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawDirectCrowd {
    direct_crowd: String,
    clients: u32,
    messages: u32,
    within_ms: Option<u64>,
}

#[derive(Debug)]
struct DirectCrowd {
    target: String,
    users: u32,
    messages: u32,
    within: Duration,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawDirectCrowd::deserialize(input.table)?;
    let target = input.names.listener(&raw.direct_crowd)?;
    if !(3..=MAX_USERS).contains(&raw.clients) {
        return Err(format!("`clients` is 3 to {MAX_USERS}").into());
    }
    if !(1..=MAX_MESSAGES).contains(&raw.messages) || raw.messages >= raw.clients {
        return Err(format!(
            "`messages` is 1 to {MAX_MESSAGES}, and fewer than `clients` (each goes to another user)"
        )
        .into());
    }
    Ok(Arc::new(DirectCrowd {
        target,
        users: raw.clients,
        messages: raw.messages,
        within: Duration::from_millis(raw.within_ms.unwrap_or(DEFAULT_WITHIN_MS)),
    }))
}

impl StepAction for DirectCrowd {
    fn describe(&self) -> String {
        format!(
            "{} users register with {} (each reached by user1 before the next), then each sends {} messages at once in one write, half of them containing `|`; each user receives exactly its own (within {} ms)",
            self.users,
            self.target,
            self.messages,
            self.within.as_millis()
        )
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            let (host, port) = context.address(&self.target)?;
            let net = context.net();
            let expected = format!(
                "{} messages among {} users, each delivered once to its recipient only, whole",
                self.users * self.messages,
                self.users
            );
            let deadline = tokio::time::Instant::now() + self.within;
            match self.play(&net, &host, port, deadline).await {
                Ok(()) => {
                    context.note(format!(
                        "{} messages delivered among {} users",
                        self.users * self.messages,
                        self.users
                    ));
                    Ok(())
                }
                Err(seen) => Err(StepFailure::fail(expected, seen)),
            }
        })
    }
}

/// The `index`th message from user `from` (numbers from 1) to user `to`: half of them
/// contain `|`, which the server must not take for the recipient's separator.
fn message(from: u32, to: u32, index: u32) -> String {
    if index.is_multiple_of(2) {
        format!("note {index} from {from} to {to}")
    } else {
        format!("note {index} | from {from} | to {to}")
    }
}

impl DirectCrowd {
    /// The users the `from`th user writes to: spread evenly over the crowd, each
    /// another user (the offsets `k * stride` are distinct and below the crowd's size).
    fn recipients(&self, from: u32) -> Vec<u32> {
        let stride = ((self.users - 1) / (self.messages + 1)).max(1);
        (1..=self.messages)
            .map(|step| (from - 1 + step * stride) % self.users + 1)
            .collect()
    }

    async fn play(
        &self,
        net: &crate::world::sockets::PeerNet,
        host: &str,
        port: u16,
        deadline: tokio::time::Instant,
    ) -> Result<(), String> {
        let left = || deadline.saturating_duration_since(tokio::time::Instant::now());
        let mut first = Member::join(net, host, port, "user1").await?;
        let mut users = Vec::with_capacity(self.users as usize);
        for number in 2..=self.users {
            let name = format!("user{number}");
            let mut user = Member::join(net, host, port, &name).await?;
            // user1 reaches the newest user before the next one registers.
            let reached = first
                .say_until_heard(
                    &format!("probe|{name}"),
                    &mut user,
                    |line| line.trim_end() == "user1|probe",
                    PROBE_TRIES,
                    PROBE_PAUSE,
                )
                .await?;
            if !reached {
                return Err(format!(
                    "user1's message `probe|{name}` never reached {name} as `user1|probe` ({PROBE_TRIES} tries, {} registered before it): {}",
                    number - 2,
                    user.heard_so_far()
                ));
            }
            users.push(user);
        }
        users.insert(0, first);
        // Who must receive what: recipient -> the lines it must get, each once.
        let mut owed: BTreeMap<u32, BTreeMap<String, u32>> = BTreeMap::new();
        let mut outgoing = Vec::new();
        for from in 1..=self.users {
            let mut lines = String::new();
            for (index, to) in self.recipients(from).into_iter().enumerate() {
                let text = message(from, to, index as u32);
                lines.push_str(&format!("{text}|user{to}\n"));
                *owed
                    .entry(to)
                    .or_default()
                    .entry(format!("user{from}|{text}"))
                    .or_default() += 1;
            }
            outgoing.push(lines);
        }
        // Everyone sends at once, then reads until it has what it is owed.
        let mut exchanging = JoinSet::new();
        for (user, lines) in users.into_iter().zip(outgoing) {
            let number: u32 = user.name["user".len()..].parse().expect("named userN");
            let owed = owed.remove(&number).unwrap_or_default();
            let within = left();
            exchanging.spawn(async move { receive_owed(user, lines, owed, within).await });
        }
        let mut failures = Vec::new();
        let mut done = Vec::new();
        let mut still_waiting = 0;
        while let Some(finished) = exchanging.join_next().await {
            match finished {
                Ok((user, Ok(()))) => done.push(user),
                Ok((user, Err(miss))) => {
                    failures.push(format!("{}: {}", user.name, miss.reason));
                    done.push(user);
                    if miss.settled {
                        // The step has failed, whatever the others get: they are not
                        // waited for (a misrouting server would make each wait its
                        // deadline out).
                        still_waiting = exchanging.len();
                        exchanging.abort_all();
                    }
                }
                // Aborted above.
                Err(error) if error.is_cancelled() => {}
                Err(error) => failures.push(format!("a user's task failed: {error}")),
            }
        }
        if failures.is_empty() {
            return Ok(());
        }
        failures.sort();
        let mut failure = super::crowd_failure(
            &failures,
            format!("{} users did not get exactly their messages", self.users),
        );
        if still_waiting > 0 {
            failure.push_str(&format!(
                " ({still_waiting} users still waiting were not waited for: the step had failed)"
            ));
        }
        Err(failure)
    }
}

/// Why a user did not get exactly its messages, and whether more time could change it.
struct Miss {
    reason: String,
    /// No: a wrong line came, an `error:` answer, or the connection ended. (Yes: a line
    /// still missing at the deadline.)
    settled: bool,
}

impl Miss {
    fn settled(reason: String) -> Miss {
        Miss {
            reason,
            settled: true,
        }
    }
}

/// One user sends `lines` (in one write) and reads until it received every line of
/// `owed`: a message line (`userN|...`) it is not owed is a failure, and so is an
/// `error:` line to any user but user1 (every recipient is registered: SPEC direct/2
/// allows it for unknown users only).
async fn receive_owed(
    mut user: Member,
    lines: String,
    mut owed: BTreeMap<String, u32>,
    within: Duration,
) -> (Member, Result<(), Miss>) {
    if let Err(reason) = user.send(lines.as_bytes()).await {
        return (user, Err(Miss::settled(reason)));
    }
    let deadline = tokio::time::Instant::now() + within;
    let total: u32 = owed.values().sum();
    while !owed.is_empty() {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let line = match user.next_line(left).await {
            Ok(line) => line,
            Err(reason) => {
                let missing = owed.keys().next().cloned().unwrap_or_default();
                let got = total - owed.values().sum::<u32>();
                let settled = user.has_ended();
                let reason =
                    format!("received {got} of its {total} messages, not {missing:?}: {reason}");
                return (user, Err(Miss { reason, settled }));
            }
        };
        let line = line.trim_end().to_owned();
        // user1 alone sent lines before (the probes, refused until each user had
        // registered): an `error:` it reads may answer one of those.
        if line.starts_with("error:") && user.name != "user1" {
            return (
                user,
                Err(Miss::settled(format!(
                    "was answered {line:?} to one of its messages, although every recipient is registered"
                ))),
            );
        }
        if !is_message(&line) {
            // A greeting, an acknowledgement: not graded (SPEC direct/1).
            continue;
        }
        match owed.get_mut(&line) {
            Some(count) => {
                *count -= 1;
                if *count == 0 {
                    owed.remove(&line);
                }
            }
            None => {
                return (
                    user,
                    Err(Miss::settled(format!(
                        "received {line:?}, which is not one of its messages (meant for another user, twice, cut or glued to another)"
                    ))),
                );
            }
        }
    }
    (user, Ok(()))
}

/// Whether a line is a message as the crowd's users send them: `userN|note ...`.
fn is_message(line: &str) -> bool {
    line.split_once('|').is_some_and(|(sender, rest)| {
        sender.starts_with("user")
            && sender["user".len()..].parse::<u32>().is_ok()
            && rest != "probe"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_user_writes_to_others_and_never_to_itself() {
        for users in [3, 5, 50] {
            let crowd = DirectCrowd {
                target: "server".into(),
                users,
                messages: 2.min(users - 1),
                within: Duration::ZERO,
            };
            for from in 1..=users {
                for to in crowd.recipients(from) {
                    assert!((1..=users).contains(&to) && to != from, "{from} -> {to}");
                }
            }
        }
    }

    #[test]
    fn a_message_line_is_told_from_other_lines() {
        assert!(is_message("user3|note 1 | from 3 | to 9"));
        assert!(!is_message("user1|probe"));
        assert!(!is_message("ok: welcome user3"));
        assert!(!is_message("userx|hello"));
    }
}
