//! The words of an IMAP command (RFC 3501 §4, §9): atoms, quoted strings, literals
//! (`{n}` and RFC 7888's `{n+}`), parenthesized lists, and sequence sets.

/// One value of a command's arguments (RFC 3501 §4).
#[derive(Debug, Clone, PartialEq)]
pub(in crate::protocols) enum Arg {
    /// An atom (`INBOX`, `1:*`, `BODY.PEEK[HEADER]<0.10>`), or `NIL`.
    Atom(String),
    /// A quoted string or a literal.
    Text(Vec<u8>),
    /// A parenthesized list.
    List(Vec<Arg>),
}

impl Arg {
    /// An atom or string, as text.
    pub(in crate::protocols) fn text(&self) -> Option<String> {
        match self {
            Arg::Atom(text) => Some(text.clone()),
            Arg::Text(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
            Arg::List(_) => None,
        }
    }
}

/// The user and the password of a `LOGIN`'s arguments: two atoms or strings, or, for a
/// client that sends the user unquoted (`a1 LOGIN my name "pw"`), the words before the
/// last one joined by a space (`imaplib` quotes the password only).
pub(in crate::protocols) fn login(arguments: &[Arg]) -> Option<(String, String)> {
    let (password, user) = arguments.split_last()?;
    if user.is_empty() {
        return None;
    }
    let user = user
        .iter()
        .map(Arg::text)
        .collect::<Option<Vec<String>>>()?
        .join(" ");
    Some((user, password.text()?))
}

/// `{n}` or `{n+}` ending a line (before its CRLF): a literal of `n` bytes follows;
/// `true` when the client waits for `+` first (RFC 3501 §4.3, RFC 7888).
pub(super) fn literal_at_end(line: &[u8]) -> Option<(usize, bool)> {
    let line = line.strip_suffix(b"\n")?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_suffix(b"}")?;
    let open = line.iter().rposition(|&byte| byte == b'{')?;
    let inside = std::str::from_utf8(&line[open + 1..]).ok()?;
    let (digits, synchronizing) = match inside.strip_suffix('+') {
        Some(digits) => (digits, false),
        None => (inside, true),
    };
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, synchronizing))
}

/// A command's words: tag, name, arguments (atoms, strings, literals, lists).
pub(in crate::protocols) fn parse_args(raw: &[u8]) -> Vec<Arg> {
    let mut at = 0;
    let (args, _) = parse_list(raw, &mut at, false);
    args
}

/// Values up to the end (or, `nested`, up to the `)` closing a list).
fn parse_list(raw: &[u8], at: &mut usize, nested: bool) -> (Vec<Arg>, bool) {
    let mut values = Vec::new();
    while *at < raw.len() {
        match raw[*at] {
            b' ' | b'\r' | b'\n' | b'\t' => *at += 1,
            b')' if nested => {
                *at += 1;
                return (values, true);
            }
            b'(' => {
                *at += 1;
                let (inner, _) = parse_list(raw, at, true);
                values.push(Arg::List(inner));
            }
            b'"' => {
                *at += 1;
                let mut text = Vec::new();
                while *at < raw.len() && raw[*at] != b'"' {
                    if raw[*at] == b'\\' && *at + 1 < raw.len() {
                        *at += 1;
                    }
                    text.push(raw[*at]);
                    *at += 1;
                }
                *at += 1;
                values.push(Arg::Text(text));
            }
            b'{' => {
                let close = raw[*at..].iter().position(|&byte| byte == b'}');
                let count = close.and_then(|close| {
                    std::str::from_utf8(&raw[*at + 1..*at + close])
                        .ok()?
                        .trim_end_matches('+')
                        .parse::<usize>()
                        .ok()
                });
                match (close, count) {
                    (Some(close), Some(count)) => {
                        // `}` CRLF, then the bytes.
                        let mut start = *at + close + 1;
                        if raw.get(start) == Some(&b'\r') {
                            start += 1;
                        }
                        if raw.get(start) == Some(&b'\n') {
                            start += 1;
                        }
                        // A count past the command's end (a literal's bytes are read whole
                        // before the command is parsed; this one is in the middle of a
                        // line, or absurd) takes what is there.
                        let end = start.saturating_add(count).min(raw.len());
                        values.push(Arg::Text(raw[start..end].to_vec()));
                        *at = end;
                    }
                    _ => values.push(Arg::Atom(atom(raw, at))),
                }
            }
            _ => values.push(Arg::Atom(atom(raw, at))),
        }
    }
    (values, false)
}

/// An atom; `[...]` inside it (a fetch section) may hold spaces and parentheses.
fn atom(raw: &[u8], at: &mut usize) -> String {
    let start = *at;
    let mut depth = 0;
    while *at < raw.len() {
        let byte = raw[*at];
        match byte {
            b'[' => depth += 1,
            b']' => depth -= 1,
            b' ' | b'(' | b')' | b'\r' | b'\n' if depth <= 0 => break,
            _ => {}
        }
        *at += 1;
    }
    if *at == start {
        // A stray character: skip it.
        *at += 1;
    }
    String::from_utf8_lossy(&raw[start..*at]).into_owned()
}

/// A sequence set (`1`, `2:4`, `3:*`, `1,3,5:*`, RFC 3501 §9 `sequence-set`), `*` being
/// `star`; ranges with their ends in order.
pub(super) fn parse_set(text: &str, star: u32) -> Option<Vec<(u32, u32)>> {
    let number = |word: &str| -> Option<u32> {
        if word == "*" {
            Some(star)
        } else if !word.is_empty() && word.bytes().all(|byte| byte.is_ascii_digit()) {
            word.parse().ok()
        } else {
            None
        }
    };
    text.split(',')
        .map(|piece| {
            let (low, high) = match piece.split_once(':') {
                Some((low, high)) => (number(low)?, number(high)?),
                None => {
                    let one = number(piece)?;
                    (one, one)
                }
            };
            Some((low.min(high), low.max(high)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;

    #[test]
    fn commands_literals_and_sets_parse() {
        let args = parse_args(b"a1 LOGIN alice {7}\r\ns3 cr\"t\r\n");
        assert_eq!(args[2], Arg::Atom("alice".into()));
        assert_eq!(args[3], Arg::Text(b"s3 cr\"t".to_vec()));
        let args = parse_args(
            b"a2 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM \"SUBJECT\")]<0.10>)\r\n",
        );
        let Arg::List(items) = &args[3] else {
            panic!("{args:?}")
        };
        assert_eq!(
            items[1],
            Arg::Atom("BODY.PEEK[HEADER.FIELDS (FROM \"SUBJECT\")]<0.10>".into())
        );
        assert_eq!(literal_at_end(b"a LOGIN x {12}\r\n"), Some((12, true)));
        assert_eq!(literal_at_end(b"a LOGIN x {3+}\r\n"), Some((3, false)));
        assert_eq!(literal_at_end(b"a NOOP\r\n"), None);
        assert_eq!(parse_set("1,3:*", 5), Some(vec![(1, 1), (3, 5)]));
        assert_eq!(parse_set("4:2", 5), Some(vec![(2, 4)]));
        assert_eq!(parse_set("x", 5), None);
    }

    #[test]
    fn a_literal_too_long_for_the_line_takes_what_is_there() {
        // In the middle of a line, where no literal's bytes were read: a count a hostile
        // client makes as large as it can once overflowed the end of the slice.
        let args = parse_args(b"a1 LOGIN {18446744073709551615} x\r\n");
        assert_eq!(args[2], Arg::Text(b" x\r\n".to_vec()));
        let args = parse_args(b"a1 LOGIN {5}\r\nab");
        assert_eq!(args[2], Arg::Text(b"ab".to_vec()));
    }

    /// An IMAP quoted string as a client writes it (RFC 3501 §4.3).
    fn quoted(text: &[u8]) -> Vec<u8> {
        let mut out = vec![b'"'];
        for &byte in text {
            if byte == b'"' || byte == b'\\' {
                out.push(b'\\');
            }
            out.push(byte);
        }
        out.push(b'"');
        out
    }

    proptest::proptest! {
        #![proptest_config(crate::protocols::fixed_cases::fixed_cases(512, 52))]

        /// Any bytes a client sends are read without a panic, and so are the sequence sets
        /// and literal counts in them.
        #[test]
        fn any_bytes_are_read(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = parse_args(&raw);
            let _ = literal_at_end(&raw);
            let _ = parse_set(&String::from_utf8_lossy(&raw), 7);
        }

        /// Any bytes but CR and LF, quoted or sent as a literal, are read back whole, cut
        /// in the command at any place the client may cut it (the literal's bytes follow
        /// its `{n}` line).
        #[test]
        fn quoted_strings_and_literals_are_read_whole(
            text in proptest::collection::vec(proptest::num::u8::ANY.prop_filter("no line end", |b| *b != b'\r' && *b != b'\n'), 0..32),
            plus in proptest::bool::ANY,
        ) {
            let mut command = b"a1 LOGIN ".to_vec();
            command.extend(quoted(&text));
            command.extend(format!(" {{{}{}}}\r\n", text.len(), if plus { "+" } else { "" }).as_bytes());
            command.extend(&text);
            command.extend(b"\r\n");
            let args = parse_args(&command);
            proptest::prop_assert_eq!(&args[2], &Arg::Text(text.clone()));
            proptest::prop_assert_eq!(&args[3], &Arg::Text(text));
        }
    }
}
