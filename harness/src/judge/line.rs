//! One reply line against what a conversation expects: exact text, a prefix, a regex, a
//! number within a relative tolerance, a status code (SMTP's `250`, FTP's `226`), or any
//! one of several of these.
//!
//! A line is judged without its end: `\n` and a `\r` before it are not part of it, so a
//! program may end its lines either way.

use regex::Regex;
use serde::Deserialize;

/// The relative tolerance of a number when the scenario names none (SPEC calc/1: `2`,
/// `2.0` and `2.00` are equal, and so are two roundings of the same value).
pub(crate) const DEFAULT_TOLERANCE: f64 = 1e-9;

/// What a scenario file writes: `line = { number = 3 }`, `line = { prefix = "error:" }`,
/// `line = { one_of = [{ prefix = "busy", ignore_case = true }, { number = 4 }] }`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LineSpec {
    equals: Option<String>,
    prefix: Option<String>,
    matches: Option<String>,
    number: Option<f64>,
    tolerance: Option<f64>,
    status: Option<u16>,
    ignore_case: Option<bool>,
    one_of: Option<Vec<LineSpec>>,
}

/// What one line must be.
#[derive(Debug, Clone)]
pub(crate) enum LineExpectation {
    Equals {
        text: String,
        ignore_case: bool,
    },
    Prefix {
        text: String,
        ignore_case: bool,
    },
    /// A regex searched in the line (anchor it with `^...$` to match the whole line).
    Matches(Regex),
    /// The line, trimmed, is a number within `tolerance` (relative) of `value`.
    Number {
        value: f64,
        tolerance: f64,
    },
    /// The line starts with this three-digit code, then a space, a `-` or its end.
    Status(u16),
    OneOf(Vec<LineExpectation>),
}

impl LineSpec {
    /// Checks the spec: exactly one kind of expectation, with only the options it takes.
    pub(crate) fn check(self) -> Result<LineExpectation, String> {
        let kinds = [
            ("equals", self.equals.is_some()),
            ("prefix", self.prefix.is_some()),
            ("matches", self.matches.is_some()),
            ("number", self.number.is_some()),
            ("status", self.status.is_some()),
            ("one_of", self.one_of.is_some()),
        ];
        let given: Vec<&str> = kinds
            .iter()
            .filter(|(_, given)| *given)
            .map(|(name, _)| *name)
            .collect();
        if given.len() != 1 {
            return Err(format!(
                "a line expectation has exactly one of equals, prefix, matches, number, status, one_of (here: {})",
                if given.is_empty() {
                    "none".to_owned()
                } else {
                    given.join(", ")
                }
            ));
        }
        let ignore_case = self.ignore_case.unwrap_or(false);
        if self.ignore_case.is_some() && self.equals.is_none() && self.prefix.is_none() {
            return Err("`ignore_case` goes with `equals` or `prefix` only".into());
        }
        if self.tolerance.is_some() && self.number.is_none() {
            return Err("`tolerance` goes with `number` only".into());
        }
        if let Some(text) = self.equals {
            return Ok(LineExpectation::Equals { text, ignore_case });
        }
        if let Some(text) = self.prefix {
            return Ok(LineExpectation::Prefix { text, ignore_case });
        }
        if let Some(pattern) = self.matches {
            return Regex::new(&pattern)
                .map(LineExpectation::Matches)
                .map_err(|error| format!("`matches` is not a valid regex: {error}"));
        }
        if let Some(value) = self.number {
            let tolerance = self.tolerance.unwrap_or(DEFAULT_TOLERANCE);
            if !value.is_finite() || !(0.0..1.0).contains(&tolerance) {
                return Err("`number` is a finite number, `tolerance` from 0 to 1".into());
            }
            return Ok(LineExpectation::Number { value, tolerance });
        }
        if let Some(code) = self.status {
            if !(100..=999).contains(&code) {
                return Err(format!("`status` is a three-digit code, not {code}"));
            }
            return Ok(LineExpectation::Status(code));
        }
        let alternatives = self.one_of.unwrap_or_default();
        if alternatives.len() < 2 {
            return Err("`one_of` lists two expectations or more".into());
        }
        alternatives
            .into_iter()
            .map(LineSpec::check)
            .collect::<Result<_, _>>()
            .map(LineExpectation::OneOf)
    }
}

impl LineExpectation {
    /// Whether `line` (without its end) is what is expected.
    pub(crate) fn holds(&self, line: &str) -> bool {
        match self {
            LineExpectation::Equals { text, ignore_case } => {
                if *ignore_case {
                    line.eq_ignore_ascii_case(text)
                } else {
                    line == text
                }
            }
            LineExpectation::Prefix { text, ignore_case } => {
                line.get(..text.len()).is_some_and(|start| {
                    if *ignore_case {
                        start.eq_ignore_ascii_case(text)
                    } else {
                        start == text
                    }
                })
            }
            LineExpectation::Matches(regex) => regex.is_match(line),
            LineExpectation::Number { value, tolerance } => {
                parse_number(line).is_some_and(|seen| close_enough(seen, *value, *tolerance))
            }
            LineExpectation::Status(code) => {
                let code = code.to_string();
                line.strip_prefix(code.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '-']))
            }
            LineExpectation::OneOf(alternatives) => alternatives
                .iter()
                .any(|alternative| alternative.holds(line)),
        }
    }

    /// For the report: "the number 3", "a line starting with `error:`".
    pub(crate) fn describe(&self) -> String {
        match self {
            LineExpectation::Equals { text, ignore_case } => {
                format!("the line {text:?}{}", case_note(*ignore_case))
            }
            LineExpectation::Prefix { text, ignore_case } => {
                format!("a line starting with {text:?}{}", case_note(*ignore_case))
            }
            LineExpectation::Matches(regex) => format!("a line matching /{regex}/"),
            LineExpectation::Number { value, tolerance } => {
                format!("the number {value} (relative tolerance {tolerance:e})")
            }
            LineExpectation::Status(code) => format!("a reply with status {code}"),
            LineExpectation::OneOf(alternatives) => alternatives
                .iter()
                .map(LineExpectation::describe)
                .collect::<Vec<_>>()
                .join(", or "),
        }
    }
}

fn case_note(ignore_case: bool) -> &'static str {
    if ignore_case { " (any case)" } else { "" }
}

/// A number as programs print one: `3`, `-2.5`, `3.0`, `1e+30`, `1.2676506002282294e30`,
/// with spaces around; not `inf` or `nan` (no value is expected to be those).
pub(crate) fn parse_number(line: &str) -> Option<f64> {
    let text = line.trim();
    let plain = text
        .bytes()
        .all(|byte| byte.is_ascii_digit() || b"+-.eE".contains(&byte));
    if !plain {
        return None;
    }
    text.parse::<f64>().ok().filter(|value| value.is_finite())
}

/// Equal within a relative tolerance; near zero, within the same amount absolutely (a
/// rounding error of `0.1 + 0.2 - 0.3` is zero).
pub(crate) fn close_enough(seen: f64, expected: f64, tolerance: f64) -> bool {
    let scale = seen.abs().max(expected.abs()).max(1.0);
    (seen - expected).abs() <= tolerance * scale
}

/// Splits the first line off `bytes`: the line without its end, and how many bytes it
/// took with its end. `None` while no `\n` has come.
pub(crate) fn first_line(bytes: &[u8]) -> Option<(&[u8], usize)> {
    let end = bytes.iter().position(|byte| *byte == b'\n')?;
    let line = &bytes[..end];
    Some((line.strip_suffix(b"\r").unwrap_or(line), end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expectation(toml_text: &str) -> Result<LineExpectation, String> {
        let spec: LineSpec = toml::from_str(toml_text).map_err(|error| error.to_string())?;
        spec.check()
    }

    #[test]
    fn numbers_compare_as_values() {
        let three = expectation("number = 3").unwrap();
        for line in ["3", "3.0", "3.00", " 3 ", "3e0", "2.9999999999999996"] {
            assert!(three.holds(line), "{line}");
        }
        for line in ["", "3 apples", "= 3", "4", "inf", "nan", "0x3", "3.1"] {
            assert!(!three.holds(line), "{line}");
        }
        let big = expectation("number = 1.2676506002282294e30").unwrap();
        assert!(big.holds("1267650600228229401496703205376"));
        assert!(big.holds("1.2676506002282294e+30"));
        assert!(!big.holds("1.26765e+30"));
    }

    #[test]
    fn statuses_prefixes_and_alternatives() {
        let status = expectation("status = 250").unwrap();
        assert!(status.holds("250 OK") && status.holds("250-PIPELINING") && status.holds("250"));
        assert!(!status.holds("2500 OK") && !status.holds("550 no"));
        let busy_or_four =
            expectation("one_of = [{ prefix = \"busy\", ignore_case = true }, { number = 4 }]")
                .unwrap();
        assert!(busy_or_four.holds("BUSY, try later") && busy_or_four.holds("4.0"));
        assert!(!busy_or_four.holds("error: busy"));
        assert!(
            expectation("prefix = \"error:\"")
                .unwrap()
                .holds("error: bad")
        );
    }

    #[test]
    fn a_spec_names_one_kind_with_its_own_options() {
        assert!(expectation("").unwrap_err().contains("exactly one"));
        assert!(
            expectation("number = 1\nprefix = \"x\"")
                .unwrap_err()
                .contains("prefix, number")
        );
        assert!(expectation("number = 1\nignore_case = true").is_err());
        assert!(expectation("status = 25").is_err());
        assert!(expectation("one_of = [{ number = 1 }]").is_err());
        assert!(
            expectation("matches = \"(\"")
                .unwrap_err()
                .contains("regex")
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Any line: a verdict, never a panic; a number printed as Rust or Python print
        /// it reads back as itself.
        #[test]
        fn any_line_gets_a_verdict(line in ".{0,64}", value in proptest::num::f64::NORMAL) {
            let _ = parse_number(&line);
            for expectation in ["number = 1", "status = 250", "prefix = \"e\"", "matches = \"^a\""] {
                let _ = super::tests::expectation(expectation).unwrap().holds(&line);
            }
            proptest::prop_assert_eq!(parse_number(&format!("{value}")), Some(value));
            proptest::prop_assert_eq!(parse_number(&format!("{value:e}")), Some(value));
            proptest::prop_assert!(close_enough(value, value * (1.0 + 1e-12), DEFAULT_TOLERANCE));
        }

        /// A line is split off exactly at its first newline, whatever the bytes.
        #[test]
        fn the_first_line_ends_at_the_first_newline(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            match first_line(&bytes) {
                None => proptest::prop_assert!(!bytes.contains(&b'\n')),
                Some((line, taken)) => {
                    proptest::prop_assert_eq!(bytes[taken - 1], b'\n');
                    proptest::prop_assert!(!bytes[..taken - 1].contains(&b'\n'));
                    proptest::prop_assert!(line.len() == taken - 1 || line.len() == taken - 2);
                }
            }
        }
    }

    #[test]
    fn lines_end_with_newline_or_crlf() {
        assert_eq!(first_line(b"3\r\nmore"), Some((&b"3"[..], 3)));
        assert_eq!(first_line(b"3\n"), Some((&b"3"[..], 2)));
        assert_eq!(first_line(b"3"), None);
    }
}
