//! What a suite's scenarios give each program: the options and words of their `args` and
//! the keys of their `with`, by task and role, against which a manifest's placeholders
//! are checked (`crate::target::placeholders`).

use super::Suite;
use crate::target::placeholders::ScenarioValues;

/// What the scenarios of `suite` give each role they start.
pub fn scenario_values(suite: &Suite) -> ScenarioValues {
    let mut values = ScenarioValues::default();
    for scenario in &suite.scenarios {
        for step in &scenario.steps {
            if let Some(start) = step.action.0.starts() {
                values.add(&scenario.task, &start.role, start.args(), start.with.keys());
            }
        }
    }
    values
}
