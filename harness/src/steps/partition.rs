//! `partition = ["client", "server"]` / `repair = ["client", "server"]`: cuts, or
//! restores, the network between two hosts of the simulated world (a scenario that uses
//! them says `world = "simulated"`).
//!
//! ```toml
//! [[step]]
//! partition = ["client", "server"]
//! ```

use std::sync::Arc;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};

pub(crate) const PARTITION: StepKind = StepKind {
    key: "partition",
    load: load_partition,
    schema: super::schema_of::<RawPartition>,
};

pub(crate) const REPAIR: StepKind = StepKind {
    key: "repair",
    load: load_repair,
    schema: super::schema_of::<RawRepair>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawPartition {
    partition: Vec<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawRepair {
    repair: Vec<String>,
}

#[derive(Debug)]
struct Partition {
    hosts: [String; 2],
    repair: bool,
}

fn load_partition(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawPartition::deserialize(input.table)?;
    checked("partition", &raw.partition, input.names, false)
}

fn load_repair(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawRepair::deserialize(input.table)?;
    checked("repair", &raw.repair, input.names, true)
}

/// The two hosts `hosts` names, checked against what earlier steps started.
fn checked(
    action: &str,
    hosts: &[String],
    names: &super::Names,
    repair: bool,
) -> Result<Arc<dyn StepAction>, LoadError> {
    let [a, b] = hosts else {
        return Err(format!(
            "`{action}` names two hosts, like `{action} = [\"client\", \"server\"]`"
        )
        .into());
    };
    if a == b {
        return Err(format!("`{action}` needs two different hosts").into());
    }
    Ok(Arc::new(Partition {
        hosts: [names.host(a)?, names.host(b)?],
        repair,
    }))
}

impl StepAction for Partition {
    fn describe(&self) -> String {
        let [a, b] = &self.hosts;
        if self.repair {
            format!("repair the network between {a} and {b}")
        } else {
            format!("cut the network between {a} and {b}")
        }
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        context.partition(&self.hosts, self.repair)
    }

    fn simulated_only(&self) -> bool {
        true
    }
}
