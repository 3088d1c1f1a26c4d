//! `close = "c1"`: the harness ends one of its connections.
//!
//! ```toml
//! [[step]]
//! close = "c1"
//! how = "write"     # half-close (shutdown SHUT_WR), "full" (close), or "reset" (RST)
//! after_read = true # first wait (up to 5 s) until the program has read all that was sent
//! ```
//!
//! `after_read`: a reset throws away what the program has not read yet, so a scenario that
//! judges what it printed of a reset connection first waits for its receive queue to empty
//! (the kernel's tables, real world); if it never does, the step log says how much was
//! left unread.

use std::sync::Arc;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::peers::client::CloseHow;

pub(crate) const KIND: StepKind = StepKind {
    key: "close",
    load,
    schema: super::schema_of::<RawClose>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawClose {
    close: String,
    how: CloseHow,
    /// First wait until the program has read everything sent on the connection.
    after_read: Option<bool>,
}

#[derive(Debug)]
struct Close {
    peer: String,
    how: CloseHow,
    after_read: bool,
}

/// How long `after_read` waits for the program to read what it was sent.
const READ_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawClose::deserialize(input.table)?;
    let peer = input.names.peer(&raw.close)?;
    // Once closed, a conversation cannot send on it again.
    input.names.kept.remove(&peer);
    Ok(Arc::new(Close {
        peer,
        how: raw.how,
        after_read: raw.after_read.unwrap_or(false),
    }))
}

impl StepAction for Close {
    fn describe(&self) -> String {
        let close = format!("close {} ({:?})", self.peer, self.how).to_lowercase();
        if self.after_read {
            format!("{close} once the program has read all it was sent")
        } else {
            close
        }
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            if self.after_read {
                context
                    .wait_read_by_program(&self.peer, READ_PATIENCE)
                    .await?;
            }
            context.close_peer(&self.peer, self.how).await
        })
    }
}
