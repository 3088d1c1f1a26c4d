//! `room_crowd = "server"`: a chat room of hundreds (SPEC chat/3: "tested with 500").
//!
//! ```toml
//! [[step]]
//! room_crowd = "server"
//! clients = 500
//! within_ms = 30000
//! ```
//!
//! `member1` joins first, then `member2`, which speaks until `member1` hears it (then
//! both are known to be in the room), then `member3` ... `memberN` one by one (one
//! connection at a time spares a short accept queue), every member reading all along.
//! Once `member1` has been told of every later join (chat/1 says the others are told), it
//! says one line,
//! and every other member must receive it, prefixed with `member1` (matched leniently: a
//! line with the name and then the text). A server that serves members one at a time, or
//! forgets some, or stops at a few hundred, fails here; the failure names the first
//! members that missed the line and what they got instead.

use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;
use tokio::task::JoinSet;

use super::members::Member;
use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::outcome::StepFailure;

pub(crate) const KIND: StepKind = StepKind {
    key: "room_crowd",
    load,
    schema: super::schema_of::<RawRoomCrowd>,
};

/// The most members one step brings: each is a socket of the harness and of the program.
const MAX_MEMBERS: u32 = 2_000;

/// How often member2 speaks until member1 hears it, and how long each try waits.
const PROBE_TRIES: u32 = 20;
const PROBE_PAUSE: Duration = Duration::from_millis(100);

/// The default deadline of the whole step.
const DEFAULT_WITHIN_MS: u64 = 30_000;

/// What a join announcement says besides the name (SPEC chat/1: "a word like
/// joined/entered/connected").
pub(crate) const JOIN_WORDS: &str = r"(?i)\b(join|joins|joined|joining|enter|enters|entered|connect|connects|connected|arrive|arrives|arrived|came|online)\b";

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawRoomCrowd {
    room_crowd: String,
    clients: u32,
    within_ms: Option<u64>,
}

#[derive(Debug)]
struct RoomCrowd {
    target: String,
    clients: u32,
    within: Duration,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawRoomCrowd::deserialize(input.table)?;
    let target = input.names.listener(&raw.room_crowd)?;
    if !(3..=MAX_MEMBERS).contains(&raw.clients) {
        return Err(format!("`clients` is 3 to {MAX_MEMBERS}").into());
    }
    Ok(Arc::new(RoomCrowd {
        target,
        clients: raw.clients,
        within: Duration::from_millis(raw.within_ms.unwrap_or(DEFAULT_WITHIN_MS)),
    }))
}

/// The line `member1` says to the room.
const GREETING: &str = "hello room, this is the crowd of 42";

impl StepAction for RoomCrowd {
    fn describe(&self) -> String {
        format!(
            "{} members join {}'s room one by one; once member1 was told of every join, it says {GREETING:?} and every other member receives it (within {} ms)",
            self.clients,
            self.target,
            self.within.as_millis()
        )
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            let (host, port) = context.address(&self.target)?;
            let net = context.net();
            let expected = format!(
                "all {} members in the room at once, each receiving member1's line",
                self.clients
            );
            let deadline = tokio::time::Instant::now() + self.within;
            match self.play(&net, &host, port, deadline).await {
                Ok(()) => {
                    context.note(format!(
                        "{} members in the room; every other member received member1's line",
                        self.clients
                    ));
                    Ok(())
                }
                Err(seen) => Err(StepFailure::fail(expected, seen)),
            }
        })
    }
}

impl RoomCrowd {
    async fn play(
        &self,
        net: &crate::world::sockets::PeerNet,
        host: &str,
        port: u16,
        deadline: tokio::time::Instant,
    ) -> Result<(), String> {
        let left = || deadline.saturating_duration_since(tokio::time::Instant::now());
        let mut speaker = Member::join(net, host, port, "member1").await?;
        let mut members = Vec::with_capacity(self.clients as usize - 1);
        // member2 speaks until member1 hears it: then both are in the room (a name is
        // taken in when the server gets to it, and a welcome is optional), and member1
        // is sure to be told of every later join.
        let mut second = Member::join(net, host, port, "member2").await?;
        let probe = Regex::new(r"\bmember2\b.{0,16}member2 is here").expect("a valid regex");
        let heard = second
            .say_until_heard(
                "member2 is here",
                &mut speaker,
                |line| probe.is_match(line),
                PROBE_TRIES,
                PROBE_PAUSE,
            )
            .await?;
        if !heard {
            return Err(format!(
                "member2's line \"member2 is here\" never reached member1 ({PROBE_TRIES} tries): member1 got {}",
                speaker.heard_so_far()
            ));
        }
        members.push(second);
        for number in 3..=self.clients {
            let joined = tokio::time::timeout(
                left(),
                Member::join(net, host, port, &format!("member{number}")),
            )
            .await
            .unwrap_or_else(|_| Err(format!("member{number} could not connect in time")));
            members.push(
                joined.map_err(|reason| {
                    format!("{reason} (with {} members connected)", number - 1)
                })?,
            );
        }
        // The room is full once member1 was told of every join.
        let joins = Regex::new(JOIN_WORDS).expect("a valid regex");
        let name = Regex::new(r"\bmember(\d+)\b").expect("a valid regex");
        let mut unannounced: std::collections::BTreeSet<u32> = (3..=self.clients).collect();
        while let Some(&first) = unannounced.first() {
            let line = speaker.next_line(left()).await.map_err(|reason| {
                format!(
                    "member1 was told of {} of the {} joins after member2's, not member{first}'s: {reason}",
                    self.clients - 2 - unannounced.len() as u32,
                    self.clients - 2
                )
            })?;
            if joins.is_match(&line) {
                for found in name.captures_iter(&line) {
                    if let Ok(number) = found[1].parse::<u32>() {
                        unannounced.remove(&number);
                    }
                }
            }
        }
        speaker.say(GREETING).await?;
        // Every other member, at once: its line, skipping joins and welcomes.
        let greeting = Regex::new(&format!(r"\bmember1\b.*{}", regex::escape(GREETING)))
            .expect("a valid regex");
        let mut waiting = JoinSet::new();
        for mut member in members {
            let (greeting, within) = (greeting.clone(), left());
            waiting.spawn(async move {
                let heard = member
                    .line_where(|line| greeting.is_match(line), within)
                    .await;
                // Kept connected until every member is done: nobody leaves early.
                (
                    heard.map_err(|reason| (reason, member.heard_so_far())),
                    member,
                )
            });
        }
        let mut missed = Vec::new();
        let mut everyone = vec![speaker];
        while let Some(done) = waiting.join_next().await {
            match done {
                Ok((Ok(_), member)) => everyone.push(member),
                Ok((Err((reason, heard)), member)) => {
                    missed.push(format!("{}: {reason} ({heard})", member.name));
                    everyone.push(member);
                }
                Err(error) => missed.push(format!("a member's task failed: {error}")),
            }
        }
        if missed.is_empty() {
            return Ok(());
        }
        missed.sort_by_key(|text| {
            text.trim_start_matches("member")
                .split(':')
                .next()
                .and_then(|number| number.parse::<u32>().ok())
                .unwrap_or(u32::MAX)
        });
        Err(super::crowd_failure(
            &missed,
            format!("the {} other members did not receive it", self.clients - 1),
        ))
    }
}
