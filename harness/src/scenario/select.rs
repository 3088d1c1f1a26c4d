//! Choosing scenarios: by task (`--task message`) and by id glob (`message/0*`).

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::model::Scenario;
use crate::{Error, Result};

/// Which scenarios to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    tasks: Vec<String>,
    globs: Option<GlobSet>,
}

impl Selection {
    /// Everything, narrowed to `tasks` (if any) and to ids matching any of `patterns` (if any).
    pub fn new(tasks: Vec<String>, patterns: &[String]) -> Result<Selection> {
        let globs = if patterns.is_empty() {
            None
        } else {
            let mut builder = GlobSetBuilder::new();
            for pattern in patterns {
                // `message` alone means every scenario of the task.
                let pattern = if pattern.contains('/') {
                    pattern.clone()
                } else {
                    format!("{pattern}/*")
                };
                let glob = Glob::new(&pattern).map_err(|error| {
                    Error::Usage(format!("bad scenario pattern `{pattern}`: {error}"))
                })?;
                builder.add(glob);
            }
            Some(
                builder
                    .build()
                    .map_err(|error| Error::Usage(format!("bad scenario patterns: {error}")))?,
            )
        };
        Ok(Selection { tasks, globs })
    }

    /// Whether it selects every scenario (no `--task`, no pattern): "every task found".
    pub fn is_everything(&self) -> bool {
        self.tasks.is_empty() && self.globs.is_none()
    }

    /// This selection with no task named narrowed to `tasks` (its patterns kept): a batch
    /// given no `--task` grades every submission on the tasks any of them submitted.
    pub fn within_tasks(&self, tasks: Vec<String>) -> Selection {
        Selection {
            tasks,
            globs: self.globs.clone(),
        }
    }

    /// Whether a scenario is selected.
    pub fn includes(&self, scenario: &Scenario) -> bool {
        (self.tasks.is_empty() || self.tasks.contains(&scenario.task))
            && self
                .globs
                .as_ref()
                .is_none_or(|globs| globs.is_match(&scenario.id))
    }
}
