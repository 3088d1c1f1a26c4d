//! A real browser renders what the reference web server serves (SPEC web/4).
//!
//! Headless Chromium (Debian's `chromium`, installed by `.ci/run`) loads the test page; the
//! page's script writes what arrived (image decoded, style sheet applied, UTF-8 intact) into
//! the document, and the check reads the rendered document. A second run expects text that
//! is not on the page, to show the check can fail and reports what the browser rendered.

use crate::common;

use harness::grading::{Mode, grade};
use harness::outcome::Status;
use harness::scenario::Selection;
use harness::target::Target;

fn browse(expect: &str) -> harness::outcome::Outcome {
    assert!(
        harness::steps::checks::browser::find_browser().is_some(),
        "these tests need headless Chromium: apt-get install chromium (or set SOCKET_LAB_CHROMIUM)"
    );
    let (_kit, suite) = common::one_scenario_suite(
        "web-server",
        "01-browser",
        &format!(
            r#"task = "web-server"
clauses = ["web/4"]
category = "basic"
points = 1
requirement = "A browser shows the page."

[[step]]
start = "server"

[[step]]
wait_listening = "server"

[[step]]
check = "browser"
params = {{ server = "server", path = "/index.html", expect = "{expect}" }}
"#
        ),
    );
    let target = Target::reference(&common::reference_bin_dir(), &suite.catalogue);
    let grading = grade(
        &suite,
        &Selection::default(),
        &target,
        common::SEED,
        &Mode::Real,
        &mut harness::events::Discard,
    )
    .expect("grading runs");
    grading.outcomes.into_iter().next().expect("one scenario")
}

#[test]
fn chromium_renders_the_page_the_reference_serves() {
    let outcome = browse("image loaded; stylesheet applied; ünïcödé intact");
    assert_eq!(outcome.status, Status::Pass, "{:?}", outcome.failure);
}

#[test]
fn text_that_is_not_rendered_fails_and_shows_the_document() {
    let outcome = browse("this sentence is on no page");
    assert_eq!(outcome.status, Status::Fail, "{outcome:?}");
    let seen = &outcome.failure.expect("a failure").seen;
    // What the browser rendered: the script ran and reported the image and the style.
    assert!(seen.contains("image loaded; stylesheet applied"), "{seen}");
}
