//! The built-in checks: what a flat list of steps cannot say. Each is written against
//! `crate::protocols::checks` (its [`CheckKind`], run with a [`CheckContext`]); the ones
//! here are of no protocol (peak memory, a real browser), and those of one protocol are
//! its pack's (its `checks`: the `ping-loss` check is the ping pack's,
//! `crate::protocols::ping`). A `check` step finds the one it names among [`kinds`].

pub mod browser;
mod peak_memory;

pub(crate) use crate::protocols::checks::{
    CheckContext, CheckFuture, CheckKind, WholeMemory, params_of, server_or_default,
};

/// The checks of no protocol.
const OF_NO_PROTOCOL: &[CheckKind] = &[peak_memory::KIND, browser::KIND];

/// Every built-in check, those of no protocol first, then the packs' in the registry's
/// order: a `check` step names one of them.
pub(crate) fn kinds() -> impl Iterator<Item = &'static CheckKind> {
    OF_NO_PROTOCOL.iter().chain(
        crate::protocols::REGISTRY
            .iter()
            .flat_map(|pack| pack.checks.iter()),
    )
}

/// The check named `name`, or why there is none.
pub(crate) fn kind_of(name: &str) -> Result<&'static CheckKind, String> {
    kinds().find(|kind| kind.name == name).ok_or_else(|| {
        let names: Vec<&str> = kinds().map(|kind| kind.name).collect();
        format!("unknown check `{name}` (checks: {})", names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_check_has_a_name_of_its_own() {
        // The names are spread over this folder's list and the packs': a second check of
        // one name would be shadowed by the first without a word.
        let mut names: Vec<&str> = super::kinds().map(|kind| kind.name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "{names:?}");
        assert!(names.contains(&"ping-loss") && names.contains(&"peak-memory"));
    }
}
