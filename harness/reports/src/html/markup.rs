//! Text into HTML: the escaper every value of the templates goes through, and [`Markup`],
//! the one kind of fragment Rust still builds itself (a program's bytes, with the bytes
//! that are not UTF-8 marked), escaped as it is built.

use std::fmt;

/// The escaper of the `.html` and `.svg` templates (`askama.toml` names it): `&`, `<`,
/// `>`, `"` and `'` as `&amp;`, `&lt;`, `&gt;`, `&quot;` and `&#39;`, safe in element
/// content and in quoted attribute values alike. The same five characters askama's own
/// escaper replaces, by the entities the pages have always used.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Escape;

impl askama::filters::Escaper for Escape {
    fn write_escaped_str<W: fmt::Write>(&self, dest: W, string: &str) -> fmt::Result {
        escape(dest, string)
    }
}

/// `text` into `dest`, escaped as [`Escape`] says.
fn escape<W: fmt::Write>(mut dest: W, text: &str) -> fmt::Result {
    let mut rest = text;
    while let Some(index) = rest.find(['&', '<', '>', '"', '\'']) {
        dest.write_str(&rest[..index])?;
        dest.write_str(match rest.as_bytes()[index] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        })?;
        rest = &rest[index + 1..];
    }
    dest.write_str(rest)
}

/// HTML built in Rust, every piece of text in it escaped as it was added, so that a
/// template may write it with `|safe`. Only [`bytes_html`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Markup(String);

impl fmt::Display for Markup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Bytes as text for a `<pre>`: UTF-8 shown as it is (control characters but newline and
/// tab escaped), bytes that are not UTF-8 as `\xNN`, marked, so that they cannot be
/// confused with a U+FFFD the program really printed.
pub(super) fn bytes_html(bytes: &[u8]) -> Markup {
    const CLOSE: &str = "</span>";
    let mut html = String::with_capacity(bytes.len() + 16);
    let mut in_span = false;
    for chunk in bytes.utf8_chunks() {
        if !chunk.valid().is_empty() {
            if in_span {
                html.push_str(CLOSE);
                in_span = false;
            }
            let mut text = String::with_capacity(chunk.valid().len());
            for c in chunk.valid().chars() {
                if (c.is_control() && c != '\n' && c != '\t') || invisible(c) {
                    text.extend(c.escape_unicode());
                } else {
                    text.push(c);
                }
            }
            // Writing into a String cannot fail.
            let _ = escape(&mut html, &text);
        }
        if !chunk.invalid().is_empty() {
            if !in_span {
                html.push_str(r#"<span class="nb" title="not UTF-8">"#);
                in_span = true;
            }
            for byte in chunk.invalid() {
                html.push_str(&format!("\\x{byte:02x}"));
            }
        }
    }
    if in_span {
        html.push_str(CLOSE);
    }
    Markup(html)
}

/// Characters that change how the text around them shows without showing themselves:
/// bidirectional overrides (they can make `ok` of `ko`), zero-width characters.
fn invisible(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;

    /// A value of an `.html` template, and of an `.svg` one.
    #[derive(Template)]
    #[template(source = "<p title=\"{{ text }}\">{{ text }}</p>", ext = "html")]
    struct InHtml<'a> {
        text: &'a str,
    }

    #[derive(Template)]
    #[template(source = "<text>{{ text }}</text>", ext = "svg")]
    struct InSvg<'a> {
        text: &'a str,
    }

    #[test]
    fn markup_in_text_is_escaped() {
        let hostile = r#"<script>alert("x") & 'y'</script>"#;
        let escaped = "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;";
        assert_eq!(
            InHtml { text: hostile }.render().unwrap(),
            format!("<p title=\"{escaped}\">{escaped}</p>")
        );
        assert_eq!(
            InSvg { text: hostile }.render().unwrap(),
            format!("<text>{escaped}</text>")
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_marked_apart_from_a_printed_replacement_character() {
        let html = bytes_html(b"a\xff\xfe\xef\xbf\xbd<b>\x1b\n").to_string();
        assert_eq!(
            html,
            "a<span class=\"nb\" title=\"not UTF-8\">\\xff\\xfe</span>\u{fffd}&lt;b&gt;\\u{1b}\n"
        );
        // A right-to-left override would show `txt.exe` as `exe.txt`.
        assert_eq!(
            bytes_html("a\u{202e}b".as_bytes()).to_string(),
            "a\\u{202e}b"
        );
        assert_eq!(
            bytes_html(b"<script>\"'&").to_string(),
            "&lt;script&gt;&quot;&#39;&amp;"
        );
    }
}
