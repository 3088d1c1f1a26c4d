//! The room: who is in it, and how a line reaches everyone else without waiting for
//! anyone.
//!
//! The room is shared by every client's task behind one `Mutex`, held only while lines are
//! put in outboxes (never across a socket operation), so a slow socket never holds the
//! lock.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::{Notify, mpsc};

use super::OUTBOX_LINES;

/// A member's number in the room (names may repeat; numbers do not).
pub type MemberId = u64;

/// The most names a welcome line lists (10,000 names would make a line of 100 KB).
const NAMES_IN_WELCOME: usize = 20;

/// One member: its name, its outbox, and how to tell its reader it was dropped.
struct Member {
    name: String,
    outbox: mpsc::Sender<Arc<str>>,
    dropped: Arc<Notify>,
}

/// What a member's tasks keep when it joins.
pub struct Membership {
    pub id: MemberId,
    /// The lines for this member, in order: its writer sends them.
    pub inbox: mpsc::Receiver<Arc<str>>,
    /// Notified when the room dropped this member for not reading.
    pub dropped: Arc<Notify>,
}

/// Members dropped while a line was being said: the server reports them on stderr.
pub type Dropped = Vec<String>;

#[derive(Default)]
pub struct Room {
    members: BTreeMap<MemberId, Member>,
    next_id: MemberId,
}

impl Room {
    /// Adds `name`, welcomes it, and tells the others.
    pub fn join(&mut self, name: &str) -> (Membership, Dropped) {
        let id = self.next_id;
        self.next_id += 1;
        let (outbox, inbox) = mpsc::channel(OUTBOX_LINES);
        let dropped = Arc::new(Notify::new());
        self.members.insert(
            id,
            Member {
                name: name.to_owned(),
                outbox,
                dropped: Arc::clone(&dropped),
            },
        );
        let count = self.members.len();
        let mut names: Vec<&str> = self
            .members
            .values()
            .take(NAMES_IN_WELCOME)
            .map(|member| member.name.as_str())
            .collect();
        if count > NAMES_IN_WELCOME {
            names.push("...");
        }
        let welcome = format!(
            "* welcome {name}: {count} in the room ({})\n",
            names.join(", ")
        );
        let mut gone = self.send_to(id, welcome.into());
        gone.extend(self.say_from(id, format!("* {name} joined ({count} in the room)\n")));
        (Membership { id, inbox, dropped }, gone)
    }

    /// Says `text` from member `id` to everyone else, as `name: text`.
    pub fn say(&mut self, id: MemberId, text: &str) -> Dropped {
        let Some(member) = self.members.get(&id) else {
            return Vec::new();
        };
        let line = format!("{}: {text}\n", member.name);
        self.say_from(id, line)
    }

    /// Removes member `id` (it left) and tells the others.
    pub fn leave(&mut self, id: MemberId) -> Dropped {
        let Some(member) = self.members.remove(&id) else {
            return Vec::new();
        };
        self.announce_leaving(&member.name)
    }

    fn announce_leaving(&mut self, name: &str) -> Dropped {
        let line = format!("* {name} left ({} in the room)\n", self.members.len());
        self.say_from(MemberId::MAX, line)
    }

    /// Puts `line` in the outbox of every member but `sender`. Never waits: a member
    /// whose outbox is full is dropped (it stopped reading), and its leaving is said in
    /// turn (which can drop others: each round removes someone, so it ends).
    fn say_from(&mut self, sender: MemberId, line: String) -> Dropped {
        let line: Arc<str> = line.into();
        let mut full = Vec::new();
        for (&id, member) in &self.members {
            if id == sender {
                continue;
            }
            match member.outbox.try_send(Arc::clone(&line)) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => full.push(id),
                // Its tasks are ending; its reader removes it.
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        let mut dropped = Vec::new();
        for id in full {
            if let Some(member) = self.members.remove(&id) {
                member.dropped.notify_one();
                dropped.extend(self.announce_leaving(&member.name));
                dropped.push(member.name);
            }
        }
        dropped
    }

    /// Puts `line` in one member's outbox.
    fn send_to(&mut self, id: MemberId, line: Arc<str>) -> Dropped {
        let full = self
            .members
            .get(&id)
            .is_some_and(|member| member.outbox.try_send(line).is_err());
        if full {
            return self.leave(id);
        }
        Vec::new()
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(membership: &mut Membership) -> Vec<String> {
        let mut lines = Vec::new();
        while let Ok(line) = membership.inbox.try_recv() {
            lines.push(line.to_string());
        }
        lines
    }

    #[test]
    fn a_line_reaches_the_others_and_not_its_sender() {
        let mut room = Room::default();
        let (mut alice, _) = room.join("alice");
        let (mut bob, _) = room.join("bob");
        assert_eq!(
            drain(&mut alice),
            [
                "* welcome alice: 1 in the room (alice)\n",
                "* bob joined (2 in the room)\n"
            ]
        );
        assert_eq!(
            drain(&mut bob),
            ["* welcome bob: 2 in the room (alice, bob)\n"]
        );
        room.say(alice.id, "hello");
        assert_eq!(drain(&mut bob), ["alice: hello\n"]);
        assert!(drain(&mut alice).is_empty());
        room.leave(bob.id);
        assert_eq!(drain(&mut alice), ["* bob left (1 in the room)\n"]);
    }

    #[test]
    fn a_member_that_stops_reading_is_dropped_and_the_others_go_on() {
        let mut room = Room::default();
        let (mut reader, _) = room.join("reader");
        let (_sleeper, _) = room.join("sleeper");
        let (talker, _) = room.join("talker");
        let mut dropped = Vec::new();
        for number in 0..OUTBOX_LINES * 2 {
            dropped.extend(room.say(talker.id, &format!("line {number}")));
            drain(&mut reader);
        }
        assert_eq!(dropped, ["sleeper"]);
        assert_eq!(room.len(), 2);
    }
}
