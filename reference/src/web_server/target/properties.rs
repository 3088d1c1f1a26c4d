//! Properties of [`resolve_target`] and [`percent_decode`] on any target (see
//! `crate::testing`).

use std::path::{Component, PathBuf};

use proptest::collection::vec;
use proptest::prelude::*;

use super::{percent_decode, resolve_target};
use crate::testing::PURE_CASES;
use crate::web_server::Status;

/// Targets that try to climb out of the root, in every disguise: `..` plain, encoded and
/// half-encoded, slashes and backslashes encoded or not, broken escapes, NUL, non-UTF-8.
fn climbing_target() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just(".."),
        Just("%2e%2e"),
        Just("%2E%2e"),
        Just(".%2e"),
        Just("%2e."),
        Just("."),
        Just(""),
        Just("a"),
        Just("docs"),
        Just("C:"),
        Just("%00"),
        Just("%"),
        Just("%2"),
        Just("%zz"),
        Just("%c3%a9"),
        Just("%ff"),
        Just("..\\.."),
        Just("%5c"),
    ];
    let separator = prop_oneof![Just("/"), Just("%2f"), Just("%2F"), Just("\\"), Just("%5C")];
    let start = prop_oneof![4 => Just(""), 1 => Just("."), 1 => Just("http://a")];
    let end = prop_oneof![Just(""), Just("?x=/../y"), Just("#../z"), Just("/")];
    (start, vec((separator, segment), 0..8), end).prop_map(|(start, parts, end)| {
        let mut target = start.to_owned();
        for (separator, segment) in parts {
            target.push_str(separator);
            target.push_str(segment);
        }
        target.push_str(end);
        target
    })
}

/// `text` with each byte written as a `%XX` escape (either case) where `escaped` says so.
fn escape_some(text: &str, escaped: &[bool], lower: bool) -> String {
    text.bytes()
        .zip(escaped.iter().cycle())
        .map(
            |(byte, &escape)| match (escape || !byte.is_ascii(), lower) {
                (false, _) => (byte as char).to_string(),
                (true, false) => format!("%{byte:02X}"),
                (true, true) => format!("%{byte:02x}"),
            },
        )
        .collect()
}

/// A file name that is a plain name: not `.` or `..`, no `/`, `\`, NUL or `?#%` (which
/// are written escaped when needed, below).
fn plain_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 ._~-]{1,12}|[a-zé]{1,6}\\.txt"
        .prop_filter("not . or ..", |name| name != "." && name != "..")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(PURE_CASES))]

    /// SPEC web/5, the property that matters most in this server: whatever the target,
    /// a path it resolves to is made of plain names only (no `..`, no root, no drive), so
    /// joined onto the root it stays under it. Refusals are 400 or 403, never a panic.
    #[test]
    fn no_target_resolves_outside_the_root(
        target in prop_oneof![climbing_target(), any::<String>(), "/[ -~]{0,30}"],
    ) {
        match resolve_target(&target) {
            Ok(path) => {
                for component in path.components() {
                    let Component::Normal(name) = component else {
                        return Err(TestCaseError::fail(format!("{component:?} in {path:?}")));
                    };
                    let name = name.to_str().expect("names are UTF-8");
                    prop_assert!(!name.contains(['\\', '\0']), "{:?}", name);
                }
            }
            Err(status) => prop_assert!(matches!(status, Status::BadRequest | Status::Forbidden)),
        }
    }

    /// A path of plain names, with any of their bytes escaped (`%41` is `A`), and maybe a
    /// query, resolves to exactly those names: decoding is exact, not only safe.
    #[test]
    fn an_escaped_path_of_plain_names_resolves_to_those_names(
        names in vec(plain_name(), 0..5),
        escaped in vec(any::<bool>(), 1..16),
        lower in any::<bool>(),
        query in prop_oneof![Just(String::new()), "\\?[ -~]{0,10}"],
    ) {
        // The slashes stay as they are: an escaped first slash is no origin-form path.
        let escaped_names = names.iter().map(|name| escape_some(name, &escaped, lower));
        let path = escaped_names.map(|name| format!("/{name}")).collect::<String>();
        let path = if path.is_empty() { "/".to_owned() } else { path };
        let target = format!("{path}{query}");
        let expected: PathBuf = names.iter().collect();
        prop_assert_eq!(resolve_target(&target), Ok(expected));
    }

    /// Escaping every byte of any text without NUL and decoding it gives the text back;
    /// decoding any text never panics, and refuses with 400 only.
    #[test]
    fn percent_decoding_undoes_percent_encoding(text in any::<String>(), lower in any::<bool>()) {
        let encoded = escape_some(&text, &[true], lower);
        let decoded = percent_decode(&encoded);
        if text.contains('\0') {
            prop_assert_eq!(decoded, Err(Status::BadRequest));
        } else {
            prop_assert_eq!(decoded, Ok(text.clone()));
        }
        if let Err(status) = percent_decode(&text) {
            prop_assert_eq!(status, Status::BadRequest);
        }
    }
}
