//! The room: who is in it, and how a line reaches everyone else without waiting for
//! anyone.
//!
//! The room is shared by every client's task behind one `Mutex`, held only while lines are
//! put in outboxes (never across a socket operation), so a slow socket never holds the
//! lock.

use std::collections::BTreeMap;
use std::sync::Arc;

use std::sync::atomic::AtomicU64;

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
    written: Arc<AtomicU64>,
}

/// What a member's tasks keep when it joins.
pub struct Membership {
    /// Its number in the room: how the room knows it.
    pub id: MemberId,
    /// The lines for this member, in order: its writer sends them.
    pub inbox: mpsc::Receiver<Arc<str>>,
    /// Notified when the room dropped this member for not reading.
    pub dropped: Arc<Notify>,
    /// How many writes its writer has completed: the writer counts, a waiting talker
    /// reads (a member whose count stands still for [`super::STALL`] stopped reading).
    pub written: Arc<AtomicU64>,
}

/// A line that did not fit in some members' outboxes at once: the saying task waits for
/// room in each of them in turn, without holding the room's lock. One shared line and a
/// member number each (8 bytes a member: while 10,000 join, thousands of these wait at
/// once).
pub struct Late {
    /// The line, shared by every member it is for.
    pub line: Arc<str>,
    /// The members whose outboxes were full.
    pub members: Vec<MemberId>,
}

/// What a saying task needs to wait for room in one member's outbox.
pub struct Outbox {
    /// The member's outbox: its writer takes the lines from it.
    pub sender: mpsc::Sender<Arc<str>>,
    /// How many writes its writer has completed (see [`Membership::written`]).
    pub written: Arc<AtomicU64>,
}

/// The chat room: its members by number, each with its name and outbox. One lock around it;
/// nothing waits while holding it.
#[derive(Default)]
pub struct Room {
    members: BTreeMap<MemberId, Member>,
    next_id: MemberId,
}

impl Room {
    /// Adds `name`, welcomes it, and tells the others.
    pub fn join(&mut self, name: &str) -> (Membership, Option<Late>) {
        let id = self.next_id;
        self.next_id += 1;
        let (outbox, inbox) = mpsc::channel(OUTBOX_LINES);
        let dropped = Arc::new(Notify::new());
        let written = Arc::new(AtomicU64::new(0));
        let count = self.members.len() + 1;
        let mut names: Vec<&str> = self
            .members
            .values()
            .take(NAMES_IN_WELCOME - 1)
            .map(|member| member.name.as_str())
            .collect();
        names.push(name);
        if count > NAMES_IN_WELCOME {
            names.insert(NAMES_IN_WELCOME - 1, "...");
        }
        let welcome = format!(
            "* welcome {name}: {count} in the room ({})\n",
            names.join(", ")
        );
        // A fresh outbox has room for its first line.
        let _ = outbox.try_send(welcome.into());
        self.members.insert(
            id,
            Member {
                name: name.to_owned(),
                outbox,
                dropped: Arc::clone(&dropped),
                written: Arc::clone(&written),
            },
        );
        let late = self.say_from(id, format!("* {name} joined ({count} in the room)\n"));
        let membership = Membership {
            id,
            inbox,
            dropped,
            written,
        };
        (membership, late)
    }

    /// Says `text` from member `id` to everyone else, as `name: text`.
    pub fn say(&mut self, id: MemberId, text: &str) -> Option<Late> {
        let member = self.members.get(&id)?;
        let line = format!("{}: {text}\n", member.name);
        self.say_from(id, line)
    }

    /// Removes member `id` (it left) and tells the others.
    pub fn leave(&mut self, id: MemberId) -> Option<Late> {
        let member = self.members.remove(&id)?;
        self.announce_leaving(&member.name)
    }

    /// Member `id`'s outbox, while it is in the room.
    pub fn outbox(&self, id: MemberId) -> Option<Outbox> {
        let member = self.members.get(&id)?;
        Some(Outbox {
            sender: member.outbox.clone(),
            written: Arc::clone(&member.written),
        })
    }

    /// Drops member `id`, whose writer wrote nothing for [`super::STALL`]: it stopped
    /// reading. Its name (for the server's stderr) and the lines telling the others.
    pub fn drop_stalled(&mut self, id: MemberId) -> Option<(String, Option<Late>)> {
        let member = self.members.remove(&id)?;
        member.dropped.notify_one();
        let late = self.announce_leaving(&member.name);
        Some((member.name, late))
    }

    fn announce_leaving(&mut self, name: &str) -> Option<Late> {
        let line = format!("* {name} left ({} in the room)\n", self.members.len());
        self.say_from(MemberId::MAX, line)
    }

    /// Puts `line` in the outbox of every member but `sender`, never waiting: the members
    /// whose outbox is full are returned, for the saying task to wait on.
    fn say_from(&mut self, sender: MemberId, line: String) -> Option<Late> {
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
        (!full.is_empty()).then_some(Late {
            line,
            members: full,
        })
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.members.len()
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
    fn a_full_outbox_makes_the_line_late_and_a_stalled_member_can_be_dropped() {
        let mut room = Room::default();
        let (mut reader, _) = room.join("reader");
        let (sleeper, _) = room.join("sleeper");
        let (talker, _) = room.join("talker");
        let mut late_for = Vec::new();
        for number in 0..OUTBOX_LINES {
            if let Some(late) = room.say(talker.id, &format!("line {number}")) {
                late_for.extend(late.members);
            }
            drain(&mut reader);
        }
        // The sleeper's outbox held its welcome and the talker's join: two lines short.
        assert_eq!(late_for, [sleeper.id, sleeper.id]);
        let (name, announced) = room.drop_stalled(sleeper.id).expect("still in the room");
        assert_eq!(name, "sleeper");
        assert!(announced.is_none());
        assert_eq!(
            drain(&mut reader).last().map(String::as_str),
            Some("* sleeper left (2 in the room)\n")
        );
        assert_eq!(room.len(), 2);
    }
}
