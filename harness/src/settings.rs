//! The settings of one run: the sandbox around every program (its layers and memory cap),
//! how scenarios are kept apart on the network, and each protocol pack's run-wide choice
//! (`--mysql real`).
//!
//! They are a value handed to grading (`crate::batch::Batch::settings`), which hands it on
//! to each scenario's engine, its programs' enclosures and its peers, rather than
//! process-wide statics: a test or a program embedding the harness may grade twice in one
//! process with two settings (a network namespace per scenario, then a shared loopback; a
//! memory cap of 1 GiB, then of 64 MiB). The command line builds one from its flags and
//! the environment (`crate::cli`).
//!
//! What stays process-wide is what is the process's own: the user namespace `main` enters
//! while single-threaded, the cursor of the port allocator (`crate::world::real::ports`,
//! which must never hand one port out twice, whatever run asks), the registry of children
//! to kill on Ctrl-C (`crate::world::real::cleanup`), and the probes of what this machine
//! allows ([`sandbox::layers`], [`isolation::machine_network_mode`]), kept as the defaults
//! because probing is slow and the machine does not change under a run.

use std::collections::BTreeMap;

use crate::world::real::isolation::{self, NetworkMode};

/// Everything a run decides once, before its first scenario, and every scenario reads.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// The sandbox every program of the real world runs in: the layers it is given and
    /// the memory cap (`--memory-limit`).
    pub sandbox: sandbox::Settings,
    /// How the real world keeps scenarios apart on the network: a namespace each, or the
    /// machine's loopback shared (`HARNESS_NO_NAMESPACES=1`, or no namespaces here).
    pub network: NetworkMode,
    /// Each protocol pack's run-wide choice, by its flag (`mysql`); a pack without one
    /// plays its default (the MySQL pack, its embedded engine).
    pub pack_choices: BTreeMap<String, PackChoice>,
}

/// A protocol pack's run-wide choice, made once before grading (see
/// `crate::protocols::choose_setting`): `--mysql auto` on a machine with MariaDB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackChoice {
    /// The value asked for (`auto`).
    pub asked: String,
    /// What the pack made of it on this machine (`real`: `auto` found a MariaDB).
    pub decided: String,
    /// What the run's header says of it: `MySQL server: a real MariaDB per scenario ...`.
    pub header: String,
}

impl RunSettings {
    /// What this machine allows, with the defaults: every sandbox layer it has (probed
    /// once per process), a memory cap of [`sandbox::DEFAULT_MEMORY_LIMIT`], a network
    /// namespace per scenario where the machine allows it and `HARNESS_NO_NAMESPACES` is
    /// not set, and no pack choice.
    pub fn machine_defaults() -> RunSettings {
        RunSettings {
            sandbox: sandbox::Settings::probed(),
            network: isolation::machine_network_mode(),
            pack_choices: BTreeMap::new(),
        }
    }

    /// For the simulated world, which starts no process: no sandbox layer (none is probed,
    /// so no `sandbox-init` is looked for or built), the loopback shared (no namespace is
    /// tried either), and no pack choice.
    pub fn simulated() -> RunSettings {
        RunSettings {
            sandbox: sandbox::Settings {
                layers: std::sync::Arc::new(sandbox::Layers::none(
                    "the simulated world starts no program",
                )),
                memory_limit: sandbox::DEFAULT_MEMORY_LIMIT,
            },
            network: NetworkMode::SharedLoopback,
            pack_choices: BTreeMap::new(),
        }
    }

    /// Whether each scenario has a network namespace of its own.
    pub fn namespace_per_scenario(&self) -> bool {
        self.network == NetworkMode::NamespacePerScenario
    }

    /// The choice made for the pack whose flag is `flag`, if one was.
    pub fn pack_choice(&self, flag: &str) -> Option<&PackChoice> {
        self.pack_choices.get(flag)
    }
}
