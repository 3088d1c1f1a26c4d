//! A handicap a scenario ran with (an option `submission.toml` drops, a hard-coded port
//! held in TIME_WAIT), told with the failures it may explain and no others.

/// A handicap a scenario ran with, told with a failure it may explain.
#[derive(Debug, Clone)]
pub(super) struct Caveat {
    /// What to tell (`submission.toml drops --loss 0.3 ...`).
    pub(super) text: String,
    /// Words of which one must be in the scenario's requirement or the failure for the
    /// handicap to bear on it (`loss` for a dropped `--loss`); none: any failure.
    pub(super) about: Vec<String>,
}

impl Caveat {
    /// Whether it may explain a failure of a scenario that requires `requirement`, which
    /// expected `expected` and saw `seen`.
    pub(super) fn bears_on(&self, requirement: &str, expected: &str, seen: &str) -> bool {
        let told = format!("{requirement} {expected} {seen}").to_lowercase();
        self.about.is_empty() || self.about.iter().any(|word| told.contains(word.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_option_bears_only_on_failures_that_name_it() {
        let loss = Caveat {
            text: "submission.toml drops `--loss 0.3`".into(),
            about: vec!["loss".into()],
        };
        assert!(loss.bears_on("drops the fraction `--loss` gives", "", ""));
        assert!(loss.bears_on("", "about 30% Loss", ""));
        assert!(!loss.bears_on(
            "prints nothing but the replies",
            "stdout empty",
            "\"debug\\n\""
        ));
        let port = Caveat {
            text: "port 12000 held".into(),
            about: Vec::new(),
        };
        assert!(port.bears_on("anything", "", ""));
    }
}
