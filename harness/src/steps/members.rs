//! Named clients of a chat server, many at once, for the crowd steps of chat
//! ([`super::room_crowd`]) and direct-chat ([`super::direct_crowd`]).
//!
//! Each member connects, sends its name, and from then on a reader task of its own cuts
//! whatever arrives into lines, whether or not the step is looking: a chat server gives
//! every member join announcements, and a member that stopped reading would be a slow
//! client the server may rightly drop. What a member holds unread is bounded
//! ([`BUFFERED`] bytes): past it, its reader stops reading until the step takes lines, so
//! a program that floods hundreds of members cannot fill the harness's memory.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::AbortHandle;

use crate::judge::line::first_line;
use crate::world::sockets::{PeerNet, PeerWriter};

/// The most bytes of lines a member holds that the step has not taken yet.
const BUFFERED: usize = 256 * 1024;

/// The longest line a member takes (a chat line is at most 4 KiB and a name).
const MAX_MEMBER_LINE: usize = 16 * 1024;

/// What a member's reader passes on: a line (without its end), or why nothing more comes.
enum Heard {
    Line(String),
    Ended(String),
}

/// How [`Member::next_line`]'s reason starts when nothing came in time.
const NO_LINE_WITHIN: &str = "no line within";

/// One named client of the program, connected.
pub(crate) struct Member {
    pub(crate) name: String,
    writer: PeerWriter,
    heard: mpsc::UnboundedReceiver<Heard>,
    /// Room for unread lines, in bytes: the reader takes a line's worth before passing
    /// it on, the step gives it back when it takes the line.
    room: Arc<Semaphore>,
    /// Why the connection ended, once the reader said so.
    ended: Option<String>,
    /// Lines taken so far, and the last one (for a failure's message).
    pub(crate) lines: usize,
    pub(crate) last: Option<String>,
    reader: AbortHandle,
}

impl Member {
    /// Connects to `host:port` and sends `name` and a newline.
    pub(crate) async fn join(
        net: &PeerNet,
        host: &str,
        port: u16,
        name: &str,
    ) -> Result<Member, String> {
        let connection = net
            .connect(host, port, true)
            .await
            .map_err(|error| format!("{name} could not connect: {error}"))?;
        let (sender, heard) = mpsc::unbounded_channel();
        let room = Arc::new(Semaphore::new(BUFFERED));
        let reader_room = Arc::clone(&room);
        let mut reader = connection.reader;
        let reader = tokio::spawn(async move {
            let mut pending = Vec::new();
            let mut buffer = [0u8; 4096];
            let ended = loop {
                while let Some((line, taken)) = first_line(&pending) {
                    let line = String::from_utf8_lossy(line).into_owned();
                    pending.drain(..taken);
                    // Waits while the member holds too much unread (or the step is gone).
                    let Ok(permit) = reader_room.acquire_many(cost(&line)).await else {
                        return;
                    };
                    permit.forget();
                    if sender.send(Heard::Line(line)).is_err() {
                        return;
                    }
                }
                if pending.len() > MAX_MEMBER_LINE {
                    break format!("no line end in {MAX_MEMBER_LINE} bytes");
                }
                match reader.read(&mut buffer).await {
                    Ok(0) => break "the program closed the connection".to_owned(),
                    Ok(count) => pending.extend_from_slice(&buffer[..count]),
                    Err(error) => break format!("the connection failed: {error}"),
                }
            };
            let _ = sender.send(Heard::Ended(ended));
        })
        .abort_handle();
        let mut member = Member {
            name: name.to_owned(),
            writer: connection.writer,
            heard,
            room,
            ended: None,
            lines: 0,
            last: None,
            reader,
        };
        member.say(name).await?;
        Ok(member)
    }

    /// Sends `text` and a newline.
    pub(crate) async fn say(&mut self, text: &str) -> Result<(), String> {
        self.send(format!("{text}\n").as_bytes()).await
    }

    /// Sends `bytes` as they are (several lines in one write: pipelined).
    pub(crate) async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.writer
            .write_all(bytes)
            .await
            .map_err(|error| format!("{} could not send: {error}", self.name))
    }

    /// The next line, or why there is none: the connection ended, or nothing came
    /// within `within`.
    pub(crate) async fn next_line(&mut self, within: Duration) -> Result<String, String> {
        if let Some(ended) = &self.ended {
            return Err(ended.clone());
        }
        match tokio::time::timeout(within, self.heard.recv()).await {
            Ok(Some(Heard::Line(line))) => {
                self.room.add_permits(cost(&line) as usize);
                self.lines += 1;
                self.last = Some(line.clone());
                Ok(line)
            }
            Ok(Some(Heard::Ended(reason))) => {
                self.ended = Some(reason.clone());
                Err(reason)
            }
            Ok(None) => Err("its reader stopped".to_owned()),
            Err(_) => Err(format!("{NO_LINE_WITHIN} {} ms", within.as_millis())),
        }
    }

    /// Takes lines until one for which `wanted` holds (the others are skipped): that
    /// line, or why it did not come.
    pub(crate) async fn line_where(
        &mut self,
        wanted: impl Fn(&str) -> bool,
        within: Duration,
    ) -> Result<String, String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let line = self.next_line(left).await?;
            if wanted(&line) {
                return Ok(line);
            }
        }
    }

    /// Says `text` again and again, until `listener` receives a line for which `wanted`
    /// holds (its other lines skipped), at most `tries` times, each waiting `pause`:
    /// whether it did. A server takes in a name when it gets to it and need not say
    /// when, so this is how a crowd knows two members are registered.
    pub(crate) async fn say_until_heard(
        &mut self,
        text: &str,
        listener: &mut Member,
        wanted: impl Fn(&str) -> bool,
        tries: u32,
        pause: Duration,
    ) -> Result<bool, String> {
        for _ in 0..tries {
            self.say(text).await?;
            match listener.line_where(&wanted, pause).await {
                Ok(_) => return Ok(true),
                Err(reason) if reason.starts_with(NO_LINE_WITHIN) => {}
                Err(reason) => return Err(format!("{}: {reason}", listener.name)),
            }
        }
        Ok(false)
    }

    /// Whether its connection has ended (the server closed or reset it): no more lines
    /// can come.
    pub(crate) fn has_ended(&self) -> bool {
        self.ended.is_some()
    }

    /// What it received, for a failure's message: `12 lines, the last "..."`.
    pub(crate) fn heard_so_far(&self) -> String {
        match &self.last {
            None => "no line".to_owned(),
            Some(last) => format!(
                "{} line{}, the last {}",
                self.lines,
                if self.lines == 1 { "" } else { "s" },
                crate::judge::diff::excerpt(last.as_bytes())
            ),
        }
    }
}

/// What a line costs of a member's room: its bytes, and one for its end.
fn cost(line: &str) -> u32 {
    (line.len() + 1) as u32
}

impl Drop for Member {
    fn drop(&mut self) {
        // The reader holds the socket's other half: the connection closes with both.
        self.reader.abort();
    }
}
