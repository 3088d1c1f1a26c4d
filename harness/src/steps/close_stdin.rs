//! `close_stdin = "client"`: closes the stdin of a program started with `hold_stdin =
//! true`; the program reads its end (a chat client then leaves the room and exits).
//!
//! ```toml
//! [[step]]
//! close_stdin = "client"
//! ```

use std::sync::Arc;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};

pub(crate) const KIND: StepKind = StepKind {
    key: "close_stdin",
    load,
    schema: super::schema_of::<RawCloseStdin>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawCloseStdin {
    close_stdin: String,
}

#[derive(Debug)]
struct CloseStdin {
    program: String,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawCloseStdin::deserialize(input.table)?;
    Ok(Arc::new(CloseStdin {
        program: input.names.program(&raw.close_stdin)?,
    }))
}

impl StepAction for CloseStdin {
    fn describe(&self) -> String {
        format!("close {}'s stdin", self.program)
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        context.close_stdin(&self.program);
        Box::pin(async { Ok(()) })
    }
}
