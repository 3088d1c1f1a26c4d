//! Properties of [`Extensions::from_ehlo`], which reads what the server's EHLO reply
//! offers (see `crate::testing`).

use proptest::collection::vec;
use proptest::prelude::*;

use super::Extensions;
use crate::smtp_client::reply::Reply;
use crate::testing::{PURE_CASES, any_case};

/// One line of an EHLO reply after the first: a keyword the client knows (in any case),
/// maybe with parameters, or anything else.
fn ehlo_line() -> impl Strategy<Value = String> {
    let keyword = prop_oneof![
        any_case("starttls"),
        any_case("8bitmime"),
        any_case("size"),
        any_case("auth"),
        "[A-Z0-9-]{0,10}",
    ];
    let parameters = prop_oneof![
        Just(String::new()),
        "( [A-Z0-9=-]{1,8}){1,3}",
        "[ -~\u{80}-\u{10ffff}]{0,20}"
    ];
    (keyword, parameters).prop_map(|(keyword, parameters)| format!("{keyword}{parameters}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(PURE_CASES))]

    /// Whatever the server writes after its name, reading the extensions never panics, and
    /// each is offered exactly when one of its lines says so: `STARTTLS` (RFC 3207) above
    /// all, since the client refuses to go on in clear text without it.
    #[test]
    fn an_extension_is_offered_exactly_when_a_line_names_it(
        name in "[ -~]{0,20}",
        lines in vec(ehlo_line(), 0..8),
    ) {
        let reply = Reply { code: 250, lines: [vec![name], lines.clone()].concat() };
        let extensions = Extensions::from_ehlo(&reply);
        let names = |keyword: &str| {
            lines.iter().any(|line| {
                line.split_whitespace().next().is_some_and(|word| word.eq_ignore_ascii_case(keyword))
            })
        };
        prop_assert_eq!(extensions.starttls, names("STARTTLS"));
        prop_assert_eq!(extensions.eight_bit_mime, names("8BITMIME"));
        prop_assert_eq!(extensions.size, names("SIZE"));
        prop_assert_eq!(extensions.auth.is_some(), names("AUTH"));
    }
}
