//! `stop = "server"`: stops a program (SIGTERM to its group, SIGKILL after 1 s). Its end is
//! then the harness's doing, not a crash to report.
//!
//! ```toml
//! [[step]]
//! stop = "server"
//! ```

use std::sync::Arc;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};

pub(crate) const KIND: StepKind = StepKind {
    key: "stop",
    load,
    schema: super::schema_of::<RawStop>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawStop {
    stop: String,
}

#[derive(Debug)]
struct Stop {
    program: String,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawStop::deserialize(input.table)?;
    Ok(Arc::new(Stop {
        program: input.names.program(&raw.stop)?,
    }))
}

impl StepAction for Stop {
    fn describe(&self) -> String {
        format!("stop {}", self.program)
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        context.stop(&self.program)
    }
}
