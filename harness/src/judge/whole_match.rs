//! Whether a program's output, judged whole against a regex (`matches` on stdout), has
//! already gone wrong for good.
//!
//! Output only grows. Once what a program printed so far is no prefix of any text the
//! regex matches whole (a debug line before the data, `..hidden` where `.hidden` belongs),
//! nothing it prints later can mend it: the step fails at once, naming the byte where the
//! output left the regex, instead of waiting out its deadline for a program that keeps
//! running (a server does).
//!
//! The question "can this prefix still be completed to a match" is a walk through the
//! regex's automaton: a lazy DFA (`regex_automata::hybrid`) built from the pattern, which
//! reaches its dead state exactly when no continuation can match. It is built with
//! `MatchKind::All`, so that no thread is dropped because another one matched first. A
//! pattern the lazy DFA cannot run (Unicode word boundaries on non-ASCII bytes, a cache
//! that keeps overflowing) gives no answer, and the step waits as before.

use std::sync::{Arc, Mutex};

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::{Anchored, Input, MatchKind};

/// The automaton of one whole-match regex, with its cache (kept between polls).
#[derive(Clone)]
pub struct WholeMatch {
    automaton: Option<Arc<(DFA, Mutex<Cache>)>>,
}

impl std::fmt::Debug for WholeMatch {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("WholeMatch")
            .field("runs", &self.automaton.is_some())
            .finish()
    }
}

impl WholeMatch {
    /// For `\A(?:pattern)\z` (byte-oriented, as `regex::bytes` reads it: `(?-u)` may
    /// match any byte).
    pub fn new(pattern: &str) -> WholeMatch {
        let whole = format!(r"\A(?:{pattern})\z");
        let built = DFA::builder()
            .configure(DFA::config().match_kind(MatchKind::All))
            .syntax(regex_automata::util::syntax::Config::new().utf8(false))
            .thompson(regex_automata::nfa::thompson::Config::new().utf8(false))
            .build(&whole);
        WholeMatch {
            automaton: built.ok().map(|dfa| {
                let cache = dfa.create_cache();
                Arc::new((dfa, Mutex::new(cache)))
            }),
        }
    }

    /// `Some(n)` when no bytes added after `output` could make it a whole match: `n` is
    /// how many bytes of it could still begin one (the output went wrong at byte `n`).
    /// `None` while it could still become one, or when the automaton cannot tell.
    pub fn went_wrong_at(&self, output: &[u8]) -> Option<usize> {
        let automaton = self.automaton.as_ref()?;
        let (dfa, cache) = (&automaton.0, &automaton.1);
        let mut cache = cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let input = Input::new(output).anchored(Anchored::Yes);
        let mut state = dfa.start_state_forward(&mut cache, &input).ok()?;
        if state.is_dead() {
            return Some(0);
        }
        for (at, &byte) in output.iter().enumerate() {
            state = dfa.next_state(&mut cache, state, byte).ok()?;
            if state.is_dead() {
                return Some(at);
            }
            if state.is_quit() {
                return None;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_of_a_match_is_not_wrong_yet() {
        let lines = WholeMatch::new(r"(?:[a-z]+\n)*done\n");
        assert_eq!(lines.went_wrong_at(b""), None);
        assert_eq!(lines.went_wrong_at(b"abc\nde"), None);
        assert_eq!(lines.went_wrong_at(b"abc\ndone\n"), None);
    }

    #[test]
    fn a_byte_no_match_can_have_there_is_named() {
        let lines = WholeMatch::new(r"(?:[a-z]+\n)*done\n");
        assert_eq!(lines.went_wrong_at(b"abc\nDebug: 1\n"), Some(4));
        // `done\n` may be one of the lines, but an empty line is none.
        assert_eq!(lines.went_wrong_at(b"done\nx"), None);
        assert_eq!(lines.went_wrong_at(b"done\n\n"), Some(5));
        // After a complete match, any more output is wrong.
        let one = WholeMatch::new(r"done\n");
        assert_eq!(one.went_wrong_at(b"done\nx"), Some(5));
    }

    #[test]
    fn an_alternative_that_matched_first_does_not_hide_a_longer_one() {
        let either = WholeMatch::new("a|ab");
        assert_eq!(either.went_wrong_at(b"ab"), None);
        assert_eq!(either.went_wrong_at(b"ac"), Some(1));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_judged_too() {
        let binary = WholeMatch::new(r"(?-u)\x00[\x80-\xff]*\n");
        assert_eq!(binary.went_wrong_at(b"\x00\xff\xfe"), None);
        assert_eq!(binary.went_wrong_at(b"\x01"), Some(0));
    }

    /// Patterns in the style of the scenarios': lines of a kind, a fixed line, choices.
    const PATTERNS: [&str; 4] = [
        r"(?:[^\n]*@x[^\n]*\n|(?i:data)\r?\n)*[^\n]*a@x[^\n]*\n",
        r"(?:ab|a)(?:c\n)+",
        r"(?s)a.*b\n?",
        r"\d+(?:\.\d+)? ms\n",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        /// "Went wrong" is never said of output that some continuation makes a match (nor
        /// of any prefix of one), and where it is said, the bytes before that point are
        /// still the start of one.
        #[test]
        fn went_wrong_means_no_continuation_matches(
            pattern in 0..PATTERNS.len(),
            output in "[abcdx@ .0-9\n\r]{0,12}",
            more in "[abcdx@ .0-9\n\r]{0,12}",
        ) {
            let whole = regex::bytes::Regex::new(&format!(r"\A(?:{})\z", PATTERNS[pattern])).unwrap();
            let check = WholeMatch::new(PATTERNS[pattern]);
            let output = output.as_bytes();
            let completed = [output, more.as_bytes()].concat();
            if whole.is_match(&completed) {
                proptest::prop_assert_eq!(check.went_wrong_at(output), None);
                proptest::prop_assert_eq!(check.went_wrong_at(&completed), None);
            }
            if let Some(at) = check.went_wrong_at(output) {
                proptest::prop_assert!(at < output.len());
                proptest::prop_assert!(!whole.is_match(&completed));
                // The bytes before `at` are still the start of a match (or empty).
                proptest::prop_assert_eq!(check.went_wrong_at(&output[..at]), None);
            }
        }
    }

    #[test]
    fn a_pattern_the_lazy_dfa_cannot_run_gives_no_answer() {
        // A Unicode word boundary makes the lazy DFA quit on a non-ASCII byte.
        let word = WholeMatch::new(r"\bcafé\b");
        assert_eq!(word.went_wrong_at("x".as_bytes()), None);
        assert_eq!(word.went_wrong_at("zz é".as_bytes()), None);
    }
}
