//! Running a scenario in the simulated world: the reference's programs on turmoil hosts
//! ([`crate::world::sim`]), the harness's steps on a host of its own, the whole run
//! following from the seed.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::time::Duration;

use crate::engine::run_scenario;
use crate::outcome::Outcome;
use crate::scenario::{Scenario, ScenarioOutcome};
use crate::settings::RunSettings;
use crate::target::RoleProgram;
use crate::world::World;
use crate::world::sim::{self, HARNESS_HOST, SimOptions, programs};

/// Why a scenario cannot run in the simulated world, if it cannot, as its report says it:
/// `the reference ssh-info has no simulated version (real world only)` when a program it
/// starts has none (its threads, `poll`, `fork` or driver need real sockets), else
/// `cannot be simulated: ` and what in the scenario itself stands in the way.
pub fn unsupported(scenario: &Scenario, roles: &BTreeMap<String, RoleProgram>) -> Option<String> {
    for role in scenario.roles() {
        let program = roles
            .get(role)
            .and_then(|program| program.template.first())
            .map(String::as_str)
            .unwrap_or_default();
        if !programs::SIMULATED_PROGRAMS.contains(&program) {
            return Some(format!(
                "the reference {program} has no simulated version (real world only)"
            ));
        }
    }
    scenario_unsupported(scenario).map(|reason| format!("cannot be simulated: {reason}"))
}

/// What in `scenario` itself the simulated world cannot play, if anything.
fn scenario_unsupported(scenario: &Scenario) -> Option<String> {
    if scenario.zone.is_some() {
        return Some(
            "its programs ask the system's resolver (`zones`), which a simulated host does not have"
                .into(),
        );
    }
    if scenario.real_only {
        return Some(
            "it says `world = \"real\"`: hundreds of connections or megabytes, which the simulated network would play far too slowly at one byte per read"
                .into(),
        );
    }
    for step in &scenario.steps {
        if let Some(reason) = step.action.0.real_only() {
            return Some(reason);
        }
        if let Some(start) = step.action.0.starts()
            && start.name == HARNESS_HOST
        {
            return Some(format!(
                "a program named `{HARNESS_HOST}` would take the harness's own simulated host"
            ));
        }
    }
    None
}

/// Runs `scenario` with the reference programs in a simulation seeded by `seed`, with the
/// run's `settings` (its packs' choices: no program is sandboxed here).
pub fn run(
    scenario: &Scenario,
    roles: &BTreeMap<String, RoleProgram>,
    seed: u64,
    options: &SimOptions,
    settings: &RunSettings,
) -> Outcome {
    if let Some(reason) = unsupported(scenario, roles) {
        return Outcome::skipped(scenario, seed, reason);
    }
    // The short-I/O adapter plays the short-call library's part here: without it nothing
    // would cut the program's own calls, and the scenario would prove nothing.
    if options.short_io.is_none() && scenario.cuts_calls_short() {
        return Outcome::skipped(
            scenario,
            seed,
            "cannot be simulated with --short-io off: this scenario cuts the program's own socket calls short, which the short-I/O adapter does in the simulated world".into(),
        );
    }
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        simulate(scenario, roles, seed, options, settings)
    }));
    match outcome {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(message)) => Outcome::harness_error(scenario, seed, message),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| text.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Outcome::harness_error(
                scenario,
                seed,
                format!("the simulation panicked: {message}"),
            )
        }
    }
}

fn simulate(
    scenario: &Scenario,
    roles: &BTreeMap<String, RoleProgram>,
    seed: u64,
    options: &SimOptions,
    settings: &RunSettings,
) -> Result<Outcome, String> {
    let names: Vec<String> = scenario
        .steps
        .iter()
        .filter_map(|step| step.action.0.starts().map(|start| start.name.clone()))
        .collect();
    let (world, mut sim) = sim::build(
        &names,
        options,
        seed,
        &scenario.id,
        scenario.timeout + Duration::from_secs(30),
    );
    let result: Rc<RefCell<Option<Outcome>>> = Rc::default();
    {
        let (result, scenario, roles) = (Rc::clone(&result), scenario.clone(), roles.clone());
        let settings = settings.clone();
        let world = World::Simulated(world.clone());
        sim.client(HARNESS_HOST, async move {
            let outcome = run_scenario(&scenario, &roles, seed, &world, &settings).await;
            *result.borrow_mut() = Some(outcome);
            Ok(())
        });
    }
    sim::drive(&world, &mut sim)?;
    let outcome = result.borrow_mut().take();
    outcome.ok_or_else(|| "the simulation ended without an outcome".into())
}
