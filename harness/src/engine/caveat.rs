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
    /// The program it handicapped (the one an option was dropped from): a failure about
    /// that program (`client's stdout`, `client exited`) may depend on it, whatever words
    /// the requirement uses (a pinger whose `--count 3` was dropped pings ten times).
    pub(super) program: Option<String>,
}

impl Caveat {
    /// Whether it may explain a failure of a scenario that requires `requirement`, which
    /// expected `expected` and saw `seen`.
    pub(super) fn bears_on(&self, requirement: &str, expected: &str, seen: &str) -> bool {
        let told = format!("{requirement} {expected} {seen}").to_lowercase();
        self.about.is_empty()
            || self.about.iter().any(|word| told.contains(word.as_str()))
            || self
                .program
                .as_deref()
                .is_some_and(|program| names(&format!("{expected} {seen}"), program))
    }
}

/// Whether `text` names program `name` as a word (`client's stdout`, `client exited`), not
/// inside another (`client2`, `the client-side`).
fn names(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        let apart =
            |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '-' || c == '_'));
        apart(before) && apart(after)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_option_bears_only_on_failures_that_name_it() {
        let loss = Caveat {
            text: "submission.toml drops `--loss 0.3`".into(),
            about: vec!["loss".into()],
            program: Some("server".into()),
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
            program: None,
        };
        assert!(port.bears_on("anything", "", ""));
    }

    /// Issue 50 §2: a pinger whose `--count 3` is dropped pings ten times; a failure about
    /// it depends on that, though its requirement never says "count".
    #[test]
    fn a_dropped_option_bears_on_every_failure_about_its_program() {
        let count = Caveat {
            text: "submission.toml drops `--count 3`".into(),
            about: vec!["count".into()],
            program: Some("client".into()),
        };
        let requirement = "When every ping is lost the client still ends normally";
        assert!(count.bears_on(
            requirement,
            "client to exit within 6000 ms",
            "it was still running"
        ));
        assert!(count.bears_on("", "", "client's stdout: 10 lines"));
        assert!(!count.bears_on("", "server's stdout empty", "\"debug\n\""));
        assert!(!count.bears_on("", "client2 to exit", "client-side"));
    }
}
