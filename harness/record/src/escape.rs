//! Text from a submission as the harness shows it: every character that would act on a
//! terminal or a page instead of showing itself, escaped visibly.
//!
//! A submission chooses bytes that reach the grader's screen: its command lines
//! (`submission.toml`), the names of its files and folders, the host names it asks for, what
//! it prints. Raw, an escape sequence recolours or clears the terminal, an OSC 52 sequence
//! writes the grader's clipboard, a carriage return or a newline overwrites a line or forges
//! one (`19 passed, 0 failed`), a bidi override reverses what follows. Every report and
//! error message passes such text through [`escaped`] (or [`escaped_lines`] for text the
//! harness wrote on several lines), the one function that decides.
//!
//! Escaped: C0 controls (all of them, tab and newline included), DEL, C1 controls
//! (U+0080 to U+009F) and the bidi embeddings, overrides and isolates (U+202A to U+202E,
//! U+2066 to U+2069); `\n`, `\r`, `\t` as such, other ASCII controls as `\x1b`, the rest
//! as `\u{202e}`. Anything else is kept, the backslash included, so text without such a
//! character is unchanged and escaping twice is escaping once.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` is escaped (see the module's documentation).
pub fn must_escape(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// `text` on one line, every character [`must_escape`] says escaped.
pub fn escaped(text: &str) -> Cow<'_, str> {
    escaped_keeping(text, |_| false)
}

/// `text` the harness wrote on several lines (a diff, a list of errors): its newlines and
/// tabs kept, every other character [`must_escape`] says escaped. Only for text whose
/// newlines are the harness's own: a submission's bytes inside it must have been through
/// [`escaped`] already, or a newline of theirs forges a line.
pub fn escaped_lines(text: &str) -> Cow<'_, str> {
    escaped_keeping(text, |c| matches!(c, '\n' | '\t'))
}

/// `bytes` for reading as [`escaped_lines`] shows text, and each byte that is not UTF-8
/// as `\x89` (binary output), never as a replacement character.
pub fn escaped_byte_lines(bytes: &[u8]) -> String {
    let mut shown = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        shown.push_str(&escaped_lines(chunk.valid()));
        for byte in chunk.invalid() {
            shown.push_str(&format!("\\x{byte:02x}"));
        }
    }
    shown
}

/// Escapes `text` in place ([`escaped`]).
pub fn escape(text: &mut String) {
    if let Cow::Owned(shown) = escaped(text) {
        *text = shown;
    }
}

/// Escapes `text` in place ([`escaped_lines`]).
pub fn escape_lines(text: &mut String) {
    if let Cow::Owned(shown) = escaped_lines(text) {
        *text = shown;
    }
}

/// The one escaping: every character [`must_escape`] says, but those `kept` keeps.
fn escaped_keeping(text: &str, kept: fn(char) -> bool) -> Cow<'_, str> {
    let hostile = |c: char| must_escape(c) && !kept(c);
    if !text.chars().any(hostile) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !hostile(c) {
            shown.push(c);
            continue;
        }
        match c {
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            '\t' => shown.push_str("\\t"),
            '\u{0}'..='\u{7f}' => {
                let _ = write!(shown, "\\x{:02x}", c as u32);
            }
            _ => {
                let _ = write!(shown, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_unchanged_and_not_copied() {
        for text in ["python3 server.py 2000", "é, ß, 日本, a\\x1b", ""] {
            assert!(matches!(escaped(text), Cow::Borrowed(shown) if shown == text));
            assert!(matches!(escaped_lines(text), Cow::Borrowed(_)));
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_shown_as_hex() {
        assert_eq!(
            escaped_byte_lines(b"\x89PNG\r\n\x1a\ncaf\xc3\xa9\n"),
            "\\x89PNG\\r\n\\x1a\ncaf\u{e9}\n"
        );
        assert!(!escaped_byte_lines(&[0xff; 32]).contains('\u{fffd}'));
    }

    #[test]
    fn controls_are_escaped_visibly() {
        let osc52 = "\u{1b}]52;c;cm0gLXJmIH4K\u{7}";
        assert_eq!(escaped(osc52), "\\x1b]52;c;cm0gLXJmIH4K\\x07");
        assert_eq!(
            escaped("a\u{1b}[2Jb\rc\nd\te\u{0}\u{7f}"),
            "a\\x1b[2Jb\\rc\\nd\\te\\x00\\x7f"
        );
        // C1: CSI as one character, NEL.
        assert_eq!(escaped("\u{9b}31m\u{85}"), "\\u{9b}31m\\u{85}");
        // Bidi overrides and isolates; the characters around them are kept.
        assert_eq!(
            escaped("ok \u{202e}kO\u{202c} \u{2066}x\u{2069} \u{a0}"),
            "ok \\u{202e}kO\\u{202c} \\u{2066}x\\u{2069} \u{a0}"
        );
    }

    #[test]
    fn a_forged_line_stays_on_its_line() {
        let forged = "python3 x.py\n19 passed, 0 failed";
        let shown = escaped(forged);
        assert_eq!(shown.lines().count(), 1);
        assert!(!shown.lines().any(|line| line.starts_with("19 passed")));
    }

    #[test]
    fn lines_keep_newlines_and_tabs_only() {
        assert_eq!(
            escaped_lines("first\n\tsecond\r\n\u{1b}[31mthird"),
            "first\n\tsecond\\r\n\\x1b[31mthird"
        );
    }

    #[test]
    fn escaping_twice_is_escaping_once() {
        let text = "a\u{1b}]52;c;x\u{7}\n19 passed\u{202e}";
        let once = escaped(text).into_owned();
        assert_eq!(escaped(&once), once);
        let mut in_place = text.to_owned();
        escape(&mut in_place);
        assert_eq!(in_place, once);
    }
}
