//! `close = "c1"`: the harness ends one of its connections.
//!
//! ```toml
//! [[step]]
//! close = "c1"
//! how = "write"     # half-close (shutdown SHUT_WR), "full" (close), or "reset" (RST)
//! ```

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
}

#[derive(Debug)]
struct Close {
    peer: String,
    how: CloseHow,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawClose::deserialize(input.table)?;
    let peer = input.names.peer(&raw.close)?;
    // Once closed, a conversation cannot send on it again.
    input.names.kept.remove(&peer);
    Ok(Arc::new(Close { peer, how: raw.how }))
}

impl StepAction for Close {
    fn describe(&self) -> String {
        format!("close {} ({:?})", self.peer, self.how).to_lowercase()
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        context.close_peer(&self.peer, self.how)
    }
}
